package replay

import (
	"errors"
	"fmt"
	"strconv"
)

var (
	// ErrFormat reports content that is none of the formats Open detects:
	// classic pcap, pcapng, gzip, or raw ITCH (BinaryFILE).
	ErrFormat = errors.New("replay: unrecognised capture format")

	// ErrPatchedPcap reports the old "patched" pcap format (magic A1B2CD34 in
	// either byte order) whose 24-byte record headers are not supported.
	ErrPatchedPcap = errors.New("replay: patched pcap format (magic A1B2CD34) is not supported")

	// ErrHeader reports a pcap file header or pcapng section header that is
	// malformed or of an unsupported version.
	ErrHeader = errors.New("replay: malformed file header")

	// ErrTruncated reports a header, record or block that runs past the end
	// of the file.
	ErrTruncated = errors.New("replay: truncated capture")

	// ErrSnapLen reports a record whose captured length exceeds the snapshot
	// length declared by its file header or interface.
	ErrSnapLen = errors.New("replay: record length exceeds snapshot length")

	// ErrTooLarge reports a record or block larger than MaxRecord.
	ErrTooLarge = errors.New("replay: record exceeds size limit")

	// ErrTimestamp reports a timestamp that is invalid (pcap fraction out of
	// range) or not representable as int64 nanoseconds since the epoch.
	ErrTimestamp = errors.New("replay: timestamp out of range")

	// ErrLinkType reports a link-layer type the reader cannot decode.
	ErrLinkType = errors.New("replay: unsupported link type")

	// ErrBlockLength reports a pcapng block whose total length is below 12,
	// not a multiple of 4, or differs from its trailing copy.
	ErrBlockLength = errors.New("replay: bad pcapng block length")

	// ErrBlock reports a pcapng block whose body contradicts its length or
	// the specification (fields or options running past the block).
	ErrBlock = errors.New("replay: malformed pcapng block")

	// ErrInterface reports a pcapng packet block that names an interface no
	// Interface Description Block of its section has defined.
	ErrInterface = errors.New("replay: packet refers to an undefined interface")

	// ErrGzip reports a gzip stream that cannot be decompressed (bad header,
	// corrupt data, checksum mismatch, truncated member).
	ErrGzip = errors.New("replay: unreadable gzip stream")

	// ErrWrongReader reports a PacketReader obtained from a raw ITCH file or
	// an ITCHReader obtained from a packet capture.
	ErrWrongReader = errors.New("replay: reader does not match the file format")
)

// Error is the error type returned by every reader in this package once a
// file is open: the file's path, the offset of the header, record or block at
// fault, and the cause, which wraps one of the package's sentinel errors or
// the error of the underlying io.Reader.
//
// For gzip files the offset counts decompressed bytes. An Error is
// immutable once returned and safe to share between goroutines.
type Error struct {
	Path   string // as given to Open or NewFile
	Offset int64  // byte offset of the faulty record or block
	Err    error  // cause; errors.Is matches the sentinel it wraps
}

// Error formats as "path: offset N: cause".
func (e *Error) Error() string {
	return e.Path + ": offset " + strconv.FormatInt(e.Offset, 10) + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// detail is a sentinel with a message giving the values at fault; its text
// replaces the sentinel's and errors.Is still matches the sentinel.
type detail struct {
	sentinel error
	msg      string
}

func (d *detail) Error() string { return d.msg }
func (d *detail) Unwrap() error { return d.sentinel }

// errorf returns an *Error at offset off whose cause wraps sentinel and reads
// as the formatted message, which should start with "replay: ".
func errorf(path string, off int64, sentinel error, format string, args ...any) *Error {
	return &Error{Path: path, Offset: off, Err: &detail{sentinel: sentinel, msg: fmt.Sprintf(format, args...)}}
}
