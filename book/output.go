package book

import "github.com/tickwire/tickwire/codec/itch"

// Level is one aggregated price level.
type Level struct {
	Price  uint32 // Price(4): 4 implied decimals
	Shares uint64 // total remaining shares of its orders
	Orders uint32 // number of orders
}

// sideIndex maps a Buy/Sell Indicator to a stored side.
func sideIndex(side byte) (uint8, bool) {
	switch side {
	case itch.Buy:
		return bid, true
	case itch.Sell:
		return ask, true
	}
	return 0, false
}

// sideOf returns the side array of (locate, side), nil if there is none.
func (b *Book) sideOf(locate uint16, side byte) []levelRef {
	s, ok := sideIndex(side)
	if !ok || int(locate) >= len(b.inst) {
		return nil
	}
	return b.inst[locate].sides[s]
}

// levelOf converts a stored level.
func (b *Book) levelOf(li uint32) Level {
	lv := &b.levels[li]
	return Level{Price: lv.price, Shares: lv.shares, Orders: lv.count}
}

// AppendLevels appends every level of one side of locate to dst, best first:
// bids from the highest price down, asks from the lowest up. side is itch.Buy
// or itch.Sell; any other value, or an unknown locate, appends nothing. It
// does not allocate when dst has room.
func (b *Book) AppendLevels(dst []Level, locate uint16, side byte) []Level {
	arr := b.sideOf(locate, side)
	for i := len(arr) - 1; i >= 0; i-- {
		dst = append(dst, b.levelOf(arr[i].idx))
	}
	return dst
}

// Best returns the best bid and ask levels of locate. An empty side is the
// zero Level (Orders == 0); ok reports whether either side has a level.
func (b *Book) Best(locate uint16) (bidLevel, askLevel Level, ok bool) {
	if int(locate) >= len(b.inst) {
		return Level{}, Level{}, false
	}
	in := &b.inst[locate]
	if arr := in.sides[bid]; len(arr) > 0 {
		bidLevel = b.levelOf(arr[len(arr)-1].idx)
		ok = true
	}
	if arr := in.sides[ask]; len(arr) > 0 {
		askLevel = b.levelOf(arr[len(arr)-1].idx)
		ok = true
	}
	return bidLevel, askLevel, ok
}

// Crossed reports whether locate has both sides and its best bid is at or
// above its best ask (locked or crossed). ITCH books may lock or cross
// briefly (during crosses, or when an order is added before the one it
// trades against is removed), so this is information, not an inconsistency;
// a book that stays crossed suggests missed messages.
func (b *Book) Crossed(locate uint16) bool {
	bl, al, _ := b.Best(locate)
	return bl.Orders > 0 && al.Orders > 0 && bl.Price >= al.Price
}

// Locates appends to dst, in ascending order, the locates known from a Stock
// Directory message or holding at least one order, and returns the extended
// slice.
func (b *Book) Locates(dst []uint16) []uint16 {
	for i := range b.inst {
		in := &b.inst[i]
		if in.listed || len(in.sides[bid]) > 0 || len(in.sides[ask]) > 0 {
			dst = append(dst, uint16(i))
		}
	}
	return dst
}

// Symbol returns the symbol of locate from its Stock Directory message,
// without padding, or nil if none was seen. The result aliases the Book: it
// is valid until the next call to Apply or Reset and must not be modified.
func (b *Book) Symbol(locate uint16) []byte {
	if int(locate) >= len(b.inst) || !b.inst[locate].listed {
		return nil
	}
	in := &b.inst[locate]
	return in.sym[:in.symLen:in.symLen]
}

// LiveOrders returns the number of orders in the book.
func (b *Book) LiveOrders() int { return b.live }

// Orders calls fn for each order of the level (locate, side, price) in queue
// order, front (oldest priority) first, with its reference and remaining
// shares, until fn returns false. fn must not call Apply or Reset.
func (b *Book) Orders(locate uint16, side byte, price uint32, fn func(ref uint64, shares uint32) bool) {
	s, ok := sideIndex(side)
	if !ok {
		return
	}
	arr := b.sideOf(locate, side)
	key := price ^ keyMask[s]
	i := search(arr, key)
	if i == len(arr) || arr[i].key != key {
		return
	}
	for oi := b.levels[arr[i].idx].head; oi != 0; {
		o := &b.orders[oi]
		next := o.next
		if !fn(o.ref, o.shares) {
			return
		}
		oi = next
	}
}
