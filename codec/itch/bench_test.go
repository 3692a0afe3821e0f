package itch

import (
	"compress/gzip"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"os"
	"testing"
	"time"
)

// benchStream builds n pre-encoded messages, each with a 2-byte big-endian
// length prefix, in a realistic TotalView mix: about 45% A, 3% F, 35% D,
// 5% E, 1% C, 3% X, 5% U, 1% P and 2% status and other types.
func benchStream(tb testing.TB, n int, seed uint64) []byte {
	tb.Logf("benchStream seed %d", seed)
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	others := []appender{}
	for _, tc := range roundTrips {
		switch tc.name {
		case "A", "F", "D", "E", "C", "X", "U", "P":
		default:
			others = append(others, tc.msg)
		}
	}
	var buf []byte
	ts := uint64(34_200_000_000_000)
	ref := uint64(1)
	for i := 0; i < n; i++ {
		ts += uint64(r.IntN(5000))
		h := Header{Locate: uint16(1 + r.IntN(8000)), Tracking: uint16(r.IntN(4)), Timestamp: ts}
		side := byte(Buy)
		if r.IntN(2) == 0 {
			side = Sell
		}
		var m appender
		switch p := r.IntN(100); {
		case p < 45:
			m = &AddOrderMsg{Header: h, Ref: ref, Side: side, Shares: uint32(100 * (1 + r.IntN(10))), Stock: Alpha8("AAPL"), Price: uint32(1_000_000 + r.IntN(10_000))}
			ref++
		case p < 48:
			m = &AddOrderMPIDMsg{Header: h, Ref: ref, Side: side, Shares: 100, Stock: Alpha8("MSFT"), Price: uint32(2_000_000 + r.IntN(10_000)), Attribution: Alpha4("GSCO")}
			ref++
		case p < 83:
			m = &OrderDeleteMsg{Header: h, Ref: uint64(1 + r.IntN(int(ref)))}
		case p < 88:
			m = &OrderExecutedMsg{Header: h, Ref: uint64(1 + r.IntN(int(ref))), Shares: 100, Match: uint64(i)}
		case p < 89:
			m = &OrderExecutedWithPriceMsg{Header: h, Ref: uint64(1 + r.IntN(int(ref))), Shares: 100, Match: uint64(i), Printable: 'Y', ExecPrice: 1_000_100}
		case p < 92:
			m = &OrderCancelMsg{Header: h, Ref: uint64(1 + r.IntN(int(ref))), Shares: 100}
		case p < 97:
			m = &OrderReplaceMsg{Header: h, OrigRef: uint64(1 + r.IntN(int(ref))), NewRef: ref, Shares: 200, Price: 1_000_200}
			ref++
		case p < 98:
			m = &TradeMsg{Header: h, Side: side, Shares: 100, Stock: Alpha8("AAPL"), Price: 1_000_000, Match: uint64(i)}
		default:
			m = others[r.IntN(len(others))]
		}
		buf = frame(buf, m.Append(nil))
	}
	return buf
}

// groupByType returns the framed messages of stream reordered so that all
// messages of one type are contiguous (types in byte order, stable within a
// type).
func groupByType(stream []byte) []byte {
	var groups [256][]byte
	for p := stream; len(p) >= 2; {
		l := int(binary.BigEndian.Uint16(p))
		groups[p[2]] = append(groups[p[2]], p[:2+l]...)
		p = p[2+l:]
	}
	out := make([]byte, 0, len(stream))
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// sessionStream returns the framed messages of testdata/session.itch.gz, a
// session written by the generator (tickwire gen -messages 16384
// -instruments 100 -seed 8 -format itch.gz): messages in the order a feed
// sends them, with the type locality of real order flow.
func sessionStream(tb testing.TB) []byte {
	f, err := os.Open("testdata/session.itch.gz")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	data, err := io.ReadAll(z)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// BenchmarkDecode measures the decoding cost per message of a realistic mix:
// read the 2-byte length prefix, Check, switch on the type and read every
// field the book needs into a sink. Reported as ns/msg; allocations must be 0.
//
// "shuffled" draws each message's type independently, so the type switch is
// mispredicted about every other message, as in any consumer of a live feed
// with no type locality. "grouped" decodes the same messages ordered by type:
// the switch is then predicted, and the difference between the two is the
// cost of branch misprediction in the dispatch, not of the codec.
// "session" decodes a generated session's messages in feed order.
func BenchmarkDecode(b *testing.B) {
	const n = 1 << 14 // 16384 messages, ~0.5 MB: fits in L2 on most servers
	shuffled := benchStream(b, n, uint64(time.Now().UnixNano()))
	for _, bc := range []struct {
		name   string
		stream []byte
	}{
		{"shuffled", shuffled},
		{"grouped", groupByType(shuffled)},
		{"session", sessionStream(b)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			stream := bc.stream
			var sink uint64
			b.SetBytes(int64(len(stream)))
			b.ReportAllocs()
			for b.Loop() {
				for p := stream; len(p) >= 2; {
					l := int(binary.BigEndian.Uint16(p))
					s, ok := bookSum(p[2 : 2+l])
					if !ok {
						b.Fatal("Check rejected a benchmark message")
					}
					sink += s
					p = p[2+l:]
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/msg")
			if sink == 0 {
				b.Fatal("sink is zero")
			}
		})
	}
}
