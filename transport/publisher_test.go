package transport

import (
	"testing"

	"github.com/tickwire/tickwire/book"
	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/transport/ring"
	"github.com/tickwire/tickwire/transport/tw"
)

// publisherBench is a book with a Publisher listening, every stream read,
// and a cycle of messages that adds, executes, replaces and deletes orders
// on a few instruments.
func publisherBench(tb testing.TB) (*book.Book, *Publisher, func(i int)) {
	r := ring.New(16 << 20)
	p := NewPublisher(r, nil)
	b := book.New(book.WithListener(p))
	p.SetBook(b)
	for s := range numStreams {
		p.subs[s] = 1
	}
	var seq uint64
	apply := func(m itch.Message) {
		if err := itch.Check(m); err != nil {
			tb.Fatal(err)
		}
		seq++
		b.Apply(seq, m)
	}
	for loc := uint16(1); loc <= 8; loc++ {
		apply(itch.Message((&itch.StockDirectoryMsg{Header: itch.Header{Locate: loc}, Stock: [8]byte{'S', byte('A' + loc), ' ', ' ', ' ', ' ', ' ', ' '}}).Append(nil)))
	}
	p.Flush()
	var msg []byte
	cycle := func(i int) {
		loc := uint16(1 + i%8)
		ref := uint64(1_000_000 + i*2)
		msg = (&itch.AddOrderMsg{Header: itch.Header{Locate: loc}, Ref: ref, Side: itch.Buy, Shares: 300, Price: uint32(100_0000 + i%16*100)}).Append(msg[:0])
		apply(msg)
		msg = (&itch.OrderExecutedMsg{Header: itch.Header{Locate: loc}, Ref: ref, Shares: 100, Match: uint64(i)}).Append(msg[:0])
		apply(msg)
		msg = (&itch.OrderReplaceMsg{Header: itch.Header{Locate: loc}, OrigRef: ref, NewRef: ref + 1, Shares: 200, Price: uint32(100_0000 + i%16*100 + 50)}).Append(msg[:0])
		apply(msg)
		msg = (&itch.OrderDeleteMsg{Header: itch.Header{Locate: loc}, Ref: ref + 1}).Append(msg[:0])
		apply(msg)
		p.Flush()
	}
	return b, p, cycle
}

// TestPublisherNoAllocs: gathering changes, encoding them into every
// stream and appending the frames to the ring allocate nothing in steady
// state.
func TestPublisherNoAllocs(t *testing.T) {
	_, p, cycle := publisherBench(t)
	for i := range 1000 {
		cycle(i)
	}
	i := 1000
	if a := testing.AllocsPerRun(1000, func() { cycle(i); i++ }); a != 0 {
		t.Fatalf("%.1f allocations per cycle of 4 messages", a)
	}
	if p.Frames() == 0 {
		t.Fatal("no frame published")
	}
}

// BenchmarkPublisher measures the writer's cost per message: the book's
// changes gathered, encoded into every depth's stream, appended to the ring.
func BenchmarkPublisher(b *testing.B) {
	_, _, cycle := publisherBench(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		cycle(i)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(4*b.N), "ns/msg")
}

// TestSnapshotsShared: requests taken in one batch that want the same
// instruments at the same depth share one snapshot of each (a storm of
// conflated connections costs the writer one snapshot per instrument), and
// a later batch gets fresh ones, in a buffer of its own.
func TestSnapshotsShared(t *testing.T) {
	_, p, cycle := publisherBench(t)
	for i := range 100 {
		cycle(i)
	}
	var got []*request
	sink := func(r *request) { got = append(got, r) }
	for id := uint64(1); id <= 3; id++ {
		depth := tw.DepthLevels
		if id == 3 {
			depth = tw.DepthOrders
		}
		p.submit(&request{conn: id, id: 1, sink: sink, all: true, depth: depth})
	}
	p.Flush()
	if len(got) != 3 || len(got[0].out) != 8 || len(got[1].out) != 8 {
		t.Fatalf("%d requests taken, snapshots %d", len(got), len(got[0].out))
	}
	for i := range got[0].out {
		if &got[0].out[i][0] != &got[1].out[i][0] {
			t.Fatalf("snapshot %d not shared between two Levels requests", i)
		}
		if &got[0].out[i][0] == &got[2].out[i][0] {
			t.Fatalf("snapshot %d shared between Levels and Orders", i)
		}
	}
	first := got[0].out[0]
	p.submit(&request{conn: 1, id: 2, sink: sink, all: true, depth: tw.DepthLevels})
	cycle(100)
	if &got[3].out[0][0] == &first[0] {
		t.Fatal("a later batch reused the earlier batch's snapshot")
	}
}

// TestChangesBoundedWithoutFlush: messages applied without a Flush (a
// hole filled, a backlog released at once) have their changes encoded
// every maxPend, so what the Publisher gathers stays bounded and nothing
// is allocated for it.
func TestChangesBoundedWithoutFlush(t *testing.T) {
	b, p, _ := publisherBench(t)
	frames := p.Frames()
	var msg []byte
	var seq uint64 = 1 << 20
	add := func(i int) { // an order added and deleted: two messages
		seq++
		msg = (&itch.AddOrderMsg{Header: itch.Header{Locate: uint16(1 + i%8)}, Ref: uint64(5_000_000 + i), Side: itch.Sell,
			Shares: 100, Price: 200_0000}).Append(msg[:0])
		b.Apply(seq, msg)
		seq++
		msg = (&itch.OrderDeleteMsg{Header: itch.Header{Locate: uint16(1 + i%8)}, Ref: uint64(5_000_000 + i)}).Append(msg[:0])
		b.Apply(seq, msg)
	}
	for loc := uint16(1); loc <= 8; loc++ { // a level that stays: the book's own growth is not counted
		seq++
		b.Apply(seq, (&itch.AddOrderMsg{Header: itch.Header{Locate: loc}, Ref: 4_000_000 + uint64(loc), Side: itch.Sell,
			Shares: 100, Price: 200_0000}).Append(nil))
	}
	n := 0
	for range 3 * maxPend { // the encoder's buffers at their size
		add(n)
		n++
	}
	// A pair makes four changes (the order's and its level's): a run
	// crosses the bound twice.
	if a := testing.AllocsPerRun(10, func() {
		for range maxPend / 2 {
			add(n)
			n++
		}
	}); a != 0 {
		t.Errorf("%.1f allocations per %d messages without a Flush", a, maxPend)
	}
	if cap(p.pend) > maxPend {
		t.Errorf("the changes gathered grew to %d, beyond maxPend %d", cap(p.pend), maxPend)
	}
	if got := p.Frames() - frames; got == 0 {
		t.Error("no frame published before the Flush")
	}
	p.Flush()
	if len(p.pend) != 0 {
		t.Errorf("%d changes left after Flush", len(p.pend))
	}
}
