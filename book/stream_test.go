package book

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/tickwire/tickwire/codec/itch"
)

// stream is a synthetic ITCH message stream held in memory: messages back to
// back without framing (each type has a fixed length, itch.Len).
type stream struct {
	prefix []byte // directory and the initial book: applied untimed
	body   []byte // the measured messages
	nBody  int
	counts [256]int // messages of each type in body
	peak   int      // peak live orders
	live   int      // live orders at the end
}

// next returns the message at off and the offset of the following one.
func next(buf []byte, off int) (itch.Message, int) {
	n := itch.Len(buf[off])
	return itch.Message(buf[off : off+n : off+n]), off + n
}

// genOrder is the generator's record of a live order.
type genOrder struct {
	locate uint16
	side   byte
	price  uint32
	shares uint32
}

// genStream builds a realistic stream for instruments instruments with
// skewed (Zipf, s=1) activity: every instrument gets a directory message and
// liveTarget resting orders in the prefix; the body then holds about
// nMessages messages of the mix
//
//	A 43%, F 2%, D 35%, E 5%, C 1%, X 3%, U 5%, P 3%, I/N/H 3%
//
// adjusted so the live orders stay near liveTarget (an add is turned into a
// delete above it). Adds rest within a few ticks of the touch (geometric,
// 1 in 20 deeper); deletes, cancels and replaces mostly hit the instrument's
// most recent orders; executions hit the front order of the best level.
// A generator-side Book answers "best level" and "front order".
func genStream(seed uint64, instruments, liveTarget, nMessages int) *stream {
	rng := rand.New(rand.NewPCG(seed, 0x1234))
	g := New(WithOrders(liveTarget*2), WithInstruments(instruments+1))
	s := &stream{}

	// Zipf weights: instrument i (1-based) has weight 1/i.
	cum := make([]float64, instruments)
	total := 0.0
	for i := range cum {
		total += 1 / float64(i+1)
		cum[i] = total
	}
	pickInstrument := func() uint16 {
		x := rng.Float64() * total
		i, _ := slices.BinarySearch(cum, x)
		return uint16(min(i, instruments-1) + 1)
	}
	mid := make([]uint32, instruments+1) // in ticks of $0.01
	for i := 1; i <= instruments; i++ {
		mid[i] = uint32(500 + rng.IntN(40000)) // $5 .. $405
	}
	orders := map[uint64]*genOrder{}
	recent := make([][]uint64, instruments+1) // live refs per instrument, newest last
	var nextRef uint64 = 1000
	var seq uint64
	buf := make([]byte, 0, itch.MaxLen) // scratch for the encoders
	inBody := false
	// emit applies msg to the generator's book and appends it to the
	// prefix or the body.
	emit := func(msg []byte) {
		seq++
		if err := itch.Check(msg); err != nil {
			panic(err)
		}
		g.Apply(seq, itch.Message(msg))
		s.peak = max(s.peak, g.LiveOrders())
		if inBody {
			s.body = append(s.body, msg...)
			s.counts[msg[0]]++
			s.nBody++
		} else {
			s.prefix = append(s.prefix, msg...)
		}
	}
	hdr := func(loc uint16) itch.Header {
		return itch.Header{Locate: loc, Tracking: 1, Timestamp: 34_200_000_000_000 + seq*1000}
	}
	geom := func(p float64) uint32 { // 0, 1, 2, ... with P(0) = p
		return uint32(math.Log(1-rng.Float64()) / math.Log(1-p))
	}
	addPrice := func(loc uint16, side byte) uint32 {
		d := geom(0.45)
		if rng.IntN(20) == 0 {
			d = uint32(rng.IntN(100))
		}
		m := mid[loc]
		if side == 'B' {
			return (m - 1 - min(d, m-2)) * 100
		}
		return (m + 1 + d) * 100
	}
	remove := func(ref uint64) {
		o := orders[ref]
		delete(orders, ref)
		r := recent[o.locate]
		// From the newest end: most removals hit recent orders, and an
		// instrument may hold hundreds of thousands of them.
		i := len(r) - 1
		for r[i] != ref {
			i--
		}
		recent[o.locate] = slices.Delete(r, i, i+1)
	}
	// pickRecent returns a live order of loc, mostly among the newest.
	pickRecent := func(loc uint16) (uint64, bool) {
		r := recent[loc]
		if len(r) == 0 {
			return 0, false
		}
		if rng.IntN(10) < 8 {
			return r[len(r)-1-int(geom(0.3))%len(r)], true
		}
		return r[rng.IntN(len(r))], true
	}
	add := func(loc uint16, mpid bool) {
		side := byte("BS"[rng.IntN(2)])
		ref := nextRef
		nextRef += 1 + uint64(rng.IntN(4)) // refs of other shards in between
		shares := uint32(100 * (1 + geom(0.5)))
		if rng.IntN(10) == 0 {
			shares = uint32(1 + rng.IntN(99)) // odd lot
		}
		price := addPrice(loc, side)
		if mpid {
			m := itch.AddOrderMPIDMsg{Header: hdr(loc), Ref: ref, Side: side, Shares: shares, Stock: itch.Alpha8("SYM"), Price: price, Attribution: itch.Alpha4("MPID")}
			emit(m.Append(buf[:0]))
		} else {
			m := itch.AddOrderMsg{Header: hdr(loc), Ref: ref, Side: side, Shares: shares, Stock: itch.Alpha8("SYM"), Price: price}
			emit(m.Append(buf[:0]))
		}
		orders[ref] = &genOrder{locate: loc, side: side, price: price, shares: shares}
		recent[loc] = append(recent[loc], ref)
	}

	// Prefix: directory, then the initial book.
	for loc := 1; loc <= instruments; loc++ {
		m := itch.StockDirectoryMsg{Header: hdr(uint16(loc)), Stock: itch.Alpha8("SYM" + string(rune('A'+loc%26))),
			MarketCategory: 'Q', FinancialStatus: 'N', RoundLotSize: 100, RoundLotsOnly: 'N'}
		emit(m.Append(buf[:0]))
	}
	for range liveTarget {
		add(pickInstrument(), false)
	}
	inBody = true

	// Body.
	for s.nBody < nMessages {
		loc := pickInstrument()
		r := rng.IntN(100)
		if r < 45 && len(orders) > liveTarget {
			r = 45 // delete instead
		}
		// Drift the mid price now and then.
		if rng.IntN(50) == 0 {
			if rng.IntN(2) == 0 {
				mid[loc]++
			} else if mid[loc] > 10 {
				mid[loc]--
			}
		}
		switch {
		case r < 45: // A, F
			add(loc, r >= 43)
		case r < 80: // D
			ref, ok := pickRecent(loc)
			if !ok {
				add(loc, false)
				break
			}
			m := itch.OrderDeleteMsg{Header: hdr(loc), Ref: ref}
			emit(m.Append(buf[:0]))
			remove(ref)
		case r < 86: // E (5%), C (1%) against the front of the best level
			bid, ask, ok := g.Best(loc)
			if !ok {
				add(loc, false)
				break
			}
			side, lvl := byte('B'), bid
			if bid.Orders == 0 || (ask.Orders > 0 && rng.IntN(2) == 0) {
				side, lvl = 'S', ask
			}
			var ref uint64
			g.Orders(loc, side, lvl.Price, func(r uint64, _ uint32) bool { ref = r; return false })
			o := orders[ref]
			shares := o.shares
			if rng.IntN(2) == 0 && shares > 1 {
				shares = 1 + uint32(rng.IntN(int(shares-1)))
			}
			if r < 85 {
				m := itch.OrderExecutedMsg{Header: hdr(loc), Ref: ref, Shares: shares, Match: seq}
				emit(m.Append(buf[:0]))
			} else {
				m := itch.OrderExecutedWithPriceMsg{Header: hdr(loc), Ref: ref, Shares: shares, Match: seq, Printable: 'Y', ExecPrice: o.price + 100}
				emit(m.Append(buf[:0]))
			}
			if o.shares -= shares; o.shares == 0 {
				remove(ref)
			}
		case r < 89: // X
			ref, ok := pickRecent(loc)
			o := orders[ref]
			if !ok || o.shares < 2 {
				add(loc, false)
				break
			}
			shares := 1 + uint32(rng.IntN(int(o.shares-1)))
			m := itch.OrderCancelMsg{Header: hdr(loc), Ref: ref, Shares: shares}
			emit(m.Append(buf[:0]))
			o.shares -= shares
		case r < 94: // U
			ref, ok := pickRecent(loc)
			if !ok {
				add(loc, false)
				break
			}
			o := *orders[ref]
			price := o.price
			if rng.IntN(2) == 0 {
				price = addPrice(loc, o.side)
			}
			shares := uint32(100 * (1 + geom(0.5)))
			newRef := nextRef
			nextRef += 1 + uint64(rng.IntN(4))
			m := itch.OrderReplaceMsg{Header: hdr(loc), OrigRef: ref, NewRef: newRef, Shares: shares, Price: price}
			emit(m.Append(buf[:0]))
			remove(ref)
			orders[newRef] = &genOrder{locate: loc, side: o.side, price: price, shares: shares}
			recent[loc] = append(recent[loc], newRef)
		case r < 97: // P: a non-displayed execution
			m := itch.TradeMsg{Header: hdr(loc), Ref: 0, Side: 'B', Shares: 100, Stock: itch.Alpha8("SYM"), Price: mid[loc] * 100, Match: seq}
			emit(m.Append(buf[:0]))
		default: // status and auction messages
			switch rng.IntN(3) {
			case 0:
				m := itch.NOIIMsg{Header: hdr(loc), PairedShares: 1000, ImbalanceShares: 200, ImbalanceDirection: 'B', Stock: itch.Alpha8("SYM"), CrossType: 'C', PriceVariation: ' '}
				emit(m.Append(buf[:0]))
			case 1:
				m := itch.RPIIMsg{Header: hdr(loc), Stock: itch.Alpha8("SYM"), InterestFlag: 'N'}
				emit(m.Append(buf[:0]))
			default:
				m := itch.StockTradingActionMsg{Header: hdr(loc), Stock: itch.Alpha8("SYM"), TradingState: 'T'}
				emit(m.Append(buf[:0]))
			}
		}
	}
	if a := g.Anomalies(); a.Total() != 0 {
		panic("synthetic stream raised anomalies")
	}
	s.live = g.LiveOrders()
	return s
}
