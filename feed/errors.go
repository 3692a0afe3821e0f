package feed

import "errors"

// ErrRecoveryConfig reports a RecoveryConfig field out of range
// (RecoveryConfig.Validate); the error names the field.
var ErrRecoveryConfig = errors.New("feed: invalid recovery configuration")

// Errors of SnapshotLoader's bounds (SnapshotLimits). Each error names the
// limit, the count reached and the message index. The loader stays failed
// after one of them, as after ErrSnapshotMalformed.
var (
	// ErrSnapshotBytes reports a snapshot longer than its byte limit
	// (SnapshotLimits.MaxBytes) before its end-of-snapshot message: a server
	// that never ends the snapshot cannot grow the handler without bound.
	ErrSnapshotBytes = errors.New("feed: snapshot exceeds its byte limit")
	// ErrSnapshotOrders reports a snapshot carrying more Add Order messages
	// ('A', 'F') than its order limit (SnapshotLimits.MaxOrders).
	ErrSnapshotOrders = errors.New("feed: snapshot exceeds its order limit")
	// ErrSnapshotSeq reports an end-of-snapshot 'G' whose sequence number is
	// implausible on its face: above SnapshotLimits.MaxSeq. Following it
	// would drop every real-time message below it.
	ErrSnapshotSeq = errors.New("feed: implausible end-of-snapshot sequence number")
)

// Errors of SnapshotLoader's input. They are sentinels: compare with
// errors.Is.
var (
	// ErrSnapshotMalformed reports a snapshot message that is not a whole
	// ITCH 5.0 message of a known type nor a valid end-of-snapshot 'G':
	// empty, unknown type, wrong length, or a 'G' whose sequence number is
	// malformed or 0. The error also wraps the codec's sentinel
	// (itch.ErrUnknownType, itch.ErrLength, glimpse.ErrLength, ...) and
	// names the message index.
	ErrSnapshotMalformed = errors.New("feed: malformed snapshot message")
	// ErrSnapshotEnded reports a message after the end-of-snapshot 'G'.
	ErrSnapshotEnded = errors.New("feed: message after end of snapshot")
)
