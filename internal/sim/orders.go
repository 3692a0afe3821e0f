package sim

import (
	"cmp"
	"slices"

	"github.com/tickwire/tickwire/codec/itch"
)

// orderModel tracks the live orders of a session for the GLIMPSE snapshot,
// independently of tickwire's book package: a snapshot built with the
// handler's own book would reproduce a book bug and pass its own end-to-end
// tests. It is deliberately simple, a map of live orders by reference, each
// stamped with an arrival number that gives its queue priority within its
// level. It follows the book semantics of PROTOCOLS.md §2.7, and treats
// faulty input as book.Book does (the snapshot must equal what a handler
// that saw the whole history holds):
//
//   - A, F: a new order at the back of its level; ignored if its side is not
//     'B' or 'S', its shares are 0, or its reference is live already (the
//     live order keeps its place and attribution);
//   - E, C, X: shares reduced, the order keeping its place; removed when
//     nothing (or less than nothing) remains; unknown references ignored;
//   - D: removed;
//   - U: the original removed in any case (when known); the new reference
//     inserted at the back of its new level with the original's locate,
//     side and attribution, unless its shares are 0 or it is live already.
//
// Messages must have passed itch.Check. Not safe for concurrent use.
type orderModel struct {
	orders map[uint64]liveOrder
	stamp  uint64 // arrival number of the last order inserted
}

// liveOrder is one live order of an orderModel.
type liveOrder struct {
	locate  uint16
	side    byte
	hasMPID bool
	mpid    [4]byte
	shares  uint32
	price   uint32
	stamp   uint64 // queue priority: older (smaller) first
}

func newOrderModel() *orderModel {
	return &orderModel{orders: make(map[uint64]liveOrder, 1<<12)}
}

// apply updates the model with one checked message; other types than the
// order messages are ignored.
func (om *orderModel) apply(m itch.Message) {
	switch m.Type() {
	case itch.TypeAddOrder:
		v := itch.AddOrder(m)
		om.add(v.Ref(), liveOrder{locate: v.Locate(), side: v.Side(), shares: v.Shares(), price: v.Price()})
	case itch.TypeAddOrderMPID:
		v := itch.AddOrderMPID(m)
		om.add(v.Ref(), liveOrder{locate: v.Locate(), side: v.Side(), shares: v.Shares(), price: v.Price(),
			hasMPID: true, mpid: [4]byte(v.Attribution())})
	case itch.TypeOrderExecuted:
		v := itch.OrderExecuted(m)
		om.reduce(v.Ref(), v.Shares())
	case itch.TypeOrderExecutedWithPrice:
		// Reduced at the order's own price (PROTOCOLS.md §9 pitfall 4).
		v := itch.OrderExecutedWithPrice(m)
		om.reduce(v.Ref(), v.Shares())
	case itch.TypeOrderCancel:
		v := itch.OrderCancel(m)
		om.reduce(v.Ref(), v.Shares())
	case itch.TypeOrderDelete:
		delete(om.orders, itch.OrderDelete(m).Ref())
	case itch.TypeOrderReplace:
		v := itch.OrderReplace(m)
		o, ok := om.orders[v.OrigRef()]
		if !ok {
			return
		}
		delete(om.orders, v.OrigRef())
		o.shares, o.price = v.Shares(), v.Price()
		om.add(v.NewRef(), o)
	}
}

// add inserts o as ref at the back of its level, unless it is invalid or ref
// is live.
func (om *orderModel) add(ref uint64, o liveOrder) {
	if o.side != itch.Buy && o.side != itch.Sell || o.shares == 0 {
		return
	}
	if _, live := om.orders[ref]; live {
		return
	}
	om.stamp++
	o.stamp = om.stamp
	om.orders[ref] = o
}

func (om *orderModel) reduce(ref uint64, n uint32) {
	o, ok := om.orders[ref]
	switch {
	case !ok:
	case n >= o.shares:
		delete(om.orders, ref)
	default:
		o.shares -= n
		om.orders[ref] = o
	}
}

// refOrder is a live order with its reference.
type refOrder struct {
	ref uint64
	liveOrder
}

// sorted appends the live orders to dst in snapshot order: by locate, bids
// before asks, each side best price first (bids highest, asks lowest), each
// level in queue priority.
func (om *orderModel) sorted(dst []refOrder) []refOrder {
	for ref, o := range om.orders {
		dst = append(dst, refOrder{ref, o})
	}
	slices.SortFunc(dst, func(a, b refOrder) int {
		if c := cmp.Compare(a.locate, b.locate); c != 0 {
			return c
		}
		if a.side != b.side {
			if a.side == itch.Buy {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(a.price, b.price); c != 0 {
			if a.side == itch.Buy {
				return -c
			}
			return c
		}
		return cmp.Compare(a.stamp, b.stamp)
	})
	return dst
}
