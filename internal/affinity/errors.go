package affinity

import "errors"

// ErrNoOtherCPU reports that the process may run on no CPU but the one
// asked for, so its other threads could not be moved off it (Isolate).
//
// It is in a file without a build tag so that code matching it with
// errors.Is builds on every platform, although only Linux returns it.
var ErrNoOtherCPU = errors.New("affinity: the process may run on no other CPU")
