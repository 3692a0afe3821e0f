// Package soupbintcp reads and writes SoupBinTCP packets: the TCP framing
// Nasdaq uses for point-to-point sessions (ITCH over TCP, GLIMPSE
// snapshots, order entry), with login, heartbeats and sequenced delivery.
//
// Specification: SoupBinTCP Version 3.00 (soupbintcp.pdf, updated
// 2017-02-22): §1.1 logical packets, §1.2 protocol flow, §1.3 heartbeats,
// §2.1 debug packet, §2.2 server packets, §2.3 client packets; tickwire's
// PROTOCOLS.md §5 restates every layout, checked against Wireshark's
// dissector and nassau. Nasdaq's 4.0 and 4.1 documents could not be read:
// the facts marked (4.x) below — the 4.1 Heartbeat Timeout field of the
// Login Request (and with it the 52-byte length; 4.0 keeps the 3.00 layout)
// and Unsequenced Data flowing from server to client — come from
// implementations that cite those documents, not from the documents
// themselves. The Packet Length is a big-endian u16; every other field is
// ASCII.
//
// # Format
//
// Every logical packet, in both directions; TCP splits and merges them
// arbitrarily, so a reader must frame by the length (Parse, Framer):
//
//	 0         2      3
//	+---------+------+-------------------------------+
//	|Len (u16)| Type | payload: Len-1 bytes          |
//	+---------+------+-------------------------------+
//
//	Len      bytes after the length field: 1 (type) + payload; 1..65535
//	         (0 is invalid); a whole packet is 2+Len bytes, at most MaxPacket
//	Type     one ASCII byte, below
//
//	Type  Name               Dir   Payload                           Len
//	'+'   Debug              both  free ASCII text, to be ignored    1+n
//	'A'   Login Accepted     S->C  Session, Sequence Number          31
//	'J'   Login Rejected     S->C  Reject Reason Code (char)         2
//	'S'   Sequenced Data     S->C  one message (e.g. ITCH)           1+n
//	'H'   Server Heartbeat   S->C  none                              1
//	'Z'   End of Session     S->C  none                              1
//	'L'   Login Request      C->S  below                             47 (4.1: 52)
//	'U'   Unsequenced Data   C->S  one message, unsequenced          1+n
//	                               (4.x: also S->C)
//	'R'   Client Heartbeat   C->S  none                              1
//	'O'   Logout Request     C->S  none                              1
//
// Login Request (offsets from the start of the packet):
//
//	 0     2   3          9               19              29                    49      54
//	+-----+---+----------+---------------+---------------+---------------------+-------+
//	| Len |'L'| Username | Password      | Req. Session  | Req. Sequence Number| HbTmo |
//	+-----+---+----------+---------------+---------------+---------------------+-------+
//	  u16  char  Alpha(6)  Alpha(10)       10 ASCII        Num(20)               Num(5)
//
//	Len                 47; 52 in 4.1, which appends HbTmo (4.x)
//	Username, Password  left-justified, right-padded with spaces
//	Session             the session to join; all spaces = the current one.
//	                    Nasdaq left-pads names with spaces ("    000042")
//	Sequence Number     next sequenced message wanted: 1 = from the start of
//	                    the session, N = resume at N, 0 = only new messages
//	HbTmo (4.x)         Heartbeat Timeout: milliseconds the server waits
//	                    without client traffic before dropping the client
//
// Login Accepted:
//
//	 0     2   3               13                    33
//	+-----+---+---------------+---------------------+
//	| Len |'A'| Session       | Sequence Number     |
//	+-----+---+---------------+---------------------+
//	  u16  char   10 ASCII      Num(20)
//
//	Len              31
//	Session          the session joined (its real name, also after a blank request)
//	Sequence Number  the sequence number of the NEXT Sequenced Data packet
//
// Login Rejected: Len 2, 'J', one Reject Reason Code: 'A' not authorized
// (bad username or password), 'S' session not available.
//
// Num(n) is n ASCII digits, right-justified and left-padded with spaces.
// Writers differ (leading zeros, right-padding), so ParseNum trims spaces on
// both sides and accepts leading zeros; AppendNum writes the canonical form.
// Session names are compared after TrimSession (spaces stripped on both
// sides) for the same reason.
//
// # Sequencing
//
// Sequenced Data packets carry no sequence number: both ends count, from
// the Login Accepted's Sequence Number, one per 'S' packet. Heartbeats are
// sent by each side after 1 s without sending anything else; a side silent
// for about 15 s (3.00; in 4.1 the login's Heartbeat Timeout) is considered
// dead. End of Session ('Z') means no more Sequenced Data in this session.
// Over ITCH, each 'S' payload is one ITCH message (package codec/itch).
//
// # Decoding
//
// Parse frames one packet from a buffer; Framer frames a TCP byte stream
// chunk by chunk, in place where it can:
//
//	var f soupbintcp.Framer // one per connection; about 64 KiB
//	for {
//		n, err := conn.Read(buf)
//		...
//		err = f.Feed(buf[:n], func(p soupbintcp.Packet) error {
//			switch p.Type() {
//			case soupbintcp.TypeSequencedData:
//				handle(next, p.Payload()) // valid only during this call
//				next++
//			...
//			}
//			return nil
//		})
//	}
//
// A Packet, and every slice its methods return, aliases the bytes it was
// parsed from; packets handed to a Framer callback are valid only during the
// call. Nothing allocates on the decoding paths.
//
// # Concurrency
//
// Packet is a read-only view: concurrent reads are safe while nobody writes
// the underlying bytes. A Framer holds the state of one stream and is not
// safe for concurrent use. The functions of this package keep no state.
package soupbintcp
