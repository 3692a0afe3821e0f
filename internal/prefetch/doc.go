// Package prefetch issues software prefetches: hints that ask the processor
// to bring a cache line towards the core before it is loaded, so that a
// caller that knows its next addresses ahead of time (the book's order
// table, a batch of messages ahead) can overlap their cache misses instead
// of paying them one after the other.
//
// A prefetch never faults, whatever the address (nil, freed, unmapped), and
// changes no memory: it only costs the instruction and the memory traffic.
// On amd64 Line is PREFETCHT0 and on arm64 PRFM PLDL1KEEP, each a small
// assembly function (not inlined: a call of a few cycles); on other
// architectures, or with the purego build tag, Line does nothing and
// Enabled is false, so that a caller can skip the work of computing the
// addresses. 64-byte cache lines are assumed: one Line covers the 64
// aligned bytes holding addr.
//
// Safe for concurrent use.
package prefetch
