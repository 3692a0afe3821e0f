package transport

import (
	"encoding/binary"
	"fmt"

	"github.com/tickwire/tickwire/transport/tw"
)

// The generated Go code (flatc 2.0.8) has no verifier, and its accessors
// index the buffer without checks: on a hostile frame they panic. Validate
// walks every table, vtable, vector, string and union reachable from the
// root, against the schema, so that afterwards every generated accessor of a
// schema field reads inside the frame. Offsets are checked in 64-bit
// arithmetic, so the 32-bit sums the accessors compute cannot wrap.
// Alignment is not checked: Go reads unaligned little-endian values safely.
// Unknown Body types (from a newer schema) are accepted and left unchecked;
// Message.Type reports them and a reader skips them.
//
// A table whose vtable has already been checked in the frame, with the
// same fields present (most of a frame's tables: see shape), costs one
// bounds check instead of the walk of its vtable.

// fileID is the schema's file_identifier, at bytes 4..8 of a frame.
const fileID = "TWP1"

var fileIDBytes = []byte(fileID) // for the builder, without a conversion per frame

// Struct sizes in bytes, as flatc lays them out (checked against its C++
// output by TestStructSizes).
const (
	sizeStamp         = 24
	sizeBookOrder     = 16
	sizeBookLevel     = 16
	sizeOrderAdded    = 48
	sizeOrderExecuted = 56
	sizeOrderCancel   = 40
	sizeOrderReplaced = 56
	sizeOrderDeleted  = 32
	sizeLevelChanged  = 48
	sizeTrade         = 56
	sizeTradeBroken   = 32
	sizeRegSho        = 32
	sizeLuldCollar    = 40
	sizeMwcbLevels    = 48
	sizeMwcbBreach    = 32
)

// A slot describes one field of a table: what it is and its size in bytes
// (of the scalar or struct, or of a vector's element).
type slot struct {
	kind slotKind
	size uint64
}

type slotKind uint8

const (
	scalar   slotKind = iota // scalar or struct, optional
	required                 // struct, required
	str                      // string
	vector                   // vector of scalars or structs
	strs                     // vector of strings
)

// layouts lists the fields of each Body member table in slot order, as in
// tickwire.fbs. Every update's slot 0 is a required struct that starts with
// a Stamp (Message.Stamp relies on it).
var layouts = [...][]slot{
	tw.BodyHello:          {{scalar, 2}, {str, 1}, {str, 1}},
	tw.BodyHelloReply:     {{scalar, 1}, {str, 1}, {scalar, 2}, {scalar, 4}},
	tw.BodySubscribe:      {{strs, 4}, {vector, 2}, {scalar, 1}, {scalar, 1}, {scalar, 2}},
	tw.BodyUnsubscribe:    {{strs, 4}, {vector, 2}, {scalar, 1}},
	tw.BodySnapshot:       {{scalar, 2}, {str, 1}, {scalar, 8}, {scalar, 8}, {scalar, 1}, {str, 1}, {scalar, 1}, {scalar, 1}, {vector, sizeBookOrder}, {vector, sizeBookOrder}, {vector, sizeBookLevel}, {vector, sizeBookLevel}, {scalar, 1}, {scalar, 1}},
	tw.BodyOrderAdded:     {{required, sizeOrderAdded}, {str, 1}},
	tw.BodyOrderExecuted:  {{required, sizeOrderExecuted}},
	tw.BodyOrderCancelled: {{required, sizeOrderCancel}},
	tw.BodyOrderReplaced:  {{required, sizeOrderReplaced}},
	tw.BodyOrderDeleted:   {{required, sizeOrderDeleted}},
	tw.BodyLevelChanged:   {{required, sizeLevelChanged}},
	tw.BodyTrade:          {{required, sizeTrade}},
	tw.BodyTradeBroken:    {{required, sizeTradeBroken}},
	tw.BodyTradingState:   {{required, sizeStamp}, {scalar, 1}, {str, 1}},
	tw.BodyRegSho:         {{required, sizeRegSho}},
	tw.BodyLuldCollar:     {{required, sizeLuldCollar}},
	tw.BodyMwcbLevels:     {{required, sizeMwcbLevels}},
	tw.BodyMwcbBreach:     {{required, sizeMwcbBreach}},
	tw.BodyHeartbeat:      {{scalar, 8}},
	tw.BodyStatus:         {{scalar, 1}, {str, 1}, {scalar, 8}, {scalar, 2}},
	tw.BodyServerError:    {{scalar, 1}, {str, 1}},
}

// isUpdate reports whether typ is an update, whose slot 0 starts with a Stamp.
func isUpdate(typ tw.Body) bool { return typ >= tw.BodyOrderAdded && typ <= tw.BodyMwcbBreach }

// table is a checked table: its position, and its vtable's.
type table struct {
	pos   uint64
	vt    uint64
	vtLen uint64 // vtable size in bytes, including its 4-byte header
}

// A shape is what a checked vtable says about every table that uses it: the
// Go builder writes one vtable for all tables with the same field offsets
// (every Message of a frame, every LevelChanged...), so the next table with
// the same vtable needs only its soffset followed and one bounds check.
// A shape caches only facts of the vtable's bytes, which a frame cannot
// change between two reads, so a hostile frame gains nothing from it.
type shape struct {
	vt  uint64 // the vtable's position + 1; 0: none
	end uint64 // the bytes from the table's start that its fields reach
}

// fits reports whether the table at pos, whose soffset lies in the
// buffer, has the vtable of s and its fields inside the buffer.
func (v *verifier) fits(pos uint64, s shape) bool {
	return s.vt != 0 && v.vtable(pos) == s.vt && v.in(pos, s.end)
}

// verifier checks one frame; buf is the FlatBuffer without the length
// prefix. The shapes cache the vtables checked so far in the frame: one for
// the Message tables, with the offsets of their two fields, and one per
// Body type for the bodies.
type verifier struct {
	buf              []byte
	msg              shape
	typeOff, bodyOff uint64 // of the Message shape; 0: absent
	bodies           [len(layouts)]shape
}

func (v *verifier) u16(at uint64) uint64 { return uint64(binary.LittleEndian.Uint16(v.buf[at:])) }
func (v *verifier) u32(at uint64) uint64 { return uint64(binary.LittleEndian.Uint32(v.buf[at:])) }

// in reports whether n bytes at at lie inside the buffer.
func (v *verifier) in(at, n uint64) bool { return at+n <= uint64(len(v.buf)) }

// vtable returns the position of the vtable of the table at pos, which
// must have its 4-byte soffset inside the buffer, plus 1 (to compare with
// shape.vt); 0 when it points before the buffer, which no shape has.
func (v *verifier) vtable(pos uint64) uint64 {
	vt := int64(pos) - int64(int32(binary.LittleEndian.Uint32(v.buf[pos:])))
	if vt < 0 {
		return 0
	}
	return uint64(vt) + 1
}

// table checks the table at pos: its soffset, vtable and extent.
func (v *verifier) table(pos uint64) (table, error) {
	if !v.in(pos, 4) {
		return table{}, fmt.Errorf("%w: table at %d outside %d bytes", ErrBadFrame, pos, len(v.buf))
	}
	vt := int64(pos) - int64(int32(binary.LittleEndian.Uint32(v.buf[pos:])))
	if vt < 0 || !v.in(uint64(vt), 4) {
		return table{}, fmt.Errorf("%w: vtable of table at %d outside the frame", ErrBadFrame, pos)
	}
	// The vtable's object size is not a bound: the Go builder shares a
	// vtable between tables whose fields sit at the same offsets whatever
	// their sizes (it compares field offsets only), so fields are checked
	// against the frame, which is what the accessors index.
	t := table{pos: pos, vt: uint64(vt), vtLen: v.u16(uint64(vt))}
	if t.vtLen < 4 || t.vtLen%2 != 0 || !v.in(t.vt, t.vtLen) {
		return table{}, fmt.Errorf("%w: vtable of table at %d malformed", ErrBadFrame, pos)
	}
	return t, nil
}

// offset returns the offset of field slot in t's vtable; 0: absent.
func (v *verifier) offset(t table, slot int) uint64 {
	e := 4 + 2*uint64(slot)
	if e >= t.vtLen {
		return 0
	}
	return v.u16(t.vt + e)
}

// field returns the absolute position of field slot, which must have size
// bytes inside the frame, and whether it is present.
func (v *verifier) field(t table, slot int, size uint64) (uint64, bool, error) {
	off := v.offset(t, slot)
	if off == 0 {
		return 0, false, nil
	}
	if off < 4 || !v.in(t.pos+off, size) {
		return 0, false, fmt.Errorf("%w: field %d of table at %d outside the frame", ErrBadFrame, slot, t.pos)
	}
	return t.pos + off, true, nil
}

// ref follows the offset field slot to what it points at.
func (v *verifier) ref(t table, slot int) (uint64, bool, error) {
	at, ok, err := v.field(t, slot, 4)
	if !ok || err != nil {
		return 0, false, err
	}
	to := at + v.u32(at)
	if !v.in(to, 4) {
		return 0, false, fmt.Errorf("%w: offset in field %d of table at %d outside the frame", ErrBadFrame, slot, t.pos)
	}
	return to, true, nil
}

// vector checks the vector in field slot, of elements of size bytes, and
// returns the position of its first element and its length.
func (v *verifier) vector(t table, slot int, size uint64) (start, n uint64, err error) {
	at, ok, err := v.ref(t, slot)
	if !ok || err != nil {
		return 0, 0, err
	}
	n = v.u32(at)
	if !v.in(at+4, n*size) {
		return 0, 0, fmt.Errorf("%w: vector in field %d of table at %d outside the frame", ErrBadFrame, slot, t.pos)
	}
	return at + 4, n, nil
}

// stringVector checks a vector of strings in field slot.
func (v *verifier) stringVector(t table, slot int) error {
	start, n, err := v.vector(t, slot, 4)
	for i := uint64(0); i < n && err == nil; i++ {
		at := start + 4*i
		to := at + v.u32(at)
		if !v.in(to, 4) || !v.in(to+4, v.u32(to)) {
			err = fmt.Errorf("%w: string %d of vector in table at %d outside the frame", ErrBadFrame, i, t.pos)
		}
	}
	return err
}

// Validate checks that frame (the FlatBuffer, without the length prefix) is
// a well-formed Frame, so that the generated accessors of every field in the
// schema are safe on it. It reads frame and keeps nothing; it does not
// allocate unless it fails.
func Validate(frame []byte) error {
	var v verifier
	return v.frame(frame)
}

// frame validates buf.
func (v *verifier) frame(buf []byte) error {
	v.buf = buf
	if len(buf) < 8 || string(buf[4:8]) != fileID {
		return fmt.Errorf("%w: no %q file identifier", ErrBadFrame, fileID)
	}
	root, err := v.table(v.u32(0))
	if err != nil {
		return err
	}
	if _, _, err := v.field(root, 0, 8); err != nil {
		return err
	}
	start, n, err := v.vector(root, 1, 4)
	for i := uint64(0); i < n && err == nil; i++ {
		at := start + 4*i
		err = v.message(at + v.u32(at))
	}
	return err
}

// message checks the Message table at pos and its body.
func (v *verifier) message(pos uint64) error {
	if !v.in(pos, 4) || !v.fits(pos, v.msg) {
		if err := v.messageShape(pos); err != nil {
			return err
		}
	}
	if v.typeOff == 0 {
		return nil // no body type: NONE
	}
	typ := tw.Body(v.buf[pos+v.typeOff])
	if v.bodyOff == 0 {
		if typ != tw.BodyNONE {
			return fmt.Errorf("%w: message at %d has a type and no body", ErrBadFrame, pos)
		}
		return nil
	}
	at := pos + v.bodyOff
	to := at + v.u32(at)
	if !v.in(to, 4) {
		return fmt.Errorf("%w: offset in field %d of table at %d outside the frame", ErrBadFrame, 1, pos)
	}
	if typ == tw.BodyNONE || int(typ) >= len(layouts) {
		return nil // unknown to this schema: skipped by readers
	}
	if v.fits(to, v.bodies[typ]) {
		return nil // a vtable already checked, whose fields all lie in the frame
	}
	b, err := v.table(to)
	if err != nil {
		return err
	}
	return v.body(typ, b)
}

// messageShape checks the vtable and fields of the Message table at pos and
// makes its vtable the Message shape.
func (v *verifier) messageShape(pos uint64) error {
	m, err := v.table(pos)
	if err != nil {
		return err
	}
	s := shape{vt: m.vt + 1, end: 4}
	typeOff, bodyOff := v.offset(m, 0), v.offset(m, 1)
	// Both fields are checked, the body's even without a type, so that
	// the generated Message.Body reads inside the frame whatever the type.
	if _, _, err := v.field(m, 0, 1); err != nil {
		return err
	}
	if _, _, err := v.field(m, 1, 4); err != nil {
		return err
	}
	if typeOff != 0 {
		s.end = max(s.end, typeOff+1)
	}
	if bodyOff != 0 {
		s.end = max(s.end, bodyOff+4)
	}
	v.msg, v.typeOff, v.bodyOff = s, typeOff, bodyOff
	return nil
}

// body checks the union member b of type typ against its layout, and when
// no field of it is a reference (strings and vectors, which differ from
// table to table), makes its vtable the shape of typ.
func (v *verifier) body(typ tw.Body, b table) error {
	var err error
	s := shape{vt: b.vt + 1, end: 4}
	for i, f := range layouts[typ] {
		if f.kind != scalar && f.kind != required && v.offset(b, i) != 0 {
			s.vt = 0 // a reference: each table must be checked
		}
		switch f.kind {
		case scalar, required:
			at, ok, e := v.field(b, i, f.size)
			if e == nil && f.kind == required && !ok {
				e = fmt.Errorf("%w: required field %d of table at %d absent", ErrBadFrame, i, b.pos)
			}
			if ok {
				s.end = max(s.end, at-b.pos+f.size)
			}
			err = e
		case str:
			_, _, err = v.vector(b, i, 1)
		case vector:
			_, _, err = v.vector(b, i, f.size)
		case strs:
			err = v.stringVector(b, i)
		}
		if err != nil {
			return err
		}
	}
	if s.vt != 0 {
		v.bodies[typ] = s
	}
	return nil
}
