// Package transport is the binary protocol tickwire uses to redistribute
// order books to strategy clients over TCP: its FlatBuffers schema
// (tickwire.fbs, Go code generated into tw/ by flatc 2.0.8 with make
// generate), the TCP framing (FrameReader), the checks that make a hostile
// frame safe to read (Validate), and the encoder and decoder of frames
// (Encoder, Frame, Message), and the server (Server, Publisher). The Go
// client library is package client.
//
// # Format
//
// A connection carries frames in both directions. Each frame is a 4-byte
// length, a uint32 little-endian (FlatBuffers' own byte order) counting the
// bytes that follow, then a FlatBuffer whose root is a Frame table; together
// they are a standard size-prefixed FlatBuffer with file identifier "TWP1".
// The length is at most MaxFrameSize (1 MiB) and at least 12.
//
//	 0     1     2     3     4     5     6     7     8     9    10    11
//	+-----+-----+-----+-----+-----+-----+-----+-----+-----+-----+-----+---- - -
//	|  length (u32 LE) = L  | root offset (u32 LE) |  'T'  'W'  'P'  '1' | ...
//	+-----+-----+-----+-----+-----+-----+-----+-----+-----+-----+-----+---- - -
//	                        |<------------- L bytes: the FlatBuffer ------------->|
//
//	Frame                    root table
//	  stream_seq  u64        frames of one direction of a connection: 1, 2, 3...
//	  messages    [Message]  in order
//	Message                  one per message (flatc has no union vectors in Go)
//	  body        Body       union: Hello, HelloReply, Subscribe, Unsubscribe,
//	                         Snapshot, OrderAdded, OrderExecuted, OrderCancelled,
//	                         OrderReplaced, OrderDeleted, LevelChanged, Trade,
//	                         TradeBroken, TradingState, RegSho, LuldCollar,
//	                         MwcbLevels, MwcbBreach, Heartbeat, Status, ServerError
//	OrderExecuted (and every other update)
//	  fields      struct     required, fixed layout, starting with a Stamp:
//	                         feed_seq u64, timestamp u64 (ns since midnight),
//	                         locate u16; then the update's own fields
//
// Several messages share a frame: the server puts all the updates one ITCH
// packet causes, for the instruments a client subscribed to, in one frame.
// Prices are ITCH Price(4) integers (uint32, $12.34 = 123400), MWCB levels
// Price(8). tickwire.fbs documents every field.
//
// # Session
//
//	client                                   server
//	  | ---- Hello{version, token} ------------> |  within 5 s of connecting
//	  | <--- HelloReply{accepted, reason} ------ |  refused: closes after it
//	  | ---- Subscribe{stocks|locates|all, depth, n} -> |
//	  | <--- Snapshot (per instrument, at feed_seq S)   |
//	  | <--- updates with feed_seq > S, Heartbeat, Status
//	  | ---- Unsubscribe / Subscribe again (new Snapshot)
//	  | <--- ServerError{code, text}, then close (bad client)
//
// A client that sends no Hello within 5 s, or anything else first, gets a
// ServerError (HelloTimeout, BadHello) and is disconnected. After Subscribe
// the server sends each instrument's Snapshot as of a feed sequence number S
// (in parts, Snapshot.more, when it would exceed a frame); every update for
// that instrument sent afterwards comes from an ITCH message with a feed
// sequence after S, so applying them to the snapshot in order gives the
// server's book. The depth chosen (Orders, Levels, TopN, Top) decides whether
// the snapshot carries orders and the updates are Order*, or it carries levels
// and the updates are LevelChanged. Heartbeat is sent when nothing else was
// for HelloReply.heartbeat_ms. The market-wide circuit breaker's messages
// (MwcbLevels, MwcbBreach: locate 0) go to every subscriber whatever it
// subscribed to, and a new subscription gets the day's before its
// snapshots; TradeBroken goes with the instrument's updates at every depth.
//
// # Gaps
//
// The stream sequence numbers every frame of a direction of a connection
// from 1 with no gap: TCP loses nothing, so a gap means a server fault or a
// reader bug, and the client resubscribes (or reconnects) to get fresh
// snapshots. Gaps in the exchange feed are the server's to handle: it sends
// Status Recovering (or Stale) while books may be wrong, and Live when they
// are right again, with fresh Snapshots if it could not recover in sequence.
//
// # Conflation
//
// A client that reads too slowly does not hold the server back. When its
// queue passes a bound, the server drops the updates it has not sent, sends
// Status Conflated for the instruments concerned, then a fresh Snapshot of
// each (feed sequences restart from the snapshot's) and Status Live; a
// client with conflation turned off is disconnected with ServerError
// SlowConsumer instead. Level depths conflate further: only the latest
// LevelChanged per price is worth sending.
//
// # Decoding
//
// FrameReader cuts frames from the byte stream in any pieces, in place when
// a frame lies whole in the input, and validates each: the generated Go code
// has no verifier and its accessors panic on out-of-range offsets, so
// Validate checks every table, vtable, vector, string and union of the
// schema against the frame before any accessor runs. Then:
//
//	var m transport.Message
//	var ex tw.OrderExecutedFields
//	f, n, ok, err := r.Next(p) // then p = p[n:], until p is empty
//	for i := range f.Len() {
//		switch f.Message(i, &m).Type() {
//		case tw.BodyOrderExecuted:
//			ex.Init(m.Fields(tw.BodyOrderExecuted))
//			exec(ex.OrderRef(), ex.Shares())
//		}
//	}
//
// Reading and validating costs about 47 ns per update on a frame of 64 and
// encoding about 93 ns (BenchmarkDecode, BenchmarkEncode, 2-vCPU AMD
// development VM), with no allocation in steady state. Unknown Body types, from a
// newer schema, are skipped (Message.Type is BodyNONE); fields are only added
// at the end of tables, union members at the end of Body.
//
// # Server
//
//	book writer goroutine                  gnet event loop(s)
//	  Apply -> Publisher.Change              per connection: a ring cursor,
//	  Flush: per instrument and depth          a subscription, a stream seq
//	    stream, one frame, encoded once  ->  copy the records it wants, patch
//	    ring.Append (never waits)              stream_seq, one write per batch
//	  snapshots asked for: encoded here,     at the request's marker: write
//	    then a marker record                   its snapshots, then subscribe
//
// The Publisher is the book's book.Listener. Each Flush encodes every
// instrument's changes once per depth stream that has a subscriber (Orders:
// Order*; Levels and TopN: LevelChanged for every level; Top: LevelChanged
// for the best level; trades, trading state, Reg SHO and LULD in all three)
// and appends each frame once to the fan-out ring (package ring); a
// connection's stream sequence is patched into its copy. A Subscribe is
// taken by the writer at its next Flush: it encodes the snapshots from the
// book as it is then and appends a marker; the connection sends them when
// its cursor reaches the marker and applies the subscription from there, so
// that every update after a snapshot comes from a later feed message. A
// TopN mirror is sent every level and shows N (it must learn the level that
// moves up when one of the N goes).
//
// A connection whose unsent bytes pass ServerConfig.QueueBytes has what
// follows dropped; after SlowAfter it is cut off (ServerError SlowConsumer)
// or, conflating, counted and, once it reads again, sent Status Conflated,
// fresh snapshots of everything it subscribes to, and the feed's state. A
// connection lapped by the ring is conflated the same way.
//
// # Concurrency
//
// Encoder and FrameReader are not safe for concurrent use; Frame and Message
// are views that concurrent goroutines may read while the bytes under them
// stay unchanged.
package transport
