package pipeline

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tickwire/tickwire/book"
	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/codec/moldudp64"
	"github.com/tickwire/tickwire/feed"
	"github.com/tickwire/tickwire/internal/capture"
	"github.com/tickwire/tickwire/internal/invariants"
)

var (
	lineA = netip.MustParseAddrPort("233.54.12.111:26477")
	lineB = netip.MustParseAddrPort("233.54.12.112:26477")
	src   = netip.MustParseAddrPort("10.0.0.1:40000")
)

// session builds MoldUDP64 packets from messages, one packet per group.
type session struct {
	name [10]byte
	seq  uint64
}

func (s *session) packet(msgs ...[]byte) []byte {
	p := moldudp64.AppendHeader(nil, s.name, s.seq, uint16(len(msgs)))
	for _, m := range msgs {
		p = moldudp64.AppendBlock(p, m)
	}
	s.seq += uint64(len(msgs))
	return p
}

// writeCapture writes each packet on both lines, plus foreign traffic.
func writeCapture(t *testing.T, packets [][]byte, foreign [][]byte) string {
	t.Helper()
	var buf bytes.Buffer
	w, err := capture.NewWriter(&buf, capture.Form{File: capture.Pcap, Link: capture.LinkEthernet})
	if err != nil {
		t.Fatal(err)
	}
	ts := int64(1_772_449_479_000_000_000)
	for _, f := range foreign {
		ts += 1000
		if err := w.WriteUDP(ts, src, netip.MustParseAddrPort("233.54.12.120:26477"), f); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range packets {
		for _, dst := range []netip.AddrPort{lineA, lineB} {
			ts += 1000
			if err := w.WriteUDP(ts, src, dst, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "c.pcap")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func hdr(locate uint16) itch.Header {
	return itch.Header{Locate: locate, Timestamp: 34_200_000_000_000}
}

// TestBadMessagesInGoodPackets: unknown types are skipped and counted, a
// known type of the wrong length is counted as malformed with its sequence
// number, book faults are counted with theirs, and none of it stops the
// replay or disturbs the other orders — for any number of shards.
func TestBadMessagesInGoodPackets(t *testing.T) {
	s := &session{name: moldudp64.MakeSession("TESTSESS01"), seq: 1}
	dir := (&itch.StockDirectoryMsg{Header: hdr(7), Stock: itch.Alpha8("AAPL")}).Append(nil)
	dir2 := (&itch.StockDirectoryMsg{Header: hdr(8), Stock: itch.Alpha8("MSFT")}).Append(nil)
	add1 := (&itch.AddOrderMsg{Header: hdr(7), Ref: 1, Side: itch.Buy, Shares: 300, Stock: itch.Alpha8("AAPL"), Price: 1874500}).Append(nil)
	add2 := (&itch.AddOrderMsg{Header: hdr(7), Ref: 2, Side: itch.Sell, Shares: 100, Stock: itch.Alpha8("AAPL"), Price: 1874600}).Append(nil)
	add3 := (&itch.AddOrderMsg{Header: hdr(8), Ref: 3, Side: itch.Buy, Shares: 50, Stock: itch.Alpha8("MSFT"), Price: 4182000}).Append(nil)
	short := add1[:30]                                                                       // known type, wrong length: seq 6
	unknown := append([]byte{'Z', 0, 7}, bytes.Repeat([]byte{0}, 20)...)                     // unknown type: seq 7
	execUnknown := (&itch.OrderExecutedMsg{Header: hdr(7), Ref: 99, Shares: 10}).Append(nil) // seq 8
	dupAdd := (&itch.AddOrderMsg{Header: hdr(7), Ref: 1, Side: itch.Sell, Shares: 5, Stock: itch.Alpha8("AAPL"), Price: 1}).Append(nil)
	over := (&itch.OrderCancelMsg{Header: hdr(8), Ref: 3, Shares: 80}).Append(nil) // seq 10: beyond 50 remaining
	exec := (&itch.OrderExecutedMsg{Header: hdr(7), Ref: 1, Shares: 100}).Append(nil)

	packets := [][]byte{
		s.packet(dir, dir2, add1),
		s.packet(add2, add3, short),
		s.packet(unknown, execUnknown, dupAdd),
		s.packet(over, exec),
	}
	// Foreign traffic before the feed: a MoldUDP64 heartbeat of another
	// session (no ITCH: must not be chosen), and garbage.
	other := moldudp64.AppendHeader(nil, moldudp64.MakeSession("OTHER00001"), 1, 0)
	path := writeCapture(t, packets, [][]byte{other, []byte("garbage")})

	for _, shards := range []int{1, 2, 3} {
		g, err := NewGroup(Config{}, shards)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Run([]string{path}, false, nil); err != nil {
			t.Fatalf("%d shards: %v", shards, err)
		}
		st := g.Stats()
		if st.Messages != 11 || st.UnknownTypes != 1 || st.Malformed != 1 {
			t.Errorf("%d shards: messages %d unknown %d malformed %d; want 11, 1, 1", shards, st.Messages, st.UnknownTypes, st.Malformed)
		}
		if len(st.MsgErrors) != 1 || st.MsgErrors[0].Seq != 6 || !errors.Is(st.MsgErrors[0].Err, itch.ErrLength) {
			t.Errorf("%d shards: message errors %v; want the wrong-length add at sequence 6", shards, st.MsgErrors)
		}
		if st.NotMoldUDP != 1 || st.BeforeSession != 1 {
			t.Errorf("%d shards: not MoldUDP64 %d, before session %d; want 1, 1", shards, st.NotMoldUDP, st.BeforeSession)
		}
		if name, _ := g.P[0].Session(); name != "TESTSESS01" {
			t.Errorf("session %q", name)
		}
		an := g.Anomalies()
		want := []struct {
			seq  uint64
			kind book.AnomalyKind
		}{{8, book.AnomalyUnknownRef}, {9, book.AnomalyDuplicateRef}, {10, book.AnomalyOverCancel}}
		if len(an.Records) != len(want) {
			t.Fatalf("%d shards: anomalies %+v", shards, an.Records)
		}
		for i, w := range want {
			if an.Records[i].Seq != w.seq || an.Records[i].Kind != w.kind {
				t.Errorf("%d shards: anomaly %d = %+v, want seq %d %v", shards, i, an.Records[i], w.seq, w.kind)
			}
		}
		var out bytes.Buffer
		if err := WriteBooks(&out, g); err != nil {
			t.Fatal(err)
		}
		// Both instruments met faults (unknown reference and duplicate add
		// on AAPL, a cancel beyond the remaining shares on MSFT): suspect.
		wantBooks := `{"locate":7,"symbol":"AAPL","bids":[[1874500,200,1]],"asks":[[1874600,100,1]],"suspect":true}
{"locate":8,"symbol":"MSFT","bids":[],"asks":[],"suspect":true}
`
		if out.String() != wantBooks {
			t.Errorf("%d shards: books\n%s\nwant\n%s", shards, out.String(), wantBooks)
		}
		var sum bytes.Buffer
		g.WriteSummary(&sum, Summary{Inputs: []string{path}, Format: g.Format.String(), Top: 5})
		for _, s := range []string{"malformed 1", "unknown types 1", "3 anomalies", "anomaly at sequence 8", "AAPL"} {
			if !strings.Contains(sum.String(), s) {
				t.Errorf("%d shards: summary lacks %q:\n%s", shards, s, sum.String())
			}
		}
	}
}

// TestSessionAndFilters: --session picks a session by name; --port and
// --group filter datagrams; a wrong selection replays nothing.
func TestSessionAndFilters(t *testing.T) {
	s := &session{name: moldudp64.MakeSession("S1"), seq: 1}
	add := (&itch.AddOrderMsg{Header: hdr(1), Ref: 1, Side: itch.Buy, Shares: 1, Stock: itch.Alpha8("X"), Price: 1}).Append(nil)
	path := writeCapture(t, [][]byte{s.packet(add)}, nil)
	for _, c := range []struct {
		cfg  Config
		msgs uint64
	}{
		{Config{}, 1},
		{Config{Session: "S1"}, 1},
		{Config{Session: "S2"}, 0},
		{Config{Ports: []uint16{26477}, Groups: []netip.Addr{lineB.Addr()}}, 1},
		{Config{Ports: []uint16{1}}, 0},
		{Config{Groups: []netip.Addr{netip.MustParseAddr("233.1.1.1")}}, 0},
	} {
		g, err := NewGroup(c.cfg, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Run([]string{path}, false, nil); err != nil {
			t.Fatal(err)
		}
		if got := g.Stats().Messages; got != c.msgs {
			t.Errorf("%+v: %d messages, want %d", c.cfg, got, c.msgs)
		}
	}
	if _, err := New(Config{Session: "ELEVENCHARS"}); err == nil {
		t.Error("an 11-character session name was accepted")
	}
}

// TestMessageNoAllocs: the per-message path allocates nothing in steady
// state (warm book, orders added and deleted).
func TestMessageNoAllocs(t *testing.T) {
	p, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	var seq uint64
	add := (&itch.AddOrderMsg{Header: hdr(3), Side: itch.Buy, Shares: 100, Stock: itch.Alpha8("X"), Price: 1000}).Append(nil)
	del := (&itch.OrderDeleteMsg{Header: hdr(3)}).Append(nil)
	ref := uint64(0)
	step := func() {
		ref++
		add[11+7], del[11+7] = byte(ref), byte(ref) // low byte of the reference
		seq++
		p.Message(seq, add)
		seq++
		p.Message(seq, del)
	}
	for range 300 {
		step()
	}
	if n := testing.AllocsPerRun(1000, step); n != 0 {
		t.Errorf("%v allocations per add+delete", n)
	}
	if p.Book().LiveOrders() != 0 {
		t.Errorf("%d live orders left", p.Book().LiveOrders())
	}
}

// TestCrossedInContinuousTrading: in the invariants build, a book crossed by
// an add during market hours for a trading instrument is a violation, and
// the same book in pre-market is not.
func TestCrossedInContinuousTrading(t *testing.T) {
	if !invariants.Enabled {
		t.Skip("the check runs in the invariants build (go test -tags invariants)")
	}
	add := func(ref uint64, side byte, price uint32) []byte {
		return (&itch.AddOrderMsg{Header: hdr(5), Ref: ref, Side: side, Shares: 100, Stock: itch.Alpha8("X"), Price: price}).Append(nil)
	}
	trading := (&itch.StockTradingActionMsg{Header: hdr(5), Stock: itch.Alpha8("X"), TradingState: 'T'}).Append(nil)
	open := (&itch.SystemEventMsg{Header: hdr(0), EventCode: itch.EventStartOfMarketHours}).Append(nil)
	feed := func(p *Pipeline, msgs ...[]byte) (panicked any) {
		defer func() { panicked = recover() }()
		for i, m := range msgs {
			p.Message(uint64(i+1), m)
		}
		return nil
	}
	p, _ := New(Config{})
	if r := feed(p, trading, add(1, itch.Sell, 1000), add(2, itch.Buy, 1000)); r != nil {
		t.Errorf("a locked book before market hours panicked: %v", r)
	}
	p, _ = New(Config{})
	r := feed(p, trading, open, add(1, itch.Sell, 1000), add(2, itch.Buy, 1001))
	if s, _ := r.(string); !strings.Contains(s, "crossed in continuous trading") {
		t.Errorf("a crossed book in continuous trading: recovered %v", r)
	}
}

// TestSessionChoiceConfirmed: without a configured session, one stray
// packet of another session, even one carrying valid ITCH, does not choose
// the session: it takes a second packet of the same session (another line,
// or the same line continuing it), and the first one is not lost.
func TestSessionChoiceConfirmed(t *testing.T) {
	p, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	rogue := &session{name: moldudp64.MakeSession("ROGUE00001"), seq: 1 << 40}
	real := &session{name: moldudp64.MakeSession("TICKWIRE01"), seq: 1}
	add := func(ref uint64) []byte {
		return (&itch.AddOrderMsg{Header: hdr(1), Ref: ref, Side: itch.Buy, Shares: 1, Stock: itch.Alpha8("X"), Price: 1}).Append(nil)
	}
	if v := p.Packet(0, 0, rogue.packet(add(99))); v.Bad() {
		t.Fatalf("candidate packet: %v", v)
	}
	first := real.packet(add(1), add(2))
	p.Packet(1, 1, first) // a new candidate: the rogue one was never confirmed
	if _, ok := p.Session(); ok {
		t.Fatal("session chosen by one packet")
	}
	p.Packet(0, 2, first) // line A's copy confirms it
	second := real.packet(add(3))
	p.Packet(1, 3, second)
	if s, ok := p.Session(); !ok || s != "TICKWIRE01" {
		t.Fatalf("session %q %v", s, ok)
	}
	if got := p.Stats().Messages; got != 3 {
		t.Errorf("%d messages, want 3", got)
	}
	if v := p.Packet(0, 4, rogue.packet(add(100))); v != feed.OtherSession {
		t.Errorf("rogue packet after the choice: %v", v)
	}
}
