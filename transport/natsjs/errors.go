package natsjs

import "errors"

var (
	// ErrConfig is a configuration the publisher or a reader cannot use.
	ErrConfig = errors.New("natsjs: bad configuration")
	// ErrNoSession is a stream holding no session of the prefix (or not
	// the one asked for).
	ErrNoSession = errors.New("natsjs: no session in the stream")
	// ErrSnapshot is a snapshot in the key-value bucket that does not
	// read: a part missing, from another snapshot, or not a frame.
	ErrSnapshot = errors.New("natsjs: bad snapshot")
	// ErrNotRetained is a starting point older than what the stream
	// still holds.
	ErrNotRetained = errors.New("natsjs: starting point no longer in the stream")
	// ErrFrame is a NATS message that is not one whole frame.
	ErrFrame = errors.New("natsjs: not a frame")
)
