package ring

import "errors"

// ErrLapped says the writer overwrote records the reader had not read yet:
// the reader must resynchronise (Reader.Skip).
var ErrLapped = errors.New("ring: reader lapped by the writer")
