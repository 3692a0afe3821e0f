//go:build !invariants

package invariants

// Enabled is false in production builds: checks guarded by it compile away.
const Enabled = false
