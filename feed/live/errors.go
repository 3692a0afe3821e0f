package live

import "errors"

// The errors below appear inside the handler's log and error texts, which
// tickwire run prints as they were before this package existed: they carry
// no package prefix.

// errSnapshotSeq refuses a snapshot whose sequence is far from the lines'.
var errSnapshotSeq = errors.New("implausible snapshot sequence")

// errFetchCancelled ends a fetch cancelled by shutdown.
var errFetchCancelled = errors.New("cancelled by shutdown")
