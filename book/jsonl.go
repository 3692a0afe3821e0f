package book

import "strconv"

// AppendBooksLine appends one instrument's book as a line of the books
// format that `tickwire replay --books`, `tickwire run --books-on-exit` and
// the subscribers' mirrors all write, so that any two can be compared with
// cmp:
//
//	{"locate":13,"symbol":"AAPL","bids":[[1874500,300,2]],"asks":[[1874600,100,1]]}
//
// Each level is [price, shares, orders] with the integer Price(4) value,
// bids best (highest) first, asks best (lowest) first, every level listed;
// suspect adds "suspect":true (an instrument whose messages could not all be
// applied). symbol is the Stock Directory's, spaces trimmed. Lines are built
// with strconv appends: encoding/json would cost more than a replay.
func AppendBooksLine(dst []byte, locate uint16, symbol []byte, bids, asks []Level, suspect bool) []byte {
	dst = append(dst, `{"locate":`...)
	dst = strconv.AppendUint(dst, uint64(locate), 10)
	dst = append(dst, `,"symbol":`...)
	dst = appendJSONString(dst, symbol)
	dst = append(dst, `,"bids":`...)
	dst = appendLevels(dst, bids)
	dst = append(dst, `,"asks":`...)
	dst = appendLevels(dst, asks)
	if suspect {
		dst = append(dst, `,"suspect":true`...)
	}
	return append(dst, "}\n"...)
}

func appendLevels(dst []byte, levels []Level) []byte {
	dst = append(dst, '[')
	for i, lv := range levels {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		dst = strconv.AppendUint(dst, uint64(lv.Price), 10)
		dst = append(dst, ',')
		dst = strconv.AppendUint(dst, lv.Shares, 10)
		dst = append(dst, ',')
		dst = strconv.AppendUint(dst, uint64(lv.Orders), 10)
		dst = append(dst, ']')
	}
	return append(dst, ']')
}

// appendJSONString quotes an ITCH Alpha field. Symbols are printable ASCII
// by specification; anything else is escaped rather than trusted.
func appendJSONString(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20 || c >= 0x7f:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}
