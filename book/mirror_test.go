package book

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/tickwire/tickwire/codec/itch"
)

// mirrorOrder is an order as the mirror knows it from order changes.
type mirrorOrder struct {
	locate uint16
	side   byte
	price  uint32
	shares uint32
}

// sideKey names one side of one instrument in the mirror.
type sideKey struct {
	locate uint16
	side   byte
}

// mirror is a Listener that rebuilds the book from the changes alone: the
// levels from ChangeLevel, the orders from the order changes and the tops
// from ChangeTop, sharing nothing with the Book. It also checks what each
// change can be checked against on its own (the sequence number, an order
// change's consistency with the order it names).
type mirror struct {
	t      testing.TB
	seq    uint64 // seq of the message being applied, set by the caller
	levels map[sideKey]map[uint32]Level
	orders map[uint64]mirrorOrder
	tops   map[sideKey]Level
	counts [ChangeDirectory + 1]int
	err    error // the first inconsistency
}

func newMirror(t testing.TB) *mirror {
	return &mirror{t: t, levels: map[sideKey]map[uint32]Level{}, orders: map[uint64]mirrorOrder{}, tops: map[sideKey]Level{}}
}

func (m *mirror) fail(format string, args ...any) {
	if m.err == nil {
		m.err = fmt.Errorf(format, args...)
	}
}

func (m *mirror) Change(c *Change) {
	m.counts[c.Kind]++
	if c.Seq != m.seq {
		m.fail("change %v with seq %d while applying %d", c.Kind, c.Seq, m.seq)
	}
	k := sideKey{c.Locate, c.Side}
	switch c.Kind {
	case ChangeAdd:
		if _, ok := m.orders[c.Ref]; ok {
			m.fail("seq %d: add of live ref %d", c.Seq, c.Ref)
		}
		m.orders[c.Ref] = mirrorOrder{c.Locate, c.Side, c.Price, c.Shares}
	case ChangeExecute, ChangeExecuteWithPrice, ChangeCancel, ChangeDelete:
		o, ok := m.orders[c.Ref]
		if !ok || o.locate != c.Locate || o.side != c.Side || o.price != c.Price {
			m.fail("seq %d: %v of ref %d: %+v, mirror has %+v (%v)", c.Seq, c.Kind, c.Ref, *c, o, ok)
		}
		if want := o.shares - min(o.shares, c.Shares); c.Kind != ChangeDelete && c.Remaining != want {
			m.fail("seq %d: %v of %d shares of ref %d with %d: remaining %d", c.Seq, c.Kind, c.Shares, c.Ref, o.shares, c.Remaining)
		}
		if c.Remaining == 0 {
			delete(m.orders, c.Ref)
		} else {
			o.shares = c.Remaining
			m.orders[c.Ref] = o
		}
	case ChangeReplace:
		o, ok := m.orders[c.Ref]
		if !ok || o.price != c.OldPrice || o.shares != c.OldShares {
			m.fail("seq %d: replace of ref %d: %+v, mirror has %+v (%v)", c.Seq, c.Ref, *c, o, ok)
		}
		delete(m.orders, c.Ref)
		m.orders[c.NewRef] = mirrorOrder{c.Locate, c.Side, c.Price, c.Shares}
	case ChangeLevel:
		lv := m.levels[k]
		if lv == nil {
			lv = map[uint32]Level{}
			m.levels[k] = lv
		}
		if c.LevelOrders == 0 {
			delete(lv, c.Price)
		} else {
			lv[c.Price] = Level{Price: c.Price, Shares: c.LevelShares, Orders: c.LevelOrders}
		}
	case ChangeTop:
		m.tops[k] = Level{Price: c.Price, Shares: c.LevelShares, Orders: c.LevelOrders}
	}
}

// compare checks the mirror against b's own accessors: every level of every
// side, every order, every top.
func (m *mirror) compare(t testing.TB, b *Book, when string) {
	t.Helper()
	if m.err != nil {
		t.Fatalf("%s: %v", when, m.err)
	}
	if b.LiveOrders() != len(m.orders) {
		t.Fatalf("%s: %d live orders, mirror %d", when, b.LiveOrders(), len(m.orders))
	}
	locs := b.Locates(nil)
	for k, lv := range m.levels {
		if len(lv) > 0 && !slices.Contains(locs, k.locate) {
			t.Fatalf("%s: mirror has levels of locate %d, the book none", when, k.locate)
		}
	}
	var got []Level
	for _, l := range locs {
		for _, side := range []byte{itch.Buy, itch.Sell} {
			k := sideKey{l, side}
			got = b.AppendLevels(got[:0], l, side)
			want := slices.SortedFunc(maps.Values(m.levels[k]), func(x, y Level) int {
				if side == itch.Buy {
					return int(int64(y.Price) - int64(x.Price))
				}
				return int(int64(x.Price) - int64(y.Price))
			})
			if !slices.Equal(got, want) {
				t.Fatalf("%s: locate %d side %c: book %v, mirror %v", when, l, side, got, want)
			}
			var best Level
			if len(got) > 0 {
				best = got[0]
			}
			if top := m.tops[k]; top != best && !(best.Orders == 0 && top.Orders == 0) {
				t.Fatalf("%s: locate %d side %c: best %v, mirror top %v", when, l, side, best, top)
			}
			for _, lv := range got {
				b.Orders(l, side, lv.Price, func(ref uint64, shares uint32) bool {
					if o := m.orders[ref]; o != (mirrorOrder{l, side, lv.Price, shares}) {
						t.Fatalf("%s: order %d at %d %c %d with %d shares, mirror %+v", when, ref, l, side, lv.Price, shares, o)
					}
					return true
				})
			}
		}
	}
}

// TestListenerMirrorsStream replays the synthetic session (genStream)
// through a Book whose listener keeps its own mirror and checks, every 10k
// messages and at the end, that the mirror equals the book, and that the
// listener leaves the book exactly as a Book without one.
func TestListenerMirrorsStream(t *testing.T) {
	s := genStream(11, 40, 4_000, 200_000)
	mr := newMirror(t)
	b := New(WithOrders(s.peak), WithInstruments(64), WithListener(mr))
	plain := New(WithOrders(s.peak), WithInstruments(64))
	var seq uint64
	n := 0
	for _, buf := range [][]byte{s.prefix, s.body} {
		for off := 0; off < len(buf); {
			var m itch.Message
			m, off = next(buf, off)
			seq++
			mr.seq = seq
			b.Apply(seq, m)
			plain.Apply(seq, m)
			if n++; n%10_000 == 0 {
				mr.compare(t, b, fmt.Sprintf("message %d", n))
			}
		}
	}
	mr.compare(t, b, "end")
	sameBook(t, b, plain)
	t.Logf("%d messages, changes %v", n, mr.counts)
	for _, k := range []ChangeKind{ChangeAdd, ChangeExecute, ChangeCancel, ChangeDelete, ChangeReplace, ChangeLevel, ChangeTop, ChangeTrade, ChangeTradingAction, ChangeDirectory} {
		if mr.counts[k] == 0 {
			t.Errorf("the stream produced no %v change", k)
		}
	}
}

// sameBook checks that two books hold the same levels, orders and anomalies.
func sameBook(t *testing.T, b, want *Book) {
	t.Helper()
	if !slices.Equal(b.Locates(nil), want.Locates(nil)) || b.LiveOrders() != want.LiveOrders() {
		t.Fatalf("locates %v / %d orders, want %v / %d", b.Locates(nil), b.LiveOrders(), want.Locates(nil), want.LiveOrders())
	}
	if a, w := b.Anomalies(), want.Anomalies(); a.Counts != w.Counts || !slices.Equal(a.Records, w.Records) {
		t.Fatalf("anomalies %v, want %v", a, w)
	}
	for _, l := range b.Locates(nil) {
		for _, side := range []byte{itch.Buy, itch.Sell} {
			if got, w := b.AppendLevels(nil, l, side), want.AppendLevels(nil, l, side); !slices.Equal(got, w) {
				t.Fatalf("locate %d %c: %v, want %v", l, side, got, w)
			}
		}
	}
}

// countListener accumulates the changes into a checksum, as a consumer that
// encodes them would read them.
type countListener struct{ sum uint64 }

func (l *countListener) Change(c *Change) {
	l.sum += c.Ref ^ uint64(c.Price) ^ uint64(c.Shares) ^ c.LevelShares ^ uint64(c.Kind)
}

// TestListenerAllocs replays the synthetic session with a listener: nothing
// is allocated per message.
func TestListenerAllocs(t *testing.T) {
	s := genStream(3, 20, 5_000, 100_000)
	l := &countListener{}
	b := New(WithOrders(s.peak), WithInstruments(32))
	b.SetListener(l)
	replay := func() {
		b.Reset()
		seq := applyAll(b, s.prefix, 0)
		applyAll(b, s.body, seq)
	}
	replay() // warm
	if n := testing.AllocsPerRun(3, replay); n != 0 {
		t.Errorf("replaying %d messages with a listener allocates %.0f times", s.nBody, n)
	}
	if l.sum == 0 {
		t.Error("the listener saw nothing")
	}
}
