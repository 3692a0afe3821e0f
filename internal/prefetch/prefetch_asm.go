//go:build (amd64 || arm64) && !purego

package prefetch

import "unsafe"

// Enabled reports whether Line issues a prefetch (false: it does nothing).
const Enabled = true

// Line prefetches the cache line holding addr into every cache level, for
// reading. It never faults.
//
//go:noescape
func Line(addr unsafe.Pointer)
