package sim

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/tickwire/tickwire/book"
	"github.com/tickwire/tickwire/codec/glimpse"
	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/feed"
	"github.com/tickwire/tickwire/internal/gen"
)

// snapshotSession is the 30,000-message session of the snapshot tests.
func snapshotSession(tb testing.TB) *History {
	tb.Helper()
	var raw bytes.Buffer
	if _, err := gen.Generate(gen.Config{Seed: 5, Messages: 30000, Instruments: 40}, gen.Outputs{ITCH: &raw}); err != nil {
		tb.Fatal(err)
	}
	h, err := ReadHistory(&raw)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// replayInto applies messages [from, to) of h to b.
func replayInto(t *testing.T, b *book.Book, h *History, from, to uint64) {
	t.Helper()
	for seq := from; seq < to; seq++ {
		m := h.Message(seq)
		if err := itch.Check(m); err != nil {
			t.Fatalf("history message %d: %v", seq, err)
		}
		b.Apply(seq, m)
	}
}

// loadSnapshot loads msgs into a fresh book through a feed.SnapshotLoader
// and returns the book and the loader's Next.
func loadSnapshot(t *testing.T, msgs [][]byte) (*book.Book, uint64) {
	t.Helper()
	b := book.New()
	l := feed.NewSnapshotLoader(func(m []byte) { b.Apply(0, m) })
	for i, m := range msgs {
		done, err := l.Message(m)
		if err != nil {
			t.Fatalf("loading snapshot message %d: %v", i+1, err)
		}
		if done != (i == len(msgs)-1) {
			t.Fatalf("message %d of %d: done = %v", i+1, len(msgs), done)
		}
	}
	if !l.Done() {
		t.Fatal("snapshot without end-of-snapshot message")
	}
	return b, l.Next()
}

// diffSnapBooks returns the first difference between two books: instruments,
// symbols, every level of both sides, and every level's queue (references
// and remaining shares, front first). "" if they are equal.
func diffSnapBooks(got, want *book.Book) string {
	if g, w := got.LiveOrders(), want.LiveOrders(); g != w {
		return fmt.Sprintf("live orders %d, want %d", g, w)
	}
	gl, wl := got.Locates(nil), want.Locates(nil)
	if !slices.Equal(gl, wl) {
		return fmt.Sprintf("locates %v, want %v", gl, wl)
	}
	type entry struct {
		ref    uint64
		shares uint32
	}
	queue := func(b *book.Book, loc uint16, side byte, price uint32) []entry {
		var q []entry
		b.Orders(loc, side, price, func(ref uint64, shares uint32) bool {
			q = append(q, entry{ref, shares})
			return true
		})
		return q
	}
	for _, loc := range wl {
		if g, w := got.Symbol(loc), want.Symbol(loc); !bytes.Equal(g, w) {
			return fmt.Sprintf("locate %d: symbol %q, want %q", loc, g, w)
		}
		for _, side := range []byte{itch.Buy, itch.Sell} {
			g, w := got.AppendLevels(nil, loc, side), want.AppendLevels(nil, loc, side)
			if !slices.Equal(g, w) {
				return fmt.Sprintf("locate %d side %c: levels\n%v\nwant\n%v", loc, side, g, w)
			}
			for _, lv := range w {
				if gq, wq := queue(got, loc, side, lv.Price), queue(want, loc, side, lv.Price); !slices.Equal(gq, wq) {
					return fmt.Sprintf("locate %d side %c price %d: queue %v, want %v", loc, side, lv.Price, gq, wq)
				}
			}
		}
	}
	return ""
}

// snapshotPoints returns the snapshot points of the tests: the very start,
// early, middle and late points, the last message and the end (Len()+1).
func snapshotPoints(h *History) []uint64 {
	n := h.Len()
	return []uint64{1, 2, 50, 1000, 7777, n / 2, n/2 + 1, n - 100, n, n + 1}
}

// TestSnapshotResume takes snapshots at several points N, loads each into a
// fresh book, checks it equals the book after messages 1..N-1, applies
// messages N..end and requires the result to equal the book built from the
// whole history, without a single anomaly: this checks the content of the
// snapshot and the reading of G (N = the next message to apply).
func TestSnapshotResume(t *testing.T) {
	h := snapshotSession(t)
	full := book.New()
	replayInto(t, full, h, 1, h.Len()+1)
	if a := full.Anomalies(); a.Total() != 0 {
		t.Fatalf("the generated history itself has anomalies: %+v", a)
	}
	if full.LiveOrders() == 0 {
		t.Fatal("the session ends with an empty book: the comparison would prove nothing")
	}
	for _, n := range snapshotPoints(h) {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			msgs, err := h.Snapshot(n)
			if err != nil {
				t.Fatal(err)
			}
			b, next := loadSnapshot(t, msgs)
			if next != n {
				t.Fatalf("G carries %d, want %d", next, n)
			}
			before := book.New()
			replayInto(t, before, h, 1, n)
			if d := diffSnapBooks(b, before); d != "" {
				t.Fatalf("snapshot at %d differs from the book after %d messages: %s", n, n-1, d)
			}
			replayInto(t, b, h, next, h.Len()+1)
			if a := b.Anomalies(); a.Total() != 0 {
				t.Fatalf("anomalies after resuming at %d: %+v", next, a)
			}
			if d := diffSnapBooks(b, full); d != "" {
				t.Fatalf("resumed at %d: %s", n, d)
			}
		})
	}
}

// TestSnapshotOffByOne shows the resume test detects both misreadings of G:
// re-applying message N-1 (reading G as the last message reflected) and
// skipping message N.
func TestSnapshotOffByOne(t *testing.T) {
	h := snapshotSession(t)
	full := book.New()
	replayInto(t, full, h, 1, h.Len()+1)
	// The first point from the middle on whose message is an Add Order:
	// re-applying it duplicates the add, skipping it loses the order.
	n := h.Len() / 2
	for itch.Message(h.Message(n)).Type() != itch.TypeAddOrder {
		n++
	}
	t.Run("reapply", func(t *testing.T) {
		msgs, err := h.Snapshot(n + 1)
		if err != nil {
			t.Fatal(err)
		}
		b, next := loadSnapshot(t, msgs)
		replayInto(t, b, h, next-1, h.Len()+1)
		if a := b.Anomalies(); a.Counts[book.AnomalyDuplicateRef] == 0 {
			t.Fatalf("re-applying message %d went unnoticed: %+v", next-1, a)
		}
	})
	t.Run("skip", func(t *testing.T) {
		msgs, err := h.Snapshot(n)
		if err != nil {
			t.Fatal(err)
		}
		b, next := loadSnapshot(t, msgs)
		replayInto(t, b, h, next+1, h.Len()+1)
		if a, d := b.Anomalies(), diffSnapBooks(b, full); a.Total() == 0 && d == "" {
			t.Fatalf("skipping message %d went unnoticed", next)
		}
	})
}

// expectedState is an independent, simple model of what a snapshot at N
// carries beside the book: the latest status message of each kind by
// (type, locate, market code), and the MPID of each order reference.
type expectedState struct {
	status map[[4]uint16][]byte
	mpid   map[uint64][4]byte
	lastTS uint64
}

func expectSnapshot(h *History, n uint64) expectedState {
	e := expectedState{status: map[[4]uint16][]byte{}, mpid: map[uint64][4]byte{}}
	for seq := uint64(1); seq < n; seq++ {
		m := itch.Message(h.Message(seq))
		e.lastTS = m.Timestamp()
		switch m.Type() {
		case itch.TypeSystemEvent:
			e.status[[4]uint16{itch.TypeSystemEvent}] = m
		case itch.TypeStockDirectory, itch.TypeStockTradingAction, itch.TypeRegSHORestriction, itch.TypeRPII:
			e.status[[4]uint16{uint16(m.Type()), m.Locate()}] = m
		case itch.TypeOperationalHalt:
			e.status[[4]uint16{uint16(m.Type()), m.Locate(), uint16(itch.OperationalHalt(m).MarketCode())}] = m
		case itch.TypeAddOrderMPID:
			v := itch.AddOrderMPID(m)
			e.mpid[v.Ref()] = [4]byte(v.Attribution())
		case itch.TypeOrderReplace:
			v := itch.OrderReplace(m)
			if a, ok := e.mpid[v.OrigRef()]; ok {
				e.mpid[v.NewRef()] = a
			}
		}
	}
	return e
}

// snapStatusKey is the key of a snapshot status message in expectedState.
func snapStatusKey(m itch.Message) [4]uint16 {
	switch m.Type() {
	case itch.TypeSystemEvent:
		return [4]uint16{itch.TypeSystemEvent}
	case itch.TypeOperationalHalt:
		return [4]uint16{uint16(m.Type()), m.Locate(), uint16(itch.OperationalHalt(m).MarketCode())}
	}
	return [4]uint16{uint16(m.Type()), m.Locate()}
}

// snapStatusRank orders the status messages of one locate: R, H, Y, h, N.
var snapStatusRank = map[byte]int{
	itch.TypeStockDirectory: 0, itch.TypeStockTradingAction: 1, itch.TypeRegSHORestriction: 2,
	itch.TypeOperationalHalt: 3, itch.TypeRPII: 4,
}

// TestSnapshotContent checks each snapshot message against an independent
// model of the history: the order S, status messages by locate, adds, G;
// the latest status messages, re-stamped; 'F' with the MPID exactly for the
// orders descending from an 'F'; every timestamp that of message N-1.
func TestSnapshotContent(t *testing.T) {
	h := snapshotSession(t)
	var sawF, sawReplacedF, sawHalt bool
	for _, n := range snapshotPoints(h) {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			msgs, err := h.Snapshot(n)
			if err != nil {
				t.Fatal(err)
			}
			e := expectSnapshot(h, n)
			g, err := glimpse.ParseEndOfSnapshot(msgs[len(msgs)-1])
			if err != nil {
				t.Fatalf("last message %q: %v", msgs[len(msgs)-1], err)
			}
			if seq, _ := g.Seq(); seq != n {
				t.Fatalf("G carries %d, want %d", seq, n)
			}
			const (
				phaseSystem = iota
				phaseStatus
				phaseOrders
			)
			phase := phaseSystem
			var lastLocate uint16
			lastRank := -1
			var lastOrder [3]int64
			statusSeen := 0
			for i, raw := range msgs[:len(msgs)-1] {
				if err := itch.Check(raw); err != nil {
					t.Fatalf("message %d: %v", i+1, err)
				}
				m := itch.Message(raw)
				if m.Timestamp() != e.lastTS {
					t.Fatalf("message %d (%c): timestamp %d, want %d", i+1, m.Type(), m.Timestamp(), e.lastTS)
				}
				switch m.Type() {
				case itch.TypeSystemEvent:
					if i != 0 {
						t.Fatalf("System Event at index %d", i+1)
					}
				case itch.TypeAddOrder, itch.TypeAddOrderMPID:
					// Locate order, bids before asks, best price first.
					v := itch.AddOrder(raw)
					key := [3]int64{int64(v.Locate()), 0, int64(v.Price())}
					if v.Side() == itch.Sell {
						key[1] = 1
					} else {
						key[2] = -key[2]
					}
					if phase == phaseOrders && slices.Compare(key[:], lastOrder[:]) < 0 {
						t.Fatalf("message %d: order %v emitted after %v (locate, side, price rank)", i+1, key, lastOrder)
					}
					phase, lastOrder = phaseOrders, key
					ref := v.Ref()
					a, isF := e.mpid[ref]
					if (m.Type() == itch.TypeAddOrderMPID) != isF {
						t.Fatalf("message %d: order %d sent as %c, MPID known: %v", i+1, ref, m.Type(), isF)
					}
					if isF {
						sawF = true
						if got := itch.AddOrderMPID(raw).Attribution(); !bytes.Equal(got, a[:]) {
							t.Fatalf("order %d: MPID %q, want %q", ref, got, a)
						}
					}
				default:
					if phase == phaseOrders {
						t.Fatalf("message %d: %c after the orders", i+1, m.Type())
					}
					if _, ok := snapStatusRank[m.Type()]; !ok {
						t.Fatalf("message %d: type %c is not carried by GLIMPSE", i+1, m.Type())
					}
					if phase == phaseStatus && (m.Locate() < lastLocate || m.Locate() == lastLocate && snapStatusRank[m.Type()] < lastRank) {
						t.Fatalf("message %d: %c of locate %d out of order", i+1, m.Type(), m.Locate())
					}
					phase, lastLocate, lastRank = phaseStatus, m.Locate(), snapStatusRank[m.Type()]
					sawHalt = sawHalt || m.Type() == itch.TypeOperationalHalt
				}
				if m.Type() == itch.TypeAddOrder || m.Type() == itch.TypeAddOrderMPID {
					continue
				}
				statusSeen++
				want, ok := e.status[snapStatusKey(m)]
				if !ok {
					t.Fatalf("message %d: %c of locate %d never sent", i+1, m.Type(), m.Locate())
				}
				// Equal but for the timestamp (offsets 5..10).
				if !bytes.Equal(raw[:5], want[:5]) || !bytes.Equal(raw[11:], want[11:]) {
					t.Fatalf("message %d: % x, want the latest % x", i+1, raw, want)
				}
			}
			if statusSeen != len(e.status) {
				t.Fatalf("%d status messages, want %d", statusSeen, len(e.status))
			}
		})
	}
	// Replaced F orders: some live order at the end must have a reference
	// that was never added by an F itself.
	e := expectSnapshot(h, h.Len()+1)
	added := map[uint64]bool{}
	for seq := uint64(1); seq <= h.Len(); seq++ {
		if m := h.Message(seq); m[0] == itch.TypeAddOrderMPID {
			added[itch.AddOrderMPID(m).Ref()] = true
		}
	}
	msgs, err := h.Snapshot(h.Len() + 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m[0] == itch.TypeAddOrderMPID {
			ref := itch.AddOrderMPID(m).Ref()
			if _, ok := e.mpid[ref]; ok && !added[ref] {
				sawReplacedF = true
			}
		}
	}
	if !sawF || !sawReplacedF || !sawHalt {
		t.Errorf("the session does not exercise the builder: F %v, replaced F %v, operational halt %v",
			sawF, sawReplacedF, sawHalt)
	}
}

func TestSnapshotEmpty(t *testing.T) {
	h := snapshotSession(t)
	msgs, err := h.Snapshot(1)
	if err != nil {
		t.Fatal(err)
	}
	if want := glimpse.AppendEndOfSnapshot(nil, 1); len(msgs) != 1 || !bytes.Equal(msgs[0], want) {
		t.Fatalf("snapshot at 1 = %q, want only %q", msgs, want)
	}
}

func TestSnapshotErrors(t *testing.T) {
	h := &History{}
	h.Append((&itch.SystemEventMsg{EventCode: 'O'}).Append(nil))
	h.Append([]byte{'Z', 1, 2, 3}) // unknown type: skipped
	add := (&itch.AddOrderMsg{Header: itch.Header{Locate: 1, Timestamp: 7}, Ref: 9, Side: itch.Buy,
		Shares: 100, Stock: itch.Alpha8("AAPL"), Price: 1000}).Append(nil)
	h.Append(add)
	h.Append(add[:20]) // truncated: malformed

	for _, n := range []uint64{0, 6, 1 << 40} {
		if _, err := h.Snapshot(n); !errors.Is(err, ErrSnapshotSeq) {
			t.Errorf("Snapshot(%d) = %v, want ErrSnapshotSeq", n, err)
		}
	}
	msgs, err := h.Snapshot(4)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 || msgs[0][0] != 'S' || !bytes.Equal(msgs[1][11:], add[11:]) || msgs[2][0] != 'G' {
		t.Fatalf("snapshot at 4 = %q", msgs)
	}
	if _, err := h.Snapshot(5); !errors.Is(err, ErrSource) || !errors.Is(err, itch.ErrLength) {
		t.Fatalf("snapshot over a malformed message: %v, want ErrSource and itch.ErrLength", err)
	}
}

// BenchmarkSnapshot builds the snapshot at the end of the 30,000-message
// session (replay included: the builder replays the history each time).
func BenchmarkSnapshot(b *testing.B) {
	h := snapshotSession(b)
	msgs, err := h.Snapshot(h.Len() + 1)
	if err != nil {
		b.Fatal(err)
	}
	size := 0
	for _, m := range msgs {
		size += len(m)
	}
	b.ReportAllocs()
	b.SetBytes(int64(size))
	for b.Loop() {
		if _, err := h.Snapshot(h.Len() + 1); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(msgs)), "msgs/snapshot")
}
