// Package itch reads and writes Nasdaq TotalView-ITCH 5.0 messages as
// zero-copy views over the caller's bytes.
//
// Specification: Nasdaq TotalView-ITCH 5.0 (NQTVITCHspecification.pdf),
// §3 Data Types and §4 Message Formats; tickwire's PROTOCOLS.md §2 restates
// every layout byte for byte. All 23 message types are supported, including
// the later additions 'h' (Operational Halt) and 'O' (DLCR Price Discovery).
//
// # Format
//
// A message is a type byte followed by fixed fields; its length is fixed by
// the type (Len). ITCH has no framing of its own: the transport delimits
// messages (MoldUDP64 blocks, SoupBinTCP packets, the 2-byte lengths of a
// BinaryFILE). Every message starts with the same 11-byte header:
//
//	 0     1     2     3     4     5     6     7     8     9    10    11
//	+-----+-----+-----+-----+-----+-----+-----+-----+-----+-----+-----+---- - -
//	|Type | Stock Locate| Tracking  |      Timestamp (u48, ns)          | fields
//	+-----+-----+-----+-----+-----+-----+-----+-----+-----+-----+-----+---- - -
//
//	Type          char  message type, case-sensitive ('h' is not 'H')
//	Stock Locate  u16   instrument index of the day, from the 'R' messages;
//	                    0 for market-wide messages ('S', 'V', 'W')
//	Tracking      u16   Nasdaq-internal; not a sequence number
//	Timestamp     u48   nanoseconds since midnight, US Eastern (6 bytes!)
//
// Message-specific fields start at offset 11; each view's documentation
// lists its offsets. Byte order is big-endian throughout. Data types:
//
//	u32, u64   unsigned big-endian integers
//	Price(4)   u32 with 4 implied decimals ($12.34 = 123400); read as uint32
//	Price(8)   u64 with 8 implied decimals, only in 'V'; read as uint64
//	Alpha(n)   n ASCII bytes, left-justified, space-padded; read as []byte
//	char       one ASCII byte with an enumerated meaning; read as byte
//
// ITCH carries no sequence number: it comes from the transport.
//
// # Decoding
//
// Check validates the type and length of a message once; after that the
// message converts to the view of its type without copying, and each
// accessor is a single bounds-checked load that the compiler inlines:
//
//	if err := itch.Check(msg); err != nil { ... }
//	switch msg[0] {
//	case itch.TypeAddOrder:
//		a := itch.AddOrder(msg)
//		add(a.Locate(), a.Ref(), a.Side(), a.Shares(), a.Price())
//	...
//	}
//
// Enumerated fields are returned as they are on the wire, never validated:
// the specification adds values between revisions. Alpha accessors return
// slices aliasing the message, with their capacity ending at the field, so
// an append by the caller cannot overwrite the next field.
//
// # Encoding
//
// One value struct per type, named after the view with a Msg suffix
// (AddOrderMsg), holds the fields; its Append method appends the exact wire
// bytes to a caller-owned buffer, allocating only when that buffer grows.
//
// # Concurrency
//
// Views are slices: concurrent reads are safe, but the caller must not
// modify or reuse the underlying bytes while a view of them is in use.
// Functions in this package keep no state.
package itch
