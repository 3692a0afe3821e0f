package client

import (
	"bufio"
	"io"
	"slices"

	"github.com/tickwire/tickwire/book"
	"github.com/tickwire/tickwire/codec/itch"
)

// Book is a client's mirror of the daemon's books by price level: for each
// instrument subscribed, every level of both sides as the server's snapshot
// and the level updates after it say. It is kept by one goroutine (the
// client's loop) and is not safe for concurrent use; SetLevel and the other
// updates allocate nothing once an instrument's sides have grown to their
// deepest.
type Book struct {
	inst []*Instrument // by stock locate; nil: never seen
	live []uint16      // locates seen, unordered
}

// Instrument is one instrument's mirrored book and state.
type Instrument struct {
	Locate uint16
	Symbol [8]byte // the Stock Directory's, space padded
	// Bids best (highest) first, Asks best (lowest) first.
	Bids, Asks []book.Level
	// TradingState is the ITCH Stock Trading Action's state ('H', 'P',
	// 'Q', 'T'), 0 before one is known.
	TradingState byte
	// Suspect: the daemon could not apply all of this instrument's
	// messages (after a gap): its book may be wrong.
	Suspect bool
	// Seq is the feed sequence number of the last message reflected.
	Seq uint64

	depth   Depth // of the latest snapshot
	partial bool  // a snapshot in parts is being received
}

// NewBook returns an empty mirror.
func NewBook() *Book { return &Book{inst: make([]*Instrument, 1<<16)} }

// Instrument returns the mirror of the instrument at locate, or nil.
func (b *Book) Instrument(locate uint16) *Instrument { return b.inst[locate] }

// instrument returns the instrument at locate, creating it.
func (b *Book) instrument(locate uint16) *Instrument {
	in := b.inst[locate]
	if in == nil {
		in = &Instrument{Locate: locate}
		b.inst[locate] = in
		b.live = append(b.live, locate)
	}
	return in
}

// Reset starts the instrument at locate afresh, as a snapshot does: its
// symbol, state and suspicion as given, no levels, at feed sequence seq.
// The levels' storage is kept for reuse.
func (b *Book) Reset(locate uint16, symbol [8]byte, state byte, suspect bool, seq uint64) *Instrument {
	in := b.instrument(locate)
	in.Symbol, in.TradingState, in.Suspect, in.Seq = symbol, state, suspect, seq
	in.Bids, in.Asks = in.Bids[:0], in.Asks[:0]
	return in
}

// SetLevel sets the level (side, price) of the instrument at locate to
// shares in orders orders; orders == 0 removes it. side is itch.Buy or
// itch.Sell; anything else is ignored (false).
func (b *Book) SetLevel(locate uint16, side byte, price uint32, shares uint64, orders uint32, seq uint64) bool {
	in := b.instrument(locate)
	levels := in.side(side)
	if levels == nil {
		return false
	}
	in.Seq = seq
	i, found := find(*levels, side, price)
	set(levels, i, found, price, shares, orders)
	return true
}

// side returns the levels of side (itch.Buy or itch.Sell), or nil.
func (in *Instrument) side(side byte) *[]book.Level {
	switch side {
	case itch.Buy:
		return &in.Bids
	case itch.Sell:
		return &in.Asks
	}
	return nil
}

// find returns where price is, or would go, in the levels ls of side, and
// whether it is there. Levels change near the top far more often than deep
// in the book: a linear scan from the best beats a binary search on real
// books.
func find(ls []book.Level, side byte, price uint32) (int, bool) {
	i := 0
	if side == itch.Buy {
		for i < len(ls) && ls[i].Price > price {
			i++
		}
	} else {
		for i < len(ls) && ls[i].Price < price {
			i++
		}
	}
	return i, i < len(ls) && ls[i].Price == price
}

// set makes level i of *levels, which find returned for price, shares in
// orders orders; orders == 0 removes it.
func set(levels *[]book.Level, i int, found bool, price uint32, shares uint64, orders uint32) {
	switch {
	case found && orders == 0:
		*levels = slices.Delete(*levels, i, i+1)
	case found:
		(*levels)[i].Shares, (*levels)[i].Orders = shares, orders
	case orders != 0:
		*levels = slices.Insert(*levels, i, book.Level{Price: price, Shares: shares, Orders: orders})
	}
}

// setTop makes (price, shares, orders) the only level of side, as a Top
// subscription's updates say; orders == 0 empties the side.
func (b *Book) setTop(locate uint16, side byte, price uint32, shares uint64, orders uint32, seq uint64) {
	in := b.instrument(locate)
	in.Seq = seq
	levels := &in.Bids
	if side == itch.Sell {
		levels = &in.Asks
	} else if side != itch.Buy {
		return
	}
	*levels = (*levels)[:0]
	if orders != 0 {
		*levels = append(*levels, book.Level{Price: price, Shares: shares, Orders: orders})
	}
}

// addToLevel adds shares and orders (negative: takes them) to the level
// (side, price), as an Orders subscription's updates do; a level left with
// no orders or fewer than no shares is removed.
func (b *Book) addToLevel(locate uint16, side byte, price uint32, shares int64, orders int32, seq uint64) {
	in := b.instrument(locate)
	levels := in.side(side)
	if levels == nil {
		return
	}
	in.Seq = seq
	i, found := find(*levels, side, price)
	var cur book.Level
	if found {
		cur = (*levels)[i]
	}
	sh := int64(cur.Shares) + shares
	n := int64(cur.Orders) + int64(orders)
	if n <= 0 || sh < 0 {
		n, sh = 0, 0
	}
	set(levels, i, found, price, uint64(sh), uint32(n))
}

// WriteBooks writes every mirrored instrument in the books format of
// `tickwire replay --books` (book.AppendBooksLine), in locate order, so a
// mirror compares with cmp against the daemon's books and a replay's.
func (b *Book) WriteBooks(w io.Writer) error {
	locs := slices.Clone(b.live)
	slices.Sort(locs)
	bw := bufio.NewWriterSize(w, 1<<16)
	var line []byte
	for _, l := range locs {
		in := b.inst[l]
		line = book.AppendBooksLine(line[:0], l, symbol(&in.Symbol), in.Bids, in.Asks, in.Suspect)
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// symbol returns a symbol without its padding (spaces, or the zeros of one
// never named).
func symbol(s *[8]byte) []byte {
	n := len(s)
	for n > 0 && (s[n-1] == ' ' || s[n-1] == 0) {
		n--
	}
	return s[:n]
}
