package pipeline

import (
	"fmt"

	"github.com/tickwire/tickwire/codec/itch"
)

// crossCheck is the state the invariants build keeps to check that books
// are not crossed where the feed says they must not be: during market hours
// (System Event 'Q' to 'M'), for an instrument whose Stock Trading Action
// says it is trading on Nasdaq ('T'). Auctions, halts and pre-market books
// may lock or cross, and so may any book after a gap or a fault, when orders
// the feed removed are still in it: the check stands down then.
type crossCheck struct {
	open    bool
	trading []byte // Trading State by stock locate
}

// checkCrossed runs after m was applied, in the invariants build only (the
// caller guards it with invariants.Enabled), and panics when a gap-free,
// fault-free book in continuous trading is crossed: that is a bug in the
// book, not in the feed.
func (p *Pipeline) checkCrossed(seq uint64, m itch.Message) {
	c := &p.cross
	if c.trading == nil {
		c.trading = make([]byte, 1<<16)
	}
	switch m.Type() {
	case itch.TypeSystemEvent:
		switch itch.SystemEvent(m).EventCode() {
		case itch.EventStartOfMarketHours:
			c.open = true
		case itch.EventEndOfMarketHours:
			c.open = false
		}
	case itch.TypeStockTradingAction:
		c.trading[m.Locate()] = itch.StockTradingAction(m).TradingState()
	case itch.TypeAddOrder, itch.TypeAddOrderMPID, itch.TypeOrderReplace:
		l := m.Locate()
		if c.open && c.trading[l] == 'T' && p.st.Gaps == 0 && p.book.Faults(l) == 0 && p.book.Crossed(l) {
			bid, ask, _ := p.book.Best(l)
			panic(fmt.Sprintf("invariants: sequence %d: %s (locate %d) crossed in continuous trading: bid %d >= ask %d",
				seq, p.book.Symbol(l), l, bid.Price, ask.Price))
		}
	}
}
