package book

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/internal/prefetch"
)

// messages returns the body's messages in order (each aliasing s.body).
func (s *stream) messages() []itch.Message {
	msgs := make([]itch.Message, 0, s.nBody)
	for off := 0; off < len(s.body); {
		var m itch.Message
		m, off = next(s.body, off)
		msgs = append(msgs, m)
	}
	return msgs
}

// faultyMessages interleaves msgs with faults of the feed (duplicate adds,
// unknown references, a replace onto a live reference) so that the books
// compared see anomalies too, and returns them with the messages Prefetch
// must accept but that are never applied: truncated order messages, empty
// and unknown ones.
func faultyMessages(seed uint64, msgs []itch.Message) (applied, junk []itch.Message) {
	rng := rand.New(rand.NewPCG(seed, 0xfa17))
	hdr := itch.Header{Locate: 1, Timestamp: 34_200_000_000_000}
	var last uint64 // the reference of the previous A
	for i, m := range msgs {
		applied = append(applied, m)
		if m.Type() != itch.TypeAddOrder {
			continue
		}
		ref := itch.AddOrder(m).Ref()
		prev := last
		last = ref
		if i%997 != 0 || prev == 0 {
			continue
		}
		var f []byte
		switch rng.IntN(4) {
		case 0: // the same reference added again
			f = append(f, m...)
		case 1:
			f = (&itch.OrderDeleteMsg{Header: hdr, Ref: 1<<60 + uint64(i)}).Append(nil)
		case 2:
			f = (&itch.OrderExecutedMsg{Header: hdr, Ref: 1<<61 + uint64(i), Shares: 5}).Append(nil)
		case 3: // onto a reference that may still be live
			f = (&itch.OrderReplaceMsg{Header: hdr, OrigRef: ref, NewRef: prev, Shares: 7, Price: 1000}).Append(nil)
		}
		applied = append(applied, itch.Message(f))
		junk = append(junk, m[:rng.IntN(len(m))])
	}
	junk = append(junk, itch.Message{}, itch.Message{'A'}, itch.Message("Z12345678901234567890123456789"))
	return applied, junk
}

// TestPrefetchExact replays a stream with about 110k live orders (a table of
// 2^19 slots and more, where the book prefetches) through two books: one
// plain, one prefetching ahead as the pipeline's replay does and, at every
// message, Prefetch and PrefetchOrder on a random message of the stream
// (applied or not yet, or truncated junk). Prefetching is a hint, but the
// stages read the table: the books must end identical, anomalies included,
// and consistent.
func TestPrefetchExact(t *testing.T) {
	const seed = 17
	t.Logf("seed %d", seed)
	s := genStream(seed, 100, 110_000, 150_000)
	msgs, junk := faultyMessages(seed, s.messages())
	rng := rand.New(rand.NewPCG(seed, 1))
	plain := New(WithOrders(s.peak), WithInstruments(128))
	b := New(WithOrders(s.peak), WithInstruments(128))
	if !b.Prefetching() && prefetch.Enabled {
		t.Fatalf("a table of %d slots does not prefetch", len(b.slots))
	}
	seq := applyAll(plain, s.prefix, 0)
	applyAll(b, s.prefix, 0)
	for i, m := range msgs {
		if j := i + PrefetchAhead; j < len(msgs) {
			b.Prefetch(msgs[j])
		}
		if j := i + PrefetchOrderAhead; j < len(msgs) {
			b.PrefetchOrder(msgs[j])
		}
		r := msgs[rng.IntN(len(msgs))]
		if rng.IntN(4) == 0 {
			r = junk[rng.IntN(len(junk))]
		}
		b.Prefetch(r)
		b.PrefetchOrder(r)
		seq++
		if itch.Check(m) == nil {
			plain.Apply(seq, m)
			b.Apply(seq, m)
		}
	}
	if a := plain.Anomalies(); a.Total() == 0 {
		t.Fatal("the stream produced no anomaly")
	}
	sameBook(t, b, plain)
	sameQueues(t, b, plain)
	if err := b.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d messages, %d live orders, anomalies %v", len(msgs), b.LiveOrders(), b.Anomalies().Counts)
}

// sameQueues checks that two books with the same levels (sameBook) hold the
// same orders in the same queue order at each.
func sameQueues(t *testing.T, b, want *Book) {
	t.Helper()
	type entry struct {
		ref    uint64
		shares uint32
	}
	var got, w []entry
	for _, l := range want.Locates(nil) {
		for _, side := range []byte{itch.Buy, itch.Sell} {
			for _, lv := range want.AppendLevels(nil, l, side) {
				got, w = got[:0], w[:0]
				b.Orders(l, side, lv.Price, func(ref uint64, shares uint32) bool {
					got = append(got, entry{ref, shares})
					return true
				})
				want.Orders(l, side, lv.Price, func(ref uint64, shares uint32) bool {
					w = append(w, entry{ref, shares})
					return true
				})
				if !slices.Equal(got, w) {
					t.Fatalf("locate %d %c %d: orders %v, want %v", l, side, lv.Price, got, w)
				}
			}
		}
	}
}

// minPrefetchOrders is the smallest sizing hint of a book that prefetches.
const minPrefetchOrders = (prefetchMinSlots + slotsPerOrder - 1) / slotsPerOrder

// TestPrefetchingSize checks that a book prefetches only with a large
// table: from its sizing hint, or once it has grown.
func TestPrefetchingSize(t *testing.T) {
	if !prefetch.Enabled {
		t.Skip("no prefetch instruction in this build")
	}
	if New().Prefetching() {
		t.Error("a default book prefetches")
	}
	if !New(WithOrders(minPrefetchOrders)).Prefetching() {
		t.Errorf("a book of %d orders does not prefetch", minPrefetchOrders)
	}
	if New(WithOrders(minPrefetchOrders - 1)).Prefetching() {
		t.Errorf("a book of %d orders prefetches", minPrefetchOrders-1)
	}
	b := New(WithOrders(1000))
	s := genStream(3, 10, 120_000, 1000) // the prefix adds 120k orders
	applyAll(b, s.prefix, 0)
	if !b.Prefetching() {
		t.Errorf("a book grown to %d slots does not prefetch", len(b.slots))
	}
}

// TestPrefetchNoAllocs checks that Prefetch and PrefetchOrder allocate
// nothing, on a book that prefetches and on one that does not.
func TestPrefetchNoAllocs(t *testing.T) {
	s := genStream(5, 10, 1000, 2000)
	msgs := s.messages()
	for _, b := range []*Book{New(), New(WithOrders(minPrefetchOrders))} {
		applyAll(b, s.prefix, 0)
		i := 0
		n := testing.AllocsPerRun(1000, func() {
			m := msgs[i%len(msgs)]
			i++
			b.Prefetch(m)
			b.PrefetchOrder(m)
		})
		if n != 0 {
			t.Errorf("table of %d slots: Prefetch and PrefetchOrder allocate %v times a message", len(b.slots), n)
		}
	}
}
