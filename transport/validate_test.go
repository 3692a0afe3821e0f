package transport

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tickwire/tickwire/transport/tw"
)

// validateEach is Validate without its shapes: every Message and body
// table has its vtable and fields checked in full, as if it were the first
// of its kind in the frame.
func validateEach(b []byte) error {
	v := verifier{buf: b}
	if len(b) < 8 || string(b[4:8]) != fileID {
		return ErrBadFrame
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
		v.msg, v.bodies = shape{}, [len(layouts)]shape{}
		at := start + 4*i
		err = v.message(at + v.u32(at))
	}
	return err
}

// checkShapes fails t unless Validate, which checks a table with a vtable
// already seen by a bounds check, accepts b exactly when validateEach does,
// and unless Frame.Message reads the same messages with the offsets the
// shape gave as from each message's vtable.
func checkShapes(t *testing.T, b []byte) {
	t.Helper()
	err, each := Validate(b), validateEach(b)
	if (err == nil) != (each == nil) {
		t.Fatalf("Validate: %v; every table checked in full: %v\n% x", err, each, b)
	}
	f, err := Open(b)
	if err != nil {
		return
	}
	g := f
	g.msgVt = 0 // every message through its vtable
	var fm, gm Message
	for i := range f.Len() {
		f.Message(i, &fm)
		g.Message(i, &gm)
		if fm.typ != gm.typ || fm.body.Pos != gm.body.Pos || fm.fields != gm.fields {
			t.Fatalf("message %d: %+v with the frame's offsets, %+v from its vtable", i, fm, gm)
		}
	}
}

// TestValidateShapes corrupts frames of many messages sharing vtables,
// byte by byte and at random: the shapes never change Validate's verdict.
func TestValidateShapes(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	frames := [][]byte{
		encodeUpdates(NewEncoder(0), 1, 16)[PrefixSize:],
		encodeAll(t, NewEncoder(0), 1)[PrefixSize:],
		reversed(t, encodeUpdates(NewEncoder(0), 1, 16)[PrefixSize:]),
		reversed(t, encodeAll(t, NewEncoder(0), 1)[PrefixSize:]),
	}
	for _, good := range frames {
		checkShapes(t, good)
		for i := range good {
			for _, x := range []byte{0x01, 0x04, 0x80, 0xff} {
				b := bytes.Clone(good)
				b[i] ^= x
				checkShapes(t, b)
			}
		}
		// Truncated: the last tables run past the end. The builder writes
		// the first message last, at the end of the buffer, where its
		// table is the first of its vtable that Validate checks; reversed,
		// the message at the end is checked by its shape.
		for n := range len(good) {
			checkShapes(t, good[:n])
		}
		for range 2000 {
			b := bytes.Clone(good)
			for range 1 + rng.IntN(4) {
				b[rng.IntN(len(b))] = byte(rng.Uint32())
			}
			checkShapes(t, b)
		}
	}
}

// reversed returns a copy of frame with its messages in reverse order.
func reversed(tb testing.TB, frame []byte) []byte {
	b := bytes.Clone(frame)
	v := verifier{buf: b}
	root, err := v.table(v.u32(0))
	if err != nil {
		tb.Fatal(err)
	}
	start, n, err := v.vector(root, 1, 4)
	if err != nil {
		tb.Fatal(err)
	}
	to := make([]uint64, n)
	for i := range to {
		at := start + 4*uint64(i)
		to[i] = at + v.u32(at)
	}
	for i := range to {
		at := start + 4*uint64(i)
		binary.LittleEndian.PutUint32(b[at:], uint32(to[len(to)-1-i]-at))
	}
	if err := Validate(b); err != nil {
		tb.Fatal(err)
	}
	return b
}

// FuzzValidate compares Validate with validateEach on arbitrary frames.
func FuzzValidate(f *testing.F) {
	f.Add(encodeUpdates(NewEncoder(0), 1, 16)[PrefixSize:])
	f.Add(encodeAll(f, NewEncoder(0), 1)[PrefixSize:])
	f.Add(reversed(f, encodeUpdates(NewEncoder(0), 1, 16)[PrefixSize:]))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkShapes(t, b)
		readAll(b)
	})
}

// TestEndsSession: a frame ends the session when a Status of the end for
// every instrument is among its messages, not for one instrument's end or
// another state.
func TestEndsSession(t *testing.T) {
	e := NewEncoder(256)
	for _, c := range []struct {
		state  tw.FeedState
		locate uint16
		want   bool
	}{{tw.FeedStateEndOfSession, 0, true}, {tw.FeedStateEndOfSession, 5, false}, {tw.FeedStateLive, 0, false}} {
		e.Begin(1)
		e.Heartbeat(7)
		e.Status(c.state, nil, 9, c.locate)
		fr, err := e.Finish()
		if err != nil {
			t.Fatal(err)
		}
		f, err := Open(fr[PrefixSize:])
		if err != nil {
			t.Fatal(err)
		}
		if got := f.EndsSession(); got != c.want {
			t.Errorf("%v, locate %d: EndsSession %v", c.state, c.locate, got)
		}
	}
}
