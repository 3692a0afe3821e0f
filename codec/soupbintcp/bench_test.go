package soupbintcp_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/codec/soupbintcp"
)

// readSize is the size of one socket read in the benchmark: a 64 KiB
// buffer filled by each read, so most reads end mid-packet.
const readSize = 64 << 10

// benchStream returns a stream of n Sequenced Data packets, each one ITCH
// order message (Add, Delete, Replace, Executed in a typical mix: 19 to 40
// bytes).
func benchStream(tb testing.TB, n int, seed uint64) []byte {
	tb.Logf("benchStream seed %d", seed)
	r := rand.New(rand.NewPCG(seed, ^seed))
	var s, msg []byte
	for range n {
		h := itch.Header{Locate: uint16(1 + r.IntN(8000)), Timestamp: 34_200_000_000_000}
		ref := r.Uint64()
		switch k := r.IntN(100); {
		case k < 50:
			msg = (&itch.AddOrderMsg{Header: h, Ref: ref, Side: itch.Sell, Shares: 100, Stock: itch.Alpha8("AAPL"), Price: 1_000_000}).Append(msg[:0])
		case k < 85:
			msg = (&itch.OrderDeleteMsg{Header: h, Ref: ref}).Append(msg[:0])
		case k < 95:
			msg = (&itch.OrderReplaceMsg{Header: h, OrigRef: ref, NewRef: ref + 1, Shares: 100, Price: 1_000_100}).Append(msg[:0])
		default:
			msg = (&itch.OrderExecutedMsg{Header: h, Ref: ref, Shares: 100, Match: ref}).Append(msg[:0])
		}
		s = soupbintcp.AppendSequenced(s, msg)
	}
	return s
}

// BenchmarkFramer frames a stream of ITCH-sized Sequenced Data packets
// arriving in 64 KiB reads; ns/packet is the framing cost per packet,
// including the callback and the copies of packets split between reads.
func BenchmarkFramer(b *testing.B) {
	const packets = 1 << 16
	s := benchStream(b, packets, uint64(time.Now().UnixNano()))
	f := new(soupbintcp.Framer)
	var n, sink int
	fn := func(p soupbintcp.Packet) error {
		n++
		sink += int(p.Payload()[0])
		return nil
	}
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		for off := 0; off < len(s); off += readSize {
			if err := f.Feed(s[off:min(off+readSize, len(s))], fn); err != nil {
				b.Fatal(err)
			}
		}
	}
	if n != b.N*packets || f.Buffered() != 0 || sink == 0 {
		b.Fatalf("%d packets framed, want %d; Buffered %d", n, b.N*packets, f.Buffered())
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/packet")
	b.ReportMetric(float64(len(s))/float64(packets), "bytes/packet")
}
