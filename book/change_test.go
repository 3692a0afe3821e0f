package book

import (
	"fmt"
	"slices"
	"testing"

	"github.com/tickwire/tickwire/codec/itch"
)

// encoder is an itch.*Msg.
type encoder interface{ Append(dst []byte) []byte }

// recorder is a Listener that formats every change.
type recorder struct{ got []string }

func (r *recorder) Change(c *Change) { r.got = append(r.got, formatChange(c)) }

// formatChange prints the fields a kind defines, and the seq and timestamp.
func formatChange(c *Change) string {
	s := fmt.Sprintf("%d@%d %v loc=%d", c.Seq, c.Timestamp, c.Kind, c.Locate)
	switch c.Kind {
	case ChangeAdd, ChangeExecute, ChangeCancel, ChangeDelete:
		s += fmt.Sprintf(" ref=%d %c %s shares=%d rem=%d", c.Ref, c.Side, formatPrice(c.Price), c.Shares, c.Remaining)
	case ChangeExecuteWithPrice:
		s += fmt.Sprintf(" ref=%d %c %s shares=%d rem=%d at=%s printable=%c", c.Ref, c.Side, formatPrice(c.Price), c.Shares, c.Remaining, formatPrice(c.ExecPrice), c.Printable)
	case ChangeReplace:
		s += fmt.Sprintf(" ref=%d %c %s x%d -> ref=%d %s x%d", c.Ref, c.Side, formatPrice(c.OldPrice), c.OldShares, c.NewRef, formatPrice(c.Price), c.Shares)
	case ChangeLevel:
		s += fmt.Sprintf(" %c %s total=%d orders=%d best=%v", c.Side, formatPrice(c.Price), c.LevelShares, c.LevelOrders, c.BestChanged)
	case ChangeTop:
		s += fmt.Sprintf(" %c %s total=%d orders=%d", c.Side, formatPrice(c.Price), c.LevelShares, c.LevelOrders)
	case ChangeTrade:
		s += fmt.Sprintf(" ref=%d %c %s shares=%d match=%d", c.Ref, c.Side, formatPrice(c.Price), c.Shares, c.Match)
	case ChangeCrossTrade:
		s += fmt.Sprintf(" %s shares=%d match=%d", formatPrice(c.Price), c.CrossShares, c.Match)
	case ChangeBrokenTrade:
		s += fmt.Sprintf(" match=%d", c.Match)
	default:
		s += fmt.Sprintf(" msg=%c/%d", c.Msg.Type(), len(c.Msg))
	}
	return s
}

// TestChanges checks the changes each message kind reports, on the book
//
//	B 10.0000  ref 1 x100, ref 2 x200
//	B  9.9900  ref 3 x50
//	S 10.0100  ref 4 x100
//
// of locate 1, with the case's own setup applied first.
func TestChanges(t *testing.T) {
	hdr := itch.Header{Locate: 1, Timestamp: 777}
	base := []encoder{
		&itch.AddOrderMsg{Header: hdr, Ref: 1, Side: itch.Buy, Shares: 100, Price: 100_000},
		&itch.AddOrderMsg{Header: hdr, Ref: 2, Side: itch.Buy, Shares: 200, Price: 100_000},
		&itch.AddOrderMsg{Header: hdr, Ref: 3, Side: itch.Buy, Shares: 50, Price: 99_900},
		&itch.AddOrderMsg{Header: hdr, Ref: 4, Side: itch.Sell, Shares: 100, Price: 100_100},
	}
	const p = "100@777 " // seq and timestamp of the message under test
	for _, tc := range []struct {
		name      string
		setup     []encoder
		msg       encoder
		want      []string
		anomalies uint64
	}{{
		name: "add at a new best",
		msg:  &itch.AddOrderMsg{Header: hdr, Ref: 10, Side: itch.Buy, Shares: 30, Price: 100_200},
		want: []string{
			p + "add loc=1 ref=10 B 10.0200 shares=30 rem=30",
			p + "level loc=1 B 10.0200 total=30 orders=1 best=true",
			p + "top loc=1 B 10.0200 total=30 orders=1",
		},
	}, {
		name: "add with MPID at the best",
		msg:  &itch.AddOrderMPIDMsg{Header: hdr, Ref: 10, Side: itch.Buy, Shares: 30, Price: 100_000, Attribution: itch.Alpha4("MPID")},
		want: []string{
			p + "add loc=1 ref=10 B 10.0000 shares=30 rem=30",
			p + "level loc=1 B 10.0000 total=330 orders=3 best=false",
			p + "top loc=1 B 10.0000 total=330 orders=3",
		},
	}, {
		name: "add behind the touch",
		msg:  &itch.AddOrderMsg{Header: hdr, Ref: 10, Side: itch.Sell, Shares: 30, Price: 100_500},
		want: []string{
			p + "add loc=1 ref=10 S 10.0500 shares=30 rem=30",
			p + "level loc=1 S 10.0500 total=30 orders=1 best=false",
		},
	}, {
		name: "execute",
		msg:  &itch.OrderExecutedMsg{Header: hdr, Ref: 1, Shares: 40, Match: 9},
		want: []string{
			p + "execute loc=1 ref=1 B 10.0000 shares=40 rem=60",
			p + "level loc=1 B 10.0000 total=260 orders=2 best=false",
			p + "top loc=1 B 10.0000 total=260 orders=2",
		},
	}, {
		name: "execute with price, the whole order",
		msg:  &itch.OrderExecutedWithPriceMsg{Header: hdr, Ref: 2, Shares: 200, Match: 9, Printable: 'Y', ExecPrice: 100_500},
		want: []string{
			p + "execute-with-price loc=1 ref=2 B 10.0000 shares=200 rem=0 at=10.0500 printable=Y",
			p + "level loc=1 B 10.0000 total=100 orders=1 best=false",
			p + "top loc=1 B 10.0000 total=100 orders=1",
		},
	}, {
		name:  "execute that empties the best level",
		setup: []encoder{&itch.OrderDeleteMsg{Header: hdr, Ref: 2}},
		msg:   &itch.OrderExecutedMsg{Header: hdr, Ref: 1, Shares: 100},
		want: []string{
			p + "execute loc=1 ref=1 B 10.0000 shares=100 rem=0",
			p + "level loc=1 B 10.0000 total=0 orders=0 best=true",
			p + "top loc=1 B 9.9900 total=50 orders=1",
		},
	}, {
		name: "over-execution: the order is removed, an anomaly",
		msg:  &itch.OrderExecutedMsg{Header: hdr, Ref: 3, Shares: 80},
		want: []string{
			p + "execute loc=1 ref=3 B 9.9900 shares=80 rem=0",
			p + "level loc=1 B 9.9900 total=0 orders=0 best=false",
		},
		anomalies: 1,
	}, {
		name: "cancel, partial",
		msg:  &itch.OrderCancelMsg{Header: hdr, Ref: 3, Shares: 20},
		want: []string{
			p + "cancel loc=1 ref=3 B 9.9900 shares=20 rem=30",
			p + "level loc=1 B 9.9900 total=30 orders=1 best=false",
		},
	}, {
		name: "cancel to zero",
		msg:  &itch.OrderCancelMsg{Header: hdr, Ref: 3, Shares: 50},
		want: []string{
			p + "cancel loc=1 ref=3 B 9.9900 shares=50 rem=0",
			p + "level loc=1 B 9.9900 total=0 orders=0 best=false",
		},
	}, {
		name: "delete of the only ask",
		msg:  &itch.OrderDeleteMsg{Header: hdr, Ref: 4},
		want: []string{
			p + "delete loc=1 ref=4 S 10.0100 shares=100 rem=0",
			p + "level loc=1 S 10.0100 total=0 orders=0 best=true",
			p + "top loc=1 S 0.0000 total=0 orders=0",
		},
	}, {
		name: "replace at the same level",
		msg:  &itch.OrderReplaceMsg{Header: hdr, OrigRef: 1, NewRef: 11, Shares: 80, Price: 100_000},
		want: []string{
			p + "replace loc=1 ref=1 B 10.0000 x100 -> ref=11 10.0000 x80",
			p + "level loc=1 B 10.0000 total=280 orders=2 best=false",
			p + "top loc=1 B 10.0000 total=280 orders=2",
		},
	}, {
		name: "replace to a new best level",
		msg:  &itch.OrderReplaceMsg{Header: hdr, OrigRef: 3, NewRef: 12, Shares: 50, Price: 100_300},
		want: []string{
			p + "replace loc=1 ref=3 B 9.9900 x50 -> ref=12 10.0300 x50",
			p + "level loc=1 B 9.9900 total=0 orders=0 best=true",
			p + "level loc=1 B 10.0300 total=50 orders=1 best=true",
			p + "top loc=1 B 10.0300 total=50 orders=1",
		},
	}, {
		name: "replace to an existing level",
		msg:  &itch.OrderReplaceMsg{Header: hdr, OrigRef: 1, NewRef: 1, Shares: 10, Price: 99_900},
		want: []string{
			p + "replace loc=1 ref=1 B 10.0000 x100 -> ref=1 9.9900 x10",
			p + "level loc=1 B 10.0000 total=200 orders=1 best=false",
			p + "level loc=1 B 9.9900 total=60 orders=2 best=false",
			p + "top loc=1 B 10.0000 total=200 orders=1",
		},
	}, {
		name: "replace with zero shares: the original is deleted, an anomaly",
		msg:  &itch.OrderReplaceMsg{Header: hdr, OrigRef: 4, NewRef: 13, Shares: 0, Price: 100_100},
		want: []string{
			p + "delete loc=1 ref=4 S 10.0100 shares=100 rem=0",
			p + "level loc=1 S 10.0100 total=0 orders=0 best=true",
			p + "top loc=1 S 0.0000 total=0 orders=0",
		},
		anomalies: 1,
	}, {
		name: "replace to a live reference: the original is deleted, an anomaly",
		msg:  &itch.OrderReplaceMsg{Header: hdr, OrigRef: 3, NewRef: 2, Shares: 5, Price: 99_900},
		want: []string{
			p + "delete loc=1 ref=3 B 9.9900 shares=50 rem=0",
			p + "level loc=1 B 9.9900 total=0 orders=0 best=false",
		},
		anomalies: 1,
	}, {
		name:      "execute of an unknown reference: no change, an anomaly",
		msg:       &itch.OrderExecutedMsg{Header: hdr, Ref: 99, Shares: 1},
		anomalies: 1,
	}, {
		name:      "replace of an unknown reference: no change, an anomaly",
		msg:       &itch.OrderReplaceMsg{Header: hdr, OrigRef: 99, NewRef: 100, Shares: 1, Price: 1},
		anomalies: 1,
	}, {
		name:      "add of a live reference: no change, an anomaly",
		msg:       &itch.AddOrderMsg{Header: hdr, Ref: 2, Side: itch.Buy, Shares: 1, Price: 100_000},
		anomalies: 1,
	}, {
		name:      "add with a bad side: no change, an anomaly",
		msg:       &itch.AddOrderMsg{Header: hdr, Ref: 20, Side: 'Z', Shares: 1, Price: 100_000},
		anomalies: 1,
	}, {
		name: "trade",
		msg:  &itch.TradeMsg{Header: hdr, Ref: 0, Side: itch.Buy, Shares: 300, Stock: itch.Alpha8("ABC"), Price: 100_050, Match: 5},
		want: []string{p + "trade loc=1 ref=0 B 10.0050 shares=300 match=5"},
	}, {
		name: "cross trade",
		msg:  &itch.CrossTradeMsg{Header: hdr, Shares: 1 << 33, Stock: itch.Alpha8("ABC"), CrossPrice: 100_050, Match: 6, CrossType: 'O'},
		want: []string{p + "cross-trade loc=1 10.0050 shares=8589934592 match=6"},
	}, {
		name: "broken trade",
		msg:  &itch.BrokenTradeMsg{Header: hdr, Match: 5},
		want: []string{p + "broken-trade loc=1 match=5"},
	}, {
		name: "market-wide circuit breaker levels",
		msg:  &itch.MWCBDeclineLevelMsg{Header: itch.Header{Timestamp: 777}, Level1: 1, Level2: 2, Level3: 3},
		want: []string{p + "mwcb-levels loc=0 msg=V/35"},
	}, {
		name: "market-wide circuit breaker breached",
		msg:  &itch.MWCBStatusMsg{Header: itch.Header{Timestamp: 777}, BreachedLevel: '1'},
		want: []string{p + "mwcb-breach loc=0 msg=W/12"},
	}, {
		name: "trading action",
		msg:  &itch.StockTradingActionMsg{Header: hdr, Stock: itch.Alpha8("ABC"), TradingState: 'H', Reason: itch.Alpha4("T1")},
		want: []string{p + "trading-action loc=1 msg=H/25"},
	}, {
		name: "reg sho",
		msg:  &itch.RegSHORestrictionMsg{Header: hdr, Stock: itch.Alpha8("ABC"), RegSHOAction: '1'},
		want: []string{p + "reg-sho loc=1 msg=Y/20"},
	}, {
		name: "luld collar",
		msg:  &itch.LULDAuctionCollarMsg{Header: hdr, Stock: itch.Alpha8("ABC"), CollarRefPrice: 1},
		want: []string{p + "luld-collar loc=1 msg=J/35"},
	}, {
		name: "directory",
		msg:  &itch.StockDirectoryMsg{Header: hdr, Stock: itch.Alpha8("ABC")},
		want: []string{p + "directory loc=1 msg=R/39"},
	}, {
		name: "ignored: system event",
		msg:  &itch.SystemEventMsg{Header: hdr, EventCode: 'O'},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			b := New(WithOrders(8), WithInstruments(2))
			var seq uint64
			for _, e := range append(slices.Clip(base), tc.setup...) {
				seq++
				applyChecked(t, b, seq, e.Append(nil))
			}
			r := &recorder{}
			b.SetListener(r)
			applyChecked(t, b, 100, tc.msg.Append(nil))
			if !slices.Equal(r.got, tc.want) {
				t.Errorf("changes:\n\t%s\nwant:\n\t%s", join(r.got), join(tc.want))
			}
			if a := b.Anomalies(); a.Total() != tc.anomalies {
				t.Errorf("anomalies %v, want %d", a.Counts, tc.anomalies)
			}
		})
	}
}

func applyChecked(t *testing.T, b *Book, seq uint64, msg []byte) {
	t.Helper()
	if err := itch.Check(msg); err != nil {
		t.Fatalf("%c: %v", msg[0], err)
	}
	b.Apply(seq, msg)
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += "\n\t"
		}
		out += x
	}
	return out
}

// TestListenerReset checks that Reset keeps the listener and SetListener(nil)
// removes it.
func TestListenerReset(t *testing.T) {
	r := &recorder{}
	b := New(WithListener(r))
	add := &itch.AddOrderMsg{Header: itch.Header{Locate: 1}, Ref: 1, Side: itch.Buy, Shares: 1, Price: 1}
	applyChecked(t, b, 1, add.Append(nil))
	b.Reset()
	applyChecked(t, b, 2, add.Append(nil))
	if len(r.got) != 6 {
		t.Fatalf("%d changes over two adds around Reset, want 6: %v", len(r.got), r.got)
	}
	b.SetListener(nil)
	b.Reset()
	applyChecked(t, b, 3, add.Append(nil))
	if len(r.got) != 6 {
		t.Fatalf("changes reported after SetListener(nil): %v", r.got[6:])
	}
}
