package moldudp64_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/codec/moldudp64"
)

// mtuPayload is the MoldUDP64 payload budget of a 1500-byte Ethernet MTU
// after IPv4 and UDP headers, with margin: packets are filled to at most
// this many bytes, as a real feed does.
const mtuPayload = 1400

// benchPackets encodes n packets of ITCH order messages, each filled up to
// mtuPayload bytes, and returns them with the total message count.
func benchPackets(tb testing.TB, n int, seed uint64) ([][]byte, int) {
	tb.Logf("benchPackets seed %d", seed)
	r := rand.New(rand.NewPCG(seed, ^seed))
	var packets [][]byte
	total := 0
	seq := uint64(1)
	var msg []byte
	for range n {
		p := moldudp64.AppendHeader(make([]byte, 0, mtuPayload), session, seq, 0)
		count := 0
		for {
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
			if len(p)+2+len(msg) > mtuPayload {
				break
			}
			p = moldudp64.AppendBlock(p, msg)
			count++
		}
		moldudp64.SetCount(p, uint16(count))
		packets = append(packets, p)
		seq += uint64(count)
		total += count
	}
	return packets, total
}

// BenchmarkBlocks measures Parse plus block iteration over ~1400-byte
// packets of ITCH messages; ns/msg is the framing cost per message.
func BenchmarkBlocks(b *testing.B) {
	packets, total := benchPackets(b, 256, uint64(time.Now().UnixNano()))
	size := 0
	for _, p := range packets {
		size += len(p)
	}
	var sink int
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, d := range packets {
			p, err := moldudp64.Parse(d)
			if err != nil {
				b.Fatal(err)
			}
			it := p.Blocks()
			for m, ok := it.Next(); ok; m, ok = it.Next() {
				sink += len(m) + int(m[0])
			}
			if it.Err() != nil {
				b.Fatal(it.Err())
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*total), "ns/msg")
	b.ReportMetric(float64(total)/float64(len(packets)), "msgs/packet")
	if sink == 0 {
		b.Fatal("sink is zero")
	}
}
