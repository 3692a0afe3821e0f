package itch

import "errors"

// Errors returned by Check. They are sentinels: compare with == or errors.Is.
var (
	// ErrEmpty reports a zero-length message: there is no type byte.
	ErrEmpty = errors.New("itch: empty message")
	// ErrUnknownType reports a type byte that is not one of the 23 ITCH 5.0
	// message types. The message is not malformed as such: a newer revision
	// may have added the type, so skip it by its framing length and count it.
	ErrUnknownType = errors.New("itch: unknown message type")
	// ErrLength reports a known message type whose length differs from the
	// fixed length of that type: the message is malformed.
	ErrLength = errors.New("itch: wrong message length")
)
