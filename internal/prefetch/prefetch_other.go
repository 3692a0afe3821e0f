//go:build !(amd64 || arm64) || purego

package prefetch

import "unsafe"

// Enabled reports whether Line issues a prefetch (false: it does nothing).
const Enabled = false

// Line does nothing: this build has no prefetch instruction (see the
// package documentation).
func Line(addr unsafe.Pointer) {}
