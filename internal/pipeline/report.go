package pipeline

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tickwire/tickwire/book"
	"github.com/tickwire/tickwire/codec/itch"
)

// WriteBooks writes the final books as JSON Lines (book.AppendBooksLine),
// one line per instrument of the Stock Directory (and any instrument with
// orders), in locate order. An instrument whose messages could not all be
// applied (an unknown order reference, a duplicate add, an execution beyond
// an order's shares: typically after a gap) is marked suspect; a gap-free
// feed never produces one.
func WriteBooks(w io.Writer, g *Group) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	var line []byte
	var bids, asks []book.Level
	for _, l := range g.Locates() {
		b := g.Book(l)
		bids = b.AppendLevels(bids[:0], l, itch.Buy)
		asks = b.AppendLevels(asks[:0], l, itch.Sell)
		line = book.AppendBooksLine(line[:0], l, b.Symbol(l), bids, asks, b.Faults(l) > 0)
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// FormatPrice renders a Price(4) value with its four implied decimals.
func FormatPrice(p uint32) string {
	return fmt.Sprintf("%d.%04d", p/10000, p%10000)
}

// WriteLadder prints every level of one instrument, asks above bids, best
// prices adjacent in the middle, with decimal prices.
func WriteLadder(w io.Writer, g *Group, locate uint16) {
	b := g.Book(locate)
	bids := b.AppendLevels(nil, locate, itch.Buy)
	asks := b.AppendLevels(nil, locate, itch.Sell)
	fmt.Fprintf(w, "%s (locate %d): %d bid levels, %d ask levels\n", b.Symbol(locate), locate, len(bids), len(asks))
	fmt.Fprintf(w, "  %-4s %14s %12s %7s\n", "side", "price", "shares", "orders")
	for i := len(asks) - 1; i >= 0; i-- {
		fmt.Fprintf(w, "  %-4s %14s %12d %7d\n", "ask", FormatPrice(asks[i].Price), asks[i].Shares, asks[i].Orders)
	}
	fmt.Fprintf(w, "  %s\n", "----")
	for _, lv := range bids {
		fmt.Fprintf(w, "  %-4s %14s %12d %7d\n", "bid", FormatPrice(lv.Price), lv.Shares, lv.Orders)
	}
}

// Summary describes a finished replay for people.
type Summary struct {
	Inputs  []string
	Format  string
	Elapsed time.Duration
	Top     int // instruments shown in the top-of-book table
}

// WriteSummary prints what the replay found: input, feed, messages by type,
// gaps, instruments, live orders, rate and the most active instruments' top
// of book.
func (g *Group) WriteSummary(w io.Writer, s Summary) {
	p := g.P[0]
	st := g.Stats()
	fs := p.arb.Stats()
	fmt.Fprintf(w, "input       %s: %s\n", s.Format, strings.Join(s.Inputs, ", "))
	if c := st.Capture; c.Records > 0 {
		fmt.Fprintf(w, "records     %d (%d bytes): %d UDP; skipped: ARP %d, TCP %d, ICMP %d, IGMP %d, other IP %d, fragments %d, 802.3 %d, other link %d, truncated %d, malformed %d; pcapng blocks skipped %d\n",
			c.Records, c.Bytes, c.Datagrams, c.ARP, c.TCP, c.ICMP, c.IGMP, c.OtherIP, c.Fragments, c.LLC, c.OtherLink, c.Truncated, c.Malformed, c.Blocks)
		fate := "kept (offloaded checksums on a sending host's capture?); --verify-checksums drops them and verifies UDP checksums too"
		if c.ChecksumDrops > 0 { // --verify-checksums drops every failure
			fate = fmt.Sprintf("%d datagrams dropped", c.ChecksumDrops)
		}
		if n := c.BadIPChecksum + c.BadUDPChecksum; n > 0 {
			fmt.Fprintf(w, "checksums   %d IPv4 header, %d UDP failures (first at file offset %d); %s\n",
				c.BadIPChecksum, c.BadUDPChecksum, c.FirstBadChecksumOffset, fate)
		}
	}
	if st.Datagrams > 0 {
		fmt.Fprintf(w, "datagrams   %d UDP; %d filtered out, %d not MoldUDP64, %d before the session, %d of other sessions\n",
			st.Datagrams, st.Filtered, st.NotMoldUDP, st.BeforeSession, st.OtherSession)
		name, _ := p.Session()
		fmt.Fprintf(w, "session     %q on %d line(s)", name, len(p.lines))
		sep := ":"
		for i, l := range p.lines {
			fmt.Fprintf(w, "%s %c=%s (file %d)", sep, 'A'+i, l.Dst, l.Input+1)
			sep = ","
		}
		fmt.Fprintln(w)
	} else if name, ok := p.Session(); ok {
		fmt.Fprintf(w, "session     %q; %d not MoldUDP64, %d before the session, %d of other sessions\n",
			name, st.NotMoldUDP, st.BeforeSession, st.OtherSession)
	}
	if fs.Packets > 0 {
		fmt.Fprintf(w, "packets     %d; duplicates %d, held for a hole %d, heartbeats %d, end of session %d, malformed %d, implausible sequence %d\n",
			fs.Packets, fs.Duplicates, fs.Held, fs.Heartbeats, fs.EndOfSession, fs.Malformed, fs.Implausible)
	}
	fmt.Fprintf(w, "gaps        %d (%d messages missing)\n", st.Gaps, st.GapMessages)
	for _, g := range st.GapList {
		fmt.Fprintf(w, "  gap: %d message(s) missing from sequence %d\n", g.Count, g.First)
	}
	if n := st.Gaps - uint64(len(st.GapList)); n > 0 {
		fmt.Fprintf(w, "  ... and %d more gaps\n", n)
	}
	rate := 0.0
	if s.Elapsed > 0 {
		rate = float64(st.Messages) / s.Elapsed.Seconds()
	}
	fmt.Fprintf(w, "messages    %d in %.3f s (%.2f M msg/s); unknown types %d, malformed %d\n",
		st.Messages, s.Elapsed.Seconds(), rate/1e6, st.UnknownTypes, st.Malformed)
	for i, e := range st.MsgErrors {
		if i == 8 {
			break
		}
		fmt.Fprintf(w, "  malformed %s\n", e)
	}
	fmt.Fprintf(w, "by type    ")
	for t := 0; t < 256; t++ {
		if st.ByType[t] > 0 {
			fmt.Fprintf(w, " %c %d", t, st.ByType[t])
		}
	}
	fmt.Fprintln(w)
	locates := g.Locates()
	an := g.Anomalies()
	shards := fmt.Sprintf("%d shard(s)", len(g.P))
	if b := g.P[0].Books(); b.Shards() > 1 {
		shards = fmt.Sprintf("%d shard(s) fed through rings by one reader", b.Shards())
	}
	fmt.Fprintf(w, "book        %d instruments, %d live orders, %d anomalies; %s\n", len(locates), g.LiveOrders(), an.Total(), shards)
	var crossed []string
	for _, l := range locates {
		if b := g.Book(l); b.Crossed(l) {
			crossed = append(crossed, name(b, l))
		}
	}
	if len(crossed) > 0 {
		fmt.Fprintf(w, "crossed     %d instrument(s) end with best bid >= best ask: %v\n", len(crossed), crossed)
	}
	for i, r := range an.Records {
		if i == 8 {
			fmt.Fprintf(w, "  ... %d more\n", an.Total()-8)
			break
		}
		fmt.Fprintf(w, "  anomaly at sequence %d: %s, order %d, locate %d\n", r.Seq, r.Kind, r.Ref, r.Locate)
	}
	if st.Gaps > 0 {
		var suspect []string
		for _, l := range locates {
			if b := g.Book(l); b.Faults(l) > 0 {
				suspect = append(suspect, name(b, l))
			}
		}
		if n := len(suspect); n > 0 {
			more := ""
			if n > 20 {
				suspect, more = suspect[:20], fmt.Sprintf(" and %d more", n-20)
			}
			fmt.Fprintf(w, "suspect     %d instrument(s) whose books may be wrong after the gaps (faults seen): %v%s\n", n, suspect, more)
		}
	}
	if s.Top <= 0 {
		return
	}
	sort.SliceStable(locates, func(i, j int) bool { return g.MessagesFor(locates[i]) > g.MessagesFor(locates[j]) })
	if len(locates) > s.Top {
		locates = locates[:s.Top]
	}
	fmt.Fprintf(w, "top of book, most active instruments:\n")
	fmt.Fprintf(w, "  %-8s %6s %10s %14s %14s %10s\n", "symbol", "locate", "bid size", "bid", "ask", "ask size")
	for _, l := range locates {
		b := g.Book(l)
		bid, ask, _ := b.Best(l)
		fmt.Fprintf(w, "  %-8s %6d %10s %14s %14s %10s\n", name(b, l), l,
			size(bid), price(bid), price(ask), size(ask))
	}
}

// name returns an instrument's symbol, or its locate when the Stock
// Directory message never arrived (lost in a gap).
func name(b *book.Book, l uint16) string {
	if s := b.Symbol(l); len(s) > 0 {
		return string(s)
	}
	return "#" + strconv.Itoa(int(l))
}

func size(l book.Level) string {
	if l.Orders == 0 {
		return "-"
	}
	return strconv.FormatUint(l.Shares, 10)
}

func price(l book.Level) string {
	if l.Orders == 0 {
		return "-"
	}
	return FormatPrice(l.Price)
}
