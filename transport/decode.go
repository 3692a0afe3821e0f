package transport

import (
	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/tickwire/tickwire/transport/tw"
)

// Frame is a view of one validated frame. It aliases the bytes it was opened
// on (see FrameReader.Next and Open for how long they stay valid), and is a
// value: copying it copies no bytes. Safe for concurrent reads.
type Frame struct {
	root tw.Frame
	n    int
}

// Open validates frame (the FlatBuffer without the length prefix) and
// returns a view of it. It does not allocate unless it fails.
func Open(frame []byte) (Frame, error) {
	if err := Validate(frame); err != nil {
		return Frame{}, err
	}
	return openValid(frame), nil
}

// openValid opens a frame that passed Validate.
func openValid(b []byte) Frame {
	var f Frame
	f.root.Init(b, flatbuffers.GetUOffsetT(b))
	f.n = f.root.MessagesLength()
	return f
}

// StreamSeq is the frame's number on its connection (from 1).
func (f *Frame) StreamSeq() uint64 { return f.root.StreamSeq() }

// Len is the number of messages in the frame.
func (f *Frame) Len() int { return f.n }

// Bytes returns the FlatBuffer the frame was opened on.
func (f *Frame) Bytes() []byte { return f.root.Table().Bytes }

// Message points m at message i, 0 <= i < Len, and returns it. m aliases
// the frame's bytes.
func (f *Frame) Message(i int, m *Message) *Message {
	var msg tw.Message
	m.typ, m.body = tw.BodyNONE, flatbuffers.Table{}
	if i < 0 || i >= f.n || !f.root.Messages(&msg, i) {
		return m
	}
	if msg.Body(&m.body) {
		m.typ = msg.BodyType()
		if int(m.typ) >= len(layouts) {
			m.typ = tw.BodyNONE // from a newer schema: not checked, skip
		}
	}
	return m
}

// Message is a view of one message of a Frame: its Body type and its table.
// Read it with the accessor of its type; each returns false for another
// type. Views alias the frame's bytes.
type Message struct {
	typ  tw.Body
	body flatbuffers.Table
}

// Type is the message's Body type; BodyNONE for an empty message or one of a
// type this schema does not know (a reader skips both).
func (m *Message) Type() tw.Body { return m.typ }

// IsUpdate reports whether the message is a book or instrument update, which
// all carry a Stamp.
func (m *Message) IsUpdate() bool { return isUpdate(m.typ) }

// fields returns the position of the struct in slot 0 of an update.
func (m *Message) fields() flatbuffers.UOffsetT {
	return m.body.Pos + flatbuffers.UOffsetT(m.body.Offset(4))
}

// Stamp returns the feed sequence, timestamp and locate of an update; false
// if the message is not one.
func (m *Message) Stamp() (s Stamp, ok bool) {
	if !isUpdate(m.typ) {
		return Stamp{}, false
	}
	var v tw.Stamp
	v.Init(m.body.Bytes, m.fields())
	return Stamp{FeedSeq: v.FeedSeq(), Timestamp: v.Timestamp(), Locate: v.Locate()}, true
}

// Table returns the message's table, to Init the generated type of m.Type()
// with (for the messages without an accessor here: Hello, Subscribe,
// Snapshot, TradingState, Status, ServerError...).
func (m *Message) Table() flatbuffers.Table { return m.body }

// as inits the struct in slot 0 of an update of type t.
func as[T interface {
	Init([]byte, flatbuffers.UOffsetT)
}](m *Message, t tw.Body, dst T) bool {
	if m.typ != t {
		return false
	}
	dst.Init(m.body.Bytes, m.fields())
	return true
}

// OrderAdded points dst at the fields of an OrderAdded; mpid is its
// attribution (nil if none), aliasing the frame.
func (m *Message) OrderAdded(dst *tw.OrderAddedFields) (mpid []byte, ok bool) {
	if !as(m, tw.BodyOrderAdded, dst) {
		return nil, false
	}
	var a tw.OrderAdded
	a.Init(m.body.Bytes, m.body.Pos)
	return a.Mpid(), true
}

// OrderExecuted points dst at the fields of an OrderExecuted.
func (m *Message) OrderExecuted(dst *tw.OrderExecutedFields) bool {
	return as(m, tw.BodyOrderExecuted, dst)
}

// OrderCancelled points dst at the fields of an OrderCancelled.
func (m *Message) OrderCancelled(dst *tw.OrderCancelledFields) bool {
	return as(m, tw.BodyOrderCancelled, dst)
}

// OrderReplaced points dst at the fields of an OrderReplaced.
func (m *Message) OrderReplaced(dst *tw.OrderReplacedFields) bool {
	return as(m, tw.BodyOrderReplaced, dst)
}

// OrderDeleted points dst at the fields of an OrderDeleted.
func (m *Message) OrderDeleted(dst *tw.OrderDeletedFields) bool {
	return as(m, tw.BodyOrderDeleted, dst)
}

// LevelChanged points dst at the fields of a LevelChanged.
func (m *Message) LevelChanged(dst *tw.LevelChangedFields) bool {
	return as(m, tw.BodyLevelChanged, dst)
}

// Trade points dst at the fields of a Trade.
func (m *Message) Trade(dst *tw.TradeFields) bool { return as(m, tw.BodyTrade, dst) }

// TradeBroken points dst at the fields of a TradeBroken.
func (m *Message) TradeBroken(dst *tw.TradeBrokenFields) bool {
	return as(m, tw.BodyTradeBroken, dst)
}

// RegSho points dst at the fields of a RegSho.
func (m *Message) RegSho(dst *tw.RegShoFields) bool { return as(m, tw.BodyRegSho, dst) }

// LuldCollar points dst at the fields of a LuldCollar.
func (m *Message) LuldCollar(dst *tw.LuldCollarFields) bool {
	return as(m, tw.BodyLuldCollar, dst)
}

// MwcbLevels points dst at the fields of an MwcbLevels.
func (m *Message) MwcbLevels(dst *tw.MwcbLevelsFields) bool {
	return as(m, tw.BodyMwcbLevels, dst)
}

// MwcbBreach points dst at the fields of an MwcbBreach.
func (m *Message) MwcbBreach(dst *tw.MwcbBreachFields) bool {
	return as(m, tw.BodyMwcbBreach, dst)
}

// Init points dst, a generated table type such as *tw.Snapshot, at the
// message's table; false if the message is of another type than t.
func Init[T interface {
	Init([]byte, flatbuffers.UOffsetT)
}](m *Message, t tw.Body, dst T) bool {
	if m.typ != t {
		return false
	}
	dst.Init(m.body.Bytes, m.body.Pos)
	return true
}
