package sim

import "errors"

// Errors.
var (
	// ErrConfig reports an invalid configuration value.
	ErrConfig = errors.New("sim: invalid configuration")
	// ErrSource reports a message source that is not a raw ITCH stream.
	ErrSource = errors.New("sim: bad message source")
	// ErrSnapshotSeq reports a snapshot point outside the history: next
	// must lie in [1, Len()+1].
	ErrSnapshotSeq = errors.New("sim: snapshot sequence number outside the history")
	// errSoupClose stops framing a SoupBinTCP connection that is to be
	// closed; it never leaves the package.
	errSoupClose = errors.New("sim: soup connection closed")
)
