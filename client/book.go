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
	var levels *[]book.Level
	var before func(a, b uint32) bool // a comes before b on this side
	switch side {
	case itch.Buy:
		levels, before = &in.Bids, higher
	case itch.Sell:
		levels, before = &in.Asks, lower
	default:
		return false
	}
	in.Seq = seq
	ls := *levels
	// Levels change near the top far more often than deep in the book:
	// a linear scan from the best beats a binary search on real books.
	i := 0
	for i < len(ls) && before(ls[i].Price, price) {
		i++
	}
	switch {
	case i < len(ls) && ls[i].Price == price:
		if orders == 0 {
			*levels = slices.Delete(ls, i, i+1)
		} else {
			ls[i].Shares, ls[i].Orders = shares, orders
		}
	case orders != 0:
		*levels = slices.Insert(ls, i, book.Level{Price: price, Shares: shares, Orders: orders})
	}
	return true
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
// (side, price), as an Orders subscription's updates do.
func (b *Book) addToLevel(locate uint16, side byte, price uint32, shares int64, orders int32, seq uint64) {
	in := b.instrument(locate)
	ls := in.Bids
	if side == itch.Sell {
		ls = in.Asks
	}
	var cur book.Level
	for _, l := range ls {
		if l.Price == price {
			cur = l
			break
		}
	}
	sh := int64(cur.Shares) + shares
	n := int64(cur.Orders) + int64(orders)
	if n <= 0 || sh < 0 {
		n, sh = 0, 0
	}
	b.SetLevel(locate, side, price, uint64(sh), uint32(n), seq)
}

func higher(a, b uint32) bool { return a > b }
func lower(a, b uint32) bool  { return a < b }

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
