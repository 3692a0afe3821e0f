package book

// Sides of a level, as stored.
const (
	bid      uint8 = 0
	ask      uint8 = 1
	sideFree uint8 = 2 // a level on the free list
)

// keyMask turns a price into a sort key: bids sort by price and asks by the
// complement of the price, so that on both sides the key ascends towards the
// best price and the best level is the last element of the side array.
var keyMask = [2]uint32{bid: 0, ask: 0xFFFFFFFF}

// levelRef is one entry of a side array: the level's sort key and its index in
// the level pool (8 bytes; eight entries per 64-byte cache line).
type levelRef struct {
	key uint32
	idx uint32
}

// Level placement: each instrument keeps, per side, a slice of levelRef sorted
// by key with the best price last. Chosen over a second hash table keyed by
// (locate, side, price):
//   - adds arrive near the touch, so the search scans the last few entries
//     from the end (one cache line) before falling back to binary search;
//     inserting or removing near the end moves a handful of 8-byte entries;
//   - the best level and the full ladder come straight out of the array,
//     where a level hash table needs a sort or a separate index to answer
//     Best and AppendLevels;
//   - only adds (and replaces to a new price) and the removal of an emptied
//     level search; executions, cancels and deletes reach the level through
//     the index the order keeps.
// On BenchmarkApply the level search is a small share of the time (search
// ~6% of samples); keeping emptied levels in place instead of removing them,
// measured as an experiment, was no faster, so dropping a level and finding
// it again is not a cost worth trading the "no empty level" invariant for.

// linearProbe is the number of entries searched linearly from the best end
// before binary search: adds within 8 levels of the touch never reach the
// binary search. The 8 entries (one cache line) are counted without an early
// exit, so where the scan stops is no branch to mispredict.
const linearProbe = 8

// search returns the first index of arr whose key is ≥ key (len(arr) if
// none): the position of the level with that key, or where to insert it.
func search(arr []levelRef, key uint32) int {
	n := len(arr)
	if n <= linearProbe {
		// Count the entries ≥ key without an early exit: no branch to
		// mispredict on where the scan stops.
		ge := 0
		for _, r := range arr {
			ge += b2i(r.key >= key)
		}
		return n - ge
	}
	tail := arr[n-linearProbe:]
	ge := 0
	for _, r := range tail {
		ge += b2i(r.key >= key)
	}
	if ge < linearProbe {
		return n - ge
	}
	// arr[n-linearProbe:] are all ≥ key: binary search the rest.
	lo, hi := 0, n-linearProbe
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if arr[m].key < key {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// b2i converts a bool to 0 or 1 (compiled to SETcc, no branch).
func b2i(b bool) int {
	var i int
	if b {
		i = 1
	}
	return i
}

// levelFor returns the level (locate, side, price), creating it if absent.
func (b *Book) levelFor(locate uint16, side uint8, price uint32) uint32 {
	in := b.instrument(locate)
	key := price ^ keyMask[side]
	arr := in.sides[side]
	i := search(arr, key)
	if i < len(arr) && arr[i].key == key {
		return arr[i].idx
	}
	li := b.allocLevel()
	lv := &b.levels[li]
	*lv = level{price: price, locate: locate, side: side}
	// append grows the slice only when this side holds more levels than it
	// ever did: amortised, not per message. The shift is a loop rather than
	// copy: it moves a few entries near the best end, where a memmove call
	// costs more than the move.
	arr = append(arr, levelRef{})
	for j := len(arr) - 1; j > i; j-- {
		arr[j] = arr[j-1]
	}
	arr[i] = levelRef{key: key, idx: li}
	in.sides[side] = arr
	return li
}

// dropLevel removes empty level li from its side array and frees it.
func (b *Book) dropLevel(li uint32) {
	lv := &b.levels[li]
	side := lv.side
	if side > ask {
		b.broken("drop of a free level")
		return
	}
	in := &b.inst[lv.locate]
	arr := in.sides[side]
	n := len(arr)
	if n > 0 && arr[n-1].idx == li {
		// The best level: most emptied levels are at the touch.
		in.sides[side] = arr[:n-1]
	} else if i := search(arr, lv.price^keyMask[side]); i < n && arr[i].idx == li {
		for j := i + 1; j < len(arr); j++ {
			arr[j-1] = arr[j]
		}
		in.sides[side] = arr[:len(arr)-1]
	} else {
		b.broken("level missing from its side array")
	}
	// A free level keeps its locate and price (for the checks of the
	// invariants build) and links the free list through head.
	lv.side = sideFree
	lv.head, lv.tail, lv.count, lv.shares = b.freeLevel, 0, 0, 0
	b.freeLevel = li
}

// allocLevel returns a free level index, reusing freed levels first.
func (b *Book) allocLevel() uint32 {
	if f := b.freeLevel; f != 0 {
		b.freeLevel = b.levels[f].head
		return f
	}
	b.levels = append(b.levels, level{})
	return uint32(len(b.levels) - 1)
}

// Queue links are updated without branches on the ends of the queue (which
// are unpredictable): a link to index 0 writes into the sentinel orders[0],
// whose prev and next are scratch, and the level's head and tail are updated
// by conditional moves.

// pushBack appends order oi (ref, shares) to the back of level li's queue.
func (b *Book) pushBack(li, oi uint32, ref uint64, shares uint32) {
	orders := b.orders
	lv := &b.levels[li]
	o := &orders[oi]
	t := lv.tail
	o.ref = ref
	o.shares = shares
	o.level = li
	o.next = 0
	o.prev = t
	orders[t].next = oi // the sentinel when the queue is empty
	head := lv.head
	if t == 0 {
		head = oi
	}
	lv.head = head
	lv.tail = oi
	lv.shares += uint64(shares)
	lv.count++
}

// unlink takes order oi out of its level's queue and totals. It leaves the
// level in place even when it becomes empty: the caller drops or reuses it.
func (b *Book) unlink(li, oi uint32) {
	orders := b.orders
	lv := &b.levels[li]
	o := &orders[oi]
	p, n := o.prev, o.next
	orders[p].next = n // the sentinel at the front
	orders[n].prev = p // the sentinel at the back
	head, tail := lv.head, lv.tail
	if p == 0 {
		head = n
	}
	if n == 0 {
		tail = p
	}
	lv.head, lv.tail = head, tail
	lv.shares -= uint64(o.shares)
	lv.count--
}
