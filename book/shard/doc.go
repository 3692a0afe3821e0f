// Package shard spreads a feed's order books over several writers, one per
// shard, each on its own OS thread pinned to its own CPU, so that the book
// work of a busy feed is divided among cores while every instrument keeps
// exactly one writer. The producer (the receive loop) is shard 0's writer
// as well: N shards take N threads.
//
//	receive loop (producer, feed.cpu)             shard writers
//	  feed: sequence, arbitration, recovery
//	  Set.Apply(seq, msg) --route by locate--> book 0 (in place)
//	                                        \-> ring 1 --> book 1 (CPU c1)
//	                                        \-> ring 2 --> book 2 (CPU c2)
//	  Set.Commit (each datagram)                ...
//	  Set.Sync (each batch): wait for the writers; their changes, merged
//	    in sequence order, go to the Listener; the books may be read
//
// # Routing
//
// An instrument goes to a shard on the first message naming its locate: a
// Stock Directory assigns it by Config.Map, else by xxhash of its symbol
// modulo the shard count (an instrument keeps its shard from day to day;
// locate codes change every day). Market-wide messages (locate 0) go to
// shard 0. Order references name orders of one instrument only (a Replace
// keeps the instrument), so no message needs two shards.
//
// # Rings
//
// Each shard has a single-producer single-consumer ring of records (the
// message's sequence number, its length and its bytes), with the producer's
// and the consumer's indices on cache lines of their own. Each side polls
// the other's index a few thousand times before it parks on a channel, so
// that a steady feed never sleeps and an idle shard uses no CPU. A full ring
// makes the producer wait: back-pressure, never loss.
//
// # Changes
//
// The books' changes (book.Listener) are made on the writers' threads; each
// writer collects its own (the Change by value, its message copied once
// into an arena), and Sync hands them to the Set's listener on the
// producer's goroutine, merged by sequence number: the listener sees the
// same changes in the same order as from one book, only at Sync rather than
// message by message. Sync is also called every few thousand messages
// without one, so that what is collected stays bounded.
//
// With one shard there is no ring and no writer: the producer applies each
// message to the one book itself, as a plain book.Book.
package shard
