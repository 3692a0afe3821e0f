package replay

import (
	"fmt"
	"io"

	"github.com/tickwire/tickwire/internal/invariants"
)

// ITCHReader reads the messages of a raw ITCH file (BinaryFILE: each message
// preceded by its 2-byte big-endian length), plain or gzip-compressed,
// streamed through one reused buffer. Records are framed by their length
// only: messages of unknown types or lengths are returned like any other.
// An ITCHReader is not safe for concurrent use.
type ITCHReader struct {
	s    stream
	path string
	err  error // sticky: io.EOF or *Error
	gz   bool  // reader errors are gzip errors
	seq  uint64
	off  int64
}

// Path returns the path the reader reports in its errors.
func (r *ITCHReader) Path() string { return r.path }

// Seq returns the sequence number of the message last returned by Next: its
// 1-based ordinal in the file (0 before the first).
func (r *ITCHReader) Seq() uint64 { return r.seq }

// Offset returns the file offset (of the decompressed stream for gzip files)
// of the length field of the message last returned by Next.
func (r *ITCHReader) Offset() int64 { return r.off }

// Next returns the next message, type byte first (empty for a record of
// length 0). It aliases the reader's buffer, its capacity cut to its length,
// and is valid until the next call to Next. At the end of the file Next
// returns io.EOF; a record that runs past the end, or a read or gzip
// failure, is an *Error naming the record's offset. Errors are sticky.
func (r *ITCHReader) Next() ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	s := &r.s
	if s.end-s.pos < 2 {
		if err := s.fill(2); err != nil {
			return nil, r.fail(err, "record length")
		}
	}
	n := 2 + (int(s.buf[s.pos])<<8 | int(s.buf[s.pos+1]))
	if s.end-s.pos < n {
		if err := s.fill(n); err != nil {
			return nil, r.fail(err, "record")
		}
	}
	p := s.pos
	if invariants.Enabled && p+n > s.end {
		panic(fmt.Sprintf("replay: ITCH record of %d bytes at %d beyond buffered end %d", n, p, s.end))
	}
	r.off = s.base + int64(p)
	r.seq++
	s.pos = p + n
	return s.buf[p+2 : p+n : p+n], nil
}

// NextBatch fills dst with up to len(dst) messages, as Next returns them:
// every complete record already buffered, or, when none is, one record read
// as Next reads it. All of them stay valid until the next call to Next or
// NextBatch. It returns how many it filled; at the end of the file, 0 and
// io.EOF. Seq and Offset then describe the last message of the batch.
// A caller filtering messages can decide for a whole batch without a
// branch per message (sharded replay does).
func (r *ITCHReader) NextBatch(dst [][]byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	s := &r.s
	n := 0
	for n < len(dst) && s.end-s.pos >= 2 {
		l := 2 + (int(s.buf[s.pos])<<8 | int(s.buf[s.pos+1]))
		if s.end-s.pos < l {
			break
		}
		p := s.pos
		r.off = s.base + int64(p)
		dst[n] = s.buf[p+2 : p+l : p+l]
		s.pos = p + l
		n++
	}
	r.seq += uint64(n)
	if n > 0 || len(dst) == 0 {
		return n, nil
	}
	m, err := r.Next()
	if err != nil {
		return 0, err
	}
	dst[0] = m
	return 1, nil
}

// fail records and returns the error for a failed read of the record at
// the current position.
func (r *ITCHReader) fail(err error, what string) error {
	off := r.s.offset()
	switch {
	case err == io.EOF:
		r.err = io.EOF
	case err == io.ErrUnexpectedEOF:
		if r.gz {
			// The decompressed stream ended cleanly mid-record.
			r.err = errorf(r.path, off, ErrTruncated, "replay: ITCH %s runs past end of decompressed stream", what)
		} else {
			r.err = errorf(r.path, off, ErrTruncated, "replay: ITCH %s runs past end of file", what)
		}
	default:
		r.err = &Error{Path: r.path, Offset: off, Err: err}
	}
	return r.err
}

// itchLen holds the fixed length of each ITCH 5.0 message type (0: unknown).
// The replay package sits upstream of codec/itch and keeps its own copy,
// used only to recognise raw ITCH files.
var itchLen = [256]uint8{
	'S': 12, 'R': 39, 'H': 25, 'Y': 20, 'L': 26, 'V': 35, 'W': 12, 'K': 28,
	'J': 35, 'h': 21, 'A': 36, 'F': 40, 'E': 31, 'C': 36, 'X': 23, 'D': 19,
	'U': 35, 'P': 44, 'Q': 40, 'B': 19, 'I': 50, 'N': 20, 'O': 48,
}

// Raw ITCH recognition parameters.
const (
	itchSniffRecords = 4   // records inspected
	itchSniffBytes   = 512 // bytes peeked (covers 4 records of up to 126 bytes)
	itchMaxUnknown   = 1024
)

// looksLikeITCH reports whether b, the first bytes of a file, starts with
// BinaryFILE records: the first complete and each following complete record
// (up to itchSniffRecords) is a known type of exactly its length, or has an
// ASCII letter as its type and a length between the 11-byte common header
// and itchMaxUnknown; at least one is a known type.
func looksLikeITCH(b []byte) bool {
	known := false
	for i := 0; i < itchSniffRecords; i++ {
		if len(b) < 3 {
			return i > 0 && known
		}
		n, t := int(b[0])<<8|int(b[1]), b[2]
		if 2+n > len(b) {
			// Incomplete in the window: accept a first record of a known
			// type and length (Next reports it if the file is truncated).
			return i > 0 && known || i == 0 && int(itchLen[t]) == n
		}
		switch l := int(itchLen[t]); {
		case l != 0 && l == n:
			known = true
		case l == 0 && (t >= 'A' && t <= 'Z' || t >= 'a' && t <= 'z') && n >= 11 && n <= itchMaxUnknown:
		default:
			return false
		}
		b = b[2+n:]
	}
	return known
}
