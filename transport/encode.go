package transport

import (
	"fmt"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/tickwire/tickwire/transport/tw"
)

// ProtocolVersion is the version of tickwire.fbs this package speaks, sent
// in Hello and HelloReply.
const ProtocolVersion = 1

// Stamp says where in the feed an update came from: the feed sequence
// number of the ITCH message that caused it, its timestamp (nanoseconds
// since midnight) and its instrument's locate.
type Stamp struct {
	FeedSeq   uint64
	Timestamp uint64
	Locate    uint16
}

// BookOrder is one resting order of a Snapshot.
type BookOrder struct {
	Ref           uint64
	Price, Shares uint32
}

// BookLevel is one price level of a Snapshot.
type BookLevel struct {
	Shares     uint64
	Price      uint32
	OrderCount uint32
}

// SnapshotHead holds a Snapshot's scalar and string fields.
type SnapshotHead struct {
	Locate        uint16
	Stock         []byte // unpadded
	FeedSeq       uint64
	Timestamp     uint64
	TradingState  tw.TradingStateCode
	TradingReason []byte
	RegSho        tw.RegShoAction
	Depth         tw.Depth
	More          bool
	Suspect       bool // the book may be wrong (messages not applied after a gap)
}

// Encoder builds frames: Begin, then one call per message, then Finish.
//
// The frame is laid out back to front in one buffer, as a flatbuffers.Builder
// would, and by hand: the updates (OrderAdded ... MwcbBreach, TradingState;
// see updates.go) are fixed templates written in place, each frame writing
// the vtable of each template once, on its first use, and every later
// table of that template pointing to it; Finish writes the Frame root, its
// vtable and the messages vector in front. The other messages (Snapshot,
// Hello, Subscribe, Status...) are built by a flatbuffers.Builder of their
// own, reset for each message, whose bytes are then copied into the frame:
// every offset in a FlatBuffer is relative, so a message moves as a block,
// and it is placed 8-aligned from the frame's end, which keeps its
// alignment (FlatBuffers aligns from the end; the frame's length, prefix
// included, is a multiple of 8).
//
// It reuses its buffers from frame to frame, so that once they have grown
// to the largest frame it does not allocate.
//
// An Encoder is not safe for concurrent use.
type Encoder struct {
	buf  []byte // the frame so far is buf[head:]
	head int
	msgs []uint32 // the frame's Message tables, in order, as distances from the end of buf
	// vts holds where this frame's vtable of each template is, as a
	// distance from the end of buf; 0 until written.
	vts [numVtables]uint32
	seq uint64

	b   *flatbuffers.Builder   // one message at a time, for those not laid out by hand
	tmp []flatbuffers.UOffsetT // string offsets of a vector being built
}

// NewEncoder returns an encoder whose buffer starts at size bytes.
func NewEncoder(size int) *Encoder {
	// A Message table takes 16 bytes at least: room for as many as size
	// holds, so that a full frame does not grow the list.
	return &Encoder{buf: make([]byte, size), head: size, b: flatbuffers.NewBuilder(256), msgs: make([]uint32, 0, size/16)}
}

// Begin starts a frame numbered streamSeq (from 1: a 0 is not encoded),
// discarding any frame in progress.
func (e *Encoder) Begin(streamSeq uint64) {
	e.head = len(e.buf)
	e.msgs, e.seq = e.msgs[:0], streamSeq
	e.vts = [numVtables]uint32{}
}

// Len is the number of messages in the frame so far.
func (e *Encoder) Len() int { return len(e.msgs) }

// Size is about how many bytes the frame holds so far; a caller keeps it
// well below MaxFrameSize (Finish adds 4 bytes per message and at most 47
// more).
func (e *Encoder) Size() int { return len(e.buf) - e.head }

// off is the frame's size so far: the distance from the end of buf of what
// was written last, by which the frame's tables are known until Finish.
func (e *Encoder) off() uint32 { return uint32(len(e.buf) - e.head) }

// The frame's head, which Finish writes in front of the messages (offsets
// from the start of the length prefix; the FlatBuffer starts at 4):
//
//	 0  length prefix   u32  total - 4
//	 4  root offset     u32  16: the Frame table at 20
//	 8  file identifier      "TWP1"
//	12  Frame vtable    4 x u16  {8, 16, 4 (stream_seq; 0 if absent), 12 (messages)}
//	20  Frame table     soffset 8 (to its vtable at 12)
//	24    stream_seq    u64  8-aligned (patchSeq in server.go finds it through the vtable)
//	32    messages      u32  4: the vector at 36
//	36  messages vector u32 count n, then n offsets to the Message tables
//	40+4n padding to make the frame's total size a multiple of 8
const (
	frameHeadSize = 40
	frameVtable   = 12
	frameTable    = 20
)

// Finish completes the frame and returns it with its length prefix, ready
// to write. It aliases the encoder's buffer and is valid until the next
// Begin. It fails with ErrFrameTooLarge above MaxFrameSize.
func (e *Encoder) Finish() ([]byte, error) {
	n, x := len(e.msgs), int(e.off())
	h := frameHeadSize + 4*n
	h += -(h + x) & 7
	total := h + x
	if total-PrefixSize > MaxFrameSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, total-PrefixSize)
	}
	e.room(h)
	e.head -= h
	b := e.buf[e.head : e.head+h]
	le.PutUint32(b[0:], uint32(total-PrefixSize))
	le.PutUint32(b[4:], frameTable-PrefixSize)
	copy(b[8:12], fileIDBytes)
	seqAt := uint16(4) // stream_seq's offset in the Frame table
	if e.seq == 0 {
		seqAt = 0 // absent: reads as the default, 0
	}
	le.PutUint16(b[frameVtable:], 8)
	le.PutUint16(b[frameVtable+2:], 16)
	le.PutUint16(b[frameVtable+4:], seqAt)
	le.PutUint16(b[frameVtable+6:], 12)
	le.PutUint32(b[frameTable:], frameTable-frameVtable)
	le.PutUint64(b[frameTable+4:], e.seq)
	le.PutUint32(b[frameTable+12:], 4)
	le.PutUint32(b[frameHeadSize-4:], uint32(n))
	for i, m := range e.msgs {
		at := frameHeadSize + 4*i
		le.PutUint32(b[at:], uint32(total-int(m)-at))
	}
	clear(b[frameHeadSize+4*n:])
	return e.buf[e.head:], nil
}

// room makes room for n more bytes in front of the frame.
func (e *Encoder) room(n int) {
	if e.head < n {
		e.grow(n)
	}
}

// grow moves the frame to the end of a buffer with room for n more bytes.
func (e *Encoder) grow(n int) {
	used := len(e.buf) - e.head
	size := max(2*len(e.buf), used+n, 1024)
	buf := make([]byte, size)
	copy(buf[size-used:], e.buf[e.head:])
	e.buf, e.head = buf, size-used
}

// align8 pads the frame so that its size so far is a multiple of 8.
func (e *Encoder) align8() {
	if e.off()&7 != 0 {
		e.pad8()
	}
}

// pad8 is align8's slow path, apart so that align8 inlines.
func (e *Encoder) pad8() {
	n := 8 - int(e.off())&7
	e.room(n)
	e.head -= n
	clear(e.buf[e.head : e.head+n])
}

// builder returns the Builder, reset for a message.
func (e *Encoder) builder() *flatbuffers.Builder {
	e.b.Reset()
	return e.b
}

// add ends the message built in the Builder since builder(), a Message
// wrapping body, of type t, and moves it into the frame.
func (e *Encoder) add(t tw.Body, body flatbuffers.UOffsetT) {
	b := e.b
	tw.MessageStart(b)
	tw.MessageAddBody(b, body)
	tw.MessageAddBodyType(b, t)
	m := tw.MessageEnd(b)
	block := b.Bytes[b.Head():]
	e.align8()
	base := e.off()
	e.room(len(block))
	e.head -= len(block)
	copy(e.buf[e.head:], block)
	e.msgs = append(e.msgs, base+uint32(m))
}

// bytes creates a string, or returns 0 (absent) for an empty one.
func (e *Encoder) bytes(s []byte) flatbuffers.UOffsetT {
	if len(s) == 0 {
		return 0
	}
	return e.b.CreateByteString(s)
}

// Snapshot adds an instrument's book: orders or levels per side as h.Depth
// says, best price first, orders in queue priority.
func (e *Encoder) Snapshot(h *SnapshotHead, bidOrders, askOrders []BookOrder, bidLevels, askLevels []BookLevel) {
	b := e.builder()
	vecs := [4]flatbuffers.UOffsetT{
		structs(b, bidOrders, sizeBookOrder, putOrder), structs(b, askOrders, sizeBookOrder, putOrder),
		structs(b, bidLevels, sizeBookLevel, putLevel), structs(b, askLevels, sizeBookLevel, putLevel),
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

// structs creates a vector of the structs xs, each of size bytes, written by
// put; 0 (absent) for none.
func structs[T any](b *flatbuffers.Builder, xs []T, size int, put func(*flatbuffers.Builder, T)) flatbuffers.UOffsetT {
	if len(xs) == 0 {
		return 0
	}
	b.StartVector(size, len(xs), 8)
	for i := len(xs) - 1; i >= 0; i-- {
		put(b, xs[i])
	}
	return b.EndVector(len(xs))
}

func putOrder(b *flatbuffers.Builder, o BookOrder) { tw.CreateBookOrder(b, o.Ref, o.Price, o.Shares) }
func putLevel(b *flatbuffers.Builder, l BookLevel) {
	tw.CreateBookLevel(b, l.Shares, l.Price, l.OrderCount)
}

// Hello adds a client's Hello.
func (e *Encoder) Hello(version uint16, token, clientName []byte) {
	e.builder()
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
func (e *Encoder) HelloReply(accepted bool, reason []byte, version uint16, heartbeatMillis uint32) {
	e.builder()
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
func (e *Encoder) Subscribe(unsubscribe bool, stocks [][]byte, locates []uint16, all bool, depth tw.Depth, n uint16) {
	b := e.builder()
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
func (e *Encoder) Heartbeat(feedSeq uint64) {
	e.builder()
	tw.HeartbeatStart(e.b)
	tw.HeartbeatAddFeedSeq(e.b, feedSeq)
	e.add(tw.BodyHeartbeat, tw.HeartbeatEnd(e.b))
}

// Status adds a change of feed state, for locate (0: the whole feed).
func (e *Encoder) Status(state tw.FeedState, reason []byte, feedSeq uint64, locate uint16) {
	e.builder()
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
func (e *Encoder) ServerError(code tw.ErrorCode, text []byte) {
	e.builder()
	t := e.bytes(text)
	tw.ServerErrorStart(e.b)
	if t != 0 {
		tw.ServerErrorAddText(e.b, t)
	}
	tw.ServerErrorAddCode(e.b, code)
	e.add(tw.BodyServerError, tw.ServerErrorEnd(e.b))
}
