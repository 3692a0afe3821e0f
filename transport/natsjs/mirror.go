package natsjs

import (
	"github.com/tickwire/tickwire/book"
	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/transport"
	"github.com/tickwire/tickwire/transport/tw"
)

// mirror is the publisher's own copy of the daemon's books, rebuilt from
// the Orders-depth frames it relays: the key-value snapshots are encoded
// from it on the publisher's goroutine, so that they cost the book's
// writer nothing. Each update is turned back into the ITCH message that
// caused it and applied to a book.Book, the same code as the daemon's, so
// the copy is exact, queue order included.
//
// A mirror is not safe for concurrent use.
type mirror struct {
	bk   *book.Book
	inst []mirrorInst // by locate
	msg  transport.Message
	itch []byte // one ITCH message, rebuilt

	levels []book.Level
	refs   []uint64
	orders [2][]transport.BookOrder
	enc    *transport.Encoder
}

// mirrorInst is what the mirror keeps of an instrument beyond its book.
type mirrorInst struct {
	known   bool
	sym     [8]byte
	symLen  uint8
	state   tw.TradingStateCode
	reason  [4]byte
	reasonN uint8
	regSho  tw.RegShoAction
	suspect bool
	partial bool   // a snapshot's parts are being applied
	lastSeq uint64 // the last feed sequence that changed it (Tw-Prev of the next frame)
	lastTS  uint64
	changed bool // since its last key-value snapshot
	dirty   bool // a frame of it was not published: its next goes after a snapshot
	token   string
	// subject is its subject, for subjectSession and subjectToken.
	subject, subjectSession, subjectToken string
	part                                  int // the index of the snapshot part applied last
	kvParts                               int // the parts of its last snapshot in the bucket
}

func newMirror() *mirror {
	return &mirror{bk: book.New(), inst: make([]mirrorInst, 1<<16), enc: transport.NewEncoder(64 << 10)}
}

// frameInfo is what a frame carried: its feed sequences and timestamps.
type frameInfo struct {
	first, last uint64 // feed sequences of its first and last message with one
	ts          uint64 // timestamp of the last
	snapshot    bool   // it held a Snapshot
	more        bool   // ... with more parts to come
	locate      uint16 // the Snapshot's instrument
}

// apply applies one frame (the FlatBuffer after the size prefix) to the
// mirror.
func (mr *mirror) apply(fb []byte) (frameInfo, error) {
	var fi frameInfo
	f, err := transport.Open(fb)
	if err != nil {
		return fi, err
	}
	for i := range f.Len() {
		m := f.Message(i, &mr.msg)
		if m.Type() == tw.BodySnapshot {
			mr.snapshot(m, &fi)
			continue
		}
		s, ok := m.Stamp()
		if !ok {
			continue
		}
		if fi.first == 0 {
			fi.first = s.FeedSeq
		}
		fi.last, fi.ts = max(fi.last, s.FeedSeq), s.Timestamp
		mr.update(m, s)
	}
	return fi, nil
}

// header returns the ITCH header of an update.
func header(s transport.Stamp) itch.Header {
	return itch.Header{Locate: s.Locate, Timestamp: s.Timestamp & itch.MaxTimestamp}
}

// update applies one update message.
func (mr *mirror) update(m *transport.Message, s transport.Stamp) {
	in := &mr.inst[s.Locate]
	in.known, in.changed = true, true
	in.lastSeq, in.lastTS = s.FeedSeq, s.Timestamp
	t := m.Type()
	switch t {
	case tw.BodyOrderAdded:
		var v tw.OrderAddedFields
		v.Init(m.Fields(t))
		mr.itch = (&itch.AddOrderMsg{Header: header(s), Ref: v.OrderRef(), Side: byte(v.Side()), Shares: v.Shares(), Price: v.Price()}).Append(mr.itch[:0])
	case tw.BodyOrderExecuted:
		var v tw.OrderExecutedFields
		v.Init(m.Fields(t))
		mr.itch = (&itch.OrderExecutedMsg{Header: header(s), Ref: v.OrderRef(), Shares: v.Shares(), Match: v.MatchNumber()}).Append(mr.itch[:0])
	case tw.BodyOrderCancelled:
		var v tw.OrderCancelledFields
		v.Init(m.Fields(t))
		mr.itch = (&itch.OrderCancelMsg{Header: header(s), Ref: v.OrderRef(), Shares: v.Shares()}).Append(mr.itch[:0])
	case tw.BodyOrderDeleted:
		var v tw.OrderDeletedFields
		v.Init(m.Fields(t))
		mr.itch = (&itch.OrderDeleteMsg{Header: header(s), Ref: v.OrderRef()}).Append(mr.itch[:0])
	case tw.BodyOrderReplaced:
		var v tw.OrderReplacedFields
		v.Init(m.Fields(t))
		mr.itch = (&itch.OrderReplaceMsg{Header: header(s), OrigRef: v.OldRef(), NewRef: v.NewRef(), Shares: v.Shares(), Price: v.Price()}).Append(mr.itch[:0])
	case tw.BodyTradingState:
		var v tw.TradingState
		tab := m.Table()
		v.Init(tab.Bytes, tab.Pos)
		in.state = v.State()
		in.reasonN = uint8(copy(in.reason[:], v.Reason()))
		return
	case tw.BodyRegSho:
		var v tw.RegShoFields
		v.Init(m.Fields(t))
		in.regSho = v.Action()
		return
	default:
		return // trades, LULD, market-wide: no change to the book
	}
	mr.bk.Apply(s.FeedSeq, itch.Message(mr.itch))
}

// snapshot resets an instrument from a Snapshot (its first part) and adds
// the part's orders.
func (mr *mirror) snapshot(m *transport.Message, fi *frameInfo) {
	var s tw.Snapshot
	tab := m.Table()
	s.Init(tab.Bytes, tab.Pos)
	loc := s.Locate()
	in := &mr.inst[loc]
	fi.snapshot, fi.more, fi.locate = true, s.More(), loc
	fi.first, fi.last, fi.ts = s.FeedSeq(), s.FeedSeq(), s.Timestamp()
	in.part++
	if !in.partial {
		in.part = 0
		mr.clear(loc)
		var stock [8]byte
		for i := range stock {
			stock[i] = ' '
		}
		copy(stock[:], s.Stock())
		mr.itch = (&itch.StockDirectoryMsg{Header: itch.Header{Locate: loc}, Stock: stock}).Append(mr.itch[:0])
		mr.bk.Apply(s.FeedSeq(), itch.Message(mr.itch))
		in.sym, in.symLen = stock, uint8(len(s.Stock()))
		in.token = Token(s.Stock())
		in.state, in.regSho, in.suspect = s.TradingState(), s.RegSho(), s.Suspect()
		in.reasonN = uint8(copy(in.reason[:], s.TradingReason()))
	}
	in.known, in.changed, in.partial = true, true, s.More()
	in.lastSeq, in.lastTS = s.FeedSeq(), s.Timestamp()
	var o tw.BookOrder
	for side, n := range [2]int{s.BidOrdersLength(), s.AskOrdersLength()} {
		sd := [2]byte{itch.Buy, itch.Sell}[side]
		for i := range n {
			if side == 0 {
				s.BidOrders(&o, i)
			} else {
				s.AskOrders(&o, i)
			}
			mr.itch = (&itch.AddOrderMsg{Header: itch.Header{Locate: loc}, Ref: o.OrderRef(), Side: sd, Shares: o.Shares(), Price: o.Price()}).Append(mr.itch[:0])
			mr.bk.Apply(s.FeedSeq(), itch.Message(mr.itch))
		}
	}
}

// clear removes every order of instrument loc from the mirror's book.
func (mr *mirror) clear(loc uint16) {
	mr.refs = mr.refs[:0]
	for _, sd := range [2]byte{itch.Buy, itch.Sell} {
		mr.levels = mr.bk.AppendLevels(mr.levels[:0], loc, sd)
		for _, lv := range mr.levels {
			mr.bk.Orders(loc, sd, lv.Price, func(ref uint64, _ uint32) bool {
				mr.refs = append(mr.refs, ref)
				return true
			})
		}
	}
	for _, ref := range mr.refs {
		mr.itch = (&itch.OrderDeleteMsg{Header: itch.Header{Locate: loc}, Ref: ref}).Append(mr.itch[:0])
		mr.bk.Apply(0, itch.Message(mr.itch))
	}
}

// reset forgets everything: the follower resynchronises.
func (mr *mirror) reset() {
	mr.bk.Reset()
	for i := range mr.inst {
		if mr.inst[i].known {
			mr.inst[i] = mirrorInst{dirty: mr.inst[i].dirty, kvParts: mr.inst[i].kvParts}
		}
	}
}

// maxSnapshotOrders bounds one Snapshot part's orders (16 bytes each), as
// the daemon's own: 512 KiB, inside NATS's default 1 MiB payload.
const maxSnapshotOrders = 32 << 10

// encodeSnapshot appends to dst the frames (size-prefixed) of instrument
// loc's snapshot at the Orders depth, as of its last change, and returns
// dst and the number of parts.
func (mr *mirror) encodeSnapshot(dst []byte, loc uint16) ([]byte, []int) {
	in := &mr.inst[loc]
	h := transport.SnapshotHead{Locate: loc, Stock: in.sym[:in.symLen], FeedSeq: in.lastSeq, Timestamp: in.lastTS,
		TradingState: in.state, TradingReason: in.reason[:in.reasonN], RegSho: in.regSho, Depth: tw.DepthOrders,
		Suspect: in.suspect}
	if h.TradingState == 0 {
		h.TradingState = tw.TradingStateCodeTrading
	}
	if h.RegSho == 0 {
		h.RegSho = tw.RegShoActionNoTest
	}
	for i, sd := range [2]byte{itch.Buy, itch.Sell} {
		mr.orders[i] = mr.orders[i][:0]
		mr.levels = mr.bk.AppendLevels(mr.levels[:0], loc, sd)
		for _, lv := range mr.levels {
			mr.bk.Orders(loc, sd, lv.Price, func(ref uint64, shares uint32) bool {
				mr.orders[i] = append(mr.orders[i], transport.BookOrder{Ref: ref, Price: lv.Price, Shares: shares})
				return true
			})
		}
	}
	var ends []int
	bids, asks := mr.orders[0], mr.orders[1]
	for {
		nb := min(len(bids), maxSnapshotOrders)
		na := min(len(asks), maxSnapshotOrders-nb)
		h.More = nb < len(bids) || na < len(asks)
		mr.enc.Begin(1)
		mr.enc.Snapshot(&h, bids[:nb], asks[:na], nil, nil)
		f, err := mr.enc.Finish()
		if err != nil {
			panic(err) // parts are bounded well below the maximum frame
		}
		dst = append(dst, f...)
		ends = append(ends, len(dst))
		bids, asks = bids[nb:], asks[na:]
		if !h.More {
			return dst, ends
		}
	}
}
