package book

import "errors"

// ErrInvariant reports an internal inconsistency found by CheckInvariants: a
// bug in the book, never a fault of the feed (feed faults are anomalies and
// are counted, see Anomalies). Errors returned by CheckInvariants wrap it;
// compare with errors.Is.
var ErrInvariant = errors.New("book: invariant violated")
