package transport

import "errors"

// Errors returned by FrameReader, Validate and Encoder. They are sentinels:
// compare with errors.Is (Validate wraps ErrBadFrame with the place).
var (
	// ErrFrameTooLarge reports a length prefix above the reader's maximum, or
	// an encoded frame above MaxFrameSize. The stream cannot be resynchronised:
	// close the connection.
	ErrFrameTooLarge = errors.New("transport: frame too large")
	// ErrBadFrame reports frame bytes that are not a well-formed Frame: a
	// short buffer, a wrong file identifier, or an offset, vtable, vector or
	// string outside the frame. The peer is broken or hostile: close the
	// connection.
	ErrBadFrame = errors.New("transport: malformed frame")
)
