// Package glimpse reads and writes the one message that GLIMPSE 5.0 adds to
// TotalView-ITCH 5.0: the end-of-snapshot message 'G'.
//
// Specification: Nasdaq GLIMPSE 5.0 (NQGlimpseSpecification.pdf); tickwire's
// PROTOCOLS.md §6. GLIMPSE is a point-to-point snapshot of the current book
// served over SoupBinTCP only (package codec/soupbintcp): log in with
// Requested Sequence Number 1; each Sequenced Data packet then carries one
// message. Every message but 'G' is a plain ITCH 5.0 message with the ITCH
// layout and data types ('S' system event, 'R' stock directory, 'H' trading
// action, 'Y' Reg SHO, 'h' operational halt, 'N' RPII, and an 'A' or 'F' for
// every open displayed order): decode those with package codec/itch. 'G' is
// not an ITCH 5.0 type (itch.Check reports it as ErrUnknownType), so test
// for it before handing a message to codec/itch.
//
// # Format
//
// End of snapshot, exactly 21 bytes; the Sequence Number is ASCII, the
// same Num(20) as SoupBinTCP's: decimal digits, right-justified, left-padded
// with spaces (leading zeros and right-padding are accepted when reading):
//
//	 0     1                                         21
//	+-----+-----------------------------------------+
//	| 'G' | Sequence Number (Num(20))               |
//	+-----+-----------------------------------------+
//
//	Type             'G'; no ITCH header (no locate, tracking or timestamp)
//	Sequence Number  the TotalView-ITCH sequence number at which the
//	                 snapshot was taken; see below
//
// The field table of this message could not be read in the primary
// document: the layout above follows PROTOCOLS.md §6 (the spec's contents and
// independent implementations) and is unverified against the PDF. There is
// no binary integer in the message, hence no byte order.
//
// # Reading of the sequence number
//
// The specification says the number marks where to begin processing the
// real-time TotalView-ITCH feed, without (in what could be read) saying
// whether it is the last message the snapshot reflects or the first one to
// apply after it. tickwire reads it as the sequence number of the NEXT
// message to apply from the real-time feed, as SoupBinTCP's Login Accepted
// and MoldUDP64's heartbeats count:
//
//	snapshot reflects messages 1 .. N-1    (N-1 is the last one reflected)
//	apply real-time messages N, N+1, ...   (drop those below N)
//
// A real session reveals whether this is off by one at the switch from
// snapshot to real time. If N is in fact the last message the snapshot
// reflects, message N is applied twice: an Add Order at N shows up as a
// duplicate order reference (the order is already in the snapshot), and a
// delete, cancel or replace at N finds an unknown reference (the snapshot
// has already removed the order) or, for a partial execution or cancel,
// reduces the order twice. The opposite mistake, reading N as the last
// reflected when it is the next to apply, drops message N: a later message
// about an order added at N finds an unknown reference. So a duplicate Add
// or an unknown reference at or just after sequence N is the symptom of an
// off-by-one; a clean switch over sessions whose message N touches an order
// confirms this reading.
//
// # Concurrency
//
// EndOfSnapshot is a read-only view: concurrent reads are safe while nobody
// writes the underlying bytes. The functions of this package keep no state.
package glimpse
