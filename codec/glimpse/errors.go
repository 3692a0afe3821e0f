package glimpse

import "errors"

// Errors returned by ParseEndOfSnapshot and EndOfSnapshot.Seq. They are
// sentinels: compare with == or errors.Is.
var (
	// ErrLength reports an end-of-snapshot message that is not exactly
	// LenEndOfSnapshot (21) bytes.
	ErrLength = errors.New("glimpse: end of snapshot message is not 21 bytes")
	// ErrType reports a message whose type byte is not 'G'.
	ErrType = errors.New("glimpse: not an end of snapshot message")
	// ErrNumber reports a Sequence Number that is not ASCII digits surrounded
	// by spaces (empty, another character, or more than fits in 64 bits).
	ErrNumber = errors.New("glimpse: malformed sequence number")
)
