// Package invariants gates consistency checks that cost nothing in production.
//
// Code guards a check with `if invariants.Enabled { ... }`; the constant is
// set by the `invariants` build tag, which `make test` turns on, so the
// compiler removes the checks from ordinary builds.
package invariants
