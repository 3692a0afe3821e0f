//go:build invariants

package invariants

// Enabled is true in builds with the invariants tag (make test): expensive
// consistency checks run and panic on violation.
const Enabled = true
