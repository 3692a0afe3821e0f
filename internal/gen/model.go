package gen

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// model is the independent expected-book model: it decodes each message
// from its wire bytes (offsets of PROTOCOLS.md §2.3–2.4, written out here
// rather than taken from codec/itch) and keeps the live orders in a map.
// Not safe for concurrent use.
type model struct {
	orders    map[uint64]modelOrder
	symbols   map[uint16][8]byte
	anomalies int
	first     string // description of the first anomaly
}

type modelOrder struct {
	locate uint16
	side   byte
	price  uint32
	shares uint32
}

func newModel() *model {
	return &model{orders: make(map[uint64]modelOrder, 1<<16), symbols: map[uint16][8]byte{}}
}

func (md *model) anomaly(seq uint64, f string, a ...any) {
	if md.anomalies == 0 {
		md.first = fmt.Sprintf("seq %d: ", seq) + fmt.Sprintf(f, a...)
	}
	md.anomalies++
}

// apply updates the model with message m of sequence seq.
func (md *model) apply(seq uint64, m []byte) {
	be16 := func(i int) uint16 { return binary.BigEndian.Uint16(m[i:]) }
	be32 := func(i int) uint32 { return binary.BigEndian.Uint32(m[i:]) }
	be64 := func(i int) uint64 { return binary.BigEndian.Uint64(m[i:]) }
	locate := be16(1)
	switch m[0] {
	case 'R':
		md.symbols[locate] = [8]byte(m[11:19])
	case 'A', 'F':
		ref := be64(11)
		if _, dup := md.orders[ref]; dup {
			md.anomaly(seq, "duplicate add %d", ref)
			return
		}
		if be32(20) == 0 {
			md.anomaly(seq, "zero-share add %d", ref)
			return
		}
		md.orders[ref] = modelOrder{locate: locate, side: m[19], shares: be32(20), price: be32(32)}
		if _, ok := md.symbols[locate]; !ok {
			md.symbols[locate] = [8]byte(m[24:32])
		}
	case 'E', 'C', 'X':
		md.reduce(seq, be64(11), be32(19))
	case 'D':
		ref := be64(11)
		if _, ok := md.orders[ref]; !ok {
			md.anomaly(seq, "delete of unknown order %d", ref)
			return
		}
		delete(md.orders, ref)
	case 'U':
		orig, nref := be64(11), be64(19)
		o, ok := md.orders[orig]
		if !ok {
			md.anomaly(seq, "replace of unknown order %d", orig)
			return
		}
		if _, dup := md.orders[nref]; dup {
			md.anomaly(seq, "replace to existing order %d", nref)
			return
		}
		delete(md.orders, orig)
		o.shares, o.price = be32(27), be32(31)
		md.orders[nref] = o
	}
}

func (md *model) reduce(seq, ref uint64, n uint32) {
	o, ok := md.orders[ref]
	switch {
	case !ok:
		md.anomaly(seq, "reduction of unknown order %d", ref)
	case n > o.shares:
		md.anomaly(seq, "reduction of %d shares from order %d with %d", n, ref, o.shares)
	case n == o.shares:
		delete(md.orders, ref)
	default:
		o.shares -= n
		md.orders[ref] = o
	}
}

// Level is one price level of an expected book (a plain value).
type Level struct {
	Price  uint32
	Shares uint64
	Orders uint32
}

// Book is the expected final book of one instrument; its slices are owned
// by the holder.
type Book struct {
	Locate uint16
	Symbol string  // trimmed
	Bids   []Level // best (highest) first
	Asks   []Level // best (lowest) first
}

// books aggregates the live orders by level, one Book per instrument of
// the directory or with orders, in locate order.
func (md *model) books() []Book {
	type key struct {
		locate uint16
		side   byte
		price  uint32
	}
	agg := make(map[key]*Level, len(md.orders)/2+1)
	locs := make(map[uint16]bool, len(md.symbols))
	for l := range md.symbols {
		locs[l] = true
	}
	for _, o := range md.orders {
		k := key{o.locate, o.side, o.price}
		l := agg[k]
		if l == nil {
			l = &Level{Price: o.price}
			agg[k] = l
		}
		l.Shares += uint64(o.shares)
		l.Orders++
		locs[o.locate] = true
	}
	byLoc := make(map[uint16]*Book, len(locs))
	out := make([]Book, 0, len(locs))
	for l := range locs {
		out = append(out, Book{Locate: l, Symbol: trimSymbol(md.symbols[l])})
	}
	slices.SortFunc(out, func(a, b Book) int { return int(a.Locate) - int(b.Locate) })
	for i := range out {
		byLoc[out[i].Locate] = &out[i]
	}
	for k, l := range agg {
		b := byLoc[k.locate]
		if k.side == 'B' {
			b.Bids = append(b.Bids, *l)
		} else {
			b.Asks = append(b.Asks, *l)
		}
	}
	for i := range out {
		slices.SortFunc(out[i].Bids, func(a, b Level) int { return cmpU32(b.Price, a.Price) })
		slices.SortFunc(out[i].Asks, func(a, b Level) int { return cmpU32(a.Price, b.Price) })
	}
	return out
}

func cmpU32(a, b uint32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func trimSymbol(s [8]byte) string {
	n := len(s)
	for n > 0 && (s[n-1] == ' ' || s[n-1] == 0) {
		n--
	}
	return string(s[:n])
}

// writeBooks writes books as JSON Lines (see the package documentation).
func writeBooks(w io.Writer, books []Book) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	var b []byte
	for _, bk := range books {
		b = append(b[:0], `{"locate":`...)
		b = strconv.AppendUint(b, uint64(bk.Locate), 10)
		b = append(b, `,"symbol":`...)
		b = appendJSONString(b, bk.Symbol)
		b = append(b, `,"bids":`...)
		b = appendLevels(b, bk.Bids)
		b = append(b, `,"asks":`...)
		b = appendLevels(b, bk.Asks)
		b = append(b, "}\n"...)
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func appendLevels(b []byte, ls []Level) []byte {
	b = append(b, '[')
	for i, l := range ls {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendUint(b, uint64(l.Price), 10)
		b = append(b, ',')
		b = strconv.AppendUint(b, l.Shares, 10)
		b = append(b, ',')
		b = strconv.AppendUint(b, uint64(l.Orders), 10)
		b = append(b, ']')
	}
	return append(b, ']')
}

// appendJSONString appends s as a JSON string (symbols are ASCII; anything
// else is escaped).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c >= 0x7F:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
