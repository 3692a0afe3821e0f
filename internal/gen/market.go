package gen

import (
	"math"

	"github.com/tickwire/tickwire/codec/itch"
)

// order is one order of the generator's own book state (used to choose what
// to cancel, execute or replace; the expected books come from the
// independent model instead).
type order struct {
	ref    uint64
	price  uint32
	shares uint32
	inst   int32
	pos    int32 // index in instrument.live
	side   byte  // itch.Buy or itch.Sell
	live   bool
}

// level is one price level: FIFO of order ordinals (dead ones are skipped
// and compacted lazily), with aggregate shares and order count.
type level struct {
	q      []int32
	head   int
	shares uint64
	count  int32
}

// bookSide is one side of an instrument's book.
type bookSide struct {
	levels map[uint32]*level
	best   uint32
	has    bool
	bid    bool
}

func (s *bookSide) better(a, b uint32) bool {
	if s.bid {
		return a > b
	}
	return a < b
}

// recompute finds the best price by scanning the levels (the result does
// not depend on map iteration order).
func (s *bookSide) recompute() {
	s.has = false
	for p := range s.levels {
		if !s.has || s.better(p, s.best) {
			s.best, s.has = p, true
		}
	}
}

// instrument is one Stock Directory entry and its generator state.
type instrument struct {
	spec     instrumentSpec
	locate   uint16
	stock    [8]byte
	tick     int64
	mid      int64
	sides    [2]bookSide // 0 bids, 1 asks
	live     []int32
	recent   [16]int32
	nrecent  int
	state    byte // trading state: 'T', 'H', 'P', 'Q'
	opHalt   bool
	tracking uint16
	depth    int     // with Config.Live, the live orders its book settles at
	spread   int     // with Config.Live, ticks per step of addPrice's distance (1: the default)
	older    []int32 // with Config.Live, the last len(older) orders added (a ring), for pick
}

func sideIndex(side byte) int {
	if side == itch.Buy {
		return 0
	}
	return 1
}

// MPIDs used in F and L messages.
var mpids = [][4]byte{
	itch.Alpha4("GSCO"), itch.Alpha4("MSCO"), itch.Alpha4("UBSS"), itch.Alpha4("CDRG"),
	itch.Alpha4("VIRT"), itch.Alpha4("JPMS"), itch.Alpha4("NITE"), itch.Alpha4("SUSQ"),
	itch.Alpha4("HRTF"), itch.Alpha4("JNST"),
}

// market holds the generator's order and instrument state. Not safe for
// concurrent use.
type market struct {
	r       *rng
	insts   []instrument
	z       zipf
	orders  []order
	nextRef uint64
	match   uint64
	matches [16]uint64 // recent match numbers, for B
	nmatch  int
	pool    []*level
	deep    bool // Config.Live: books settle at each instrument's depth
	msg     []byte
	emit    func(ts uint64, msg []byte) error
	// trade statistics, for the summary
	executed uint64
}

func newMarket(r *rng, specs []instrumentSpec, emit func(uint64, []byte) error) *market {
	m := &market{r: r, emit: emit, msg: make([]byte, 0, 64)}
	m.insts = make([]instrument, len(specs))
	loc := uint16(0)
	for i, sp := range specs {
		loc++
		if i > 0 && r.chance(0.02) {
			loc += uint16(1 + r.intn(3)) // a few holes in the locates, which start at 1
		}
		in := &m.insts[i]
		in.spec = sp
		in.locate = loc
		in.stock = itch.Alpha8(sp.sym)
		in.tick = 100
		if sp.price < 10000 {
			in.tick = 1
		}
		in.mid = max(sp.price/in.tick*in.tick, 20*in.tick)
		in.sides[0] = bookSide{levels: map[uint32]*level{}, bid: true}
		in.sides[1] = bookSide{levels: map[uint32]*level{}}
		in.state = 'T'
		in.tracking = uint16(1 + i%7)
	}
	m.z = newZipf(specs, 1.05)
	m.nextRef = 4 + uint64(r.intn(1000))
	m.match = 1000 + uint64(r.intn(100000))
	return m
}

func (m *market) newRef() uint64 {
	ref := m.nextRef
	m.nextRef += 1 + uint64(m.r.geom(0.7)) // increasing with gaps, never reused
	return ref
}

func (m *market) newMatch() uint64 {
	m.match += 1 + uint64(m.r.geom(0.8))
	m.matches[m.nmatch%len(m.matches)] = m.match
	m.nmatch++
	return m.match
}

func (m *market) out(ts uint64, msg []byte) error {
	m.msg = msg
	return m.emit(ts, msg)
}

func (m *market) header(in *instrument, ts uint64) itch.Header {
	return itch.Header{Locate: in.locate, Tracking: in.tracking, Timestamp: ts}
}

// lot draws an order size.
func (m *market) lot() uint32 {
	u := m.r.float()
	switch {
	case u < 0.55:
		return 100 * []uint32{1, 1, 1, 2, 2, 3, 4, 5, 10}[m.r.intn(9)]
	case u < 0.75:
		return uint32(m.r.between(1, 99))
	case u < 0.95:
		return 100 * uint32(m.r.between(1, 20))
	}
	return 100 * uint32(m.r.between(10, 100))
}

// drift moves an instrument's reference price now and then.
func (m *market) drift(in *instrument) {
	if m.r.chance(0.04) {
		if m.r.chance(0.5) {
			in.mid += in.tick
		} else if in.mid > 20*in.tick {
			in.mid -= in.tick
		}
	}
}

// clamp returns p adjusted so that an order on side does not cross the
// other side's best price, and is at least one tick.
func (m *market) clamp(in *instrument, side byte, p int64) int64 {
	if side == itch.Buy {
		if a := &in.sides[1]; a.has && p >= int64(a.best) {
			p = int64(a.best) - in.tick
		}
		return max(p, in.tick)
	}
	if b := &in.sides[0]; b.has && p <= int64(b.best) {
		p = int64(b.best) + in.tick
	}
	return max(p, in.tick)
}

// addPrice draws a price near the touch: a geometric number of steps
// away, 5% of the time 5 to 45 steps; a step is in.spread ticks wide, and
// one tick by default.
func (m *market) addPrice(in *instrument, side byte) uint32 {
	k := int64(m.r.geom(0.45))
	if m.r.chance(0.05) {
		k = int64(m.r.between(5, 45))
	}
	if in.spread > 1 {
		k = k*int64(in.spread) + int64(m.r.intn(in.spread))
	}
	p := in.mid + (1+k)*in.tick
	if side == itch.Buy {
		p = in.mid - (1+k)*in.tick
	}
	return uint32(m.clamp(in, side, p))
}

func (m *market) getLevel() *level {
	if n := len(m.pool); n > 0 {
		l := m.pool[n-1]
		m.pool = m.pool[:n-1]
		return l
	}
	return &level{q: make([]int32, 0, 8)}
}

// insert adds a new order to the generator's book and returns its ordinal.
func (m *market) insert(i int, ref uint64, side byte, shares, price uint32) int32 {
	in := &m.insts[i]
	o := int32(len(m.orders))
	m.orders = append(m.orders, order{ref: ref, price: price, shares: shares, inst: int32(i), pos: int32(len(in.live)), side: side, live: true})
	in.live = append(in.live, o)
	in.recent[in.nrecent%len(in.recent)] = o
	if in.older != nil {
		in.older[in.nrecent%len(in.older)] = o
	}
	in.nrecent++
	s := &in.sides[sideIndex(side)]
	l := s.levels[price]
	if l == nil {
		l = m.getLevel()
		s.levels[price] = l
	}
	l.q = append(l.q, o)
	l.count++
	l.shares += uint64(shares)
	if !s.has || s.better(price, s.best) {
		s.best, s.has = price, true
	}
	return o
}

// reduce takes n shares off order o, removing it when none remain.
func (m *market) reduce(o int32, n uint32) {
	or := &m.orders[o]
	in := &m.insts[or.inst]
	s := &in.sides[sideIndex(or.side)]
	l := s.levels[or.price]
	or.shares -= n
	l.shares -= uint64(n)
	if or.shares > 0 {
		return
	}
	or.live = false
	// Swap-remove from the instrument's live list.
	last := in.live[len(in.live)-1]
	in.live[or.pos] = last
	m.orders[last].pos = or.pos
	in.live = in.live[:len(in.live)-1]
	l.count--
	if l.count == 0 {
		delete(s.levels, or.price)
		l.q, l.head, l.shares = l.q[:0], 0, 0
		m.pool = append(m.pool, l)
		if s.best == or.price {
			s.recompute()
		}
		return
	}
	m.compact(l)
}

// compact drops dead entries from a level's queue when they dominate it.
func (m *market) compact(l *level) {
	for l.head < len(l.q) && !m.orders[l.q[l.head]].live {
		l.head++
	}
	n := len(l.q) - l.head
	if n < 32 || n < 4*int(l.count) {
		return
	}
	k := 0
	for _, o := range l.q[l.head:] {
		if m.orders[o].live {
			l.q[k] = o
			k++
		}
	}
	l.q, l.head = l.q[:k], 0
}

// front returns the oldest live order of the best level of a side.
func (m *market) front(s *bookSide) int32 {
	l := s.levels[s.best]
	for !m.orders[l.q[l.head]].live {
		l.head++
	}
	return l.q[l.head]
}

// pick returns a live order of instrument i, usually a recent one; -1 if
// it has none. 85% of the time it tries the last 16 orders added, else any
// live order. With Config.Live, most of the "any" are from the last
// olderOrders added instead (a deep book would otherwise send one action in
// seven to an order resting since the morning: far less locality than the
// default books, whose few hundred orders all churn); old orders are still
// hit, as on a real day, about 3% of the time.
func (m *market) pick(i int) int32 {
	in := &m.insts[i]
	if len(in.live) == 0 {
		return -1
	}
	if m.r.chance(0.85) {
		n := min(in.nrecent, len(in.recent))
		for range 4 {
			o := in.recent[m.r.intn(n)]
			if m.orders[o].live {
				return o
			}
		}
	}
	if in.older != nil && m.r.chance(0.8) {
		n := min(in.nrecent, len(in.older))
		for range 4 {
			o := in.older[m.r.intn(n)]
			if m.orders[o].live {
				return o
			}
		}
	}
	return in.live[m.r.intn(len(in.live))]
}

func (m *market) canTrade(in *instrument) bool { return in.state == 'T' && !in.opHalt }

// Flow events. Each emits exactly one message.

func (m *market) add(ts uint64, i int, mpid bool) error {
	in := &m.insts[i]
	m.drift(in)
	side := byte(itch.Buy)
	if m.r.chance(0.5) {
		side = itch.Sell
	}
	price := m.addPrice(in, side)
	shares := m.lot()
	ref := m.newRef()
	m.insert(i, ref, side, shares, price)
	if mpid {
		msg := itch.AddOrderMPIDMsg{Header: m.header(in, ts), Ref: ref, Side: side, Shares: shares, Stock: in.stock, Price: price,
			Attribution: mpids[m.r.intn(len(mpids))]}
		return m.out(ts, msg.Append(m.msg[:0]))
	}
	msg := itch.AddOrderMsg{Header: m.header(in, ts), Ref: ref, Side: side, Shares: shares, Stock: in.stock, Price: price}
	return m.out(ts, msg.Append(m.msg[:0]))
}

func (m *market) addAny(ts uint64, i int) error { return m.add(ts, i, m.r.chance(0.1)) }

func (m *market) del(ts uint64, i int) error {
	o := m.pick(i)
	if o < 0 {
		return m.addAny(ts, i)
	}
	in := &m.insts[i]
	msg := itch.OrderDeleteMsg{Header: m.header(in, ts), Ref: m.orders[o].ref}
	m.reduce(o, m.orders[o].shares)
	return m.out(ts, msg.Append(m.msg[:0]))
}

func (m *market) cancel(ts uint64, i int) error {
	o := m.pick(i)
	if o < 0 {
		return m.addAny(ts, i)
	}
	rem := m.orders[o].shares
	if rem < 2 {
		return m.del(ts, i)
	}
	n := uint32(m.r.between(1, int(rem-1)))
	if rem > 100 && m.r.chance(0.7) {
		n = 100 * uint32(m.r.between(1, int((rem-1)/100)))
	}
	in := &m.insts[i]
	msg := itch.OrderCancelMsg{Header: m.header(in, ts), Ref: m.orders[o].ref, Shares: n}
	m.reduce(o, n)
	return m.out(ts, msg.Append(m.msg[:0]))
}

// execSide chooses the side executions hit: the one the reference price
// has moved into, else either.
func (m *market) execSide(in *instrument) *bookSide {
	b, a := &in.sides[0], &in.sides[1]
	switch {
	case !b.has && !a.has:
		return nil
	case !b.has:
		return a
	case !a.has:
		return b
	case in.mid >= int64(a.best):
		return a
	case in.mid <= int64(b.best):
		return b
	case m.r.chance(0.5):
		return a
	}
	return b
}

func (m *market) execute(ts uint64, i int, withPrice bool) error {
	in := &m.insts[i]
	s := m.execSide(in)
	if s == nil || !m.canTrade(in) {
		return m.addAny(ts, i)
	}
	o := m.front(s)
	rem := m.orders[o].shares
	n := rem
	if rem > 1 && m.r.chance(0.5) {
		n = uint32(m.r.between(1, int(rem-1)))
	}
	ref, price := m.orders[o].ref, m.orders[o].price
	m.reduce(o, n)
	m.executed += uint64(n)
	if !withPrice {
		msg := itch.OrderExecutedMsg{Header: m.header(in, ts), Ref: ref, Shares: n, Match: m.newMatch()}
		return m.out(ts, msg.Append(m.msg[:0]))
	}
	// A different execution price (price improvement), sometimes not printable.
	d := int64(m.r.between(1, 2)) * in.tick
	ep := int64(price) + d
	if m.r.chance(0.5) && int64(price)-d > 0 {
		ep = int64(price) - d
	}
	printable := byte('Y')
	if m.r.chance(0.2) {
		printable = 'N'
	}
	msg := itch.OrderExecutedWithPriceMsg{Header: m.header(in, ts), Ref: ref, Shares: n, Match: m.newMatch(), Printable: printable, ExecPrice: uint32(ep)}
	return m.out(ts, msg.Append(m.msg[:0]))
}

func (m *market) replace(ts uint64, i int) error {
	o := m.pick(i)
	if o < 0 {
		return m.addAny(ts, i)
	}
	in := &m.insts[i]
	m.drift(in)
	old := m.orders[o]
	price := int64(old.price)
	if m.r.chance(0.5) {
		d := int64(m.r.between(1, 3)) * in.tick
		if m.r.chance(0.5) {
			d = -d
		}
		price += d
	}
	shares := m.lot()
	newRef := m.newRef()
	m.reduce(o, old.shares)
	p := uint32(m.clamp(in, old.side, price))
	m.insert(i, newRef, old.side, shares, p)
	msg := itch.OrderReplaceMsg{Header: m.header(in, ts), OrigRef: old.ref, NewRef: newRef, Shares: shares, Price: p}
	return m.out(ts, msg.Append(m.msg[:0]))
}

// tradePrice is a price between the best bid and ask, or the reference.
func (m *market) tradePrice(in *instrument) uint32 {
	b, a := &in.sides[0], &in.sides[1]
	if b.has && a.has {
		mid := (int64(b.best) + int64(a.best)) / 2 / in.tick * in.tick
		return uint32(max(mid, in.tick))
	}
	return uint32(in.mid)
}

func (m *market) trade(ts uint64, i int) error {
	in := &m.insts[i]
	side := byte(itch.Buy)
	if m.r.chance(0.5) {
		side = itch.Sell
	}
	msg := itch.TradeMsg{Header: m.header(in, ts), Ref: 0, Side: side, Shares: m.lot(), Stock: in.stock,
		Price: m.tradePrice(in), Match: m.newMatch()}
	return m.out(ts, msg.Append(m.msg[:0]))
}

func (m *market) rpii(ts uint64, i int) error {
	in := &m.insts[i]
	msg := itch.RPIIMsg{Header: m.header(in, ts), Stock: in.stock, InterestFlag: "BSAN"[m.r.intn(4)]}
	return m.out(ts, msg.Append(m.msg[:0]))
}

func (m *market) broken(ts uint64, i int) error {
	in := &m.insts[i]
	match := m.match
	if m.nmatch > 0 {
		match = m.matches[m.r.intn(min(m.nmatch, len(m.matches)))]
	}
	msg := itch.BrokenTradeMsg{Header: m.header(in, ts), Match: match}
	return m.out(ts, msg.Append(m.msg[:0]))
}

func (m *market) position(ts uint64, i int, k int) error {
	in := &m.insts[i]
	msg := itch.MarketParticipantPositionMsg{Header: m.header(in, ts), MPID: mpids[k%len(mpids)], Stock: in.stock,
		PrimaryMarketMaker: "NY"[k%5/4], MarketMakerMode: 'N', ParticipantState: 'A'}
	return m.out(ts, msg.Append(m.msg[:0]))
}

// restingDepth is the number of live orders around which an instrument's
// book settles: real books are bounded (a full NASDAQ day of 370 million
// messages peaks at a few million live orders), so adds and deletes balance
// over a session instead of piling up orders.
const restingDepth = 150

// buildAdd is the share of adds in an instrument's flow while its book is
// below its depth with Config.Live: about 10% of its flow is then deletes
// and 3.5% executions that remove an order, so its book grows by about
// 0.55 orders a message.
const buildAdd = 0.70

// olderOrders is how many of an instrument's latest adds pick draws from
// with Config.Live when it does not take one of the last 16.
const olderOrders = 1024

// setLive gives each instrument its share of live orders in proportion to
// its Zipf weight, the share of the flow it draws (cumulative rounding, so
// the shares add up to live exactly), and turns on the deep-book split of
// flow: a book fills in the same fraction of its own flow whatever its
// instrument's activity, and every book is full at about the same time.
// A deep book's adds spread over more price levels (spread: sqrt(depth)/20
// ticks a step, so that 250,000 orders stand on about a thousand levels a
// side rather than tens of thousands of orders on each of the few levels
// at the touch), bounded so that bids stay well above zero.
func (m *market) setLive(live int) {
	prev := 0
	for k, c := range m.z.cum {
		upto := int(math.Round(c * float64(live)))
		if k == len(m.z.cum)-1 {
			upto = live
		}
		in := &m.insts[m.z.idx[k]]
		in.depth = max(upto-prev, 0)
		prev += in.depth
		in.spread = max(min(int(math.Sqrt(float64(in.depth))/20), int(in.mid/in.tick/100)), 1)
		in.older = make([]int32, olderOrders)
	}
	m.deep = true
}

// addShare is the probability that a flow event of in is an add. By default
// it leans towards deletes while the instrument holds more than
// restingDepth live orders and towards adds while it holds fewer than half
// of that, so its depth reverts to restingDepth. With Config.Live it is
// buildAdd below the instrument's depth and leans towards deletes from
// there, so the book fills, then stays at its depth.
func (m *market) addShare(in *instrument) float64 {
	n := len(in.live)
	if m.deep {
		if n < in.depth {
			return buildAdd
		}
		return 0.36
	}
	switch {
	case n > restingDepth:
		return 0.36
	case n < restingDepth/2:
		return 0.48
	}
	return 0.42
}

// flow emits one order-flow event for instrument i: roughly 40-45% adds (A,
// some F), 35-40% D, 5% E, 1% C, 3% X, 5% U, the rest trades and status;
// addShare sets the split between adds and deletes.
func (m *market) flow(ts uint64, i int) error {
	addP := m.addShare(&m.insts[i])
	u := m.r.float()
	switch {
	case u < addP:
		return m.addAny(ts, i)
	case u < 0.80:
		return m.del(ts, i)
	case u < 0.85:
		return m.execute(ts, i, false)
	case u < 0.86:
		return m.execute(ts, i, true)
	case u < 0.89:
		return m.cancel(ts, i)
	case u < 0.94:
		return m.replace(ts, i)
	case u < 0.985:
		return m.trade(ts, i)
	case u < 0.99:
		return m.rpii(ts, i)
	case u < 0.995:
		if m.nmatch > 0 {
			return m.broken(ts, i)
		}
		return m.trade(ts, i)
	}
	return m.position(ts, i, m.r.intn(len(mpids)))
}
