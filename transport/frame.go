package transport

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// PrefixSize is the size of the length prefix before every frame on TCP: a
// uint32, little-endian like FlatBuffers itself, counting the bytes after it.
// A frame with its prefix is a standard size-prefixed FlatBuffer.
const PrefixSize = 4

// MaxFrameSize is the default and largest length a prefix may carry: 1 MiB.
// A larger Snapshot is sent in parts (Snapshot.more).
const MaxFrameSize = 1 << 20

// minFrameSize is the smallest FlatBuffer that can hold a Frame: the root
// offset, the file identifier, and a table's soffset.
const minFrameSize = 12

// FrameReader cuts frames out of a TCP byte stream delivered in pieces of
// any size, such as an event loop's reads. A frame that lies whole in the
// input is returned in place; only a frame split across inputs is copied,
// into a scratch buffer that grows to the largest such frame and is then
// reused, so that in steady state Next does not allocate. Every returned
// frame has passed Validate.
//
// A FrameReader is not safe for concurrent use.
type FrameReader struct {
	max     int
	scratch []byte // the part of a split frame read so far, prefix included
	release bool   // scratch holds the frame last returned: empty it first
	err     error  // sticky: the stream is unusable after a bad frame
}

// NewFrameReader returns a reader that accepts frames of up to max bytes
// after the prefix; max <= 0 or above MaxFrameSize means MaxFrameSize.
func NewFrameReader(max int) *FrameReader {
	if max <= 0 || max > MaxFrameSize {
		max = MaxFrameSize
	}
	return &FrameReader{max: max}
}

// Next consumes bytes from p and returns the next complete frame, if p
// completes one. n is how many bytes of p it consumed: the caller passes
// p[n:] to the next call (possibly empty). When ok is false, all of p was
// consumed into the reader and more input is needed.
//
// The frame aliases p, or the reader's scratch buffer when it was split
// across inputs; it is valid until the next call to Next or until p is
// reused, whichever comes first.
//
// After an error (ErrFrameTooLarge, ErrBadFrame) the stream cannot be
// resynchronised: every later call returns the same error.
func (r *FrameReader) Next(p []byte) (f Frame, n int, ok bool, err error) {
	if r.err != nil {
		return Frame{}, 0, false, r.err
	}
	if r.release {
		r.scratch, r.release = r.scratch[:0], false
	}
	if len(r.scratch) == 0 {
		if len(p) >= PrefixSize {
			size, err := r.size(p)
			if err != nil {
				return Frame{}, 0, false, err
			}
			if end := PrefixSize + size; len(p) >= end {
				f, err = r.frame(p[PrefixSize:end])
				return f, end, err == nil, err
			}
		}
		if len(p) >= PrefixSize { // the frame's size is known: grow once
			r.scratch = slices.Grow(r.scratch, PrefixSize+int(binary.LittleEndian.Uint32(p)))
		}
		r.scratch = append(r.scratch, p...) // fewer bytes than a frame
		return Frame{}, len(p), false, nil
	}
	// A frame is split: complete the prefix, then the body, in scratch.
	if len(r.scratch) < PrefixSize {
		n = min(PrefixSize-len(r.scratch), len(p))
		r.scratch = append(r.scratch, p[:n]...)
		if len(r.scratch) < PrefixSize {
			return Frame{}, n, false, nil
		}
	}
	size, err := r.size(r.scratch)
	if err != nil {
		return Frame{}, n, false, err
	}
	m := min(PrefixSize+size-len(r.scratch), len(p)-n)
	r.scratch = append(r.scratch, p[n:n+m]...)
	n += m
	if len(r.scratch) < PrefixSize+size {
		return Frame{}, n, false, nil
	}
	r.release = true
	f, err = r.frame(r.scratch[PrefixSize:])
	return f, n, err == nil, err
}

// size reads and checks the length prefix at the start of b.
func (r *FrameReader) size(b []byte) (int, error) {
	size := binary.LittleEndian.Uint32(b)
	if size > uint32(r.max) {
		r.err = fmt.Errorf("%w: length prefix %d above %d", ErrFrameTooLarge, size, r.max)
		return 0, r.err
	}
	if size < minFrameSize {
		r.err = fmt.Errorf("%w: length prefix %d below %d", ErrBadFrame, size, minFrameSize)
		return 0, r.err
	}
	return int(size), nil
}

// frame validates b and opens it.
func (r *FrameReader) frame(b []byte) (Frame, error) {
	var v verifier
	if err := v.frame(b); err != nil {
		r.err = err
		return Frame{}, err
	}
	return openValid(b, &v), nil
}

// Buffered returns how many bytes of a split frame the reader holds.
func (r *FrameReader) Buffered() int {
	if r.release {
		return 0
	}
	return len(r.scratch)
}
