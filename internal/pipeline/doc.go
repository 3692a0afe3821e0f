// Package pipeline wires the stages of tickwire together for one feed:
// capture records or raw ITCH messages -> MoldUDP64 session selection ->
// feed.Arbiter (A/B arbitration, gap detection) -> ITCH validation ->
// book.Book, with the counters a summary needs.
//
// A Pipeline is driven by one goroutine and is not safe for concurrent use.
// Nothing on the per-message path allocates: counters live in fixed arrays,
// and errors that stop a replay are built only once.
package pipeline
