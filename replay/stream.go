package replay

import (
	"fmt"
	"io"

	"github.com/tickwire/tickwire/internal/invariants"
)

const (
	// MaxRecord is the largest packet record (captured bytes) or pcapng
	// packet/interface block the readers accept; anything larger is an
	// ErrTooLarge error naming its offset. Unknown pcapng blocks of any size
	// are skipped without being buffered.
	MaxRecord = 16 << 20

	// defaultBufSize is the initial read buffer: large enough that the
	// per-read cost (a syscall for a plain file) is amortised over thousands
	// of packets, small enough to stay in L2/L3 cache on current servers.
	defaultBufSize = 1 << 20

	// maxBufSize bounds buffer growth: one MaxRecord plus its header.
	maxBufSize = MaxRecord + 64

	// maxEmptyReads is how many (0, nil) reads in a row are taken as a
	// reader that makes no progress.
	maxEmptyReads = 100
)

// stream is the single reused read buffer behind every reader: records are
// parsed in place in buf[pos:end]; when a record straddles the end of the
// buffer, only the unread tail moves to the front before the next read. The
// buffer grows (doubling) only when one record is longer than the whole
// buffer, never beyond maxBufSize.
//
// Slices into buf stay valid until the next call to ensure, fill or skip.
type stream struct {
	r    io.Reader
	buf  []byte
	pos  int   // first unread byte
	end  int   // end of valid data
	base int64 // file offset of buf[0]
	eof  bool  // r has returned io.EOF
	rerr error // first non-EOF error returned by r (sticky)
}

func newStream(r io.Reader, size int) stream {
	if size < 64 {
		size = 64
	}
	return stream{r: r, buf: make([]byte, size)}
}

// offset returns the file offset of the first unread byte.
func (s *stream) offset() int64 { return s.base + int64(s.pos) }

// ensure makes at least n unread bytes available in buf[pos:end]. It returns
// nil on success; io.EOF if the input ended with no unread byte left;
// io.ErrUnexpectedEOF if it ended with fewer than n; or the reader's error.
// n must not exceed maxBufSize.
func (s *stream) ensure(n int) error {
	if s.end-s.pos >= n {
		return nil
	}
	return s.fill(n)
}

// fill is the slow path of ensure. The buffer grows (doubling) only while
// a record longer than it is actually arriving, so a corrupt length field
// costs at most twice the bytes the input really holds.
func (s *stream) fill(n int) error {
	if invariants.Enabled && (n > maxBufSize || s.pos < 0 || s.pos > s.end || s.end > len(s.buf)) {
		panic(fmt.Sprintf("replay: stream fill(%d) with pos %d end %d len %d", n, s.pos, s.end, len(s.buf)))
	}
	if s.pos == s.end {
		s.base += int64(s.pos)
		s.pos, s.end = 0, 0
	} else if s.pos+n > len(s.buf) {
		copy(s.buf, s.buf[s.pos:s.end])
		s.base += int64(s.pos)
		s.end -= s.pos
		s.pos = 0
	}
	empty := 0
	for s.end-s.pos < n {
		if s.rerr != nil {
			return s.rerr
		}
		if s.eof {
			if s.end == s.pos {
				return io.EOF
			}
			return io.ErrUnexpectedEOF
		}
		if s.end == len(s.buf) {
			// Only when pos == 0 and n > len(buf): the record is longer
			// than the buffer.
			nb := make([]byte, min(2*len(s.buf), maxBufSize))
			copy(nb, s.buf[s.pos:s.end])
			s.end -= s.pos
			s.base += int64(s.pos)
			s.pos = 0
			s.buf = nb
		}
		m, err := s.r.Read(s.buf[s.end:])
		if m < 0 || m > len(s.buf)-s.end {
			s.rerr = fmt.Errorf("replay: reader returned invalid count %d", m)
			continue
		}
		s.end += m
		switch {
		case err == io.EOF:
			s.eof = true
		case err != nil:
			s.rerr = err
		case m == 0:
			if empty++; empty >= maxEmptyReads {
				s.rerr = io.ErrNoProgress
			}
		default:
			empty = 0
		}
	}
	return nil
}

// peek returns up to n unread bytes without consuming them: fewer only when
// the input ends or fails first. A reader's error is returned only if no
// byte could be read; otherwise it stays pending for the next fill.
func (s *stream) peek(n int) ([]byte, error) {
	err := s.ensure(n)
	if err == io.EOF || err == io.ErrUnexpectedEOF || s.end > s.pos {
		err = nil
	}
	return s.buf[s.pos:min(s.end, s.pos+n)], err
}

// skip consumes n bytes without buffering more than one read at a time. It
// returns io.ErrUnexpectedEOF if the input ends first, or the reader's error.
func (s *stream) skip(n int64) error {
	for n > 0 {
		if s.pos == s.end {
			if err := s.fill(1); err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return err
			}
		}
		k := int(min(n, int64(s.end-s.pos)))
		s.pos += k
		n -= int64(k)
	}
	return nil
}
