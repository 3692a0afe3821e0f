package transport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/tickwire/tickwire/transport/tw"
)

// frameEncoder is the method set Encoder and the Builder oracle share, and
// that describer implements: a frame is replayed into any of them.
type frameEncoder interface {
	Begin(streamSeq uint64)
	Finish() ([]byte, error)
	OrderAdded(s Stamp, ref uint64, side tw.Side, price, shares uint32, mpid []byte)
	OrderExecuted(s Stamp, ref, match uint64, shares, price uint32, withPrice, printable bool)
	OrderCancelled(s Stamp, ref uint64, shares uint32)
	OrderReplaced(s Stamp, oldRef, newRef uint64, side tw.Side, price, shares uint32)
	OrderDeleted(s Stamp, ref uint64)
	LevelChanged(s Stamp, side tw.Side, price uint32, shares uint64, orders uint32)
	Trade(s Stamp, match, ref uint64, side tw.Side, price uint32, shares uint64, cross tw.CrossKind)
	TradeBroken(s Stamp, match uint64)
	RegSho(s Stamp, action tw.RegShoAction)
	LuldCollar(s Stamp, reference, upper, lower, extension uint32)
	MwcbLevels(s Stamp, level1, level2, level3 uint64)
	MwcbBreach(s Stamp, level uint8)
	TradingState(s Stamp, state tw.TradingStateCode, reason []byte)
	Snapshot(h *SnapshotHead, bidOrders, askOrders []BookOrder, bidLevels, askLevels []BookLevel)
	Hello(version uint16, token, clientName []byte)
	HelloReply(accepted bool, reason []byte, version uint16, heartbeatMillis uint32)
	Subscribe(unsubscribe bool, stocks [][]byte, locates []uint16, all bool, depth tw.Depth, n uint16)
	Heartbeat(feedSeq uint64)
	Status(state tw.FeedState, reason []byte, feedSeq uint64, locate uint16)
	ServerError(code tw.ErrorCode, text []byte)
}

var (
	_ frameEncoder = (*Encoder)(nil)
	_ frameEncoder = (*oracleEncoder)(nil)
	_ frameEncoder = (*describer)(nil)
)

// describer turns each message into a line naming every field's value, so
// that what was encoded and what is read back compare as text. An absent
// string and an empty one read the same, and so do they here.
type describer struct {
	seq  uint64
	msgs []string
}

func (d *describer) Begin(seq uint64)        { d.seq, d.msgs = seq, d.msgs[:0] }
func (d *describer) Finish() ([]byte, error) { return nil, nil }

func (d *describer) add(name string, args ...any) {
	for i, a := range args {
		switch v := a.(type) {
		case []byte:
			args[i] = fmt.Sprintf("%q", v)
		case [][]byte:
			ss := make([]string, len(v))
			for j, s := range v {
				ss[j] = fmt.Sprintf("%q", s)
			}
			args[i] = ss
		}
	}
	d.msgs = append(d.msgs, name+fmt.Sprint(args...))
}

func (d *describer) OrderAdded(s Stamp, ref uint64, side tw.Side, price, shares uint32, mpid []byte) {
	d.add("OrderAdded", s, ref, side, price, shares, mpid)
}
func (d *describer) OrderExecuted(s Stamp, ref, match uint64, shares, price uint32, withPrice, printable bool) {
	d.add("OrderExecuted", s, ref, match, shares, price, withPrice, printable)
}
func (d *describer) OrderCancelled(s Stamp, ref uint64, shares uint32) {
	d.add("OrderCancelled", s, ref, shares)
}
func (d *describer) OrderReplaced(s Stamp, oldRef, newRef uint64, side tw.Side, price, shares uint32) {
	d.add("OrderReplaced", s, oldRef, newRef, side, price, shares)
}
func (d *describer) OrderDeleted(s Stamp, ref uint64) { d.add("OrderDeleted", s, ref) }
func (d *describer) LevelChanged(s Stamp, side tw.Side, price uint32, shares uint64, orders uint32) {
	d.add("LevelChanged", s, side, price, shares, orders)
}
func (d *describer) Trade(s Stamp, match, ref uint64, side tw.Side, price uint32, shares uint64, cross tw.CrossKind) {
	d.add("Trade", s, match, ref, side, price, shares, cross)
}
func (d *describer) TradeBroken(s Stamp, match uint64)      { d.add("TradeBroken", s, match) }
func (d *describer) RegSho(s Stamp, action tw.RegShoAction) { d.add("RegSho", s, action) }
func (d *describer) LuldCollar(s Stamp, reference, upper, lower, extension uint32) {
	d.add("LuldCollar", s, reference, upper, lower, extension)
}
func (d *describer) MwcbLevels(s Stamp, level1, level2, level3 uint64) {
	d.add("MwcbLevels", s, level1, level2, level3)
}
func (d *describer) MwcbBreach(s Stamp, level uint8) { d.add("MwcbBreach", s, level) }
func (d *describer) TradingState(s Stamp, state tw.TradingStateCode, reason []byte) {
	d.add("TradingState", s, state, reason)
}
func (d *describer) Snapshot(h *SnapshotHead, bidOrders, askOrders []BookOrder, bidLevels, askLevels []BookLevel) {
	d.add("Snapshot", h.Locate, h.Stock, h.FeedSeq, h.Timestamp, h.TradingState, h.TradingReason, h.RegSho, h.Depth, h.More, h.Suspect,
		fmt.Sprint(bidOrders), fmt.Sprint(askOrders), fmt.Sprint(bidLevels), fmt.Sprint(askLevels))
}
func (d *describer) Hello(version uint16, token, clientName []byte) {
	d.add("Hello", version, token, clientName)
}
func (d *describer) HelloReply(accepted bool, reason []byte, version uint16, heartbeatMillis uint32) {
	d.add("HelloReply", accepted, reason, version, heartbeatMillis)
}
func (d *describer) Subscribe(unsubscribe bool, stocks [][]byte, locates []uint16, all bool, depth tw.Depth, n uint16) {
	if unsubscribe {
		depth, n = 0, 0 // not encoded
	}
	d.add("Subscribe", unsubscribe, stocks, fmt.Sprint(locates), all, depth, n)
}
func (d *describer) Heartbeat(feedSeq uint64) { d.add("Heartbeat", feedSeq) }
func (d *describer) Status(state tw.FeedState, reason []byte, feedSeq uint64, locate uint16) {
	d.add("Status", state, reason, feedSeq, locate)
}
func (d *describer) ServerError(code tw.ErrorCode, text []byte) { d.add("ServerError", code, text) }

func twStamp(s *tw.Stamp) Stamp {
	return Stamp{FeedSeq: s.FeedSeq(), Timestamp: s.Timestamp(), Locate: s.Locate()}
}

// replayTW reads frame (length prefix included) with the generated code
// alone and calls dst's method for each message with what it read.
func replayTW(frame []byte, dst frameEncoder) {
	f := tw.GetSizePrefixedRootAsFrame(frame, 0)
	dst.Begin(f.StreamSeq())
	var (
		m   tw.Message
		tab flatbuffers.Table
		st  tw.Stamp
	)
	for i := range f.MessagesLength() {
		if !f.Messages(&m, i) || !m.Body(&tab) {
			panic("message or body missing")
		}
		switch m.BodyType() {
		case tw.BodyOrderAdded:
			var v tw.OrderAdded
			v.Init(tab.Bytes, tab.Pos)
			x := v.Fields(nil)
			dst.OrderAdded(twStamp(x.Stamp(&st)), x.OrderRef(), x.Side(), x.Price(), x.Shares(), v.Mpid())
		case tw.BodyOrderExecuted:
			var v tw.OrderExecuted
			v.Init(tab.Bytes, tab.Pos)
			x := v.Fields(nil)
			dst.OrderExecuted(twStamp(x.Stamp(&st)), x.OrderRef(), x.MatchNumber(), x.Shares(), x.Price(), x.WithPrice(), x.Printable())
		case tw.BodyOrderCancelled:
			var v tw.OrderCancelled
			v.Init(tab.Bytes, tab.Pos)
			x := v.Fields(nil)
			dst.OrderCancelled(twStamp(x.Stamp(&st)), x.OrderRef(), x.Shares())
		case tw.BodyOrderReplaced:
			var v tw.OrderReplaced
			v.Init(tab.Bytes, tab.Pos)
			x := v.Fields(nil)
			dst.OrderReplaced(twStamp(x.Stamp(&st)), x.OldRef(), x.NewRef(), x.Side(), x.Price(), x.Shares())
		case tw.BodyOrderDeleted:
			var v tw.OrderDeleted
			v.Init(tab.Bytes, tab.Pos)
			x := v.Fields(nil)
			dst.OrderDeleted(twStamp(x.Stamp(&st)), x.OrderRef())
		case tw.BodyLevelChanged:
			var v tw.LevelChanged
			v.Init(tab.Bytes, tab.Pos)
			x := v.Fields(nil)
			dst.LevelChanged(twStamp(x.Stamp(&st)), x.Side(), x.Price(), x.Shares(), x.OrderCount())
		case tw.BodyTrade:
			var v tw.Trade
			v.Init(tab.Bytes, tab.Pos)
			x := v.Fields(nil)
			dst.Trade(twStamp(x.Stamp(&st)), x.MatchNumber(), x.OrderRef(), x.Side(), x.Price(), x.Shares(), x.Cross())
		case tw.BodyTradeBroken:
			var v tw.TradeBroken
			v.Init(tab.Bytes, tab.Pos)
			x := v.Fields(nil)
			dst.TradeBroken(twStamp(x.Stamp(&st)), x.MatchNumber())
		case tw.BodyRegSho:
			var v tw.RegSho
			v.Init(tab.Bytes, tab.Pos)
			x := v.Fields(nil)
			dst.RegSho(twStamp(x.Stamp(&st)), x.Action())
		case tw.BodyLuldCollar:
			var v tw.LuldCollar
			v.Init(tab.Bytes, tab.Pos)
			x := v.Fields(nil)
			dst.LuldCollar(twStamp(x.Stamp(&st)), x.ReferencePrice(), x.UpperPrice(), x.LowerPrice(), x.Extension())
		case tw.BodyMwcbLevels:
			var v tw.MwcbLevels
			v.Init(tab.Bytes, tab.Pos)
			x := v.Fields(nil)
			dst.MwcbLevels(twStamp(x.Stamp(&st)), x.Level1(), x.Level2(), x.Level3())
		case tw.BodyMwcbBreach:
			var v tw.MwcbBreach
			v.Init(tab.Bytes, tab.Pos)
			x := v.Fields(nil)
			dst.MwcbBreach(twStamp(x.Stamp(&st)), x.BreachedLevel())
		default:
			replayTable(m.BodyType(), tab, dst)
		}
	}
}

// replayTable reads a message that is not a fixed-struct update from its
// body table with the generated code.
func replayTable(typ tw.Body, tab flatbuffers.Table, dst frameEncoder) {
	switch typ {
	case tw.BodyTradingState:
		var v tw.TradingState
		v.Init(tab.Bytes, tab.Pos)
		dst.TradingState(twStamp(v.Stamp(nil)), v.State(), v.Reason())
	case tw.BodySnapshot:
		var v tw.Snapshot
		v.Init(tab.Bytes, tab.Pos)
		h := SnapshotHead{Locate: v.Locate(), Stock: v.Stock(), FeedSeq: v.FeedSeq(), Timestamp: v.Timestamp(),
			TradingState: v.TradingState(), TradingReason: v.TradingReason(), RegSho: v.RegSho(), Depth: v.Depth(),
			More: v.More(), Suspect: v.Suspect()}
		orders := func(n int, at func(*tw.BookOrder, int) bool) (os []BookOrder) {
			var o tw.BookOrder
			for j := range n {
				at(&o, j)
				os = append(os, BookOrder{Ref: o.OrderRef(), Price: o.Price(), Shares: o.Shares()})
			}
			return os
		}
		levels := func(n int, at func(*tw.BookLevel, int) bool) (ls []BookLevel) {
			var l tw.BookLevel
			for j := range n {
				at(&l, j)
				ls = append(ls, BookLevel{Shares: l.Shares(), Price: l.Price(), OrderCount: l.OrderCount()})
			}
			return ls
		}
		dst.Snapshot(&h, orders(v.BidOrdersLength(), v.BidOrders), orders(v.AskOrdersLength(), v.AskOrders),
			levels(v.BidLevelsLength(), v.BidLevels), levels(v.AskLevelsLength(), v.AskLevels))
	case tw.BodyHello:
		var v tw.Hello
		v.Init(tab.Bytes, tab.Pos)
		dst.Hello(v.Version(), v.Token(), v.ClientName())
	case tw.BodyHelloReply:
		var v tw.HelloReply
		v.Init(tab.Bytes, tab.Pos)
		dst.HelloReply(v.Accepted(), v.Reason(), v.Version(), v.HeartbeatMs())
	case tw.BodySubscribe:
		var v tw.Subscribe
		v.Init(tab.Bytes, tab.Pos)
		var stocks [][]byte
		var locs []uint16
		for j := range v.StocksLength() {
			stocks = append(stocks, v.Stocks(j))
		}
		for j := range v.LocatesLength() {
			locs = append(locs, v.Locates(j))
		}
		dst.Subscribe(false, stocks, locs, v.AllStocks(), v.Depth(), v.N())
	case tw.BodyUnsubscribe:
		var v tw.Unsubscribe
		v.Init(tab.Bytes, tab.Pos)
		var stocks [][]byte
		var locs []uint16
		for j := range v.StocksLength() {
			stocks = append(stocks, v.Stocks(j))
		}
		for j := range v.LocatesLength() {
			locs = append(locs, v.Locates(j))
		}
		dst.Subscribe(true, stocks, locs, v.AllStocks(), 0, 0)
	case tw.BodyHeartbeat:
		var v tw.Heartbeat
		v.Init(tab.Bytes, tab.Pos)
		dst.Heartbeat(v.FeedSeq())
	case tw.BodyStatus:
		var v tw.Status
		v.Init(tab.Bytes, tab.Pos)
		dst.Status(v.State(), v.Reason(), v.FeedSeq(), v.Locate())
	case tw.BodyServerError:
		var v tw.ServerError
		v.Init(tab.Bytes, tab.Pos)
		dst.ServerError(v.Code(), v.Text())
	default:
		panic(fmt.Sprintf("body type %v", typ))
	}
}

// replayOwn reads f through Frame and Message: the updates through
// Message.Fields, Stamp and Mpid, the rest through Message.Table. It fails
// t if Stamp disagrees with the struct or an update's struct is not
// 8-aligned in the frame (length prefix included, as flatc's C++ verifier
// checks).
func replayOwn(t *testing.T, f Frame, dst frameEncoder) {
	dst.Begin(f.StreamSeq())
	var m Message
	for i := range f.Len() {
		f.Message(i, &m)
		typ := m.Type()
		if !isUpdate(typ) || typ == tw.BodyTradingState {
			replayTable(typ, m.Table(), dst)
			continue
		}
		b, pos := m.Fields(typ)
		if (pos+PrefixSize)%8 != 0 {
			t.Errorf("message %d (%v): fields at %d, not 8-aligned", i, typ, pos)
		}
		var st tw.Stamp
		st.Init(b, pos)
		s := twStamp(&st)
		if got, ok := m.Stamp(); !ok || got != s {
			t.Errorf("message %d (%v): Stamp %+v %v, fields say %+v", i, typ, got, ok, s)
		}
		switch typ {
		case tw.BodyOrderAdded:
			var x tw.OrderAddedFields
			x.Init(b, pos)
			dst.OrderAdded(s, x.OrderRef(), x.Side(), x.Price(), x.Shares(), m.Mpid())
		case tw.BodyOrderExecuted:
			var x tw.OrderExecutedFields
			x.Init(b, pos)
			dst.OrderExecuted(s, x.OrderRef(), x.MatchNumber(), x.Shares(), x.Price(), x.WithPrice(), x.Printable())
		case tw.BodyOrderCancelled:
			var x tw.OrderCancelledFields
			x.Init(b, pos)
			dst.OrderCancelled(s, x.OrderRef(), x.Shares())
		case tw.BodyOrderReplaced:
			var x tw.OrderReplacedFields
			x.Init(b, pos)
			dst.OrderReplaced(s, x.OldRef(), x.NewRef(), x.Side(), x.Price(), x.Shares())
		case tw.BodyOrderDeleted:
			var x tw.OrderDeletedFields
			x.Init(b, pos)
			dst.OrderDeleted(s, x.OrderRef())
		case tw.BodyLevelChanged:
			var x tw.LevelChangedFields
			x.Init(b, pos)
			dst.LevelChanged(s, x.Side(), x.Price(), x.Shares(), x.OrderCount())
		case tw.BodyTrade:
			var x tw.TradeFields
			x.Init(b, pos)
			dst.Trade(s, x.MatchNumber(), x.OrderRef(), x.Side(), x.Price(), x.Shares(), x.Cross())
		case tw.BodyTradeBroken:
			var x tw.TradeBrokenFields
			x.Init(b, pos)
			dst.TradeBroken(s, x.MatchNumber())
		case tw.BodyRegSho:
			var x tw.RegShoFields
			x.Init(b, pos)
			dst.RegSho(s, x.Action())
		case tw.BodyLuldCollar:
			var x tw.LuldCollarFields
			x.Init(b, pos)
			dst.LuldCollar(s, x.ReferencePrice(), x.UpperPrice(), x.LowerPrice(), x.Extension())
		case tw.BodyMwcbLevels:
			var x tw.MwcbLevelsFields
			x.Init(b, pos)
			dst.MwcbLevels(s, x.Level1(), x.Level2(), x.Level3())
		case tw.BodyMwcbBreach:
			var x tw.MwcbBreachFields
			x.Init(b, pos)
			dst.MwcbBreach(s, x.BreachedLevel())
		}
	}
}

// gen draws random messages: values at the edges of their types as often
// as in between, strings of every short length, absent included.
type gen struct{ r *rand.Rand }

func (g gen) u64() uint64 {
	switch g.r.IntN(4) {
	case 0:
		return 0
	case 1:
		return math.MaxUint64 - g.r.Uint64N(2)
	}
	return g.r.Uint64()
}
func (g gen) u32() uint32 { return uint32(g.u64() >> (32 * g.r.UintN(2))) }
func (g gen) u16() uint16 { return uint16(g.u32()) }
func (g gen) u8() uint8   { return uint8(g.u32()) }
func (g gen) bool() bool  { return g.r.IntN(2) == 0 }
func (g gen) stamp() Stamp {
	return Stamp{FeedSeq: g.u64(), Timestamp: g.u64(), Locate: g.u16()}
}
func (g gen) text() []byte {
	if g.r.IntN(3) == 0 {
		return nil
	}
	b := make([]byte, g.r.IntN(20))
	for i := range b {
		b[i] = byte(g.r.IntN(256))
	}
	return b
}
func (g gen) orders(max int) []BookOrder {
	os := make([]BookOrder, g.r.IntN(max+1))
	for i := range os {
		os[i] = BookOrder{Ref: g.u64(), Price: g.u32(), Shares: g.u32()}
	}
	return os
}
func (g gen) levels(max int) []BookLevel {
	ls := make([]BookLevel, g.r.IntN(max+1))
	for i := range ls {
		ls[i] = BookLevel{Shares: g.u64(), Price: g.u32(), OrderCount: g.u32()}
	}
	return ls
}

// message returns a random message, as a call on an encoder; updates are
// drawn three times as often as the rest.
func (g gen) message() func(frameEncoder) {
	s := g.stamp()
	a, b, c, d := g.u64(), g.u64(), g.u64(), g.u64()
	x, y, z := g.u32(), g.u32(), g.u32()
	side, code := tw.Side(g.u8()), g.u8()
	f1, f2 := g.bool(), g.bool()
	txt, txt2 := g.text(), g.text()
	n := 13 + 9
	if g.r.IntN(4) == 0 {
		n = 9 // one of the rest
	}
	switch k := g.r.IntN(n); k {
	case 0:
		return func(e frameEncoder) { e.OrderAdded(s, a, side, x, y, txt) }
	case 1:
		return func(e frameEncoder) { e.OrderExecuted(s, a, b, x, y, f1, f2) }
	case 2:
		return func(e frameEncoder) { e.OrderCancelled(s, a, x) }
	case 3:
		return func(e frameEncoder) { e.OrderReplaced(s, a, b, side, x, y) }
	case 4:
		return func(e frameEncoder) { e.OrderDeleted(s, a) }
	case 5:
		return func(e frameEncoder) { e.LevelChanged(s, side, x, a, y) }
	case 6:
		return func(e frameEncoder) { e.Trade(s, a, b, side, x, c, tw.CrossKind(code)) }
	case 7:
		return func(e frameEncoder) { e.TradeBroken(s, a) }
	case 8:
		return func(e frameEncoder) { e.RegSho(s, tw.RegShoAction(code)) }
	case 9:
		return func(e frameEncoder) { e.LuldCollar(s, x, y, z, uint32(d)) }
	case 10:
		return func(e frameEncoder) { e.MwcbLevels(s, a, b, c) }
	case 11:
		return func(e frameEncoder) { e.MwcbBreach(s, code) }
	case 12:
		return func(e frameEncoder) { e.TradingState(s, tw.TradingStateCode(code), txt) }
	}
	switch g.r.IntN(9) {
	case 0:
		h := SnapshotHead{Locate: s.Locate, Stock: txt, FeedSeq: a, Timestamp: b, TradingState: tw.TradingStateCode(code),
			TradingReason: txt2, RegSho: tw.RegShoAction(g.u8()), Depth: tw.Depth(g.u8()), More: f1, Suspect: f2}
		max := 4
		if g.r.IntN(10) == 0 {
			max = 1000 // grows the buffers
		}
		bo, ao, bl, al := g.orders(max), g.orders(max), g.levels(max), g.levels(max)
		return func(e frameEncoder) { e.Snapshot(&h, bo, ao, bl, al) }
	case 1:
		return func(e frameEncoder) { e.Hello(s.Locate, txt, txt2) }
	case 2:
		return func(e frameEncoder) { e.HelloReply(f1, txt, s.Locate, x) }
	case 3, 4:
		var stocks [][]byte
		for range g.r.IntN(4) {
			stocks = append(stocks, g.text())
		}
		var locs []uint16
		for range g.r.IntN(4) {
			locs = append(locs, g.u16())
		}
		unsub, depth, n := g.r.IntN(2) == 0, tw.Depth(code), g.u16()
		return func(e frameEncoder) { e.Subscribe(unsub, stocks, locs, f1, depth, n) }
	case 5:
		return func(e frameEncoder) { e.Heartbeat(a) }
	case 6, 7:
		return func(e frameEncoder) { e.Status(tw.FeedState(code), txt, a, s.Locate) }
	}
	return func(e frameEncoder) { e.ServerError(tw.ErrorCode(code), txt) }
}

// TestEncoderMatchesBuilder encodes random frames of every message type,
// updates mixed with snapshots and control messages, with Encoder and with
// the Builder-only oracle, and checks that Validate and FrameReader accept
// Encoder's frames, that the generated accessors and Frame/Message read
// back every field as encoded, that the oracle's frames read the same, and
// that patchSeq rewrites the stream_seq.
func TestEncoderMatchesBuilder(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	g := gen{rand.New(rand.NewPCG(seed, 1))}
	frames := 1000
	if testing.Short() {
		frames = 200
	}
	enc, oracle := NewEncoder(0), newOracleEncoder(0)
	var want, got, fromOracle describer
	tooLarge := 0
	for i := range frames {
		seq := g.u64()
		n := g.r.IntN(12)
		if g.r.IntN(20) == 0 {
			n = 100 + g.r.IntN(1000)
		}
		msgs := make([]func(frameEncoder), n)
		for j := range msgs {
			msgs[j] = g.message()
		}
		for _, e := range []frameEncoder{enc, oracle, &want} {
			e.Begin(seq)
			for _, m := range msgs {
				m(e)
			}
		}
		frame, err := enc.Finish()
		ofr, oerr := oracle.Finish()
		if err != nil || oerr != nil {
			if !errors.Is(err, ErrFrameTooLarge) || !errors.Is(oerr, ErrFrameTooLarge) {
				t.Fatalf("frame %d: %v; the oracle: %v", i, err, oerr)
			}
			tooLarge++
			continue
		}
		if l := binary.LittleEndian.Uint32(frame); int(l) != len(frame)-PrefixSize || len(frame)%8 != 0 {
			t.Fatalf("frame %d: prefix %d, %d bytes (want a multiple of 8)", i, l, len(frame))
		}
		if err := Validate(frame[PrefixSize:]); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		f, k, ok, err := NewFrameReader(0).Next(frame)
		if !ok || err != nil || k != len(frame) {
			t.Fatalf("frame %d: FrameReader: %v %v %d", i, ok, err, k)
		}
		check := func(what string, d *describer) {
			t.Helper()
			if d.seq != want.seq || len(d.msgs) != len(want.msgs) {
				t.Fatalf("frame %d, %s: seq %d, %d messages; want %d, %d", i, what, d.seq, len(d.msgs), want.seq, len(want.msgs))
			}
			for j := range d.msgs {
				if d.msgs[j] != want.msgs[j] {
					t.Fatalf("frame %d, %s: message %d reads\n%s\nwant\n%s", i, what, j, d.msgs[j], want.msgs[j])
				}
			}
		}
		replayTW(frame, &got)
		check("generated accessors", &got)
		replayOwn(t, f, &got)
		check("Frame and Message", &got)
		replayTW(ofr, &fromOracle)
		check("the Builder's frame", &fromOracle)
		if seq != 0 {
			p := bytes.Clone(frame)
			patchSeq(p, seq^0x5a5a)
			replayTW(p, &got)
			if got.seq != seq^0x5a5a || !slices.Equal(got.msgs, want.msgs) {
				t.Fatalf("frame %d: after patchSeq, seq %d", i, got.seq)
			}
		}
	}
	t.Logf("%d frames, %d of them above MaxFrameSize for both encoders", frames, tooLarge)
}

// TestEncoderSeqZero: a frame numbered 0 has no stream_seq field, as the
// Builder wrote it, and reads 0.
func TestEncoderSeqZero(t *testing.T) {
	e := NewEncoder(0)
	e.Begin(0)
	e.OrderDeleted(Stamp{FeedSeq: 1}, 2)
	frame, _ := e.Finish()
	f, err := Open(frame[PrefixSize:])
	if err != nil || f.StreamSeq() != 0 || f.Len() != 1 {
		t.Fatalf("%v seq %d len %d", err, f.StreamSeq(), f.Len())
	}
	tab := flatbuffers.Table{Bytes: frame[PrefixSize:], Pos: flatbuffers.GetUOffsetT(frame[PrefixSize:])}
	if tab.Offset(4) != 0 {
		t.Error("stream_seq present")
	}
}

// TestEncoderTooLarge: a frame above MaxFrameSize is refused, and the
// encoder goes on with the next frame.
func TestEncoderTooLarge(t *testing.T) {
	e := NewEncoder(0)
	e.Begin(1)
	for range MaxFrameSize / (16 + sizeOrderDeleted) {
		e.OrderDeleted(Stamp{FeedSeq: 1}, 2)
	}
	if _, err := e.Finish(); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("Finish: %v, want ErrFrameTooLarge", err)
	}
	e.Begin(2)
	e.OrderDeleted(Stamp{FeedSeq: 3}, 4)
	frame, err := e.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if f, err := Open(frame[PrefixSize:]); err != nil || f.StreamSeq() != 2 || f.Len() != 1 {
		t.Fatalf("the next frame: %v", err)
	}
}
