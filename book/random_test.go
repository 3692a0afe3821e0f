package book

import (
	"cmp"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/tickwire/tickwire/codec/itch"
)

var randomSeed = flag.Uint64("book.seed", 0, "seed of TestRandomAgainstModel (0: time-based)")

// modelOrder is an order of the reference model.
type modelOrder struct {
	locate uint16
	side   byte
	price  uint32
	shares uint32
	prio   uint64 // time priority: larger is later
}

// model is a deliberately simple reference implementation of the book
// semantics and anomaly policy: a map of orders, levels computed by
// aggregation on demand.
type model struct {
	orders map[uint64]*modelOrder
	prio   uint64
	counts [NumAnomalyKinds]uint64
	faults map[uint16]uint64
	listed map[uint16]string
}

func newModel() *model {
	return &model{orders: map[uint64]*modelOrder{}, faults: map[uint16]uint64{}, listed: map[uint16]string{}}
}

func (m *model) anomaly(k AnomalyKind, locate uint16) {
	m.counts[k]++
	m.faults[locate]++
}

func (m *model) add(locate uint16, ref uint64, side byte, shares, price uint32) {
	if side != 'B' && side != 'S' {
		m.anomaly(AnomalyBadSide, locate)
		return
	}
	if shares == 0 {
		m.anomaly(AnomalyZeroShares, locate)
		return
	}
	if o, ok := m.orders[ref]; ok {
		m.anomaly(AnomalyDuplicateRef, locate)
		if o.locate != locate {
			m.faults[o.locate]++
		}
		return
	}
	m.prio++
	m.orders[ref] = &modelOrder{locate: locate, side: side, price: price, shares: shares, prio: m.prio}
}

func (m *model) reduce(locate uint16, ref uint64, shares uint32, over AnomalyKind) {
	o, ok := m.orders[ref]
	if !ok {
		m.anomaly(AnomalyUnknownRef, locate)
		return
	}
	if shares > o.shares {
		m.anomaly(over, o.locate)
	}
	if shares >= o.shares {
		delete(m.orders, ref)
		return
	}
	o.shares -= shares
}

func (m *model) del(locate uint16, ref uint64) {
	if _, ok := m.orders[ref]; !ok {
		m.anomaly(AnomalyUnknownRef, locate)
		return
	}
	delete(m.orders, ref)
}

func (m *model) replace(locate uint16, orig, ref uint64, shares, price uint32) {
	o, ok := m.orders[orig]
	if !ok {
		m.anomaly(AnomalyUnknownRef, locate)
		return
	}
	delete(m.orders, orig)
	if shares == 0 {
		m.anomaly(AnomalyZeroShares, o.locate)
		return
	}
	m.add(o.locate, ref, o.side, shares, price)
}

type modelLevel struct {
	price  uint32
	shares uint64
	orders []*modelOrder
	refs   []uint64
}

// levels returns the levels of (locate, side) best first, each with its
// orders in priority order.
func (m *model) levels(locate uint16, side byte) []modelLevel {
	byPrice := map[uint32]*modelLevel{}
	for ref, o := range m.orders {
		if o.locate != locate || o.side != side {
			continue
		}
		l := byPrice[o.price]
		if l == nil {
			l = &modelLevel{price: o.price}
			byPrice[o.price] = l
		}
		l.shares += uint64(o.shares)
		l.orders = append(l.orders, o)
		l.refs = append(l.refs, ref)
	}
	out := make([]modelLevel, 0, len(byPrice))
	for _, l := range byPrice {
		idx := make([]int, len(l.orders))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(l.orders[a].prio, l.orders[b].prio) })
		refs := make([]uint64, len(idx))
		orders := make([]*modelOrder, len(idx))
		for i, j := range idx {
			refs[i], orders[i] = l.refs[j], l.orders[j]
		}
		l.refs, l.orders = refs, orders
		out = append(out, *l)
	}
	slices.SortFunc(out, func(a, b modelLevel) int {
		if side == 'B' {
			return cmp.Compare(b.price, a.price)
		}
		return cmp.Compare(a.price, b.price)
	})
	return out
}

// compare checks every level and queue of every instrument, the counters
// and the invariants of b against m.
func (m *model) compare(t *testing.T, b *Book, when string) {
	t.Helper()
	if err := b.CheckInvariants(); err != nil {
		t.Fatalf("%s: %v", when, err)
	}
	if b.LiveOrders() != len(m.orders) {
		t.Fatalf("%s: %d live orders, model %d", when, b.LiveOrders(), len(m.orders))
	}
	if a := b.Anomalies(); a.Counts != m.counts {
		t.Fatalf("%s: anomaly counts %v, model %v", when, a.Counts, m.counts)
	}
	locs := map[uint16]bool{}
	for _, o := range m.orders {
		locs[o.locate] = true
	}
	for l := range m.listed {
		locs[l] = true
	}
	want := make([]uint16, 0, len(locs))
	for l := range locs {
		want = append(want, l)
	}
	slices.Sort(want)
	if got := b.Locates(nil); !slices.Equal(got, want) {
		t.Fatalf("%s: Locates %v, model %v", when, got, want)
	}
	for l, f := range m.faults {
		if got := b.Faults(l); got != f {
			t.Fatalf("%s: Faults(%d) = %d, model %d", when, l, got, f)
		}
	}
	var lv []Level
	for _, loc := range want {
		if sym := m.listed[loc]; string(b.Symbol(loc)) != sym {
			t.Fatalf("%s: Symbol(%d) = %q, model %q", when, loc, b.Symbol(loc), sym)
		}
		var best [2]Level
		for si, side := range []byte{'B', 'S'} {
			ml := m.levels(loc, side)
			lv = b.AppendLevels(lv[:0], loc, side)
			if len(lv) != len(ml) {
				t.Fatalf("%s: locate %d side %c: %d levels, model %d", when, loc, side, len(lv), len(ml))
			}
			for i, l := range ml {
				g := lv[i]
				if g.Price != l.price || g.Shares != l.shares || int(g.Orders) != len(l.refs) {
					t.Fatalf("%s: locate %d side %c level %d: %+v, model price %d shares %d orders %d",
						when, loc, side, i, g, l.price, l.shares, len(l.refs))
				}
				j := 0
				b.Orders(loc, side, l.price, func(ref uint64, shares uint32) bool {
					if j >= len(l.refs) || ref != l.refs[j] || shares != l.orders[j].shares {
						t.Fatalf("%s: locate %d side %c price %d: queue position %d is %d:%d, model %v",
							when, loc, side, l.price, j, ref, shares, l.refs)
					}
					j++
					return true
				})
				if j != len(l.refs) {
					t.Fatalf("%s: locate %d side %c price %d: queue of %d, model %d", when, loc, side, l.price, j, len(l.refs))
				}
			}
			if len(lv) > 0 {
				best[si] = lv[0]
			}
		}
		bb, ba, ok := b.Best(loc)
		if bb != best[0] || ba != best[1] || ok != (best[0].Orders+best[1].Orders > 0) {
			t.Fatalf("%s: Best(%d) = %+v %+v %v, levels %+v", when, loc, bb, ba, ok, best)
		}
		crossed := best[0].Orders > 0 && best[1].Orders > 0 && best[0].Price >= best[1].Price
		if b.Crossed(loc) != crossed {
			t.Fatalf("%s: Crossed(%d) = %v", when, loc, !crossed)
		}
	}
}

// TestRandomAgainstModel drives random operations, anomalies included,
// through Apply and the model, and compares every level of every instrument
// at regular intervals. The book starts small so that its table, slab,
// levels and instrument array all grow. Run with -book.seed=N to replay.
func TestRandomAgainstModel(t *testing.T) {
	seed := *randomSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -book.seed=%d)", seed, seed)
	ops := 200_000
	if testing.Short() {
		ops = 20_000
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	b := New(WithOrders(16), WithInstruments(4))
	m := newModel()
	mr := newMirror(t) // the changes reported must rebuild the same book
	b.SetListener(mr)

	locates := []uint16{1, 2, 3, 7, 8, 300, 5000, 65535}
	var (
		live    []uint64 // live refs in the model, for picking
		nextRef uint64   = 1
		buf     []byte
	)
	pickLive := func() (uint64, bool) {
		for len(live) > 0 {
			// Mostly recent orders, as on a real feed.
			var i int
			if rng.IntN(4) > 0 {
				i = len(live) - 1 - rng.IntN(min(len(live), 16))
			} else {
				i = rng.IntN(len(live))
			}
			ref := live[i]
			if _, ok := m.orders[ref]; ok {
				return ref, true
			}
			live[i] = live[len(live)-1]
			live = live[:len(live)-1]
		}
		return 0, false
	}
	price := func(loc uint16) uint32 {
		// 64 ticks per instrument: deep enough for binary search.
		return 100_000 + uint32(loc%5)*10_000 + uint32(rng.IntN(64))*100
	}
	target := 1500

	for op := 1; op <= ops; op++ {
		seq := uint64(op)
		loc := locates[rng.IntN(len(locates))]
		hdr := itch.Header{Locate: loc, Timestamp: seq}
		buf = buf[:0]
		r := rng.IntN(100)
		if len(m.orders) > target && r < 40 {
			r += 40 // shed orders: turn adds into removals
		}
		switch {
		case r < 40: // add
			ref := nextRef
			nextRef++
			if rng.IntN(50) == 0 {
				if old, ok := pickLive(); ok {
					ref = old // duplicate
				}
			}
			side := byte("BS"[rng.IntN(2)])
			if rng.IntN(200) == 0 {
				side = 'X'
			}
			shares := uint32(1 + rng.IntN(1000))
			if rng.IntN(200) == 0 {
				shares = 0
			}
			p := price(loc)
			if rng.IntN(2) == 0 {
				msg := itch.AddOrderMsg{Header: hdr, Ref: ref, Side: side, Shares: shares, Stock: itch.Alpha8("S"), Price: p}
				buf = msg.Append(buf)
			} else {
				msg := itch.AddOrderMPIDMsg{Header: hdr, Ref: ref, Side: side, Shares: shares, Stock: itch.Alpha8("S"), Price: p, Attribution: itch.Alpha4("MPID")}
				buf = msg.Append(buf)
			}
			m.add(loc, ref, side, shares, p)
			live = append(live, ref)
		case r < 60: // delete
			ref, ok := pickLive()
			if !ok || rng.IntN(100) == 0 {
				ref = nextRef + 1_000_000 // unknown
			}
			msg := itch.OrderDeleteMsg{Header: hdr, Ref: ref}
			buf = msg.Append(buf)
			m.del(loc, ref)
		case r < 80: // execute, execute with price, cancel
			ref, ok := pickLive()
			if !ok || rng.IntN(100) == 0 {
				ref = nextRef + 1_000_000
			}
			var shares uint32 = 1
			if o := m.orders[ref]; o != nil {
				switch k := rng.IntN(10); {
				case k < 6:
					shares = 1 + uint32(rng.IntN(int(o.shares)))
				case k < 9:
					shares = o.shares
				default:
					shares = o.shares + 1 + uint32(rng.IntN(10))
				}
			}
			switch k := rng.IntN(3); k {
			case 0:
				msg := itch.OrderExecutedMsg{Header: hdr, Ref: ref, Shares: shares, Match: seq}
				buf = msg.Append(buf)
				m.reduce(loc, ref, shares, AnomalyOverExecution)
			case 1:
				msg := itch.OrderExecutedWithPriceMsg{Header: hdr, Ref: ref, Shares: shares, Match: seq, Printable: 'Y', ExecPrice: price(loc)}
				buf = msg.Append(buf)
				m.reduce(loc, ref, shares, AnomalyOverExecution)
			default:
				msg := itch.OrderCancelMsg{Header: hdr, Ref: ref, Shares: shares}
				buf = msg.Append(buf)
				m.reduce(loc, ref, shares, AnomalyOverCancel)
			}
		case r < 95: // replace
			orig, ok := pickLive()
			if !ok || rng.IntN(100) == 0 {
				orig = nextRef + 1_000_000
			}
			ref := nextRef
			nextRef++
			if rng.IntN(50) == 0 {
				if other, ok := pickLive(); ok {
					ref = other // new reference already live (or orig itself)
				}
			}
			shares := uint32(1 + rng.IntN(1000))
			if rng.IntN(100) == 0 {
				shares = 0
			}
			p := price(loc)
			if o := m.orders[orig]; o != nil && rng.IntN(4) == 0 {
				p = o.price // same price: loses priority
			}
			msg := itch.OrderReplaceMsg{Header: hdr, OrigRef: orig, NewRef: ref, Shares: shares, Price: p}
			buf = msg.Append(buf)
			m.replace(loc, orig, ref, shares, p)
			live = append(live, ref)
		case r < 97: // directory
			sym := fmt.Sprintf("S%d", rng.IntN(1000))
			msg := itch.StockDirectoryMsg{Header: hdr, Stock: itch.Alpha8(sym)}
			buf = msg.Append(buf)
			m.listed[loc] = sym
		default: // never touches the book, even naming a live order
			ref, _ := pickLive()
			msg := itch.TradeMsg{Header: hdr, Ref: ref, Side: 'B', Shares: 100, Stock: itch.Alpha8("S"), Price: price(loc), Match: seq}
			buf = msg.Append(buf)
		}
		if err := itch.Check(buf); err != nil {
			t.Fatalf("op %d: generated message fails Check: %v", op, err)
		}
		mr.seq = seq
		b.Apply(seq, buf)
		if op%1000 == 0 || op == ops {
			m.compare(t, b, fmt.Sprintf("seed %d op %d", seed, op))
			mr.compare(t, b, fmt.Sprintf("seed %d op %d: mirror", seed, op))
		}
	}
	a := b.Anomalies()
	t.Logf("%d ops: %d live orders, %d slots, anomalies %v", ops, b.LiveOrders(), len(b.slots), a.Counts)
	for k := range AnomalyCapacity { // every kind but capacity
		if a.Counts[k] == 0 {
			t.Errorf("the random stream never produced anomaly %s", k)
		}
	}
	if len(a.Records) != MaxAnomalyRecords {
		t.Errorf("%d anomaly records, want the first %d", len(a.Records), MaxAnomalyRecords)
	}
}
