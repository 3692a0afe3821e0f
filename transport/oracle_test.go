package transport

// The encoder as it was before the updates were laid out by hand, all
// through the flatbuffers.Builder: the oracle of TestEncoderMatchesBuilder.

import (
	"fmt"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/tickwire/tickwire/transport/tw"
)

// oracleEncoder builds frames: Begin, then one call per message, then Finish.
// It reuses its flatbuffers.Builder and offset slice from frame to frame, so
// that once they have grown to the largest frame it does not allocate.
//
// An oracleEncoder is not safe for concurrent use.
type oracleEncoder struct {
	b    *flatbuffers.Builder
	msgs []flatbuffers.UOffsetT // the frame's messages, in order
	tmp  []flatbuffers.UOffsetT // string offsets of a vector being built
	seq  uint64
}

// newOracleEncoder returns an encoder whose buffer starts at size bytes.
func newOracleEncoder(size int) *oracleEncoder {
	return &oracleEncoder{b: flatbuffers.NewBuilder(size)}
}

// Begin starts a frame numbered streamSeq (from 1: a 0 is not encoded),
// discarding any frame in progress.
func (e *oracleEncoder) Begin(streamSeq uint64) {
	e.b.Reset()
	e.msgs, e.seq = e.msgs[:0], streamSeq
}

// Len is the number of messages in the frame so far.
func (e *oracleEncoder) Len() int { return len(e.msgs) }

// Size is about how many bytes the frame holds so far; a caller keeps it
// well below MaxFrameSize (Finish adds 4 bytes per message and ~32 more).
func (e *oracleEncoder) Size() int { return int(e.b.Offset()) }

// Finish completes the frame and returns it with its length prefix, ready
// to write. It aliases the encoder's buffer and is valid until the next
// Begin. It fails with ErrFrameTooLarge above MaxFrameSize.
func (e *oracleEncoder) Finish() ([]byte, error) {
	b := e.b
	msgs := b.CreateVectorOfTables(e.msgs)
	tw.FrameStart(b)
	tw.FrameAddMessages(b, msgs)
	tw.FrameAddStreamSeq(b, e.seq)
	b.FinishSizePrefixedWithFileIdentifier(tw.FrameEnd(b), fileIDBytes)
	out := b.FinishedBytes()
	if len(out)-PrefixSize > MaxFrameSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, len(out)-PrefixSize)
	}
	return out, nil
}

// add appends the Message wrapping body, of type t.
func (e *oracleEncoder) add(t tw.Body, body flatbuffers.UOffsetT) {
	tw.MessageStart(e.b)
	tw.MessageAddBody(e.b, body)
	tw.MessageAddBodyType(e.b, t)
	e.msgs = append(e.msgs, tw.MessageEnd(e.b))
}

// fixed ends an update table whose only field is the struct s, just
// created after StartObject(1), and adds it.
func (e *oracleEncoder) fixed(t tw.Body, s flatbuffers.UOffsetT) {
	e.b.PrependStructSlot(0, s, 0)
	e.add(t, e.b.EndObject())
}

// bytes creates a string, or returns 0 (absent) for an empty one.
func (e *oracleEncoder) bytes(s []byte) flatbuffers.UOffsetT {
	if len(s) == 0 {
		return 0
	}
	return e.b.CreateByteString(s)
}

// OrderAdded adds an order; mpid is the ITCH 'F' attribution, nil for 'A'.
func (e *oracleEncoder) OrderAdded(s Stamp, ref uint64, side tw.Side, price, shares uint32, mpid []byte) {
	m := e.bytes(mpid)
	e.b.StartObject(2)
	if m != 0 {
		tw.OrderAddedAddMpid(e.b, m)
	}
	tw.OrderAddedAddFields(e.b, tw.CreateOrderAddedFields(e.b, s.FeedSeq, s.Timestamp, s.Locate, ref, price, shares, side))
	e.add(tw.BodyOrderAdded, e.b.EndObject())
}

// OrderExecuted adds an execution; withPrice marks ITCH 'C', whose price
// and printable flag it carries.
func (e *oracleEncoder) OrderExecuted(s Stamp, ref, match uint64, shares, price uint32, withPrice, printable bool) {
	e.b.StartObject(1)
	e.fixed(tw.BodyOrderExecuted, tw.CreateOrderExecutedFields(e.b, s.FeedSeq, s.Timestamp, s.Locate, ref, match, shares, price, withPrice, printable))
}

// OrderCancelled adds a partial cancel of shares.
func (e *oracleEncoder) OrderCancelled(s Stamp, ref uint64, shares uint32) {
	e.b.StartObject(1)
	e.fixed(tw.BodyOrderCancelled, tw.CreateOrderCancelledFields(e.b, s.FeedSeq, s.Timestamp, s.Locate, ref, shares))
}

// OrderReplaced adds a replace.
func (e *oracleEncoder) OrderReplaced(s Stamp, oldRef, newRef uint64, side tw.Side, price, shares uint32) {
	e.b.StartObject(1)
	e.fixed(tw.BodyOrderReplaced, tw.CreateOrderReplacedFields(e.b, s.FeedSeq, s.Timestamp, s.Locate, oldRef, newRef, price, shares, side))
}

// OrderDeleted adds a delete.
func (e *oracleEncoder) OrderDeleted(s Stamp, ref uint64) {
	e.b.StartObject(1)
	e.fixed(tw.BodyOrderDeleted, tw.CreateOrderDeletedFields(e.b, s.FeedSeq, s.Timestamp, s.Locate, ref))
}

// LevelChanged adds a level's new totals; shares 0 means it is gone.
func (e *oracleEncoder) LevelChanged(s Stamp, side tw.Side, price uint32, shares uint64, orders uint32) {
	e.b.StartObject(1)
	e.fixed(tw.BodyLevelChanged, tw.CreateLevelChangedFields(e.b, s.FeedSeq, s.Timestamp, s.Locate, shares, price, orders, side))
}

// Trade adds a non-displayed trade (cross Continuous) or a cross.
func (e *oracleEncoder) Trade(s Stamp, match, ref uint64, side tw.Side, price uint32, shares uint64, cross tw.CrossKind) {
	e.b.StartObject(1)
	e.fixed(tw.BodyTrade, tw.CreateTradeFields(e.b, s.FeedSeq, s.Timestamp, s.Locate, match, ref, shares, price, side, cross))
}

// TradeBroken adds a broken trade.
func (e *oracleEncoder) TradeBroken(s Stamp, match uint64) {
	e.b.StartObject(1)
	e.fixed(tw.BodyTradeBroken, tw.CreateTradeBrokenFields(e.b, s.FeedSeq, s.Timestamp, s.Locate, match))
}

// RegSho adds a Reg SHO action.
func (e *oracleEncoder) RegSho(s Stamp, action tw.RegShoAction) {
	e.b.StartObject(1)
	e.fixed(tw.BodyRegSho, tw.CreateRegShoFields(e.b, s.FeedSeq, s.Timestamp, s.Locate, action))
}

// LuldCollar adds an LULD auction collar.
func (e *oracleEncoder) LuldCollar(s Stamp, reference, upper, lower, extension uint32) {
	e.b.StartObject(1)
	e.fixed(tw.BodyLuldCollar, tw.CreateLuldCollarFields(e.b, s.FeedSeq, s.Timestamp, s.Locate, reference, upper, lower, extension))
}

// MwcbLevels adds the day's market-wide circuit breaker levels, Price(8).
func (e *oracleEncoder) MwcbLevels(s Stamp, level1, level2, level3 uint64) {
	e.b.StartObject(1)
	e.fixed(tw.BodyMwcbLevels, tw.CreateMwcbLevelsFields(e.b, s.FeedSeq, s.Timestamp, s.Locate, level1, level2, level3))
}

// MwcbBreach adds a market-wide circuit breaker breach of level 1, 2 or 3.
func (e *oracleEncoder) MwcbBreach(s Stamp, level uint8) {
	e.b.StartObject(1)
	e.fixed(tw.BodyMwcbBreach, tw.CreateMwcbBreachFields(e.b, s.FeedSeq, s.Timestamp, s.Locate, level))
}

// TradingState adds an ITCH 'H'; reason is unpadded.
func (e *oracleEncoder) TradingState(s Stamp, state tw.TradingStateCode, reason []byte) {
	r := e.bytes(reason)
	tw.TradingStateStart(e.b)
	if r != 0 {
		tw.TradingStateAddReason(e.b, r)
	}
	tw.TradingStateAddStamp(e.b, tw.CreateStamp(e.b, s.FeedSeq, s.Timestamp, s.Locate))
	tw.TradingStateAddState(e.b, state)
	e.add(tw.BodyTradingState, tw.TradingStateEnd(e.b))
}

// Snapshot adds an instrument's book: orders or levels per side as h.Depth
// says, best price first, orders in queue priority.
func (e *oracleEncoder) Snapshot(h *SnapshotHead, bidOrders, askOrders []BookOrder, bidLevels, askLevels []BookLevel) {
	b := e.b
	vecs := [4]flatbuffers.UOffsetT{
		oracleStructs(b, bidOrders, sizeBookOrder, oraclePutOrder), oracleStructs(b, askOrders, sizeBookOrder, oraclePutOrder),
		oracleStructs(b, bidLevels, sizeBookLevel, oraclePutLevel), oracleStructs(b, askLevels, sizeBookLevel, oraclePutLevel),
	}
	stock, reason := e.bytes(h.Stock), e.bytes(h.TradingReason)
	tw.SnapshotStart(b)
	tw.SnapshotAddFeedSeq(b, h.FeedSeq)
	tw.SnapshotAddTimestamp(b, h.Timestamp)
	for i, add := range [4]func(*flatbuffers.Builder, flatbuffers.UOffsetT){
		tw.SnapshotAddBidOrders, tw.SnapshotAddAskOrders, tw.SnapshotAddBidLevels, tw.SnapshotAddAskLevels,
	} {
		if vecs[i] != 0 {
			add(b, vecs[i])
		}
	}
	if stock != 0 {
		tw.SnapshotAddStock(b, stock)
	}
	if reason != 0 {
		tw.SnapshotAddTradingReason(b, reason)
	}
	tw.SnapshotAddLocate(b, h.Locate)
	tw.SnapshotAddTradingState(b, h.TradingState)
	tw.SnapshotAddRegSho(b, h.RegSho)
	tw.SnapshotAddDepth(b, h.Depth)
	tw.SnapshotAddMore(b, h.More)
	tw.SnapshotAddSuspect(b, h.Suspect)
	e.add(tw.BodySnapshot, tw.SnapshotEnd(b))
}

// oracleStructs creates a vector of the oracleStructs xs, each of size bytes, written by
// put; 0 (absent) for none.
func oracleStructs[T any](b *flatbuffers.Builder, xs []T, size int, put func(*flatbuffers.Builder, T)) flatbuffers.UOffsetT {
	if len(xs) == 0 {
		return 0
	}
	b.StartVector(size, len(xs), 8)
	for i := len(xs) - 1; i >= 0; i-- {
		put(b, xs[i])
	}
	return b.EndVector(len(xs))
}

func oraclePutOrder(b *flatbuffers.Builder, o BookOrder) {
	tw.CreateBookOrder(b, o.Ref, o.Price, o.Shares)
}
func oraclePutLevel(b *flatbuffers.Builder, l BookLevel) {
	tw.CreateBookLevel(b, l.Shares, l.Price, l.OrderCount)
}

// Hello adds a client's Hello.
func (e *oracleEncoder) Hello(version uint16, token, clientName []byte) {
	t, c := e.bytes(token), e.bytes(clientName)
	tw.HelloStart(e.b)
	if t != 0 {
		tw.HelloAddToken(e.b, t)
	}
	if c != 0 {
		tw.HelloAddClientName(e.b, c)
	}
	tw.HelloAddVersion(e.b, version)
	e.add(tw.BodyHello, tw.HelloEnd(e.b))
}

// HelloReply adds the server's answer to a Hello.
func (e *oracleEncoder) HelloReply(accepted bool, reason []byte, version uint16, heartbeatMillis uint32) {
	r := e.bytes(reason)
	tw.HelloReplyStart(e.b)
	if r != 0 {
		tw.HelloReplyAddReason(e.b, r)
	}
	tw.HelloReplyAddHeartbeatMs(e.b, heartbeatMillis)
	tw.HelloReplyAddVersion(e.b, version)
	tw.HelloReplyAddAccepted(e.b, accepted)
	e.add(tw.BodyHelloReply, tw.HelloReplyEnd(e.b))
}

// Subscribe adds a subscription (unsubscribe false) or an Unsubscribe
// (depth and n then ignored) to the stocks, the locates, or all.
func (e *oracleEncoder) Subscribe(unsubscribe bool, stocks [][]byte, locates []uint16, all bool, depth tw.Depth, n uint16) {
	b := e.b
	e.tmp = e.tmp[:0]
	for _, s := range stocks {
		e.tmp = append(e.tmp, b.CreateByteString(s))
	}
	var sv, lv flatbuffers.UOffsetT
	if len(stocks) > 0 {
		sv = b.CreateVectorOfTables(e.tmp) // offsets, to strings here
	}
	if len(locates) > 0 {
		b.StartVector(2, len(locates), 2)
		for i := len(locates) - 1; i >= 0; i-- {
			b.PrependUint16(locates[i])
		}
		lv = b.EndVector(len(locates))
	}
	t := tw.BodySubscribe
	b.StartObject(5) // Unsubscribe's slots are Subscribe's first three
	if sv != 0 {
		tw.SubscribeAddStocks(b, sv)
	}
	if lv != 0 {
		tw.SubscribeAddLocates(b, lv)
	}
	tw.SubscribeAddAllStocks(b, all)
	if unsubscribe {
		t = tw.BodyUnsubscribe
	} else {
		tw.SubscribeAddN(b, n)
		tw.SubscribeAddDepth(b, depth)
	}
	e.add(t, b.EndObject())
}

// Heartbeat adds a heartbeat carrying the last feed sequence processed.
func (e *oracleEncoder) Heartbeat(feedSeq uint64) {
	tw.HeartbeatStart(e.b)
	tw.HeartbeatAddFeedSeq(e.b, feedSeq)
	e.add(tw.BodyHeartbeat, tw.HeartbeatEnd(e.b))
}

// Status adds a change of feed state, for locate (0: the whole feed).
func (e *oracleEncoder) Status(state tw.FeedState, reason []byte, feedSeq uint64, locate uint16) {
	r := e.bytes(reason)
	tw.StatusStart(e.b)
	tw.StatusAddFeedSeq(e.b, feedSeq)
	if r != 0 {
		tw.StatusAddReason(e.b, r)
	}
	tw.StatusAddLocate(e.b, locate)
	tw.StatusAddState(e.b, state)
	e.add(tw.BodyStatus, tw.StatusEnd(e.b))
}

// ServerError adds the error the server sends before disconnecting.
func (e *oracleEncoder) ServerError(code tw.ErrorCode, text []byte) {
	t := e.bytes(text)
	tw.ServerErrorStart(e.b)
	if t != 0 {
		tw.ServerErrorAddText(e.b, t)
	}
	tw.ServerErrorAddCode(e.b, code)
	e.add(tw.BodyServerError, tw.ServerErrorEnd(e.b))
}
