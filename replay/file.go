package replay

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"
)

// Format is the kind of content Open found (an immutable value).
type Format int

const (
	// FormatPcap is a classic pcap capture (any of its four magic numbers).
	FormatPcap Format = iota + 1
	// FormatPcapNG is a pcapng capture.
	FormatPcapNG
	// FormatITCH is a raw ITCH file (BinaryFILE: length-prefixed messages).
	FormatITCH
	// FormatITCHGzip is a gzip-compressed raw ITCH file.
	FormatITCHGzip
)

// String returns the format's name.
func (f Format) String() string {
	switch f {
	case FormatPcap:
		return "pcap"
	case FormatPcapNG:
		return "pcapng"
	case FormatITCH:
		return "itch"
	case FormatITCHGzip:
		return "itch.gz"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// File is an open capture or raw ITCH file whose format was detected from
// its content (never its name). Exactly one of Packets and Messages returns
// a working reader. A File and its reader are not safe for concurrent use.
type File struct {
	path    string
	format  Format
	gzipped bool
	closer  io.Closer // the file Open opened; nil for NewFile
	packets *PacketReader
	msgs    *ITCHReader
}

// Open opens the file at path and detects its format from its first bytes:
// classic pcap (4 magic numbers; the patched A1B2CD34 format is rejected),
// pcapng, gzip, or raw ITCH. A gzip file may hold raw ITCH (FormatITCHGzip)
// or a pcap or pcapng capture (Format reports which, Gzip reports true);
// multi-member gzip files are read to the end. The file header (pcap) or
// first section header (pcapng) is read and checked. opts configure the
// PacketReader (see Options). Errors other than os.Open's are *Error values.
func Open(path string, opts ...Option) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	file, err := newFile(f, path, defaultBufSize, opts...)
	if err != nil {
		f.Close()
		return nil, err
	}
	file.closer = f
	return file, nil
}

// NewFile is Open for content read from r, reported as path in errors.
// Close does not close r.
func NewFile(r io.Reader, path string, opts ...Option) (*File, error) {
	return newFile(r, path, defaultBufSize, opts...)
}

// gzipReader marks decompression failures with ErrGzip.
type gzipReader struct{ z *gzip.Reader }

func (g gzipReader) Read(p []byte) (int, error) {
	n, err := g.z.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%w: %w", ErrGzip, err)
	}
	return n, err
}

// newFile detects the format of r with a read buffer of bufSize bytes.
func newFile(r io.Reader, path string, bufSize int, opts ...Option) (*File, error) {
	f := &File{path: path}
	var o Options
	for _, opt := range opts {
		opt(&o)
	}
	var magic [2]byte
	n, err := io.ReadFull(r, magic[:])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, &Error{Path: path, Offset: 0, Err: err}
	}
	src := io.MultiReader(bytes.NewReader(magic[:n]), r)
	if n == 2 && magic == [2]byte{0x1F, 0x8B} {
		z, err := gzip.NewReader(src)
		if err != nil {
			return nil, &Error{Path: path, Offset: 0, Err: fmt.Errorf("%w: %w", ErrGzip, err)}
		}
		src = gzipReader{z}
		f.gzipped = true
	}
	s := newStream(src, bufSize)
	head, err := s.peek(itchSniffBytes)
	if err != nil {
		return nil, &Error{Path: path, Offset: 0, Err: err}
	}
	if len(head) == 0 {
		what := "empty file"
		if f.gzipped {
			what = "empty gzip stream"
		}
		return nil, errorf(path, 0, ErrFormat, "replay: unrecognised capture format (%s)", what)
	}
	var m uint32
	if len(head) >= 4 {
		m = binary.LittleEndian.Uint32(head)
	}
	switch m {
	case magicLEMicro, magicBEMicro, magicLENano, magicBENano:
		f.format = FormatPcap
		pr := &PacketReader{s: s, path: path, opts: o}
		if err := pr.readPcapHeader(); err != nil {
			return nil, err
		}
		f.packets = pr
	case magicNG:
		f.format = FormatPcapNG
		pr := &PacketReader{s: s, path: path, ng: true, opts: o}
		if err := pr.readSHB(); err != nil {
			return nil, err
		}
		f.packets = pr
	case magicPatchLE, magicPatchBE:
		return nil, &Error{Path: path, Offset: 0, Err: ErrPatchedPcap}
	default:
		if !looksLikeITCH(head) {
			if s.rerr != nil { // the reader failed within the first bytes
				return nil, &Error{Path: path, Offset: 0, Err: s.rerr}
			}
			return nil, errorf(path, 0, ErrFormat, "replay: unrecognised capture format (first bytes % x)", head[:min(len(head), 8)])
		}
		f.format = FormatITCH
		if f.gzipped {
			f.format = FormatITCHGzip
		}
		f.msgs = &ITCHReader{s: s, path: path, gz: f.gzipped}
	}
	return f, nil
}

// Path returns the path given to Open or NewFile.
func (f *File) Path() string { return f.path }

// Format returns the detected format.
func (f *File) Format() Format { return f.format }

// Gzip reports whether the content is gzip-compressed.
func (f *File) Gzip() bool { return f.gzipped }

// Packets returns the reader of a pcap or pcapng file; the same reader on
// every call. For a raw ITCH file it returns a reader whose Next fails with
// ErrWrongReader.
func (f *File) Packets() *PacketReader {
	if f.packets == nil {
		f.packets = &PacketReader{path: f.path, err: &Error{Path: f.path, Err: ErrWrongReader}}
	}
	return f.packets
}

// Messages returns the reader of a raw ITCH file (plain or gzip); the same
// reader on every call. For a packet capture it returns a reader whose Next
// fails with ErrWrongReader.
func (f *File) Messages() *ITCHReader {
	if f.msgs == nil {
		f.msgs = &ITCHReader{path: f.path, err: &Error{Path: f.path, Err: ErrWrongReader}}
	}
	return f.msgs
}

// Close closes the file opened by Open. Readers must not be used after it.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	c := f.closer
	f.closer = nil
	return c.Close()
}
