package transport

import (
	"math"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/tickwire/tickwire/transport/tw"
)

// Frame is a view of one validated frame. It aliases the bytes it was opened
// on (see FrameReader.Next and Open for how long they stay valid), and is a
// value: copying it copies no bytes. Safe for concurrent reads.
//
// Message reads the validated layout directly rather than through the
// generated accessors, which look the vtable up again for every field; and
// for the Message tables that share the vtable Validate checked last (all
// of them, in a frame of the Go builder), it takes the body's offsets from
// the Frame instead of the vtable.
type Frame struct {
	root flatbuffers.Table
	vec  flatbuffers.UOffsetT // first element of the messages vector
	n    int
	// The Message tables' vtable as Validate checked it: its position + 1
	// (0: none), and the offsets of the body type and body fields in it.
	msgVt            flatbuffers.UOffsetT
	typeOff, bodyOff flatbuffers.VOffsetT
}

// Open validates frame (the FlatBuffer without the length prefix) and
// returns a view of it. It does not allocate unless it fails.
func Open(frame []byte) (Frame, error) {
	var v verifier
	if err := v.frame(frame); err != nil {
		return Frame{}, err
	}
	return openValid(frame, &v), nil
}

// openValid opens a frame that v validated.
func openValid(b []byte, v *verifier) Frame {
	f := Frame{root: flatbuffers.Table{Bytes: b, Pos: flatbuffers.GetUOffsetT(b)}}
	if v.msg.vt <= math.MaxUint32 { // not in a buffer of 4 GiB or more
		f.msgVt = flatbuffers.UOffsetT(v.msg.vt)
		f.typeOff, f.bodyOff = flatbuffers.VOffsetT(v.typeOff), flatbuffers.VOffsetT(v.bodyOff)
	}
	if o := flatbuffers.UOffsetT(f.root.Offset(6)); o != 0 { // messages
		f.vec = f.root.Vector(o)
		f.n = int(flatbuffers.GetUOffsetT(b[f.vec-4:]))
	}
	return f
}

// StreamSeq is the frame's number on its connection (from 1).
func (f *Frame) StreamSeq() uint64 {
	if o := flatbuffers.UOffsetT(f.root.Offset(4)); o != 0 {
		return f.root.GetUint64(f.root.Pos + o)
	}
	return 0
}

// Len is the number of messages in the frame.
func (f *Frame) Len() int { return f.n }

// Bytes returns the FlatBuffer the frame was opened on.
func (f *Frame) Bytes() []byte { return f.root.Bytes }

// Message points m at message i, 0 <= i < Len, and returns it. m aliases
// the frame's bytes. Out of range, m is an empty message (BodyNONE).
func (f *Frame) Message(i int, m *Message) *Message {
	if i < 0 || i >= f.n {
		*m = Message{}
		return m
	}
	b := f.root.Bytes
	at := f.vec + flatbuffers.UOffsetT(i)*4
	pos := at + flatbuffers.GetUOffsetT(b[at:])
	vt := vtable(b, pos)
	tb, to := f.typeOff, f.bodyOff
	if vt+1 != f.msgVt {
		tb, to = 0, 0
		if flatbuffers.GetVOffsetT(b[vt:]) >= 8 { // both slots in the vtable
			tb, to = flatbuffers.GetVOffsetT(b[vt+4:]), flatbuffers.GetVOffsetT(b[vt+6:])
		}
	}
	if to == 0 || tb == 0 {
		*m = Message{}
		return m
	}
	typ := tw.Body(b[pos+flatbuffers.UOffsetT(tb)])
	if typ == tw.BodyNONE || int(typ) >= len(layouts) {
		*m = Message{}
		return m // from a newer schema: not validated, skipped
	}
	at = pos + flatbuffers.UOffsetT(to)
	body := at + flatbuffers.GetUOffsetT(b[at:])
	m.typ, m.body, m.fields = typ, flatbuffers.Table{Bytes: b, Pos: body}, 0
	if isUpdate(typ) {
		// Validate refused an update without its slot 0 (required): the
		// body's vtable has it.
		m.fields = body + flatbuffers.UOffsetT(flatbuffers.GetVOffsetT(b[vtable(b, body)+4:]))
	}
	return m
}

// EndsSession reports whether a message of f is the Status of the
// session's end for every instrument (locate 0).
func (f *Frame) EndsSession() bool {
	var m Message
	for i := range f.n {
		if f.Message(i, &m).Type() != tw.BodyStatus {
			continue
		}
		var st tw.Status
		st.Init(m.body.Bytes, m.body.Pos)
		if st.State() == tw.FeedStateEndOfSession && st.Locate() == 0 {
			return true
		}
	}
	return false
}

// vtable returns the position of the vtable of the validated table at pos.
func vtable(b []byte, pos flatbuffers.UOffsetT) flatbuffers.UOffsetT {
	return flatbuffers.UOffsetT(flatbuffers.SOffsetT(pos) - flatbuffers.GetSOffsetT(b[pos:]))
}

// Message is a view of one message of a Frame: its Body type and its table.
// Read it with the accessor of its type; each returns false for another
// type. Views alias the frame's bytes.
type Message struct {
	typ    tw.Body
	body   flatbuffers.Table
	fields flatbuffers.UOffsetT // an update's slot 0 struct
}

// Type is the message's Body type; BodyNONE for an empty message or one of a
// type this schema does not know (a reader skips both).
func (m *Message) Type() tw.Body { return m.typ }

// IsUpdate reports whether the message is a book or instrument update, which
// all carry a Stamp.
func (m *Message) IsUpdate() bool { return isUpdate(m.typ) }

// Stamp returns the feed sequence, timestamp and locate of an update; false
// if the message is not one.
func (m *Message) Stamp() (s Stamp, ok bool) {
	if !isUpdate(m.typ) {
		return Stamp{}, false
	}
	var v tw.Stamp
	v.Init(m.body.Bytes, m.fields)
	return Stamp{FeedSeq: v.FeedSeq(), Timestamp: v.Timestamp(), Locate: v.Locate()}, true
}

// Table returns the message's table, to Init the generated type of Type()
// with, for the messages without an accessor here (Hello, Subscribe,
// Snapshot, TradingState, Status, ServerError...):
//
//	var s tw.Snapshot
//	t := m.Table()
//	s.Init(t.Bytes, t.Pos)
func (m *Message) Table() flatbuffers.Table { return m.body }

// zeros stand in for the fields of a message of another type than asked:
// the accessors of any update struct (at most 56 bytes) read zeros from it.
var zeros [64]byte

// Fields returns the frame bytes and position of the struct holding the
// fields of an update of type t (slot 0 of every update table), for the
// generated struct's Init; if the message is not of type t, a 64-byte block
// of zeros at position 0, so that a mistaken read is zeros and not a panic:
//
//	switch m.Type() {
//	case tw.BodyOrderExecuted:
//		var ex tw.OrderExecutedFields
//		ex.Init(m.Fields(tw.BodyOrderExecuted))
//		exec(ex.OrderRef(), ex.Shares())
//	}
//
// The bytes alias the frame.
func (m *Message) Fields(t tw.Body) ([]byte, flatbuffers.UOffsetT) {
	if m.typ != t || !isUpdate(t) {
		return zeros[:], 0
	}
	return m.body.Bytes, m.fields
}

// Mpid returns the attribution of an OrderAdded (ITCH 'F'), aliasing the
// frame; nil for an 'A' or another message.
func (m *Message) Mpid() []byte {
	if m.typ != tw.BodyOrderAdded {
		return nil
	}
	var a tw.OrderAdded
	a.Init(m.body.Bytes, m.body.Pos)
	return a.Mpid()
}
