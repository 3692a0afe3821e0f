// Package book maintains full order-by-order books for every instrument of
// one shard of a Nasdaq TotalView-ITCH 5.0 feed.
//
// A Book is fed decoded messages in sequence order (Apply) by a single
// goroutine and answers ladder queries (AppendLevels, Best, Orders) between
// messages. It takes no locks and, once warm, allocates nothing per message.
//
// # Semantics
//
// Orders are keyed by Order Reference Number alone: it is unique across the
// feed for the trading day (PROTOCOLS.md §2.7). A level is keyed by (stock
// locate, side, price) and holds its orders in time priority:
//
//	A, F  insert at the back of the level (locate, side, price)
//	E, C  remaining -= executed shares; removed at 0. C reduces the level at
//	      the resting order's price, never at its Execution Price
//	X     remaining -= cancelled shares; the order keeps its queue position
//	D     remove the order
//	U     remove the original order entirely; insert the new reference with
//	      the new shares (a total, not a delta) and new price, the locate and
//	      side of the original, at the back of its level: priority is lost
//	      even at an unchanged price; the original reference is dead
//	R     record the symbol of the locate (trailing padding trimmed)
//	other P, Q, B and every status message leave the book alone
//
// # Changes
//
// A Listener (SetListener, WithListener) learns what each message changed,
// synchronously on the goroutine that calls Apply, through a Change the Book
// reuses (nothing is allocated per change). Each message reports, in order:
//
//	A, F        add; the level; the top of the side if it changed
//	E, C, X, D  execute / execute-with-price / cancel / delete, with the
//	            order's remaining shares (0: gone); its level; the top
//	U           replace (old and new reference, price, shares); the old
//	            level; the new level if the price differs; the top
//	P, Q        trade, cross-trade
//	H, Y, J, R  trading-action, reg-sho, luld-collar, directory (the
//	            message itself in Change.Msg)
//
// A level change carries the level's new total shares and order count (0
// orders: the level is gone) and whether the best price of its side
// changed; a top change the new best price, shares and orders of the side
// (0 orders: the side is empty), and is reported only when the best level
// differs in price or size from before the message. A message whose order
// is not applied (an anomaly: unknown or duplicate reference, bad side,
// zero shares) reports nothing, except a U that still removes its original:
// that is reported as a delete. Every change of a message carries its seq
// and Timestamp.
//
// The changes are found on a separate path: Apply without a listener pays
// one nil check. With one, Apply looks the order and the tops up before
// applying the message and the levels after.
//
// # Anomalies
//
// A gap-free feed never produces the faults below; after a gap, a late join
// or a corrupt stream it does. Each is counted by kind, the first
// MaxAnomalyRecords are kept with their sequence number (Anomalies), and the
// instrument concerned has its Faults count raised, so a caller can mark the
// instruments whose books may be wrong. A fault never panics, never touches
// any order other than the one named, and leaves the book consistent:
//
//	unknown reference      E C X D U on a reference that is not live: ignored
//	duplicate reference    A F U adding a live reference: the live order is
//	                       kept, the add dropped (a U still removes its
//	                       original); both instruments get a fault
//	over-execution/cancel  E C X for more shares than remain: the order is
//	                       removed, as if the reduction were exact (the
//	                       exchange has at least that much less; keeping a
//	                       remainder would invent liquidity)
//	zero shares, bad side  A F with 0 shares or a side other than B/S, U with
//	                       0 shares: the add is dropped (a U still removes
//	                       its original)
//
// Crossed or locked books are not faults: ITCH books may cross briefly.
// Crossed reports them.
//
// # Data layout
//
// Three flat arrays hold everything, linked by uint32 indices (index 0 means
// none), so the garbage collector scans no pointers and nothing is allocated
// per message:
//
//	order table  []uint32 of slab indices, open addressing with linear
//	             probing from the reference's Fibonacci hash, 5 slots per
//	             order of capacity (load ≤ 0.2), backward-shift deletion (no
//	             tombstones), doubling only when the live orders exceed the
//	             capacity (see table.go for the measurements behind the shape)
//	order slab   []order, 24 bytes each, free list through the queue link:
//	             the most recently freed entry (still cached) is reused first
//	level pool   []level, 32 bytes each: total shares, order count, and the
//	             head and tail of the level's FIFO, doubly linked through the
//	             orders' prev/next indices
//
// Each order keeps the index of its level, so executions, cancels and
// deletes go straight from the table to the order to the level; only adds
// look a level up. Per instrument (indexed directly by locate, a fixed 72
// bytes each) two sorted arrays of 8-byte (price key, level index) entries,
// best price last, place the levels (see levels.go for why arrays rather
// than a second hash table): adds near the touch find their level in the
// last cache line of the array, and the ladder is read off in order.
//
// # Memory
//
// Per order of capacity (the WithOrders hint, or the capacity it has doubled
// to):
//
//	order slab entry  ref 8 + shares 4 + level 4 + prev 4 + next 4 = 24 bytes
//	table slots       5 slots (load ≤ 0.2) × 4 bytes             = 20 bytes
//	total                                                        = 44 bytes
//
// so a book filled to its capacity uses 44 bytes per live order for orders
// and the table (TestMemoryPerOrder measures it), within a 48-byte budget.
// Nothing depends on the range of reference numbers. Capacity never shrinks
// during a day, and when the live orders exceed it both arrays double: just
// past a doubling, the figure per live order is up to twice that until the
// book fills again. Size WithOrders to the day's peak to avoid both the
// doubling pause and the slack. Levels add 32 + 8 bytes per price level and
// instruments 72 bytes per locate up to the highest locate seen.
//
// # Performance
//
// BenchmarkApply (framing, itch.Check and Apply over a synthetic stream of
// 300 instruments and ~50k live orders) runs at about 36 ns per message on
// the development machine (AMD EPYC VM) and allocates nothing. Of that,
// about 8 ns is framing, Check and the dispatch on the type
// (BenchmarkDecodeOnly). The rest is not dominated by memory traffic: with 2k
// live orders, the whole book in the L2 cache, it still costs about 33 ns
// (BenchmarkApplyLive/2000), against ~13 ns/msg for the same operations in a
// predictable order. The cost
// is in branches whose outcome depends on the data and that no layout
// removes: the message type, a level found or created, a level emptied or
// not, a reduction partial or total, each mispredicted often on a realistic
// mix (~15-20 cycles each). Queue links and the near-touch search are branch
// free for that reason.
//
// With a book past the caches (BenchmarkApplyLive: ~100-140 ns/msg at 200k
// live orders, ~160 at 2M) each lookup is two dependent cache misses, the
// table slot and the order. A caller holding the messages after the one it
// applies hides them with Prefetch and PrefetchOrder (see prefetch.go), as
// the pipeline's raw replay does: the /prefetch rows measure ~85 and ~99
// ns/msg. Below 2^19 table slots the book does not prefetch (Prefetching).
//
// The listener costs nothing when none is set: BenchmarkApply measured the
// same before and after it was added (~53-64 ns/msg either way, runs
// interleaved on a loaded 2-vCPU VM). With one, BenchmarkApplyListener runs
// at about 2.2 times BenchmarkApply (~112-150 ns/msg, a no-op listener and
// one reading every change alike): the second lookup of the order, the
// tops read before and after, and the level searched again, not the calls.
//
// # Invariants
//
// In builds with the invariants tag (internal/invariants), every operation
// checks what it touched: the level's shares equal the sum of its orders'
// remaining shares, its count equals its queue length, an emptied level is
// gone, and the table and the slab agree on the reference. A violation is a
// bug in this package and panics. CheckInvariants runs the full check in any
// build.
//
// # Concurrency
//
// A Book is not safe for concurrent use. Results that alias the Book
// (Symbol) are valid until the next call to Apply or Reset.
package book
