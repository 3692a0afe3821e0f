package gen

import (
	"math"
	"sort"

	"github.com/tickwire/tickwire/codec/itch"
)

// Times of day in ns since midnight.
func hms(h, m, s int) uint64 { return uint64(((h*60+m)*60 + s)) * 1e9 }

const (
	us = 1_000
	ms = 1_000_000
)

// specialKind is a scheduled (non-flow) event.
type specialKind uint8

const (
	spSystem        specialKind = iota // S; arg = event code
	spDirectory                        // R
	spTradingAction                    // H; arg = state, reason from reasonFor
	spRegSHO                           // Y; arg = action
	spPosition                         // L; arg = MPID index
	spMWCBLevel                        // V
	spMWCBStatus                       // W
	spIPOUpdate                        // K
	spCollar                           // J; arg = extension count
	spOpHalt                           // h; arg = 'H' or 'T'
	spNOII                             // I; arg = cross type
	spCross                            // C, C, Q (3 messages); arg = cross type
	spDLCR                             // O; arg = step
	spRPII                             // N
	spBroken                           // B
)

// special is one scheduled event; count messages.
type special struct {
	t    uint64
	kind specialKind
	inst int
	arg  int
	ord  int // insertion order, to keep the sort stable and deterministic
}

func (s special) count() int {
	if s.kind == spCross {
		return 3
	}
	return 1
}

// plan is the day's fixed schedule and the flow budget.
type plan struct {
	specials []special
	fixed    int
	ipo      int
	luld     int
	halt     int
}

// add schedules one event.
func (p *plan) add(t uint64, k specialKind, inst, arg int) {
	p.specials = append(p.specials, special{t: t, kind: k, inst: inst, arg: arg, ord: len(p.specials)})
}

// newPlan schedules the day for the instruments of m.
func newPlan(m *market) plan {
	var p plan
	r := m.r
	n := len(m.insts)
	top := min(5, n)
	rank := func(k int) int { return m.z.byRank(min(k, n-1)) }
	p.ipo = rank(n - 1)
	p.luld = rank(7)
	p.halt = rank(9)
	sho := rank(11)

	t := hms(3, 0, 0) + uint64(r.intn(500*us))
	p.add(t, spSystem, 0, itch.EventStartOfMessages)
	t += 50 * us
	for i := range n {
		t += uint64(r.between(800, 3000))
		p.add(t, spDirectory, i, 0)
	}
	for i := range n {
		t += uint64(r.between(800, 3000))
		p.add(t, spTradingAction, i, 0)
	}
	for k := range min(10, n) {
		t += uint64(r.between(800, 3000))
		p.add(t, spRegSHO, rank(k), '0')
	}
	for k := range min(20, n) {
		t += uint64(r.between(800, 3000))
		p.add(t, spPosition, rank(k%n), k)
	}
	p.add(t+1*ms, spMWCBLevel, 0, 0)
	p.add(t+2*ms, spIPOUpdate, p.ipo, 0)
	p.add(hms(4, 0, 0), spSystem, 0, itch.EventStartOfSystemHours)

	for k := range 10 {
		for j := range top {
			p.add(hms(9, 25, 0)+uint64(k)*30e9+uint64(j)*2*us, spNOII, rank(j), 'O')
		}
	}
	p.add(hms(9, 30, 0), spSystem, 0, itch.EventStartOfMarketHours)
	for j := range top {
		p.add(hms(9, 30, 0)+100*us+uint64(j)*50*us, spCross, rank(j), 'O')
	}
	p.add(hms(9, 45, 0)+uint64(r.intn(ms)), spRPII, rank(0), 0)

	// IPO: quotation-only period, DLCR price discovery, IPO cross, trading.
	p.add(hms(10, 45, 0), spTradingAction, p.ipo, 'Q')
	for k, at := range []uint64{hms(10, 50, 0), hms(10, 55, 0), hms(10, 59, 30)} {
		p.add(at, spDLCR, p.ipo, k)
	}
	p.add(hms(11, 0, 0), spCross, p.ipo, 'H')
	p.add(hms(11, 0, 0)+200*us, spTradingAction, p.ipo, 'T')

	p.add(hms(12, 5, 13), spRegSHO, sho, '1')
	// LULD pause: paused, auction collars, reopening cross, trading.
	p.add(hms(13, 15, 0), spTradingAction, p.luld, 'P')
	p.add(hms(13, 15, 0)+100*us, spCollar, p.luld, 0)
	p.add(hms(13, 20, 0), spCollar, p.luld, 1)
	p.add(hms(13, 25, 0), spCross, p.luld, 'H')
	p.add(hms(13, 25, 0)+100*us, spTradingAction, p.luld, 'T')
	p.add(hms(14, 10, 0), spOpHalt, p.halt, 'H')
	p.add(hms(14, 12, 0), spOpHalt, p.halt, 'T')
	p.add(hms(15, 0, 0)+uint64(r.intn(ms)), spBroken, rank(0), 0)
	p.add(hms(15, 40, 0), spMWCBStatus, 0, '1')
	for k := range 10 {
		for j := range top {
			p.add(hms(15, 50, 0)+uint64(k)*60e9+uint64(j)*2*us, spNOII, rank(j), 'C')
		}
	}
	p.add(hms(16, 0, 0), spSystem, 0, itch.EventEndOfMarketHours)
	for j := range top {
		p.add(hms(16, 0, 0)+100*us+uint64(j)*50*us, spCross, rank(j), 'C')
	}
	p.add(hms(20, 0, 0), spSystem, 0, itch.EventEndOfSystemHours)
	p.add(hms(20, 5, 0), spSystem, 0, itch.EventEndOfMessages)

	sort.Slice(p.specials, func(i, j int) bool {
		a, b := p.specials[i], p.specials[j]
		if a.t != b.t {
			return a.t < b.t
		}
		return a.ord < b.ord
	})
	for _, s := range p.specials {
		p.fixed += s.count()
	}
	return p
}

// bucket is a stretch of the day with a number of flow events.
type bucket struct {
	start, end uint64
	n          int
}

// flowBuckets spreads total flow events over the day by minute: 5% before
// the open (rising towards it), 92% in market hours (U-shaped: heavy at
// the open and the close), 3% after hours (decaying).
func flowBuckets(total int) []bucket {
	type seg struct {
		start, end uint64
		share      float64
		w          func(m, n int) float64
	}
	segs := []seg{
		{hms(4, 0, 0) + 1*ms, hms(9, 30, 0), 0.05, func(m, n int) float64 { return 1 + 3*float64(m)/float64(n) }},
		{hms(9, 30, 0) + 1*ms, hms(16, 0, 0), 0.92, func(m, n int) float64 {
			return 1 + 4*math.Exp(-float64(m)/15) + 3*math.Exp(-float64(n-1-m)/10)
		}},
		{hms(16, 0, 0) + 10*ms, hms(20, 0, 0), 0.03, func(m, n int) float64 { return 0.2 + math.Exp(-float64(m)/60) }},
	}
	var bs []bucket
	var weights []float64
	for _, s := range segs {
		n := int((s.end - s.start + 60e9 - 1) / 60e9)
		sum := 0.0
		ws := make([]float64, n)
		for m := range n {
			ws[m] = s.w(m, n)
			sum += ws[m]
		}
		for m := range n {
			st := s.start + uint64(m)*60e9
			bs = append(bs, bucket{start: st, end: min(st+60e9, s.end)})
			weights = append(weights, s.share*ws[m]/sum)
		}
	}
	// Cumulative rounding: exact total, deterministic.
	cum, prev := 0.0, 0
	for i := range bs {
		cum += weights[i]
		upto := int(math.Round(cum * float64(total)))
		if i == len(bs)-1 {
			upto = total
		}
		bs[i].n = max(upto-prev, 0)
		prev += bs[i].n
	}
	return bs
}

// filler draws event times inside buckets, reusing its slices.
type filler struct {
	times []uint64
	gaps  []float64
	burst []bool
}

// fill returns b.n sorted event times inside the bucket: microbursts (gaps
// of a few µs) separated by longer pauses. The result is valid until the
// next call.
func (f *filler) fill(r *rng, b bucket) []uint64 {
	f.times, f.gaps, f.burst = f.times[:0], f.gaps[:0], f.burst[:0]
	if b.n == 0 {
		return f.times
	}
	var sumBurst, sumIdle float64
	for range b.n {
		if r.chance(0.7) {
			g := r.exp(3000) // ns
			f.gaps, f.burst = append(f.gaps, g), append(f.burst, true)
			sumBurst += g
		} else {
			g := r.exp(1)
			f.gaps, f.burst = append(f.gaps, g), append(f.burst, false)
			sumIdle += g
		}
	}
	span := float64(b.end-b.start) * 0.999
	bscale, iscale := 1.0, 0.0
	if sumBurst > span/2 {
		bscale = span / 2 / sumBurst
	}
	if sumIdle > 0 {
		iscale = (span - sumBurst*bscale) / sumIdle
	}
	t := float64(b.start)
	for i, g := range f.gaps {
		if f.burst[i] {
			t += g * bscale
		} else {
			t += g * iscale
		}
		f.times = append(f.times, uint64(t))
	}
	return f.times
}
