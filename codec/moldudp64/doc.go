// Package moldudp64 reads and writes MoldUDP64 1.00 packets: the UDP framing
// that carries sequenced ITCH messages, downstream (multicast, and unicast
// answers to re-requests) and upstream (re-request packets).
//
// Specification: MoldUDP64 Protocol Specification V 1.00 (moldudp64.pdf,
// "Downstream Packet", "Message Block", "Request Packet", "Heartbeats",
// "End of Session"); tickwire's PROTOCOLS.md §4. All integers are
// big-endian.
//
// # Format
//
// Downstream packet: a 20-byte header, then Message Count message blocks
// back to back, each a 2-byte length and that many bytes of one message.
//
//	 0                   10                  18        20
//	+---------------------+-------------------+---------+---------------- - -
//	| Session (Alpha(10)) | Sequence (u64)    |Count u16| message blocks
//	+---------------------+-------------------+---------+---------------- - -
//
//	message block:
//	 0         2
//	+---------+----------------------------+
//	|Len (u16)| Len bytes: one ITCH message|   Len excludes itself; 0 is legal
//	+---------+----------------------------+
//
//	Session   identifies the session (normally one per day); compare all 10 bytes
//	Sequence  sequence number of the first message in the packet; for a
//	          heartbeat or end of session, the next sequence the server will use
//	Count     number of message blocks; 0x0000 heartbeat, 0xFFFF end of session
//	          (neither carries blocks)
//
// Request packet (listener to re-request server), exactly 20 bytes:
//
//	 0                   10                  18        20
//	+---------------------+-------------------+---------+
//	| Session (Alpha(10)) | Sequence (u64)    |Count u16|
//	+---------------------+-------------------+---------+
//
//	Sequence  first message wanted
//	Count     number of messages wanted from there
//
// A packet with sequence S and count N (1 <= N <= 0xFFFE) carries messages
// S .. S+N-1; the next expected sequence is S+N (Packet.NextSeq).
//
// # Decoding
//
// Parse checks the header; Packet.Blocks iterates over the blocks in place,
// checking each length against the end of the packet and the number of
// blocks against Count:
//
//	p, err := moldudp64.Parse(datagram)
//	if err != nil { ... }
//	it := p.Blocks()
//	for msg, ok := it.Next(); ok; msg, ok = it.Next() {
//		// msg is message number p.Seq() + uint64(it.N()) - 1
//	}
//	if err := it.Err(); err != nil { ... } // malformed packet
//
// Nothing is copied or allocated: every returned slice aliases the datagram.
// Packet.Validate walks the blocks without returning them, for callers that
// must reject a malformed packet before acting on any of its messages.
//
// # Concurrency
//
// A Packet is a read-only view: concurrent reads are safe while nobody
// modifies the underlying bytes. A Blocks iterator is not safe for
// concurrent use; make one per goroutine (they are cheap values). The
// functions of this package keep no state.
package moldudp64
