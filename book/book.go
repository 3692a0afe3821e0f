package book

import (
	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/internal/invariants"
)

// order is one live order in the slab (24 bytes: see the package
// documentation, Memory). Its locate, side and price are those of its level.
type order struct {
	ref    uint64 // Order Reference Number
	shares uint32 // remaining shares, > 0 while live
	level  uint32 // index of its level; 0 marks a free slab entry
	prev   uint32 // previous order in the level's queue (towards the front), 0 at the front
	next   uint32 // next order in the queue, 0 at the back; next free entry when free
}

// level is one price level of one side of one instrument (32 bytes).
type level struct {
	shares uint64 // sum of the remaining shares of its orders
	price  uint32
	count  uint32 // number of orders in the queue
	head   uint32 // front of the queue (oldest); next free level when free
	tail   uint32 // back of the queue (newest)
	locate uint16
	side   uint8 // bid, ask, or sideFree
}

// instrument is the fixed per-locate state: 72 bytes plus its two side arrays
// (8 bytes per price level).
type instrument struct {
	sides  [2][]levelRef // bid, ask; sorted by key, best last
	faults uint64        // anomalies attributed to this locate
	sym    [8]byte       // symbol from the Stock Directory, trimmed
	symLen uint8
	listed bool // seen in a Stock Directory message
}

// maxLocates is the number of distinct stock locates (u16).
const maxLocates = 1 << 16

// Book holds the order-by-order books of every instrument of one shard of an
// ITCH feed.
//
// A Book is not safe for concurrent use: one goroutine applies messages and
// reads the results (or the caller serialises every call). It never blocks.
// It allocates only when it grows: past its sizing hints, to a higher locate,
// or when a side of an instrument or the whole book holds more price levels
// than it ever did; in steady state Apply allocates nothing.
type Book struct {
	// Order table (table.go) and order slab. orders[0] is a sentinel: slab
	// index 0 means "none" in slots and queue links.
	slots     []uint32 // slab indices, 0 empty
	live      int      // live orders: occupied slots
	limit     int      // live orders the table holds before it doubles
	orders    []order
	freeOrder uint32 // head of the free list through order.next

	// Level pool; levels[0] is a sentinel.
	levels    []level
	freeLevel uint32 // head of the free list through level.head

	inst []instrument // indexed by stock locate

	anomalies anomalyLog
	bugs      uint64 // internal inconsistencies met outside the invariants build
	bugMsg    string // the first one

	lis Listener // nil: Apply reports nothing (change.go)
	chg Change   // the Change passed to lis, reused
}

// New returns an empty Book sized by the options.
func New(opts ...Option) *Book {
	o := Options{Orders: DefaultOrders, Instruments: DefaultInstruments}
	for _, opt := range opts {
		opt(&o)
	}
	if o.Orders <= 0 {
		o.Orders = DefaultOrders
	}
	if o.Orders > maxOrders-1 {
		o.Orders = maxOrders - 1
	}
	if o.Instruments <= 0 {
		o.Instruments = DefaultInstruments
	}
	if o.Instruments > maxLocates {
		o.Instruments = maxLocates
	}
	b := &Book{
		slots:  make([]uint32, tableSize(o.Orders)),
		orders: make([]order, 1, o.Orders+1),
		levels: make([]level, 1, 64),
		inst:   make([]instrument, o.Instruments),
		lis:    o.Listener,
	}
	b.limit = len(b.slots) / slotsPerOrder
	return b
}

// Reset empties the book for a new trading day: orders, levels, symbols,
// faults and anomalies are cleared; the allocated capacity is kept, so Reset
// does not allocate. The listener is kept.
func (b *Book) Reset() {
	clear(b.slots)
	b.live = 0
	b.orders = b.orders[:1]
	b.freeOrder = 0
	b.levels = b.levels[:1]
	b.freeLevel = 0
	for i := range b.inst {
		in := &b.inst[i]
		*in = instrument{sides: [2][]levelRef{in.sides[bid][:0], in.sides[ask][:0]}}
	}
	b.anomalies = anomalyLog{}
	b.bugs, b.bugMsg = 0, ""
}

// Apply applies one ITCH message with transport sequence number seq to the
// book. A, F, E, C, X, D and U change the book as described in the package
// documentation; R records the symbol of its locate; every other type (P, Q,
// B, status messages) is ignored. Faults of the feed are counted as
// anomalies (see Anomalies) and never disturb any other order. m is not
// retained.
//
// m must have passed itch.Check: Apply does not check lengths again (the
// callers in this module, internal/pipeline and feed.SnapshotLoader, check
// every message once). An empty message, or a book message shorter than
// its type's length, panics (index out of range); a longer one is read as
// its type's fields.
//
// With a listener (SetListener, WithListener), Apply reports each change it
// made to it before returning (see Listener); without one, the only cost is
// the nil check.
func (b *Book) Apply(seq uint64, m itch.Message) {
	if b.lis != nil {
		b.applyNotify(seq, m)
		return
	}
	b.apply(seq, m)
}

// apply is Apply without the listener. Each case reslices m to its type's
// length: one bounds check, which lets the compiler drop the accessors'.
func (b *Book) apply(seq uint64, m itch.Message) {
	switch m.Type() {
	case itch.TypeAddOrder:
		v := itch.AddOrder(m[:itch.LenAddOrder])
		b.add(seq, v.Locate(), v.Ref(), v.Side(), v.Shares(), v.Price())
	case itch.TypeOrderDelete:
		v := itch.OrderDelete(m[:itch.LenOrderDelete])
		b.del(seq, v.Locate(), v.Ref())
	case itch.TypeOrderReplace:
		v := itch.OrderReplace(m[:itch.LenOrderReplace])
		b.replace(seq, v.Locate(), v.OrigRef(), v.NewRef(), v.Shares(), v.Price())
	case itch.TypeOrderExecuted:
		v := itch.OrderExecuted(m[:itch.LenOrderExecuted])
		b.reduce(seq, v.Locate(), v.Ref(), v.Shares(), AnomalyOverExecution)
	case itch.TypeOrderCancel:
		v := itch.OrderCancel(m[:itch.LenOrderCancel])
		b.reduce(seq, v.Locate(), v.Ref(), v.Shares(), AnomalyOverCancel)
	case itch.TypeOrderExecutedWithPrice:
		// The execution price is for trade output only: the order is
		// reduced at its own price (PROTOCOLS.md §2.7, §9 pitfall 4).
		v := itch.OrderExecutedWithPrice(m[:itch.LenOrderExecutedWithPrice])
		b.reduce(seq, v.Locate(), v.Ref(), v.Shares(), AnomalyOverExecution)
	case itch.TypeAddOrderMPID:
		v := itch.AddOrderMPID(m[:itch.LenAddOrderMPID])
		b.add(seq, v.Locate(), v.Ref(), v.Side(), v.Shares(), v.Price())
	case itch.TypeStockDirectory:
		v := itch.StockDirectory(m[:itch.LenStockDirectory])
		b.directory(v.Locate(), v.Stock())
	}
}

// add inserts order ref at the back of its level (A, F).
func (b *Book) add(seq uint64, locate uint16, ref uint64, side byte, shares, price uint32) {
	// Buy and sell arrive at random: decode the side without a branch on
	// which it is (a mispredicted branch costs more than the compares).
	isBuy, isSell := b2i(side == itch.Buy), b2i(side == itch.Sell)
	if isBuy|isSell == 0 {
		b.anomaly(seq, AnomalyBadSide, ref, locate)
		return
	}
	sd := uint8(isSell)
	if shares == 0 {
		b.anomaly(seq, AnomalyZeroShares, ref, locate)
		return
	}
	if b.live >= b.limit {
		b.growTable()
	}
	pos, dup := b.lookup(ref)
	if dup != 0 {
		b.duplicate(seq, locate, ref, dup)
		return
	}
	oi := b.allocOrder()
	if oi == 0 {
		b.anomaly(seq, AnomalyCapacity, ref, locate)
		return
	}
	li := b.levelFor(locate, sd, price)
	b.slots[pos] = oi
	b.live++
	b.pushBack(li, oi, ref, shares)
	if invariants.Enabled {
		b.checkOp(li, ref, true)
	}
}

// duplicate counts an add of ref while order dup holds it. The live order is
// kept; both instruments are marked as suspect.
func (b *Book) duplicate(seq uint64, locate uint16, ref uint64, dup uint32) {
	b.anomaly(seq, AnomalyDuplicateRef, ref, locate)
	if other := b.levels[b.orders[dup].level].locate; other != locate {
		b.inst[other].faults++
	}
}

// reduce subtracts shares from order ref (E, C, X). The order keeps its place
// in the queue; it is removed when nothing remains. A reduction beyond the
// remaining shares is counted as over and removes the order.
func (b *Book) reduce(seq uint64, locate uint16, ref uint64, shares uint32, over AnomalyKind) {
	pos, oi := b.lookup(ref)
	if oi == 0 {
		b.anomaly(seq, AnomalyUnknownRef, ref, locate)
		return
	}
	o := &b.orders[oi]
	li := o.level
	if shares < o.shares {
		o.shares -= shares
		b.levels[li].shares -= uint64(shares)
		if invariants.Enabled {
			b.checkOp(li, ref, true)
		}
		return
	}
	if shares > o.shares {
		b.anomaly(seq, over, ref, b.levels[li].locate)
	}
	b.remove(pos, oi, li)
	if invariants.Enabled {
		b.checkOp(li, ref, false)
	}
}

// del removes order ref (D).
func (b *Book) del(seq uint64, locate uint16, ref uint64) {
	pos, oi := b.lookup(ref)
	if oi == 0 {
		b.anomaly(seq, AnomalyUnknownRef, ref, locate)
		return
	}
	li := b.orders[oi].level
	b.remove(pos, oi, li)
	if invariants.Enabled {
		b.checkOp(li, ref, false)
	}
}

// remove deletes the order in slot pos, slab entry oi at level li, from the
// table, its queue and the slab, and drops its level if it empties.
func (b *Book) remove(pos uint64, oi, li uint32) {
	b.deleteSlot(pos)
	b.unlink(li, oi)
	if b.levels[li].count == 0 {
		b.dropLevel(li)
	}
	b.freeOrderIdx(oi)
}

// replace removes order origRef and inserts newRef with the new shares and
// price, the original's locate and side, at the back of its level (U).
func (b *Book) replace(seq uint64, locate uint16, origRef, newRef uint64, shares, price uint32) {
	pos, oi := b.lookup(origRef)
	if oi == 0 {
		b.anomaly(seq, AnomalyUnknownRef, origRef, locate)
		return
	}
	li := b.orders[oi].level
	lv := &b.levels[li]
	loc, side, oldPrice := lv.locate, lv.side, lv.price
	b.deleteSlot(pos)
	b.unlink(li, oi)
	// The original is gone whatever happens to the new reference: the
	// exchange has replaced it.
	if shares == 0 {
		b.anomaly(seq, AnomalyZeroShares, newRef, loc)
		b.release(li, oi)
		return
	}
	// One slot was just freed, so the insertion needs no growth check. The
	// unlinked original keeps its ref in the slab until pushBack, but it is
	// in no slot, so lookup cannot find it.
	npos, dup := b.lookup(newRef)
	if dup != 0 {
		b.duplicate(seq, loc, newRef, dup)
		b.release(li, oi)
		return
	}
	nli := li
	if price != oldPrice {
		if b.levels[li].count == 0 {
			b.dropLevel(li)
		}
		nli = b.levelFor(loc, side, price)
	}
	// The slab entry is reused for the new reference.
	b.slots[npos] = oi
	b.live++
	b.pushBack(nli, oi, newRef, shares)
	if invariants.Enabled {
		b.checkOp(li, origRef, origRef == newRef)
		b.checkOp(nli, newRef, true)
	}
}

// release frees slab entry oi, already unlinked from level li, and drops the
// level if it is empty.
func (b *Book) release(li, oi uint32) {
	if b.levels[li].count == 0 {
		b.dropLevel(li)
	}
	b.freeOrderIdx(oi)
	if invariants.Enabled {
		b.checkOp(li, 0, false)
	}
}

// directory records the symbol of a locate (R).
func (b *Book) directory(locate uint16, stock []byte) {
	in := b.instrument(locate)
	sym := itch.TrimAlpha(stock)
	in.sym = [8]byte{}
	in.symLen = uint8(copy(in.sym[:], sym))
	in.listed = true
}

// instrument returns the state of locate, growing the array to cover it.
func (b *Book) instrument(locate uint16) *instrument {
	if int(locate) >= len(b.inst) {
		b.growInstruments(int(locate) + 1)
	}
	return &b.inst[locate]
}

// growInstruments extends the per-locate array to at least n entries,
// doubling to amortise.
func (b *Book) growInstruments(n int) {
	c := max(n, 2*len(b.inst))
	c = min(c, maxLocates)
	grown := make([]instrument, c)
	copy(grown, b.inst)
	b.inst = grown
}

// broken records an internal inconsistency: a bug, never a feed fault. It
// panics in builds with the invariants tag; otherwise it is counted and
// reported by CheckInvariants, and the book carries on.
func (b *Book) broken(msg string) {
	if invariants.Enabled {
		panic(ErrInvariant.Error() + ": " + msg)
	}
	if b.bugs == 0 {
		b.bugMsg = msg
	}
	b.bugs++
}
