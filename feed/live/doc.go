// Package live is tickwire's live handler: one session of the feed joined
// to one order book, as tickwire run, the transport server and tests use
// it.
//
// A Handler receives either MoldUDP64 over two multicast lines (A and B),
// arbitrated by feed.Arbiter, with gaps re-requested from the MoldUDP64
// re-request server over a unicast socket; or a SoupBinTCP session (package
// feed/soup), sequenced and reliable. With a GLIMPSE snapshot server the
// book is built from a snapshot on a late join, and rebuilt from one when
// losses are given up: the snapshot is fetched beside the receive loop,
// which stages what the lines carry meanwhile and applies it after the
// snapshot.
//
//	cfg (Config: the feed: and book: sections) -> New -> Run (until ctx is
//	done or the session ends) -> WriteSummary, WriteBooks, Trusted -> Close
//
// Hooks let a consumer follow the book while Run applies messages: a
// book.Listener for every change, Flush after each batch to write out what
// it gathered and read the book, and Status for the state of the data
// (live, stale, recovering, end of session).
//
// # Hot path
//
// The multicast receive loop runs on one OS thread (pinned with feed.cpu),
// receives datagrams in batches (recvmmsg) into a preallocated mcast.Batch
// and applies them in place: nothing allocates per datagram in steady
// state. Faults are counted per line and kind in fixed arrays and logged at
// most once a second. The hooks cost a nil check each when unset.
package live
