package book

import "fmt"

// CheckInvariants checks the whole book and returns nil or an error wrapping
// ErrInvariant that describes the first inconsistency:
//   - every level in a side array is in use, belongs to that instrument and
//     side, is sorted strictly by price with the best last, and is not
//     empty; its shares equal the sum of its orders' remaining shares and
//     its count equals the length of its queue, whose links agree both ways;
//   - every order in a queue points back to its level and has shares;
//   - every slot of the order table names a distinct live order, which
//     lookup finds from the home of its reference;
//   - live orders, table entries, queue members and the slab minus its free
//     list are the same set; every level is either listed or free.
//
// Crossed books are not inconsistencies (see Crossed). It takes time linear
// in the size of the book and allocates: for tests, debugging and periodic
// audits, not per message.
func (b *Book) CheckInvariants() error {
	if b.bugs > 0 {
		return fmt.Errorf("%w: %d internal errors, first: %s", ErrInvariant, b.bugs, b.bugMsg)
	}
	nOrders, nLevels := len(b.orders), len(b.levels)
	// orders[0].prev and .next are scratch for the branch-free queue links.
	if o := b.orders[0]; o.ref != 0 || o.shares != 0 || o.level != 0 {
		return fmt.Errorf("%w: order sentinel modified: %+v", ErrInvariant, o)
	}
	if lv := b.levels[0]; lv != (level{}) {
		return fmt.Errorf("%w: level sentinel modified: %+v", ErrInvariant, lv)
	}

	// Free lists.
	orderFree := make([]bool, nOrders)
	nFree := 0
	for oi := b.freeOrder; oi != 0; oi = b.orders[oi].next {
		if int(oi) >= nOrders || orderFree[oi] {
			return fmt.Errorf("%w: order free list corrupt at %d", ErrInvariant, oi)
		}
		if b.orders[oi].level != 0 {
			return fmt.Errorf("%w: free order %d has level %d", ErrInvariant, oi, b.orders[oi].level)
		}
		orderFree[oi] = true
		nFree++
	}
	levelFree := make([]bool, nLevels)
	nFreeLevels := 0
	for li := b.freeLevel; li != 0; li = b.levels[li].head {
		if int(li) >= nLevels || levelFree[li] {
			return fmt.Errorf("%w: level free list corrupt at %d", ErrInvariant, li)
		}
		if lv := &b.levels[li]; lv.side != sideFree || lv.count != 0 {
			return fmt.Errorf("%w: free level %d in use: %+v", ErrInvariant, li, *lv)
		}
		levelFree[li] = true
		nFreeLevels++
	}

	// Levels and queues.
	inQueue := make([]bool, nOrders)
	levelSeen := make([]bool, nLevels)
	queued, listed := 0, 0
	for loc := range b.inst {
		for s, arr := range b.inst[loc].sides {
			for i, r := range arr {
				li := r.idx
				if li == 0 || int(li) >= nLevels || levelFree[li] || levelSeen[li] {
					return fmt.Errorf("%w: locate %d side %d entry %d: bad level %d", ErrInvariant, loc, s, i, li)
				}
				levelSeen[li] = true
				listed++
				lv := &b.levels[li]
				if int(lv.locate) != loc || int(lv.side) != s || lv.price^keyMask[s] != r.key {
					return fmt.Errorf("%w: level %d (%+v) listed under locate %d side %d key %d", ErrInvariant, li, *lv, loc, s, r.key)
				}
				if i > 0 && arr[i-1].key >= r.key {
					return fmt.Errorf("%w: locate %d side %d not sorted at %d", ErrInvariant, loc, s, i)
				}
				n, err := b.checkQueue(li, inQueue)
				if err != nil {
					return err
				}
				queued += n
			}
		}
	}
	if listed+nFreeLevels != nLevels-1 {
		return fmt.Errorf("%w: %d levels listed + %d free != %d allocated", ErrInvariant, listed, nFreeLevels, nLevels-1)
	}

	// Order table against slab.
	n := uint64(len(b.slots))
	occupied := 0
	inTable := make([]bool, nOrders)
	for pos, oi := range b.slots {
		if oi == 0 {
			continue
		}
		occupied++
		if int(oi) >= nOrders || orderFree[oi] || inTable[oi] {
			return fmt.Errorf("%w: slot %d names bad order %d", ErrInvariant, pos, oi)
		}
		inTable[oi] = true
		o := &b.orders[oi]
		if !inQueue[oi] {
			return fmt.Errorf("%w: order %d (ref %d) in the table but in no queue", ErrInvariant, oi, o.ref)
		}
		if p, found := b.lookup(o.ref); found != oi || p != uint64(pos) {
			return fmt.Errorf("%w: ref %d at slot %d not found from its home %d", ErrInvariant, o.ref, pos, home(o.ref, n))
		}
	}
	if occupied != b.live || queued != b.live || nOrders-1-nFree != b.live {
		return fmt.Errorf("%w: live %d, table %d, queued %d, slab in use %d", ErrInvariant, b.live, occupied, queued, nOrders-1-nFree)
	}
	if b.live >= len(b.slots) || b.limit > len(b.slots)/slotsPerOrder {
		return fmt.Errorf("%w: table of %d slots over its load: live %d, limit %d", ErrInvariant, len(b.slots), b.live, b.limit)
	}
	return nil
}

// checkQueue checks level li's queue and totals, marks its orders in
// inQueue, and returns their number.
func (b *Book) checkQueue(li uint32, inQueue []bool) (int, error) {
	lv := &b.levels[li]
	if lv.count == 0 {
		return 0, fmt.Errorf("%w: empty level %d (%+v) remains", ErrInvariant, li, *lv)
	}
	var sum uint64
	var n uint32
	prev := uint32(0)
	for oi := lv.head; oi != 0; oi = b.orders[oi].next {
		if int(oi) >= len(b.orders) || n > lv.count || (inQueue != nil && inQueue[oi]) {
			return 0, fmt.Errorf("%w: level %d queue corrupt at order %d", ErrInvariant, li, oi)
		}
		o := &b.orders[oi]
		if o.level != li || o.prev != prev || o.shares == 0 {
			return 0, fmt.Errorf("%w: order %d (%+v) in the queue of level %d after %d", ErrInvariant, oi, *o, li, prev)
		}
		if inQueue != nil {
			inQueue[oi] = true
		}
		sum += uint64(o.shares)
		n++
		prev = oi
	}
	if lv.tail != prev {
		return 0, fmt.Errorf("%w: level %d tail %d, queue ends at %d", ErrInvariant, li, lv.tail, prev)
	}
	if n != lv.count || sum != lv.shares {
		return 0, fmt.Errorf("%w: level %d (%+v): queue holds %d orders, %d shares", ErrInvariant, li, *lv, n, sum)
	}
	return int(n), nil
}

// checkOp checks, in builds with the invariants tag, what one operation
// touched: level li is either listed and consistent or free and unlisted,
// and ref is in the table (pointing at an order holding ref) iff wantLive.
// It panics on a violation: that is a bug in this package.
func (b *Book) checkOp(li uint32, ref uint64, wantLive bool) {
	if err := b.checkTouched(li, ref, wantLive); err != nil {
		panic(err)
	}
}

func (b *Book) checkTouched(li uint32, ref uint64, wantLive bool) error {
	lv := &b.levels[li]
	if lv.side == sideFree {
		in := &b.inst[lv.locate]
		for s := range in.sides {
			for _, r := range in.sides[s] {
				if r.idx == li {
					return fmt.Errorf("%w: free level %d still listed", ErrInvariant, li)
				}
			}
		}
	} else {
		arr := b.inst[lv.locate].sides[lv.side]
		key := lv.price ^ keyMask[lv.side]
		if i := search(arr, key); i == len(arr) || arr[i].idx != li {
			return fmt.Errorf("%w: level %d (%+v) not listed", ErrInvariant, li, *lv)
		}
		if _, err := b.checkQueue(li, nil); err != nil {
			return err
		}
	}
	if ref == 0 {
		return nil
	}
	_, oi := b.lookup(ref)
	switch {
	case wantLive && oi == 0:
		return fmt.Errorf("%w: ref %d missing from the table", ErrInvariant, ref)
	case !wantLive && oi != 0:
		return fmt.Errorf("%w: ref %d still in the table", ErrInvariant, ref)
	case oi != 0 && (b.orders[oi].ref != ref || b.orders[oi].level == 0):
		return fmt.Errorf("%w: ref %d names slab entry %d (%+v)", ErrInvariant, ref, oi, b.orders[oi])
	}
	return nil
}
