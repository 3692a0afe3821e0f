package book

import "math/bits"

// The order table maps an Order Reference Number to the slab index of its
// order. It is an open-addressing hash table with linear probing over a flat
// []uint32 of slab indices (0: empty slot); the reference itself is read from
// the order in the slab.
//
// The home slot is (ref × 2^64/φ) scaled to the table size: Fibonacci
// (multiplicative) hashing, which spreads the nearly sequential references of
// a feed evenly, with multiply-shift range reduction, so the table need not
// be a power of two. The table is sized to 5 slots per order of capacity:
// load ≤ 0.2. Deletion is by backward shift, so there are no tombstones and
// probe lengths never degrade over a trading day.
//
// Why this shape, measured with BenchmarkApply on this package's synthetic
// stream (50k live orders, 300 instruments; an AMD EPYC VM):
//
//	slots                          load   bytes/order   ns/msg
//	8 B (32-bit tag | index)       1/2    24+16 = 40    ~47
//	16 B (ref, index, level)       2/3    24+24 = 48    ~52
//	8 B (32-bit tag | index)       1/3    24+24 = 48    ~40
//	4 B (index)                    1/4    24+16 = 40    ~37
//	4 B (index)                    1/5    24+20 = 44    ~35   <- chosen
//	4 B (index)                    1/6    24+24 = 48    ~35
//
// The cost that dominates is not the memory traffic of a probe but the
// mispredicted exits of the probe and backward-shift loops: at load 0.2 a
// probe stops at its home slot 80% of the time (a hit, or an empty slot for
// an add) and a deletion's shift scans nothing 80% of the time. A tag in the
// slot saves reading the slab on a collision, which is rare at this load
// and costs more table bytes than it saves at this size; with 200k live
// orders (8.8 MB, past the L2 cache) the same stream costs ~52-77 ns/msg and
// a collision's slab read is a cache miss, where the 8-byte tagged slots
// measured ~10% faster. Hashing blocks of 16 consecutive
// references onto one cache line of slots, for locality of sequential adds,
// measured no faster (~37 ns/msg) and was dropped.

// fib is 2^64 / φ, the multiplier of Fibonacci hashing.
const fib = 0x9E3779B97F4A7C15

// slotsPerOrder is the table size per order of capacity: the maximum load
// factor is 1/slotsPerOrder.
const slotsPerOrder = 5

// maxOrders bounds the slab so that an index fits the 32 bits of a slot and
// of the queue links, with room for the doubling arithmetic.
const maxOrders = 1<<31 - 1

// home returns the home slot of ref in a table of n slots.
func home(ref uint64, n uint64) uint64 {
	hi, _ := bits.Mul64(ref*fib, n)
	return hi
}

// lookup returns the slot holding ref and the slab index of its order, or,
// when ref is not live, the first empty slot of its probe sequence (where an
// insertion goes) and index 0. The table always has an empty slot (load ≤
// 0.2), so the probe terminates.
func (b *Book) lookup(ref uint64) (pos uint64, oi uint32) {
	slots := b.slots
	n := uint64(len(slots))
	i := home(ref, n)
	for {
		s := slots[i]
		if s == 0 || b.orders[s].ref == ref {
			return i, s
		}
		if i++; i == n {
			i = 0
		}
	}
}

// deleteSlot empties slot pos by backward shift: each following entry of the
// run that may legally move closer to its home fills the hole.
func (b *Book) deleteSlot(pos uint64) {
	slots := b.slots
	n := uint64(len(slots))
	hole := pos
	j := pos
	for {
		if j++; j == n {
			j = 0
		}
		s := slots[j]
		if s == 0 {
			break
		}
		h := home(b.orders[s].ref, n)
		// The entry at j may fill the hole if its home is not cyclically in
		// (hole, j]: its distance from home is at least the hole's distance.
		dh := j - h
		if j < h {
			dh += n
		}
		di := j - hole
		if j < hole {
			di += n
		}
		if dh >= di {
			slots[hole] = s
			hole = j
		}
	}
	slots[hole] = 0
	b.live--
}

// tableSize returns the number of slots for a capacity of orders live
// orders.
func tableSize(orders int) int { return max(orders*slotsPerOrder, 8) }

// growTable doubles the order table and reinserts every entry. It runs only
// when the live orders exceed the capacity the table was sized for:
// amortised over the inserts that filled it, never per message.
func (b *Book) growTable() {
	old := b.slots
	slots := make([]uint32, 2*len(old))
	n := uint64(len(slots))
	for _, s := range old {
		if s == 0 {
			continue
		}
		i := home(b.orders[s].ref, n)
		for slots[i] != 0 {
			if i++; i == n {
				i = 0
			}
		}
		slots[i] = s
	}
	b.slots = slots
	b.limit = len(slots) / slotsPerOrder
}

// allocOrder returns a free slab index, reusing the most recently freed one
// (still in cache), or 0 when the slab is at maxOrders. The slab doubles when
// full: amortised, never per message.
func (b *Book) allocOrder() uint32 {
	if f := b.freeOrder; f != 0 {
		b.freeOrder = b.orders[f].next
		return f
	}
	n := len(b.orders)
	if n == cap(b.orders) {
		if n >= maxOrders {
			return 0
		}
		c := min(2*cap(b.orders), maxOrders)
		grown := make([]order, n, c)
		copy(grown, b.orders)
		b.orders = grown
	}
	b.orders = b.orders[:n+1]
	return uint32(n)
}

// freeOrderIdx returns slab entry oi to the free list. A free entry has level
// 0, which no live order has.
func (b *Book) freeOrderIdx(oi uint32) {
	o := &b.orders[oi]
	o.level = 0
	o.shares = 0
	o.prev = 0
	o.next = b.freeOrder
	b.freeOrder = oi
}
