// Package ring is the fan-out between the book's writer and the subscriber
// connections: one writer appends each encoded update once, and any number
// of readers, each with a cursor of its own, copy out the records they want.
//
// The writer never waits for a reader and never learns of one: a reader that
// falls more than the ring's size behind is lapped, learns it on its next
// read (ErrLapped), and must resynchronise (the server conflates it: fresh
// snapshots, then it goes on from the writer's position). So a slow consumer
// costs the feed nothing, and the other readers nothing either.
//
// Records are stored back to back in a power-of-two byte buffer, each after
// an 8-byte header (payload length, tag), never split across the buffer's
// end (a record that would be is preceded by a padding record): a reader
// hands a record's bytes on without reassembling it. Positions are byte
// offsets in the stream of records since the ring was made, never reused, so
// a cursor names a record unambiguously for the ring's life.
//
// Memory order: the writer first announces how far it is about to write
// (an atomic store of "writing"), then stores the record's bytes, then
// publishes the new end with an atomic store. A reader loads the end,
// reads a record, then loads "writing": if the writer was by then about to
// write over the record, what the reader saw may be torn and it is lapped
// (the check of a seqlock's reader). Under the race detector, which cannot
// know that a torn read is always discarded, the writer and the readers
// also take a lock (lock_race.go); other builds take none.
package ring

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"sync/atomic"
)

// HeaderLen is the bytes a record takes beyond its payload.
const HeaderLen = 8

// padTag marks a padding record, never returned to readers.
const padTag = ^uint32(0)

// Ring is a single-writer, multi-reader record buffer.
type Ring struct {
	buf  []byte
	mask uint64

	_       [64]byte     // writer's positions on their own cache line
	end     atomic.Int64 // stream position after the last published record
	writing atomic.Int64 // stream position up to which the writer may have written
	_       [48]byte

	mu raceLock
}

// New returns a ring of size bytes, rounded up to a power of two (at least
// 4 KiB, at most 1 GiB).
func New(size int) *Ring {
	if size < 4<<10 || size > 1<<30 {
		panic(fmt.Sprintf("ring: size %d: want 4 KiB to 1 GiB", size))
	}
	n := 1 << bits.Len(uint(size-1))
	return &Ring{buf: make([]byte, n), mask: uint64(n - 1)}
}

// Prefault writes to every page of the ring, so that the kernel maps them
// all now rather than on the writer's first lap, one page fault every 4 KiB
// of updates (a fault in a virtual machine costs microseconds: 7% of the
// writer's time at a million messages a second, measured with perf). Call
// it before the first Append.
func (r *Ring) Prefault() {
	for i := 0; i < len(r.buf); i += 4 << 10 {
		r.buf[i] = 0
	}
}

// Size returns the ring's capacity in bytes.
func (r *Ring) Size() int { return len(r.buf) }

// MaxPayload is the largest payload Append accepts: a quarter of the ring,
// so that a reader can always keep up with at least a few records.
func (r *Ring) MaxPayload() int { return len(r.buf)/4 - HeaderLen }

// End returns the stream position after the last published record: where a
// new reader starts to see only what comes next.
func (r *Ring) End() uint64 { return uint64(r.end.Load()) }

// Append publishes one record of payload tagged tag (any value but
// 0xFFFFFFFF) and returns its position. It is the writer's only method and
// must be called from one goroutine at a time. It never blocks and does not
// allocate; a payload larger than MaxPayload panics (the writer's encoder
// bounds what it writes).
func (r *Ring) Append(tag uint32, payload []byte) uint64 {
	if len(payload) > r.MaxPayload() || tag == padTag {
		panic(fmt.Sprintf("ring: Append of %d bytes, tag %#x", len(payload), tag))
	}
	pos := uint64(r.end.Load())
	need := uint64(HeaderLen + len(payload))
	step := (need + 7) &^ 7
	pad := uint64(0)
	if off := pos & r.mask; off+need > uint64(len(r.buf)) {
		pad = uint64(len(r.buf)) - off
	}
	r.writing.Store(int64(pos + pad + step))
	r.mu.Lock()
	if pad > 0 {
		// Pad to the buffer's end; a record needs at least a header, and
		// the buffer's size and every record's are multiples of 8.
		r.header(pos&r.mask, uint32(pad-HeaderLen), padTag)
		pos += pad
	}
	off := pos & r.mask
	r.header(off, uint32(len(payload)), tag)
	copy(r.buf[off+HeaderLen:], payload)
	r.mu.Unlock()
	r.end.Store(int64(pos + step))
	return pos
}

func (r *Ring) header(off uint64, n, tag uint32) {
	binary.LittleEndian.PutUint32(r.buf[off:], n)
	binary.LittleEndian.PutUint32(r.buf[off+4:], tag)
}

// Reader reads the ring from a cursor of its own. Readers are independent:
// each may run on its own goroutine, and none affects the writer or another.
// A Reader is not safe for concurrent use.
type Reader struct {
	r      *Ring
	cursor uint64
}

// NewReader returns a reader that sees the records published after now.
func (r *Ring) NewReader() *Reader { return &Reader{r: r, cursor: r.End()} }

// Cursor returns the position of the next record the reader will see.
func (rd *Reader) Cursor() uint64 { return rd.cursor }

// Skip moves the reader to the writer's end: after ErrLapped, once the
// client has been resynchronised, it goes on from what comes next.
func (rd *Reader) Skip() { rd.cursor = rd.r.End() }

// Behind returns how many bytes the reader is behind the writer.
func (rd *Reader) Behind() uint64 { return rd.r.End() - rd.cursor }

// Next calls fn with each record published since the last call, in order,
// until fn returns false (the record it was given is then seen again by
// the next call) or none is left, and returns how many records fn took.
// fn's payload aliases the ring: fn must copy what it keeps and must treat
// the bytes as possibly torn; Next checks after each record that the writer
// did not overwrite it meanwhile, and if it did, returns ErrLapped, with fn
// having been given a record it must discard (a server copies records into
// a connection's outgoing buffer and truncates it back on ErrLapped).
func (rd *Reader) Next(fn func(tag uint32, payload []byte) bool) (int, error) {
	end := uint64(rd.r.end.Load())
	rd.r.mu.RLock()
	defer rd.r.mu.RUnlock()
	n := 0
	for {
		tag, payload, step, ok, err := rd.record(end)
		if !ok {
			return n, err
		}
		took := fn(tag, payload)
		if rd.lapped() {
			return n, ErrLapped
		}
		if !took {
			return n, nil
		}
		n++
		rd.cursor += step
	}
}

// NextCopy appends the next record published since the last read to dst
// and moves past it, returning its tag and the copy (ok false: none is
// left). Unlike Next's payload, the copy is never torn: it is checked
// after it is made, and a record the writer overwrote meanwhile returns
// ErrLapped (the copy must then be discarded). For a reader that parses
// what it reads, where a torn record could make it fail or worse.
func (rd *Reader) NextCopy(dst []byte) (tag uint32, rec []byte, ok bool, err error) {
	end := uint64(rd.r.end.Load())
	rd.r.mu.RLock()
	defer rd.r.mu.RUnlock()
	tag, payload, step, ok, err := rd.record(end)
	if !ok {
		return 0, dst, false, err
	}
	n := len(dst)
	dst = append(dst, payload...)
	if rd.lapped() {
		return 0, dst[:n], false, ErrLapped
	}
	rd.cursor += step
	return tag, dst[n:], true, nil
}

// record returns the record at the cursor, skipping padding, if one is
// published before end: its tag, its payload (aliasing the ring, possibly
// torn) and the step to the record after it; ok false when there is none,
// with ErrLapped when the writer may be over it already.
func (rd *Reader) record(end uint64) (tag uint32, payload []byte, step uint64, ok bool, err error) {
	r := rd.r
	size := uint64(len(r.buf))
	for rd.cursor < end {
		if end-rd.cursor > size {
			return 0, nil, 0, false, ErrLapped
		}
		off := rd.cursor & r.mask
		ln := uint64(binary.LittleEndian.Uint32(r.buf[off:]))
		tag = binary.LittleEndian.Uint32(r.buf[off+4:])
		if ln > size-off-HeaderLen || rd.lapped() { // possibly a torn header
			return 0, nil, 0, false, ErrLapped
		}
		if tag == padTag {
			rd.cursor += size - off
			continue
		}
		return tag, r.buf[off+HeaderLen : off+HeaderLen+ln], (HeaderLen + ln + 7) &^ 7, true, nil
	}
	return 0, nil, 0, false, nil
}

// lapped reports whether the writer may have written over the record at
// the cursor: the writer writes stream position p over p − size.
func (rd *Reader) lapped() bool {
	return uint64(rd.r.writing.Load()) > rd.cursor+uint64(len(rd.r.buf))
}
