package transport

import (
	"encoding/binary"

	"github.com/tickwire/tickwire/transport/tw"
)

// The updates are laid out by hand: each is a Message table wrapping a body
// table whose first field is a fixed struct, so its bytes are a template
// per type, written in one piece (offsets from the start of the piece,
// which is 8-aligned):
//
//	 0  Message     soffset to the frame's Message vtable {8, 12, 8, 4}
//	 4    body      u32 8: the body table at 12
//	 8    body_type u8, then 3 bytes of padding
//	12  body table  soffset to the frame's vtable of the template
//	16    fields    the struct, 8-aligned, S bytes (24 to 56, a multiple of 8)
//	16+S            the piece ends here, but for OrderAdded with an MPID and
//	                TradingState with a reason, which go on:
//
//	OrderAdded with mpid: vtable {8, 56, 4, 52}
//	64  mpid        u32 4: the string at 68
//	68  string      u32 length n, n bytes, a 0; padded to a multiple of 8
//
//	TradingState with reason: vtable {10, 36, 4, 32, 28}; without: {8, 32, 4, 28}
//	16  stamp       Stamp, 24 bytes
//	40  reason      u32 8: the string at 48 (with a reason only)
//	40 or 44 state  u8 (written even when it is the default, Trading)
//	48  string      u32 length n, n bytes, a 0; padded to a multiple of 8
//
// A table's soffset may point either way (a vtable is at the table's
// position minus its soffset): each vtable is written once per frame, on its
// template's first use, before (so after, in the buffer) the piece that
// needs it, and the later pieces, written in front, point back to it.
// Padding is zeroed: a frame's bytes depend on what it holds only.

var le = binary.LittleEndian

// The vtables of the hand-laid tables; the update types' own are at their
// Body value.
const (
	vtMessage           = int(tw.BodyNONE) // the Message table's
	vtOrderAddedMpid    = len(layouts)     // OrderAdded with an MPID
	vtTradingStateNoTxt = len(layouts) + 1 // TradingState without a reason
	numVtables          = len(layouts) + 2
)

// Offsets in a piece.
const (
	msgBody    = 12 // the body table
	bodyFields = 16 // the body's first field
)

// vtables holds each hand-laid vtable's bytes, padded to a multiple of 8
// so that the pieces stay 8-aligned: voffsets vtable size, table size, then
// each field's offset in the table.
var vtables = func() [numVtables][]byte {
	var vs [numVtables][]byte
	put := func(k int, fields ...uint16) {
		v := make([]byte, (2*len(fields)+7)&^7)
		for i, f := range fields {
			le.PutUint16(v[2*i:], f)
		}
		vs[k] = v
	}
	put(vtMessage, 8, 12, 8, 4)
	for t, size := range map[tw.Body]uint16{
		tw.BodyOrderAdded: sizeOrderAdded, tw.BodyOrderExecuted: sizeOrderExecuted,
		tw.BodyOrderCancelled: sizeOrderCancel, tw.BodyOrderReplaced: sizeOrderReplaced,
		tw.BodyOrderDeleted: sizeOrderDeleted, tw.BodyLevelChanged: sizeLevelChanged,
		tw.BodyTrade: sizeTrade, tw.BodyTradeBroken: sizeTradeBroken, tw.BodyRegSho: sizeRegSho,
		tw.BodyLuldCollar: sizeLuldCollar, tw.BodyMwcbLevels: sizeMwcbLevels, tw.BodyMwcbBreach: sizeMwcbBreach,
	} {
		put(int(t), 6, 4+size, 4)
	}
	put(vtOrderAddedMpid, 8, 4+sizeOrderAdded+4, 4, 4+sizeOrderAdded)
	put(int(tw.BodyTradingState), 10, 36, 4, 32, 28)
	put(vtTradingStateNoTxt, 8, 32, 4, 28)
	return vs
}()

// vtable returns where this frame's vtable k is, writing it on first use.
// The frame's size is a multiple of 8 before and after.
func (e *Encoder) vtable(k int) uint32 {
	if o := e.vts[k]; o != 0 {
		return o
	}
	return e.writeVtable(k)
}

// writeVtable writes vtable k in front of the frame and returns where.
func (e *Encoder) writeVtable(k int) uint32 {
	v := vtables[k]
	e.room(len(v))
	e.head -= len(v)
	copy(e.buf[e.head:], v)
	o := e.off()
	e.vts[k] = o
	return o
}

// piece writes the zeroed piece of size bytes (a multiple of 8) of an
// update of type t whose body uses vtable k, with its Message and body
// table's soffsets, and returns it for the caller to fill from bodyFields.
func (e *Encoder) piece(t tw.Body, k, size int) []byte {
	e.align8()
	mvt, bvt := e.vtable(vtMessage), e.vtable(k)
	e.room(size)
	e.head -= size
	p := e.buf[e.head : e.head+size]
	clear(p)
	m := e.off()
	// soffset = table's position - vtable's = (end - m) - (end - vt)
	le.PutUint32(p[0:], uint32(int32(mvt)-int32(m)))
	le.PutUint32(p[4:], msgBody-4)
	p[8] = byte(t)
	le.PutUint32(p[msgBody:], uint32(int32(bvt)-int32(m-msgBody)))
	e.msgs = append(e.msgs, m)
	return p
}

// fixed writes the piece of an update of type t whose body is the struct
// of size bytes alone, and returns the struct's bytes to fill.
func (e *Encoder) fixed(t tw.Body, size int) []byte {
	return e.piece(t, int(t), bodyFields+size)[bodyFields : bodyFields+size]
}

// text copies s into the string that starts at at in piece p.
func text(p []byte, at int, s []byte) {
	le.PutUint32(p[at:], uint32(len(s)))
	copy(p[at+4:], s) // the 0 after it is the piece's zeroing
}

// textPiece is the size of a piece whose string of n bytes starts at at.
func textPiece(at, n int) int { return (at + 4 + n + 1 + 7) &^ 7 }

func putStamp(b []byte, s Stamp) {
	_ = b[sizeStamp-1]
	le.PutUint64(b[0:], s.FeedSeq)
	le.PutUint64(b[8:], s.Timestamp)
	le.PutUint16(b[16:], s.Locate)
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// OrderAdded adds an order; mpid is the ITCH 'F' attribution, nil for 'A'.
func (e *Encoder) OrderAdded(s Stamp, ref uint64, side tw.Side, price, shares uint32, mpid []byte) {
	var f []byte
	if len(mpid) == 0 {
		f = e.fixed(tw.BodyOrderAdded, sizeOrderAdded)
	} else {
		const at = bodyFields + sizeOrderAdded // the mpid's offset, then the string
		p := e.piece(tw.BodyOrderAdded, vtOrderAddedMpid, textPiece(at+4, len(mpid)))
		le.PutUint32(p[at:], 4)
		text(p, at+4, mpid)
		f = p[bodyFields:at]
	}
	_ = f[sizeOrderAdded-1]
	putStamp(f, s)
	le.PutUint64(f[24:], ref)
	le.PutUint32(f[32:], price)
	le.PutUint32(f[36:], shares)
	f[40] = byte(side)
}

// OrderExecuted adds an execution; withPrice marks ITCH 'C', whose price
// and printable flag it carries.
func (e *Encoder) OrderExecuted(s Stamp, ref, match uint64, shares, price uint32, withPrice, printable bool) {
	f := e.fixed(tw.BodyOrderExecuted, sizeOrderExecuted)
	_ = f[sizeOrderExecuted-1]
	putStamp(f, s)
	le.PutUint64(f[24:], ref)
	le.PutUint64(f[32:], match)
	le.PutUint32(f[40:], shares)
	le.PutUint32(f[44:], price)
	f[48], f[49] = boolByte(withPrice), boolByte(printable)
}

// OrderCancelled adds a partial cancel of shares.
func (e *Encoder) OrderCancelled(s Stamp, ref uint64, shares uint32) {
	f := e.fixed(tw.BodyOrderCancelled, sizeOrderCancel)
	_ = f[sizeOrderCancel-1]
	putStamp(f, s)
	le.PutUint64(f[24:], ref)
	le.PutUint32(f[32:], shares)
}

// OrderReplaced adds a replace.
func (e *Encoder) OrderReplaced(s Stamp, oldRef, newRef uint64, side tw.Side, price, shares uint32) {
	f := e.fixed(tw.BodyOrderReplaced, sizeOrderReplaced)
	_ = f[sizeOrderReplaced-1]
	putStamp(f, s)
	le.PutUint64(f[24:], oldRef)
	le.PutUint64(f[32:], newRef)
	le.PutUint32(f[40:], price)
	le.PutUint32(f[44:], shares)
	f[48] = byte(side)
}

// OrderDeleted adds a delete.
func (e *Encoder) OrderDeleted(s Stamp, ref uint64) {
	f := e.fixed(tw.BodyOrderDeleted, sizeOrderDeleted)
	_ = f[sizeOrderDeleted-1]
	putStamp(f, s)
	le.PutUint64(f[24:], ref)
}

// LevelChanged adds a level's new totals; shares 0 means it is gone.
func (e *Encoder) LevelChanged(s Stamp, side tw.Side, price uint32, shares uint64, orders uint32) {
	f := e.fixed(tw.BodyLevelChanged, sizeLevelChanged)
	_ = f[sizeLevelChanged-1]
	putStamp(f, s)
	le.PutUint64(f[24:], shares)
	le.PutUint32(f[32:], price)
	le.PutUint32(f[36:], orders)
	f[40] = byte(side)
}

// Trade adds a non-displayed trade (cross Continuous) or a cross.
func (e *Encoder) Trade(s Stamp, match, ref uint64, side tw.Side, price uint32, shares uint64, cross tw.CrossKind) {
	f := e.fixed(tw.BodyTrade, sizeTrade)
	_ = f[sizeTrade-1]
	putStamp(f, s)
	le.PutUint64(f[24:], match)
	le.PutUint64(f[32:], ref)
	le.PutUint64(f[40:], shares)
	le.PutUint32(f[48:], price)
	f[52], f[53] = byte(side), byte(cross)
}

// TradeBroken adds a broken trade.
func (e *Encoder) TradeBroken(s Stamp, match uint64) {
	f := e.fixed(tw.BodyTradeBroken, sizeTradeBroken)
	_ = f[sizeTradeBroken-1]
	putStamp(f, s)
	le.PutUint64(f[24:], match)
}

// RegSho adds a Reg SHO action.
func (e *Encoder) RegSho(s Stamp, action tw.RegShoAction) {
	f := e.fixed(tw.BodyRegSho, sizeRegSho)
	putStamp(f, s)
	f[24] = byte(action)
}

// LuldCollar adds an LULD auction collar.
func (e *Encoder) LuldCollar(s Stamp, reference, upper, lower, extension uint32) {
	f := e.fixed(tw.BodyLuldCollar, sizeLuldCollar)
	_ = f[sizeLuldCollar-1]
	putStamp(f, s)
	le.PutUint32(f[24:], reference)
	le.PutUint32(f[28:], upper)
	le.PutUint32(f[32:], lower)
	le.PutUint32(f[36:], extension)
}

// MwcbLevels adds the day's market-wide circuit breaker levels, Price(8).
func (e *Encoder) MwcbLevels(s Stamp, level1, level2, level3 uint64) {
	f := e.fixed(tw.BodyMwcbLevels, sizeMwcbLevels)
	_ = f[sizeMwcbLevels-1]
	putStamp(f, s)
	le.PutUint64(f[24:], level1)
	le.PutUint64(f[32:], level2)
	le.PutUint64(f[40:], level3)
}

// MwcbBreach adds a market-wide circuit breaker breach of level 1, 2 or 3.
func (e *Encoder) MwcbBreach(s Stamp, level uint8) {
	f := e.fixed(tw.BodyMwcbBreach, sizeMwcbBreach)
	putStamp(f, s)
	f[24] = level
}

// TradingState adds an ITCH 'H'; reason is unpadded.
func (e *Encoder) TradingState(s Stamp, state tw.TradingStateCode, reason []byte) {
	const stamp, reasonAt, str = bodyFields, bodyFields + sizeStamp, bodyFields + sizeStamp + 8
	var p []byte
	if len(reason) == 0 {
		p = e.piece(tw.BodyTradingState, vtTradingStateNoTxt, (reasonAt+1+7)&^7)
		p[reasonAt] = byte(state)
	} else {
		p = e.piece(tw.BodyTradingState, int(tw.BodyTradingState), textPiece(str, len(reason)))
		le.PutUint32(p[reasonAt:], str-reasonAt)
		p[reasonAt+4] = byte(state)
		text(p, str, reason)
	}
	putStamp(p[stamp:], s)
}
