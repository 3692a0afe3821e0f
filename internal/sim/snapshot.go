package sim

import (
	"fmt"
	"sync"

	"github.com/tickwire/tickwire/codec/glimpse"
	"github.com/tickwire/tickwire/codec/itch"
)

// Bits of snapInstrument.seen: which status messages of the instrument the
// snapshot carries.
const (
	seenDirectory uint8 = 1 << iota
	seenAction
	seenRegSHO
	seenRPII
)

// snapInstrument is the GLIMPSE state of one locate: the latest message of
// each status type, copied whole.
type snapInstrument struct {
	seen      uint8
	haveStock bool
	// stock is the Alpha(8) symbol for the Add Order messages: from the
	// Stock Directory message, or, for a locate without one, from the first
	// message naming the locate.
	stock     [8]byte
	directory [itch.LenStockDirectory]byte
	action    [itch.LenStockTradingAction]byte
	regSHO    [itch.LenRegSHORestriction]byte
	rpii      [itch.LenRPII]byte
	// halts holds the latest Operational Halt per Market Code (the halt
	// state of Nasdaq, BX and PSX are independent), in first-seen order.
	halts [][itch.LenOperationalHalt]byte
}

// snapState tracks what GLIMPSE carries beside the book while the history is
// replayed.
type snapState struct {
	sysEvent     [itch.LenSystemEvent]byte
	haveSysEvent bool
	inst         []snapInstrument // indexed by locate
}

func (s *snapState) instrument(locate uint16) *snapInstrument {
	if int(locate) >= len(s.inst) {
		n := max(int(locate)+1, 2*len(s.inst))
		n = min(n, 1<<16)
		s.inst = append(s.inst, make([]snapInstrument, n-len(s.inst))...)
	}
	return &s.inst[locate]
}

// stockFallback records the symbol of a locate from a message other than the
// Stock Directory, if the locate has none yet.
func (in *snapInstrument) stockFallback(stock []byte) {
	if !in.haveStock {
		copy(in.stock[:], stock)
		in.haveStock = true
	}
}

// track records the GLIMPSE state carried by one checked message.
func (s *snapState) track(m itch.Message) {
	switch m.Type() {
	case itch.TypeSystemEvent:
		copy(s.sysEvent[:], m)
		s.haveSysEvent = true
	case itch.TypeStockDirectory:
		in := s.instrument(m.Locate())
		copy(in.directory[:], m)
		copy(in.stock[:], itch.StockDirectory(m).Stock())
		in.haveStock = true
		in.seen |= seenDirectory
	case itch.TypeStockTradingAction:
		in := s.instrument(m.Locate())
		copy(in.action[:], m)
		in.stockFallback(itch.StockTradingAction(m).Stock())
		in.seen |= seenAction
	case itch.TypeRegSHORestriction:
		in := s.instrument(m.Locate())
		copy(in.regSHO[:], m)
		in.stockFallback(itch.RegSHORestriction(m).Stock())
		in.seen |= seenRegSHO
	case itch.TypeRPII:
		in := s.instrument(m.Locate())
		copy(in.rpii[:], m)
		in.stockFallback(itch.RPII(m).Stock())
		in.seen |= seenRPII
	case itch.TypeOperationalHalt:
		in := s.instrument(m.Locate())
		v := itch.OperationalHalt(m)
		in.stockFallback(v.Stock())
		i := 0
		for i < len(in.halts) && itch.OperationalHalt(in.halts[i][:]).MarketCode() != v.MarketCode() {
			i++
		}
		if i == len(in.halts) {
			in.halts = append(in.halts, [itch.LenOperationalHalt]byte{})
		}
		copy(in.halts[i][:], m)
	case itch.TypeAddOrder:
		s.instrument(m.Locate()).stockFallback(itch.AddOrder(m).Stock())
	case itch.TypeAddOrderMPID:
		s.instrument(m.Locate()).stockFallback(itch.AddOrderMPID(m).Stock())
	}
}

// snapModel is the state of a session after messages 1 .. applied: the
// status messages, the live orders and the latest timestamp. A History keeps
// one and advances it as later snapshots are asked for.
type snapModel struct {
	applied uint64 // last message applied
	ts      uint64 // timestamp of the last checked message
	st      snapState
	orders  *orderModel
	sorted  []refOrder // scratch of build
}

// snapCache is a History's snapshot model, guarded for concurrent Snapshot
// calls.
type snapCache struct {
	mu sync.Mutex
	m  *snapModel
}

// advance applies messages applied+1 .. next-1 of h. On a malformed message
// it stops before it, with ErrSource.
func (sm *snapModel) advance(h *History, next uint64) error {
	for seq := sm.applied + 1; seq < next; seq++ {
		m := h.Message(seq)
		switch err := itch.Check(m); err {
		case nil:
			sm.ts = itch.Message(m).Timestamp()
			sm.st.track(m)
			sm.orders.apply(m)
		case itch.ErrUnknownType:
		default:
			return fmt.Errorf("%w: message %d: %w", ErrSource, seq, err)
		}
		sm.applied = seq
	}
	return nil
}

// restampSnapshot overwrites the Timestamp field (offset 5, u48) of an ITCH message.
func restampSnapshot(b []byte, ts uint64) {
	_ = b[10]
	b[5], b[6] = byte(ts>>40), byte(ts>>32)
	b[7], b[8], b[9], b[10] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
}

// Snapshot builds the GLIMPSE 5.0 snapshot of the session state after
// messages 1 .. next-1 of the history have been applied, as a GLIMPSE server
// would serve it to a client joining at that point (PROTOCOLS.md §6): the
// client loads it and then applies real-time messages from next on.
//
// Per the GLIMPSE 5.0 specification a snapshot carries the System Event
// ('S'), the Stock Directory ('R'), Stock Trading Action ('H'), Reg SHO
// Short Sale Price Test Restricted Indicator ('Y'), Operational Halt ('h',
// added to GLIMPSE after its first edition) and Retail Price Improvement
// Indicator ('N') state, an Add Order ('A', or 'F' with its MPID) for every
// open displayed order, and last the end-of-snapshot message 'G'. It carries
// nothing else: no Market Participant Position ('L'), MWCB ('V', 'W'), IPO
// ('K'), LULD collar ('J'), NOII ('I'), DLCR ('O') or trade messages, and no
// non-displayed orders. Snapshot emits, in this order:
//
//   - the latest System Event, if one was seen;
//   - for each locate in ascending order, those of its latest R, H, Y, h and N
//     messages that were seen, in that order (one h per Market Code, since
//     halts on Nasdaq, BX and PSX are independent), copied as sent except
//     for the timestamp;
//   - for each locate in ascending order, bids then asks, each side's levels
//     best price first and each level's orders in queue (time) priority, one
//     Add Order per live order: its current reference (after replaces), side,
//     remaining shares and current price, the locate's symbol, Tracking
//     Number 0; an 'F' with the MPID if the order descends (through U
//     replaces) from an 'F', else an 'A';
//   - 'G' carrying next (glimpse.AppendEndOfSnapshot: the first real-time
//     message to apply, next-1 being the last reflected).
//
// Every ITCH message of the snapshot is stamped with the timestamp of
// message next-1 (0 when next is 1). The orders are those of an order model
// of the simulator's own (orderModel), independent of tickwire's book
// package, with the same semantics, so the snapshot reproduces the book a
// handler builds from the history level by level and in queue order (and a
// bug of the book shows as a difference); what GLIMPSE omits cannot be
// reproduced from it
// (execution history, trade volume, the status messages listed above), and
// this builder omits nothing the specification lists. The order of messages
// is the builder's: the specification does not fix one beyond 'G' last.
//
// next must lie in [1, Len()+1] (ErrSnapshotSeq). A history message of a
// known type with the wrong length (or an empty one) fails with ErrSource
// and its sequence number; messages of unknown type are skipped, as a feed
// handler skips them. The returned messages share one freshly allocated
// backing array owned by the caller: they do not alias the History. Safe for
// concurrent use with other readers of the History (calls to Snapshot are
// serialised). The History keeps the model of its latest snapshot: a
// snapshot at or after the previous one only applies the messages in
// between, so a simulator serving snapshots of "now" does work linear in the
// session overall; an earlier point replays from message 1. Each call then
// sorts the live orders (O(L log L) for L orders) and allocates the result:
// a test-peer facility, not a hot path.
func (h *History) Snapshot(next uint64) ([][]byte, error) {
	if next < 1 || next > h.Len()+1 {
		return nil, fmt.Errorf("%w: %d not in [1, %d]", ErrSnapshotSeq, next, h.Len()+1)
	}
	h.snap.mu.Lock()
	defer h.snap.mu.Unlock()
	sm := h.snap.m
	if sm == nil || sm.applied >= next {
		sm = &snapModel{orders: newOrderModel()}
		h.snap.m = sm
	}
	if err := sm.advance(h, next); err != nil {
		return nil, err
	}
	return sm.build(next), nil
}

// build returns the snapshot of the model, ending with 'G' next.
func (sm *snapModel) build(next uint64) [][]byte {
	st, ts := &sm.st, sm.ts
	sm.sorted = sm.orders.sorted(sm.sorted[:0])
	// One backing array for the whole snapshot; ends[i] is the end offset of
	// message i.
	buf := make([]byte, 0, len(sm.sorted)*itch.LenAddOrderMPID+
		len(st.inst)*(itch.LenStockDirectory+itch.LenStockTradingAction+
			itch.LenRegSHORestriction+itch.LenRPII+itch.LenOperationalHalt)+
		itch.LenSystemEvent+glimpse.LenEndOfSnapshot)
	ends := make([]int, 0, len(sm.sorted)+5*len(st.inst)+2)
	put := func(msg []byte) {
		start := len(buf)
		buf = append(buf, msg...)
		restampSnapshot(buf[start:], ts)
		ends = append(ends, len(buf))
	}

	if st.haveSysEvent {
		put(st.sysEvent[:])
	}
	for i := range st.inst {
		in := &st.inst[i]
		if in.seen&seenDirectory != 0 {
			put(in.directory[:])
		}
		if in.seen&seenAction != 0 {
			put(in.action[:])
		}
		if in.seen&seenRegSHO != 0 {
			put(in.regSHO[:])
		}
		for j := range in.halts {
			put(in.halts[j][:])
		}
		if in.seen&seenRPII != 0 {
			put(in.rpii[:])
		}
	}

	for _, o := range sm.sorted {
		hdr := itch.Header{Locate: o.locate, Timestamp: ts}
		stock := st.instrument(o.locate).stock
		if o.hasMPID {
			m := itch.AddOrderMPIDMsg{Header: hdr, Ref: o.ref, Side: o.side, Shares: o.shares,
				Stock: stock, Price: o.price, Attribution: o.mpid}
			buf = m.Append(buf)
		} else {
			m := itch.AddOrderMsg{Header: hdr, Ref: o.ref, Side: o.side, Shares: o.shares,
				Stock: stock, Price: o.price}
			buf = m.Append(buf)
		}
		ends = append(ends, len(buf))
	}
	buf = glimpse.AppendEndOfSnapshot(buf, next)
	ends = append(ends, len(buf))

	out := make([][]byte, len(ends))
	start := 0
	for i, end := range ends {
		out[i] = buf[start:end:end]
		start = end
	}
	return out
}
