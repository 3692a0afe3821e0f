package client

import (
	"testing"

	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/transport"
	"github.com/tickwire/tickwire/transport/tw"
)

// benchUpdates is the updates per frame of the benchmarks: a burst of one
// instrument's level changes as one Flush of a busy feed gives.
const benchUpdates = 64

// levelFrame encodes a frame of n LevelChanged updates over 10 price
// levels of both sides of instrument 13.
func levelFrame(n int) []byte {
	e := transport.NewEncoder(0)
	e.Begin(1)
	for i := range n {
		side := tw.SideBuy
		price := uint32(1_000_000 - 100*(i%10))
		if i%2 == 1 {
			side, price = tw.SideSell, uint32(1_001_000+100*(i%10))
		}
		e.LevelChanged(transport.Stamp{FeedSeq: uint64(i + 1), Timestamp: 34_200_000_000_000 + uint64(i), Locate: 13}, side, price, uint64(100*(i+1)), uint32(i%5+1))
	}
	f, err := e.Finish()
	if err != nil {
		panic(err)
	}
	return f
}

// level is one decoded LevelChanged.
type level struct {
	loc    uint16
	side   byte
	price  uint32
	shares uint64
	orders uint32
	seq    uint64
}

// decodeFrame cuts the frame from the stream and reads every field of its
// updates into out.
func decodeFrame(r *transport.FrameReader, frame []byte, out []level) []level {
	f, _, ok, err := r.Next(frame)
	if !ok || err != nil {
		panic(err)
	}
	var m transport.Message
	var v tw.LevelChangedFields
	var st tw.Stamp
	for i := range f.Len() {
		f.Message(i, &m)
		v.Init(m.Fields(tw.BodyLevelChanged))
		s := v.Stamp(&st)
		out = append(out, level{s.Locate(), byte(v.Side()), v.Price(), v.Shares(), v.OrderCount(), s.FeedSeq() + s.Timestamp()})
	}
	return out
}

func perUpdate(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchUpdates), "ns/update")
}

// BenchmarkClientDecode is the client's decode per update: the frame cut
// from the stream (validated), each message's type and every field read.
func BenchmarkClientDecode(b *testing.B) {
	frame := levelFrame(benchUpdates)
	r := transport.NewFrameReader(0)
	out := make([]level, 0, benchUpdates)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		out = decodeFrame(r, frame, out[:0])
	}
	perUpdate(b)
}

// BenchmarkMirrorApply is the mirror's apply per update of decoded level
// changes: SetLevel (Depth Levels) and setTop (Depth Top).
func BenchmarkMirrorApply(b *testing.B) {
	ups := decodeFrame(transport.NewFrameReader(0), levelFrame(benchUpdates), nil)
	for _, bc := range []struct {
		name string
		set  func(bk *Book, u *level)
	}{
		{"levels", func(bk *Book, u *level) { bk.SetLevel(u.loc, u.side, u.price, u.shares, u.orders, u.seq) }},
		{"top", func(bk *Book, u *level) { bk.setTop(u.loc, u.side, u.price, u.shares, u.orders, u.seq) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bk := NewBook()
			for i := range ups {
				bc.set(bk, &ups[i]) // grow the sides once
			}
			b.ReportAllocs()
			for b.Loop() {
				for i := range ups {
					bc.set(bk, &ups[i])
				}
			}
			perUpdate(b)
		})
	}
}

// BenchmarkClientApply is Run's whole path per update but the socket read:
// the frame cut from the stream, each message decoded and applied to the
// mirror by the client (Client.apply) at Depth Levels and Depth Top.
func BenchmarkClientApply(b *testing.B) {
	frame := levelFrame(benchUpdates)
	for _, d := range []struct {
		name  string
		depth Depth
	}{{"levels", DepthLevels}, {"top", DepthTop}} {
		b.Run(d.name, func(b *testing.B) {
			c := &Client{o: options{depth: d.depth}, book: NewBook(), orders: map[uint64]order{}}
			c.book.Reset(13, itch.Alpha8("BENCH"), 'T', false, 0).depth = d.depth
			r := transport.NewFrameReader(0)
			run := func() { applyFrame(b, c, r, frame) }
			run()
			b.SetBytes(int64(len(frame)))
			b.ReportAllocs()
			for b.Loop() {
				run()
			}
			perUpdate(b)
		})
	}
}

// TestClientNoAllocs proves the decode and apply path allocation free.
func TestClientNoAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	frame := levelFrame(benchUpdates)
	c := &Client{o: options{depth: DepthLevels}, book: NewBook(), orders: map[uint64]order{}}
	r := transport.NewFrameReader(0)
	run := func() { applyFrame(t, c, r, frame) }
	run()
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Errorf("decoding and applying a frame of %d updates: %v allocations, want 0", benchUpdates, n)
	}
}

// applyFrame cuts frame from the stream and applies each of its messages
// to c's mirror, as Run does.
func applyFrame(tb testing.TB, c *Client, r *transport.FrameReader, frame []byte) {
	f, _, _, _ := r.Next(frame)
	for i := range f.Len() {
		if _, err := c.apply(f.Message(i, &c.msg)); err != nil {
			tb.Fatal(err)
		}
	}
}
