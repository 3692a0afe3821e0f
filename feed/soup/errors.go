package soup

import "errors"

// Errors reported by Dial and Session.Err. They are sentinels: compare with
// errors.Is.
var (
	// ErrConfig reports an invalid Config field; the error names it.
	ErrConfig = errors.New("soup: invalid configuration")
	// ErrRejected reports a Login Rejected packet: the session has stopped.
	// The error text names the reason (soupbintcp.RejectReason).
	ErrRejected = errors.New("soup: login rejected")
)
