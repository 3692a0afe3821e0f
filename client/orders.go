package client

import (
	"iter"
	"math/bits"
	"math/rand/v2"
)

// order is one order of an Orders subscription, as the mirror keeps it to
// find the level of an execution or cancel, which names only the order.
type order struct {
	locate uint16
	side   byte
	price  uint32
	shares uint32
}

// orders maps order references to orders: open addressing with linear
// probing in a table at most half full, and deletion by shifting the
// entries after a hole back, so that no tombstones build up under the
// feed's steady adds and deletes. Against the runtime's map, which was 70%
// of the Orders mirror's apply, it hashes with one multiplication, and lets
// an execution find and change its order in one probe sequence instead of
// a lookup and then an assignment.
//
// The multiplier is random and odd (multiply-shift hashing), so that a
// server cannot choose references that all collide. The table grows to the
// most orders it has held, and then allocates nothing. It is not safe for
// concurrent use.
type orders struct {
	slots []orderSlot // len 0 or a power of two
	n     int
	mul   uint64
	shift uint // 64 - log2(len(slots))
}

type orderSlot struct {
	ref  uint64
	o    order
	used bool
}

// minOrderSlots is the table's first size.
const minOrderSlots = 64

// home is the slot where ref's probe sequence starts.
func (t *orders) home(ref uint64) int { return int((ref * t.mul) >> t.shift) }

// find returns the slot of ref, or -1.
func (t *orders) find(ref uint64) int {
	if len(t.slots) == 0 {
		return -1
	}
	mask := len(t.slots) - 1
	for i := t.home(ref); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if !s.used {
			return -1
		}
		if s.ref == ref {
			return i
		}
	}
}

// get returns the order of ref.
func (t *orders) get(ref uint64) (order, bool) {
	if i := t.find(ref); i >= 0 {
		return t.slots[i].o, true
	}
	return order{}, false
}

// put sets the order of ref, replacing any.
func (t *orders) put(ref uint64, o order) {
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	mask := len(t.slots) - 1
	for i := t.home(ref); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if !s.used {
			*s = orderSlot{ref: ref, o: o, used: true}
			t.n++
			return
		}
		if s.ref == ref {
			s.o = o
			return
		}
	}
}

// grow doubles the table (or makes its first) and reinserts every order.
func (t *orders) grow() {
	old := t.slots
	size := max(2*len(old), minOrderSlots)
	t.slots, t.n = make([]orderSlot, size), 0
	t.shift = uint(64 - bits.TrailingZeros(uint(size)))
	if t.mul == 0 {
		t.mul = rand.Uint64() | 1
	}
	for i := range old {
		if old[i].used {
			t.put(old[i].ref, old[i].o)
		}
	}
}

// deleteAt empties slot i, which is used, and moves back the entries after
// it whose probe sequences pass through it.
func (t *orders) deleteAt(i int) {
	mask := len(t.slots) - 1
	for j := (i + 1) & mask; t.slots[j].used; j = (j + 1) & mask {
		// The entry at j may fill the hole at i if its home is not
		// cyclically in (i, j]: its probe sequence passed through i.
		if h := t.home(t.slots[j].ref); (j-h)&mask >= (j-i)&mask {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = orderSlot{}
	t.n--
}

// remove forgets the order of ref, if any.
func (t *orders) remove(ref uint64) {
	if i := t.find(ref); i >= 0 {
		t.deleteAt(i)
	}
}

// len is the number of orders.
func (t *orders) len() int { return t.n }

// reset forgets every order, keeping the table.
func (t *orders) reset() {
	clear(t.slots)
	t.n = 0
}

// removeLocate forgets the orders of instrument loc.
func (t *orders) removeLocate(loc uint16) {
	// deleteAt only moves entries back into the hole at i, which is
	// examined again, or from slots already examined into slots already
	// examined (after a wrap): none is skipped.
	for i := 0; i < len(t.slots); {
		if s := &t.slots[i]; s.used && s.o.locate == loc {
			t.deleteAt(i)
			continue
		}
		i++
	}
}

// all yields every order, in no particular order. The table must not
// change during the iteration.
func (t *orders) all() iter.Seq2[uint64, order] {
	return func(yield func(uint64, order) bool) {
		for i := range t.slots {
			if s := &t.slots[i]; s.used && !yield(s.ref, s.o) {
				return
			}
		}
	}
}
