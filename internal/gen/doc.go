// Package gen generates synthetic NASDAQ TotalView-ITCH 5.0 sessions for
// tests and benchmarks: a realistic trading day of messages (every one of the
// 23 message types, order flow with skewed activity around drifting prices),
// carried in MoldUDP64 packets on two multicast lines (A and B) with
// independent loss, duplication, reordering and delay, written as any
// capture form of internal/capture, as a raw ITCH BinaryFILE (plain or
// gzip), together with the expected final order books. By default each
// instrument's book settles around 150 live orders; Config.Live sets the
// session's peak of live orders instead (2 million is a NASDAQ day's),
// shared by the instruments in proportion to their activity.
//
// Everything is deterministic by seed: the same Config writes the same bytes.
// The market (messages) and each line's impairments draw from separate
// random streams, so changing a loss rate does not change the messages.
//
// The expected books come from an independent, deliberately simple model:
// it decodes every generated message from its wire bytes (offsets of
// PROTOCOLS.md §2, not codec/itch views) and keeps live orders in a Go map;
// the generator's own order-selection state is cross-checked against it at
// the end. It never reads a capture back and does not use the book or replay
// packages. The books are those of the complete message stream, i.e. what a
// receiver that lost nothing builds.
//
// # Format
//
// Expected books, JSON Lines, one line per instrument of the Stock Directory
// and any other instrument with orders, in locate order; each level is
// [price, shares, orders], bids best (highest) first, asks best (lowest)
// first, every level listed, empty sides as []:
//
//	{"locate":13,"symbol":"AAPL","bids":[[1874500,300,2]],"asks":[[1874600,100,1]]}
//
// Raw ITCH BinaryFILE (PROTOCOLS.md §3): each message preceded by its length
// as a big-endian u16.
//
//	+--------+-----------------+--------+-----------------+
//	| len u16| message (len)   | len u16| message ...     |
//	+--------+-----------------+--------+-----------------+
//
// Packets (PROTOCOLS.md §4): MoldUDP64 session (10 bytes), sequence of the
// first message, count, then length-prefixed message blocks; count 0 is a
// heartbeat, 0xFFFF end of session, both carrying the next sequence number.
package gen
