package gen

import "errors"

var (
	// ErrConfig reports an invalid Config (rates outside [0,1), a session
	// name longer than 10 bytes, a payload too small for one message, ...).
	ErrConfig = errors.New("gen: invalid config")
	// ErrTooFewMessages reports a message count below what the day's fixed
	// schedule (directory, system events, crosses, ...) needs.
	ErrTooFewMessages = errors.New("gen: too few messages for the session schedule")
	// ErrInternal reports that the generated order flow and the independent
	// book model disagree: a bug in the generator.
	ErrInternal = errors.New("gen: internal inconsistency")
)
