package moldudp64

import "errors"

// Errors returned by Parse, Blocks.Err, Packet.Validate and ParseRequest.
// They are sentinels: compare with == or errors.Is.
var (
	// ErrShortPacket reports a downstream packet shorter than the 20-byte
	// header.
	ErrShortPacket = errors.New("moldudp64: short packet")
	// ErrTruncatedBlock reports a message block whose length field, or whose
	// data, runs past the end of the packet.
	ErrTruncatedBlock = errors.New("moldudp64: truncated message block")
	// ErrCountMismatch reports a packet holding fewer message blocks than its
	// Message Count announces, or more whole blocks after them.
	ErrCountMismatch = errors.New("moldudp64: message count mismatch")
	// ErrTrailingBytes reports bytes after the announced message blocks that
	// do not form whole blocks.
	ErrTrailingBytes = errors.New("moldudp64: trailing bytes after message blocks")
	// ErrRequestLength reports a request packet that is not exactly 20 bytes.
	ErrRequestLength = errors.New("moldudp64: request packet is not 20 bytes")
)
