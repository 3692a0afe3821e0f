package client

import (
	"math/rand/v2"
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

// restingFrame encodes the resting book of instrument 13 that orderFrame's
// updates churn on: 20 levels a side, 100 apart, of 5 orders each.
func restingFrame() []byte {
	e := transport.NewEncoder(0)
	e.Begin(1)
	ref := uint64(1_000_000)
	for k := range uint32(20) {
		for range 5 {
			e.OrderAdded(transport.Stamp{Locate: 13}, ref, tw.SideBuy, 1_000_000-100*k, 100, nil)
			e.OrderAdded(transport.Stamp{Locate: 13}, ref+1, tw.SideSell, 1_000_100+100*k, 100, nil)
			ref += 2
		}
	}
	f, err := e.Finish()
	if err != nil {
		panic(err)
	}
	return f
}

// orderFrame encodes a frame of n order-by-order updates of instrument 13,
// near the top of restingFrame's book, in the proportions of an ITCH
// session: drawn as adds 45%, deletes 35%, replaces 10%, executions 6%,
// cancels 4%, which with the fixed seed gives 26 adds, 24 deletes, 9
// replaces, 3 executions and 2 cancels (TestOrderFrameSteady logs them).
// Every order the frame adds it also removes, so that a mirror applying it
// again and again stays in a steady state; the last updates are the
// deletes that take what remains.
func orderFrame(n int) []byte {
	rng := rand.New(rand.NewPCG(11, 12))
	type live struct {
		ref           uint64
		side          tw.Side
		price, shares uint32
	}
	var ls []live
	next := uint64(1)
	price := func(side tw.Side) uint32 {
		k := uint32(rng.IntN(8)) // the top 8 levels; a few more levels than the book's appear by replaces
		if side == tw.SideBuy {
			return 1_000_000 - 100*k
		}
		return 1_000_100 + 100*k
	}
	e := transport.NewEncoder(0)
	e.Begin(1)
	for i := range n {
		s := transport.Stamp{FeedSeq: uint64(i + 1), Timestamp: 34_200_000_000_000 + uint64(i), Locate: 13}
		r := rng.IntN(100)
		j := 0
		if len(ls) > 0 {
			j = rng.IntN(len(ls))
		}
		// After this update, the updates left must be able to remove
		// what lives: as many at least, and none left over with none.
		after := len(ls) // a replace, a cancel, an execution of a part
		switch {
		case len(ls) == 0 || r < 45:
			after++
		case r < 80, r < 96 && r >= 90 && ls[j].shares <= 100, r >= 96 && ls[j].shares == 1:
			after--
		}
		if rem := n - i - 1; len(ls) == 0 {
			r = 0 // nothing to remove
		} else if after > rem || after == 0 && rem == 1 {
			r = 50 // a delete
			if len(ls)-1 == 0 && rem == 1 {
				r = 85 // a replace, and the delete last
			}
		}
		switch {
		case r < 45:
			side := tw.SideBuy
			if rng.IntN(2) == 1 {
				side = tw.SideSell
			}
			o := live{next, side, price(side), 100 * uint32(1+rng.IntN(5))}
			next++
			ls = append(ls, o)
			e.OrderAdded(s, o.ref, o.side, o.price, o.shares, nil)
		case r < 80:
			e.OrderDeleted(s, ls[j].ref)
			ls = append(ls[:j], ls[j+1:]...)
		case r < 90:
			o := live{next, ls[j].side, price(ls[j].side), 100 * uint32(1+rng.IntN(5))}
			next++
			e.OrderReplaced(s, ls[j].ref, o.ref, o.side, o.price, o.shares)
			ls[j] = o
		case r < 96:
			sh := min(ls[j].shares, 100)
			e.OrderExecuted(s, ls[j].ref, uint64(i), sh, 0, false, true)
			if ls[j].shares -= sh; ls[j].shares == 0 {
				ls = append(ls[:j], ls[j+1:]...)
			}
		default:
			sh := max(ls[j].shares/2, 1)
			if sh == ls[j].shares { // a cancel of a part: never the whole
				e.OrderDeleted(s, ls[j].ref)
				ls = append(ls[:j], ls[j+1:]...)
				break
			}
			e.OrderCancelled(s, ls[j].ref, sh)
			ls[j].shares -= sh
		}
	}
	f, err := e.Finish()
	if err != nil {
		panic(err)
	}
	return f
}

// orderUpdate is one decoded order-by-order update: kind is the Body type,
// an OrderReplaced's new order is ref2.
type orderUpdate struct {
	kind      tw.Body
	loc       uint16
	side      byte
	ref, ref2 uint64
	price     uint32
	shares    uint32
	seq       uint64
}

// decodeOrders reads every order update of frame.
func decodeOrders(frame []byte) []orderUpdate {
	f, _, ok, err := transport.NewFrameReader(0).Next(frame)
	if !ok || err != nil {
		panic(err)
	}
	var out []orderUpdate
	var m transport.Message
	for i := range f.Len() {
		f.Message(i, &m)
		u := orderUpdate{kind: m.Type()}
		b, pos := m.Fields(u.kind)
		var st tw.Stamp
		st.Init(b, pos)
		u.loc, u.seq = st.Locate(), st.FeedSeq()
		switch u.kind {
		case tw.BodyOrderAdded:
			var v tw.OrderAddedFields
			v.Init(b, pos)
			u.ref, u.side, u.price, u.shares = v.OrderRef(), byte(v.Side()), v.Price(), v.Shares()
		case tw.BodyOrderExecuted:
			var v tw.OrderExecutedFields
			v.Init(b, pos)
			u.ref, u.shares = v.OrderRef(), v.Shares()
		case tw.BodyOrderCancelled:
			var v tw.OrderCancelledFields
			v.Init(b, pos)
			u.ref, u.shares = v.OrderRef(), v.Shares()
		case tw.BodyOrderDeleted:
			var v tw.OrderDeletedFields
			v.Init(b, pos)
			u.ref, u.shares = v.OrderRef(), ^uint32(0)
		case tw.BodyOrderReplaced:
			var v tw.OrderReplacedFields
			v.Init(b, pos)
			u.ref, u.ref2, u.side, u.price, u.shares = v.OldRef(), v.NewRef(), byte(v.Side()), v.Price(), v.Shares()
		}
		out = append(out, u)
	}
	return out
}

// ordersClient returns a client of an Orders subscription to instrument
// 13 whose mirror holds restingFrame's book.
func ordersClient(tb testing.TB) *Client {
	c := &Client{o: Options{Depth: DepthOrders}, book: NewBook()}
	c.book.Reset(13, itch.Alpha8("BENCH"), 'T', false, 0).depth = DepthOrders
	applyFrame(tb, c, transport.NewFrameReader(0), restingFrame())
	return c
}

// BenchmarkMirrorApply is the mirror's apply per update of decoded
// updates: level changes by SetLevel (Depth Levels) and setTop (Depth
// Top), and orderFrame's order updates (Depth Orders: the orders and their
// levels).
func BenchmarkMirrorApply(b *testing.B) {
	b.Run("orders", func(b *testing.B) {
		ups := decodeOrders(orderFrame(benchUpdates))
		c := ordersClient(b)
		apply := func() {
			for i := range ups {
				u := &ups[i]
				switch u.kind {
				case tw.BodyOrderAdded:
					c.add(u.loc, u.ref, u.side, u.price, u.shares, u.seq)
				case tw.BodyOrderReplaced:
					c.reduce(u.ref, ^uint32(0), u.seq)
					c.add(u.loc, u.ref2, u.side, u.price, u.shares, u.seq)
				default:
					c.reduce(u.ref, u.shares, u.seq)
				}
			}
		}
		apply() // grow the sides and the orders once
		b.ReportAllocs()
		for b.Loop() {
			apply()
		}
		perUpdate(b)
	})
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
			c := &Client{o: Options{Depth: d.depth}, book: NewBook()}
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
	b.Run("orders", func(b *testing.B) {
		frame := orderFrame(benchUpdates)
		c := ordersClient(b)
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

// TestClientNoAllocs proves the decode and apply path allocation free.
func TestClientNoAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	frame := levelFrame(benchUpdates)
	c := &Client{o: Options{Depth: DepthLevels}, book: NewBook()}
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
