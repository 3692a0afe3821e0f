package book

import "github.com/tickwire/tickwire/codec/itch"

// ChangeKind says what a Change describes.
type ChangeKind uint8

// Change kinds. The order kinds (ChangeAdd through ChangeReplace) describe
// what happened to one order; ChangeLevel and ChangeTop the aggregate that
// resulted; the rest are messages that leave the book alone but that a
// consumer of the book's output needs.
const (
	// ChangeAdd: order Ref was added (A, F) with Side, Price and Shares.
	ChangeAdd ChangeKind = iota + 1
	// ChangeExecute: order Ref was executed for Shares at its own Price (E).
	// Remaining is what is left (0: the order is gone).
	ChangeExecute
	// ChangeExecuteWithPrice: as ChangeExecute, at ExecPrice (C). The order
	// is reduced at its own Price; Printable is the message's flag.
	ChangeExecuteWithPrice
	// ChangeCancel: Shares of order Ref were cancelled (X); Remaining is
	// what is left (0: the order is gone).
	ChangeCancel
	// ChangeDelete: order Ref was removed (D); Shares is what it had left.
	ChangeDelete
	// ChangeReplace: order Ref (with OldPrice, OldShares) was replaced by
	// order NewRef with Price and Shares on the same Side (U).
	ChangeReplace
	// ChangeLevel: the level (Locate, Side, Price) now holds LevelShares in
	// LevelOrders orders; LevelOrders == 0 means the level is gone.
	// BestChanged reports whether the best price of that side changed.
	ChangeLevel
	// ChangeTop: the best level of Side changed in price or size: it is now
	// Price with LevelShares in LevelOrders orders (LevelOrders == 0: the
	// side is empty).
	ChangeTop
	// ChangeTrade: a non-cross trade against a non-displayed order (P): Ref
	// (often 0), Side, Shares, Price, Match.
	ChangeTrade
	// ChangeCrossTrade: a cross (Q): CrossShares at Price, Match; the cross
	// type is Msg[39].
	ChangeCrossTrade
	// ChangeTradingAction: a Stock Trading Action (H); Msg holds it.
	ChangeTradingAction
	// ChangeRegSHO: a Reg SHO restriction indicator (Y); Msg holds it.
	ChangeRegSHO
	// ChangeLULDCollar: an LULD Auction Collar (J); Msg holds it.
	ChangeLULDCollar
	// ChangeDirectory: a Stock Directory (R), the symbol recorded; Msg
	// holds it.
	ChangeDirectory
	// ChangeBrokenTrade: a Broken Trade (B): Match names the trade.
	ChangeBrokenTrade
	// ChangeMWCBLevels: the Market-Wide Circuit Breaker decline levels
	// (V), market-wide (Locate 0); Msg holds them.
	ChangeMWCBLevels
	// ChangeMWCBBreach: a Market-Wide Circuit Breaker level breached (W),
	// market-wide (Locate 0); Msg holds it.
	ChangeMWCBBreach
)

var changeNames = [...]string{
	ChangeAdd:              "add",
	ChangeExecute:          "execute",
	ChangeExecuteWithPrice: "execute-with-price",
	ChangeCancel:           "cancel",
	ChangeDelete:           "delete",
	ChangeReplace:          "replace",
	ChangeLevel:            "level",
	ChangeTop:              "top",
	ChangeTrade:            "trade",
	ChangeCrossTrade:       "cross-trade",
	ChangeTradingAction:    "trading-action",
	ChangeRegSHO:           "reg-sho",
	ChangeLULDCollar:       "luld-collar",
	ChangeDirectory:        "directory",
	ChangeBrokenTrade:      "broken-trade",
	ChangeMWCBLevels:       "mwcb-levels",
	ChangeMWCBBreach:       "mwcb-breach",
}

// messageKinds is the kind of each message type that changes no order.
var messageKinds = [256]ChangeKind{
	itch.TypeTrade:              ChangeTrade,
	itch.TypeCrossTrade:         ChangeCrossTrade,
	itch.TypeStockTradingAction: ChangeTradingAction,
	itch.TypeRegSHORestriction:  ChangeRegSHO,
	itch.TypeLULDAuctionCollar:  ChangeLULDCollar,
	itch.TypeStockDirectory:     ChangeDirectory,
	itch.TypeBrokenTrade:        ChangeBrokenTrade,
	itch.TypeMWCBDeclineLevel:   ChangeMWCBLevels,
	itch.TypeMWCBStatus:         ChangeMWCBBreach,
}

// String returns the kind's name, e.g. "level".
func (k ChangeKind) String() string {
	if int(k) < len(changeNames) && changeNames[k] != "" {
		return changeNames[k]
	}
	return "unknown-change"
}

// Change describes one change made by one message. The fields a kind does
// not name are zero. Prices have 4 implied decimals; Side is itch.Buy or
// itch.Sell.
type Change struct {
	Seq       uint64 // the seq passed to Apply
	Timestamp uint64 // the message's Timestamp: nanoseconds since midnight
	Ref       uint64 // order reference (the original of a U)
	NewRef    uint64 // the new reference of a U
	Match     uint64 // match number of E, C, P, Q

	LevelShares uint64 // ChangeLevel, ChangeTop: the level's total shares after the change
	CrossShares uint64 // ChangeCrossTrade: shares of the cross (64 bits in Q)

	Price     uint32 // the order's price (the new one of a U), the level's, the trade's
	Shares    uint32 // shares added, executed, cancelled, deleted; the new shares of a U
	Remaining uint32 // order kinds: the order's remaining shares after the change (0: gone)
	OldPrice  uint32 // ChangeReplace: the original's price
	OldShares uint32 // ChangeReplace: the original's remaining shares when replaced
	ExecPrice uint32 // ChangeExecuteWithPrice: the execution price

	LevelOrders uint32 // ChangeLevel, ChangeTop: orders at the level after the change (0: gone)

	Locate      uint16
	Kind        ChangeKind
	Side        byte
	BestChanged bool // ChangeLevel: the best price of Side changed
	Printable   byte // ChangeExecuteWithPrice: the Printable flag

	// Msg is the message Apply was given. It aliases the caller's buffer
	// and is valid only until Listener.Change returns.
	Msg itch.Message
}

// Listener receives the changes Apply makes, in order, for each message. The
// book calls Change synchronously on the goroutine that called Apply, once
// per change: a message produces several (an order change, then each level
// it changed, then each side whose top changed), or none (a message that
// names an unknown reference, or that the book ignores). c points to a
// Change the Book reuses: it and c.Msg are valid only until Change returns,
// and Change must not modify them (copy *c to keep it; the copy's Msg still
// aliases the caller's buffer).
// Change must not call Apply or Reset; it may call the Book's queries, which
// reflect the book after the whole message.
type Listener interface {
	Change(c *Change)
}

// ListenerFunc adapts a function to a Listener.
type ListenerFunc func(c *Change)

// Change calls f(c).
func (f ListenerFunc) Change(c *Change) { f(c) }

// SetListener sets the listener Apply reports changes to; nil removes it.
// Without a listener Apply costs one nil check more than it did without one.
func (b *Book) SetListener(l Listener) { b.lis = l }

// WithListener sets the Book's listener (see SetListener).
func WithListener(l Listener) Option { return func(o *Options) { o.Listener = l } }

// top is the best level of one side as a listener sees it.
type top struct {
	price  uint32
	orders uint32
	shares uint64
}

// topOf returns the best level of (locate, side); the zero top if the side
// is empty.
func (b *Book) topOf(locate uint16, side uint8) top {
	if int(locate) >= len(b.inst) {
		return top{}
	}
	arr := b.inst[locate].sides[side]
	if len(arr) == 0 {
		return top{}
	}
	lv := &b.levels[arr[len(arr)-1].idx]
	return top{price: lv.price, orders: lv.count, shares: lv.shares}
}

// levelAt returns the level (locate, side, price); orders == 0 if it is
// absent.
func (b *Book) levelAt(locate uint16, side uint8, price uint32) top {
	if int(locate) >= len(b.inst) {
		return top{price: price}
	}
	arr := b.inst[locate].sides[side]
	key := price ^ keyMask[side]
	if i := search(arr, key); i < len(arr) && arr[i].key == key {
		lv := &b.levels[arr[i].idx]
		return top{price: price, orders: lv.count, shares: lv.shares}
	}
	return top{price: price}
}

// sideByte is the Buy/Sell Indicator of a stored side.
var sideByte = [2]byte{bid: itch.Buy, ask: itch.Sell}

// before is what the listener path records about an order before the
// message is applied.
type before struct {
	live   bool
	locate uint16
	side   uint8
	price  uint32
	shares uint32
	top    top
}

// orderBefore records order ref and the top of its side.
func (b *Book) orderBefore(ref uint64) before {
	_, oi := b.lookup(ref)
	if oi == 0 {
		return before{}
	}
	o := &b.orders[oi]
	lv := &b.levels[o.level]
	return before{live: true, locate: lv.locate, side: lv.side, price: lv.price, shares: o.shares,
		top: b.topOf(lv.locate, lv.side)}
}

// applyNotify is Apply with a listener: it records what the message is
// about, applies it through the same code as Apply, and reports the
// difference. It costs a few lookups more than Apply; Apply without a
// listener pays none of it.
func (b *Book) applyNotify(seq uint64, m itch.Message) {
	c := &b.chg
	*c = Change{Seq: seq, Msg: m}
	c.Locate, c.Timestamp = m.Locate(), m.Timestamp()
	var ref uint64
	switch m.Type() {
	case itch.TypeAddOrder, itch.TypeAddOrderMPID:
		// A and F share the layout of their first 36 bytes.
		v := itch.AddOrder(m[:itch.LenAddOrder])
		ref = v.Ref()
		c.Kind, c.Ref, c.Price, c.Shares = ChangeAdd, ref, v.Price(), v.Shares()
		sd, ok := sideIndex(v.Side())
		if !ok {
			b.apply(seq, m) // a bad side: an anomaly, no change
			return
		}
		t0 := b.topOf(c.Locate, sd)
		live := b.live
		b.apply(seq, m)
		if b.live == live {
			return // a duplicate, zero shares: an anomaly, no change
		}
		c.Side, c.Remaining = sideByte[sd], c.Shares
		locate, price := c.Locate, c.Price
		b.emit(c)
		b.emitLevel(locate, sd, price, t0)
		b.emitTop(locate, sd, t0)
		return
	case itch.TypeOrderExecuted:
		v := itch.OrderExecuted(m)
		ref = v.Ref()
		c.Kind, c.Shares, c.Match = ChangeExecute, v.Shares(), v.Match()
	case itch.TypeOrderExecutedWithPrice:
		v := itch.OrderExecutedWithPrice(m)
		ref = v.Ref()
		c.Kind, c.Shares, c.Match = ChangeExecuteWithPrice, v.Shares(), v.Match()
		c.ExecPrice, c.Printable = v.ExecPrice(), v.Printable()
	case itch.TypeOrderCancel:
		v := itch.OrderCancel(m)
		ref = v.Ref()
		c.Kind, c.Shares = ChangeCancel, v.Shares()
	case itch.TypeOrderDelete:
		ref = itch.OrderDelete(m).Ref()
		c.Kind = ChangeDelete
	case itch.TypeOrderReplace:
		b.replaceNotify(seq, m)
		return
	case itch.TypeTrade:
		v := itch.Trade(m)
		c.Ref, c.Side, c.Shares, c.Price, c.Match = v.Ref(), v.Side(), v.Shares(), v.Price(), v.Match()
	case itch.TypeCrossTrade:
		v := itch.CrossTrade(m)
		c.CrossShares, c.Price, c.Match = v.Shares(), v.CrossPrice(), v.Match()
	case itch.TypeBrokenTrade:
		c.Match = itch.BrokenTrade(m).Match()
	case itch.TypeStockTradingAction, itch.TypeRegSHORestriction, itch.TypeLULDAuctionCollar,
		itch.TypeMWCBDeclineLevel, itch.TypeMWCBStatus:
		// The book ignores them; Msg carries their fields.
	case itch.TypeStockDirectory:
		b.apply(seq, m)
	default:
		b.apply(seq, m)
		return
	}
	if c.Kind == 0 {
		// A message that changes no order: reported as it is.
		c.Kind = messageKinds[m.Type()]
		b.emit(c)
		return
	}
	// E, C, X, D: a reduction of a live order.
	o := b.orderBefore(ref)
	b.apply(seq, m)
	if !o.live {
		return // unknown reference: an anomaly, no change
	}
	c.Ref, c.Locate, c.Side, c.Price = ref, o.locate, sideByte[o.side], o.price
	if c.Kind == ChangeDelete {
		c.Shares = o.shares
	} else {
		c.Remaining = o.shares - min(o.shares, c.Shares) // an over-execution removes the order
	}
	b.emit(c)
	b.emitLevel(o.locate, o.side, o.price, o.top)
	b.emitTop(o.locate, o.side, o.top)
}

// replaceNotify reports a U: the replace, the original's level, the new
// order's level when it differs, and the top. A U whose new order is dropped
// (zero shares, a duplicate new reference) reports the removal of the
// original as a ChangeDelete.
func (b *Book) replaceNotify(seq uint64, m itch.Message) {
	c := &b.chg
	v := itch.OrderReplace(m)
	ref, newRef := v.OrigRef(), v.NewRef()
	o := b.orderBefore(ref)
	live := b.live
	b.apply(seq, m)
	if !o.live {
		return
	}
	c.Ref, c.Locate, c.Side = ref, o.locate, sideByte[o.side]
	added := b.live == live // else the original only was removed
	if added {
		c.Kind, c.NewRef, c.Price, c.Shares, c.Remaining = ChangeReplace, newRef, v.Price(), v.Shares(), v.Shares()
		c.OldPrice, c.OldShares = o.price, o.shares
	} else {
		c.Kind, c.Price, c.Shares = ChangeDelete, o.price, o.shares
	}
	b.emit(c)
	// emitLevel reuses c: nothing of it is read after this point.
	b.emitLevel(o.locate, o.side, o.price, o.top)
	if price := v.Price(); added && price != o.price {
		b.emitLevel(o.locate, o.side, price, o.top)
	}
	b.emitTop(o.locate, o.side, o.top)
}

// emitLevel reports the level (locate, side, price) as it is now; t0 is the
// top of the side before the message.
func (b *Book) emitLevel(locate uint16, side uint8, price uint32, t0 top) {
	c := &b.chg
	lv := b.levelAt(locate, side, price)
	t1 := b.topOf(locate, side)
	*c = Change{Seq: c.Seq, Timestamp: c.Timestamp, Msg: c.Msg, Kind: ChangeLevel, Locate: locate,
		Side: sideByte[side], Price: price, LevelShares: lv.shares, LevelOrders: lv.orders,
		BestChanged: t0.price != t1.price || (t0.orders == 0) != (t1.orders == 0)}
	b.emit(c)
}

// emitTop reports the top of (locate, side) if it differs from t0.
func (b *Book) emitTop(locate uint16, side uint8, t0 top) {
	t1 := b.topOf(locate, side)
	if t1 == t0 {
		return
	}
	c := &b.chg
	*c = Change{Seq: c.Seq, Timestamp: c.Timestamp, Msg: c.Msg, Kind: ChangeTop, Locate: locate,
		Side: sideByte[side], Price: t1.price, LevelShares: t1.shares, LevelOrders: t1.orders}
	b.emit(c)
}

// emit calls the listener.
func (b *Book) emit(c *Change) { b.lis.Change(c) }
