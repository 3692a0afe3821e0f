package soupbintcp

import "errors"

// Errors returned by Parse, Framer.Feed and the Parse* functions of the
// packets with fixed payloads. They are sentinels: compare with == or
// errors.Is.
var (
	// ErrIncomplete reports bytes that hold only the start of a packet: its
	// length field, or fewer bytes than the length announces. Read more and
	// try again; it is not a fault of the stream.
	ErrIncomplete = errors.New("soupbintcp: incomplete packet")
	// ErrZeroLength reports a Packet Length of 0. The length counts the type
	// byte, so the minimum is 1; a stream carrying 0 is corrupt or is not
	// SoupBinTCP, and cannot be resynchronised.
	ErrZeroLength = errors.New("soupbintcp: zero packet length")
	// ErrStopped is returned by Framer.Feed after an earlier Feed returned
	// an error (from its callback or from the stream): the bytes after the
	// failing packet were not framed, so the stream position is lost. Reset
	// the Framer for a new connection.
	ErrStopped = errors.New("soupbintcp: framer stopped by an earlier error")
	// ErrType reports a packet whose type byte is not the one the parse
	// function decodes.
	ErrType = errors.New("soupbintcp: unexpected packet type")
	// ErrLength reports a packet whose length is wrong for its type, or a
	// Packet whose Packet Length field disagrees with its size.
	ErrLength = errors.New("soupbintcp: wrong packet length")
	// ErrNumber reports a Num field that is not ASCII digits surrounded by
	// spaces (empty, another character, or more than fits in 64 bits).
	ErrNumber = errors.New("soupbintcp: malformed numeric field")
)
