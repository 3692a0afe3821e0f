package book

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/tickwire/tickwire/codec/itch"
)

// TestDataDriven runs the scripts in testdata. Each message command encodes
// one ITCH message with the codec, checks it with itch.Check and applies it
// with Apply under the next sequence number (1, 2, ...). It prints "ok", or
// the anomalies the message raised. After every command the whole book is
// checked with CheckInvariants.
//
//	add ref=R side=B|S shares=N price=P [locate=L] [mpid=XXXX]   A (F with mpid)
//	execute ref=R shares=N [locate=L]                             E
//	execute-price ref=R shares=N price=P [printable=Y|N]          C
//	cancel ref=R shares=N                                         X
//	delete ref=R                                                  D
//	replace ref=R new=R2 shares=N price=P                         U
//	directory locate=L symbol=SYM                                 R
//	other types=PQB... [locate=L] [ref=R]   one message of each listed type
//	print [locate=L]                        the ladder of L, or of every locate
//	anomalies                               counts and records
//	reset
//
// Prices are decimal ("10.02"); the locate defaults to 1. The ladder prints
// asks from the highest price down to the best, then bids from the best
// down, one level per line: side, price, total shares, (order count), then
// the queue front first as ref:shares.
//
// The scripts are the regular files directly in testdata (testdata/fuzz holds
// fuzz corpora).
func TestDataDriven(t *testing.T) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		n++
		path := filepath.Join("testdata", e.Name())
		t.Run(e.Name(), func(t *testing.T) {
			d := &driver{b: New(WithOrders(4), WithInstruments(2))}
			datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
				out := d.run(t, td)
				if err := d.b.CheckInvariants(); err != nil {
					t.Fatalf("%s: %v", td.Pos, err)
				}
				return out
			})
		})
	}
	if n == 0 {
		t.Fatal("no scripts in testdata")
	}
}

type driver struct {
	b   *Book
	seq uint64
	buf []byte
}

func (d *driver) run(t *testing.T, td *datadriven.TestData) string {
	locate := uint16(1)
	if td.HasArg("locate") {
		var l uint64
		td.ScanArgs(t, "locate", &l)
		locate = uint16(l)
	}
	hdr := itch.Header{Locate: locate, Tracking: 7, Timestamp: 34200_000_000_000 + d.seq}
	u64 := func(key string) uint64 {
		var v uint64
		td.ScanArgs(t, key, &v)
		return v
	}
	price := func(key string) uint32 {
		var s string
		td.ScanArgs(t, key, &s)
		p, err := parsePrice(s)
		if err != nil {
			td.Fatalf(t, "%v", err)
		}
		return p
	}
	d.buf = d.buf[:0]
	switch td.Cmd {
	case "add":
		var side string
		td.ScanArgs(t, "side", &side)
		if td.HasArg("mpid") {
			var mpid string
			td.ScanArgs(t, "mpid", &mpid)
			m := itch.AddOrderMPIDMsg{Header: hdr, Ref: u64("ref"), Side: side[0], Shares: uint32(u64("shares")),
				Stock: itch.Alpha8("TEST"), Price: price("price"), Attribution: itch.Alpha4(mpid)}
			return d.apply(t, m.Append(d.buf))
		}
		m := itch.AddOrderMsg{Header: hdr, Ref: u64("ref"), Side: side[0], Shares: uint32(u64("shares")),
			Stock: itch.Alpha8("TEST"), Price: price("price")}
		return d.apply(t, m.Append(d.buf))
	case "execute":
		m := itch.OrderExecutedMsg{Header: hdr, Ref: u64("ref"), Shares: uint32(u64("shares")), Match: 1000 + d.seq}
		return d.apply(t, m.Append(d.buf))
	case "execute-price":
		printable := "Y"
		td.MaybeScanArgs(t, "printable", &printable)
		m := itch.OrderExecutedWithPriceMsg{Header: hdr, Ref: u64("ref"), Shares: uint32(u64("shares")),
			Match: 1000 + d.seq, Printable: printable[0], ExecPrice: price("price")}
		return d.apply(t, m.Append(d.buf))
	case "cancel":
		m := itch.OrderCancelMsg{Header: hdr, Ref: u64("ref"), Shares: uint32(u64("shares"))}
		return d.apply(t, m.Append(d.buf))
	case "delete":
		m := itch.OrderDeleteMsg{Header: hdr, Ref: u64("ref")}
		return d.apply(t, m.Append(d.buf))
	case "replace":
		m := itch.OrderReplaceMsg{Header: hdr, OrigRef: u64("ref"), NewRef: u64("new"),
			Shares: uint32(u64("shares")), Price: price("price")}
		return d.apply(t, m.Append(d.buf))
	case "directory":
		var sym string
		td.ScanArgs(t, "symbol", &sym)
		m := itch.StockDirectoryMsg{Header: hdr, Stock: itch.Alpha8(sym), MarketCategory: 'Q',
			FinancialStatus: 'N', RoundLotSize: 100, RoundLotsOnly: 'N', IssueClassification: 'C',
			IssueSubType: [2]byte{'Z', ' '}, Authenticity: 'P', ShortSaleThreshold: 'N', IPOFlag: ' ',
			LULDRefPriceTier: '1', ETPFlag: 'N', InverseIndicator: 'N'}
		return d.apply(t, m.Append(d.buf))
	case "other":
		var types string
		td.ScanArgs(t, "types", &types)
		var ref uint64
		td.MaybeScanArgs(t, "ref", &ref)
		var out strings.Builder
		for _, typ := range []byte(types) {
			msg := otherMessage(t, typ, hdr, ref)
			fmt.Fprintf(&out, "%c: %s\n", typ, d.apply(t, msg))
		}
		return out.String()
	case "print":
		if td.HasArg("locate") {
			return d.ladder(locate)
		}
		var out strings.Builder
		for _, l := range d.b.Locates(nil) {
			out.WriteString(d.ladder(l))
		}
		fmt.Fprintf(&out, "live orders: %d\n", d.b.LiveOrders())
		return out.String()
	case "anomalies":
		return formatAnomalies(d.b.Anomalies())
	case "reset":
		d.b.Reset()
		d.seq = 0
		return "ok"
	default:
		td.Fatalf(t, "unknown command %q", td.Cmd)
		return ""
	}
}

// apply checks and applies one encoded message and reports the anomalies it
// raised.
func (d *driver) apply(t *testing.T, msg []byte) string {
	t.Helper()
	if err := itch.Check(msg); err != nil {
		t.Fatalf("encoded message fails itch.Check: %v", err)
	}
	d.seq++
	before := d.b.Anomalies()
	d.b.Apply(d.seq, itch.Message(msg))
	return d.newAnomalies(before)
}

func (d *driver) newAnomalies(before Anomalies) string {
	after := d.b.Anomalies()
	if after.Total() == before.Total() {
		return "ok"
	}
	var out strings.Builder
	for k := range NumAnomalyKinds {
		if n := after.Counts[k] - before.Counts[k]; n > 0 {
			fmt.Fprintf(&out, "anomaly: %s\n", k)
		}
	}
	return out.String()
}

// ladder prints the book of one locate.
func (d *driver) ladder(locate uint16) string {
	b := d.b
	var out strings.Builder
	fmt.Fprintf(&out, "%d", locate)
	if sym := b.Symbol(locate); sym != nil {
		fmt.Fprintf(&out, " %s", sym)
	}
	if b.Crossed(locate) {
		out.WriteString(" crossed")
	}
	if f := b.Faults(locate); f > 0 {
		fmt.Fprintf(&out, " faults=%d", f)
	}
	bids := b.AppendLevels(nil, locate, itch.Buy)
	asks := b.AppendLevels(nil, locate, itch.Sell)
	if len(bids)+len(asks) == 0 {
		out.WriteString(" (empty)")
	}
	out.WriteString("\n")
	level := func(side byte, l Level) {
		fmt.Fprintf(&out, "  %c %s %d (%d):", side, formatPrice(l.Price), l.Shares, l.Orders)
		b.Orders(locate, side, l.Price, func(ref uint64, shares uint32) bool {
			fmt.Fprintf(&out, " %d:%d", ref, shares)
			return true
		})
		out.WriteString("\n")
	}
	for i := len(asks) - 1; i >= 0; i-- {
		level('S', asks[i])
	}
	for _, l := range bids {
		level('B', l)
	}
	return out.String()
}

func formatAnomalies(a Anomalies) string {
	var out strings.Builder
	for k := range NumAnomalyKinds {
		if a.Counts[k] > 0 {
			fmt.Fprintf(&out, "%s: %d\n", k, a.Counts[k])
		}
	}
	if a.Total() == 0 {
		out.WriteString("none\n")
	}
	for _, r := range a.Records {
		fmt.Fprintf(&out, "seq=%d %s ref=%d locate=%d\n", r.Seq, r.Kind, r.Ref, r.Locate)
	}
	return out.String()
}

// parsePrice parses a decimal price with up to 4 decimals into Price(4).
func parsePrice(s string) (uint32, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 4 {
		return 0, fmt.Errorf("price %q has more than 4 decimals", s)
	}
	frac += strings.Repeat("0", 4-len(frac))
	w, err := strconv.ParseUint(whole, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("price %q: %v", s, err)
	}
	f, err := strconv.ParseUint(frac, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("price %q: %v", s, err)
	}
	p := w*10000 + f
	if p > 1<<32-1 {
		return 0, fmt.Errorf("price %q out of range", s)
	}
	return uint32(p), nil
}

func formatPrice(p uint32) string { return fmt.Sprintf("%d.%04d", p/10000, p%10000) }

// otherMessage encodes a message of a type that must not change the book,
// with the given header and, where the type has one, the order reference.
func otherMessage(t *testing.T, typ byte, hdr itch.Header, ref uint64) []byte {
	stock := itch.Alpha8("TEST")
	switch typ {
	case 'P':
		m := itch.TradeMsg{Header: hdr, Ref: ref, Side: itch.Buy, Shares: 100, Stock: stock, Price: 100000, Match: 9}
		return m.Append(nil)
	case 'Q':
		m := itch.CrossTradeMsg{Header: hdr, Shares: 1 << 40, Stock: stock, CrossPrice: 100000, Match: 9, CrossType: 'O'}
		return m.Append(nil)
	case 'B':
		m := itch.BrokenTradeMsg{Header: hdr, Match: 9}
		return m.Append(nil)
	case 'S':
		m := itch.SystemEventMsg{Header: hdr, EventCode: itch.EventStartOfMarketHours}
		return m.Append(nil)
	case 'H':
		m := itch.StockTradingActionMsg{Header: hdr, Stock: stock, TradingState: 'H'}
		return m.Append(nil)
	case 'Y':
		m := itch.RegSHORestrictionMsg{Header: hdr, Stock: stock, RegSHOAction: '1'}
		return m.Append(nil)
	case 'L':
		m := itch.MarketParticipantPositionMsg{Header: hdr, MPID: itch.Alpha4("ABCD"), Stock: stock}
		return m.Append(nil)
	case 'V':
		m := itch.MWCBDeclineLevelMsg{Header: hdr}
		return m.Append(nil)
	case 'W':
		m := itch.MWCBStatusMsg{Header: hdr, BreachedLevel: '1'}
		return m.Append(nil)
	case 'K':
		m := itch.IPOQuotingPeriodUpdateMsg{Header: hdr, Stock: stock}
		return m.Append(nil)
	case 'J':
		m := itch.LULDAuctionCollarMsg{Header: hdr, Stock: stock}
		return m.Append(nil)
	case 'h':
		m := itch.OperationalHaltMsg{Header: hdr, Stock: stock, MarketCode: 'Q', HaltAction: 'H'}
		return m.Append(nil)
	case 'I':
		m := itch.NOIIMsg{Header: hdr, PairedShares: 1000, ImbalanceShares: 500, ImbalanceDirection: 'B', Stock: stock}
		return m.Append(nil)
	case 'N':
		m := itch.RPIIMsg{Header: hdr, Stock: stock, InterestFlag: 'B'}
		return m.Append(nil)
	case 'O':
		m := itch.DLCRPriceDiscoveryMsg{Header: hdr, Stock: stock, OpenEligibility: 'Y'}
		return m.Append(nil)
	}
	t.Fatalf("other: unsupported type %q", typ)
	return nil
}
