package main

import (
	"context"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/tickwire/tickwire/book"
	"github.com/tickwire/tickwire/client"
	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/transport"
	"github.com/tickwire/tickwire/transport/natsjs"
	"github.com/tickwire/tickwire/transport/tw"
)

// TestWatchRender draws a constructed state: decimal prices, asks above
// bids with the best of each next to the spread, the trades newest first,
// the feed's and the instrument's state, the rate, the end banner.
func TestWatchRender(t *testing.T) {
	st := watchState{
		Symbol: "AAPL", Listed: true, TradingState: 'T', Feed: tw.FeedStateConflated, FeedReason: "slow consumer", Seq: 4242,
		Bids: []book.Level{{Price: 1012200, Shares: 300, Orders: 2}, {Price: 1012000, Shares: 100, Orders: 1}},
		Asks: []book.Level{{Price: 1012300, Shares: 500, Orders: 3}, {Price: 1012500, Shares: 700, Orders: 4}},
		Trades: []watchTrade{
			{Timestamp: 9*3600e9 + 30*60e9 + 1e9 + 123456789, Shares: 100, Price: 1012250},
			{Timestamp: 9*3600e9 + 30*60e9 + 2e9, Shares: 5000, Price: 1010000, Cross: tw.CrossKindOpening},
			{Timestamp: 9*3600e9 + 30*60e9 + 3e9, Shares: 7, Price: 5, Broken: true},
		},
		Updates: 10,
	}
	got := renderWatch(&st, watchView{levels: 3, trades: 2, rate: 1234.5, endWait: 5 * time.Second})
	t.Logf("\n%s", got)
	lines := strings.Split(got, "\n")
	find := func(sub string) int {
		t.Helper()
		for i, l := range lines {
			if strings.Contains(l, sub) {
				return i
			}
		}
		t.Fatalf("no line has %q", sub)
		return -1
	}
	title := lines[0]
	for _, want := range []string{"AAPL", "Conflated", "trading", "1234.5 updates/s", "seq 4242"} {
		if !strings.Contains(title, want) {
			t.Errorf("title %q lacks %q", title, want)
		}
	}
	if !strings.Contains(lines[1], "slow consumer") {
		t.Errorf("status line %q lacks the Status reason", lines[1])
	}
	worstAsk, bestAsk := find("101.2500"), find("101.2300")
	spread := find("spread 0.0100")
	bestBid, worstBid := find("101.2200"), find("101.2000")
	if !(worstAsk+1 == bestAsk && bestAsk+1 == spread && spread+1 == bestBid && bestBid+1 == worstBid) {
		t.Errorf("ladder order: worst ask %d, best ask %d, spread %d, best bid %d, worst bid %d", worstAsk, bestAsk, spread, bestBid, worstBid)
	}
	if f := strings.Fields(lines[bestAsk]); len(f) != 4 || f[0] != "ask" || f[2] != "500" || f[3] != "3" {
		t.Errorf("best ask row %q: want ask, price, 500 shares, 3 orders", lines[bestAsk])
	}
	if f := strings.Fields(lines[bestBid]); len(f) != 4 || f[0] != "bid" || f[2] != "300" || f[3] != "2" {
		t.Errorf("best bid row %q: want bid, price, 300 shares, 2 orders", lines[bestBid])
	}
	// Three levels a side, two present: one blank row above the asks and
	// one below the bids, so that the spread stays on the same row.
	if head := find("orders"); lines[head+1] != "" || head+2 != worstAsk || lines[worstBid+1] != "" {
		t.Errorf("the sides are not padded to 3 levels:\n%s", got)
	}
	// Two trades shown, newest first: the broken one, then the cross.
	broken, cross := find("0.0005"), find("101.0000")
	if broken > cross || !strings.Contains(lines[broken], "BROKEN") || !strings.Contains(lines[cross], "opening cross") ||
		!strings.Contains(lines[cross], "09:30:02.000000") || !strings.Contains(lines[cross], "5000") {
		t.Errorf("trades: %q then %q", lines[broken], lines[cross])
	}
	if strings.Contains(got, "101.2250") {
		t.Errorf("the oldest trade is shown past the 2 asked for")
	}
	if !strings.Contains(got, "q or Ctrl-C to quit") {
		t.Errorf("no quit hint")
	}

	st.Ended, st.Done, st.Feed, st.FeedReason = true, true, tw.FeedStateEndOfSession, ""
	st.Bids[0].Price = st.Asks[0].Price
	got = renderWatch(&st, watchView{levels: 3, trades: 2, endWait: 5 * time.Second})
	for _, want := range []string{"EndOfSession", "the server ended the session", "press any key to exit (closing in 5s)", "locked"} {
		if !strings.Contains(got, want) {
			t.Errorf("ended: no %q in\n%s", want, got)
		}
	}
	empty := watchState{Symbol: "ZZZZ"}
	got = renderWatch(&empty, watchView{levels: 2, trades: 2, now: time.Unix(100, 0)})
	if !strings.Contains(got, "waiting for ZZZZ to be listed") || !strings.Contains(got, "trading state ?") {
		t.Errorf("unlisted:\n%s", got)
	}
}

func TestWatchFormat(t *testing.T) {
	for _, c := range []struct {
		p    uint32
		want string
	}{{0, "0.0000"}, {1, "0.0001"}, {123400, "12.3400"}, {1012250, "101.2250"}, {0xFFFFFFFF, "429496.7295"}} {
		if got := formatPrice(c.p); got != c.want {
			t.Errorf("formatPrice(%d) = %q, want %q", c.p, got, c.want)
		}
	}
	if got := formatTime(15*3600e9 + 59*60e9 + 59e9 + 999999999); got != "15:59:59.999999" {
		t.Errorf("formatTime = %q", got)
	}
}

// TestWatchModel drives Update by hand: the rate over the frames, the
// keys that quit, a key after the end.
func TestWatchModel(t *testing.T) {
	m := newWatchModel(watchConfig{symbol: "AAPL", levels: 5, trades: 5, frame: 50 * time.Millisecond, endWait: time.Second}, nil)
	t0 := time.Unix(1000, 0)
	var tm tea.Model = m
	for i := range 30 { // 100 updates per 50 ms frame: 2000/s
		tm, _ = tm.Update(frameMsg{at: t0.Add(time.Duration(i) * 50 * time.Millisecond), st: watchState{Symbol: "AAPL", Updates: uint64(100 * i)}})
	}
	if r := tm.(watchModel).rate; r < 1999 || r > 2001 {
		t.Errorf("rate %.1f, want 2000", r)
	}
	for i := 30; i < 60; i++ { // silence: the rate falls to 0 within the window
		tm, _ = tm.Update(frameMsg{at: t0.Add(time.Duration(i) * 50 * time.Millisecond), st: watchState{Symbol: "AAPL", Updates: 2900}})
	}
	if r := tm.(watchModel).rate; r != 0 {
		t.Errorf("rate %.1f after a silent second, want 0", r)
	}
	quits := func(tm tea.Model, k tea.KeyPressMsg) bool {
		_, cmd := tm.Update(k)
		if cmd == nil {
			return false
		}
		_, ok := cmd().(tea.QuitMsg)
		return ok
	}
	q, ctrlC, x := tea.KeyPressMsg{Code: 'q', Text: "q"}, tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}, tea.KeyPressMsg{Code: 'x', Text: "x"}
	if !quits(tm, q) || !quits(tm, ctrlC) || quits(tm, x) {
		t.Errorf("live: q %v, ctrl+c %v, x %v; want q and ctrl+c only", quits(tm, q), quits(tm, ctrlC), quits(tm, x))
	}
	tm, cmd := tm.Update(runDoneMsg{st: watchState{Symbol: "AAPL", Done: true, Ended: true}})
	if cmd == nil || !quits(tm, x) {
		t.Errorf("after the end: any key should quit, and a timer be set")
	}
	if v := tm.View(); !v.AltScreen || !strings.Contains(v.Content, "the server ended the session") {
		t.Errorf("view after the end: %+v", v)
	}
}

// watchDaemon is a book and a server on loopback publishing it, as
// transport's own tests build one.
type watchDaemon struct {
	srv  *transport.Server
	pub  *transport.Publisher
	book *book.Book
	seq  uint64
	ts   uint64
}

func newWatchDaemon(t *testing.T) *watchDaemon {
	t.Helper()
	srv := transport.NewServer(transport.ServerConfig{Listen: "127.0.0.1:0", Heartbeat: 100 * time.Millisecond})
	d := &watchDaemon{srv: srv, pub: srv.Publisher(), ts: 9*3600e9 + 30*60e9}
	d.book = book.New(book.WithListener(d.pub))
	d.pub.SetBook(d.book)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Close(ctx)
	})
	return d
}

// apply applies ITCH messages in order, then flushes.
func (d *watchDaemon) apply(t *testing.T, msgs ...[]byte) {
	t.Helper()
	for _, m := range msgs {
		if err := itch.Check(m); err != nil {
			t.Fatalf("message %q: %v", m[0], err)
		}
		d.seq++
		d.book.Apply(d.seq, itch.Message(m))
	}
	d.pub.Flush()
}

func (d *watchDaemon) header(locate uint16) itch.Header {
	d.ts += 1e6
	return itch.Header{Locate: locate, Timestamp: d.ts}
}

func (d *watchDaemon) directory(locate uint16, sym string) []byte {
	return (&itch.StockDirectoryMsg{Header: d.header(locate), Stock: itch.Alpha8(sym), RoundLotSize: 100}).Append(nil)
}

func (d *watchDaemon) add(locate uint16, sym string, ref uint64, side byte, shares, price uint32) []byte {
	return (&itch.AddOrderMsg{Header: d.header(locate), Ref: ref, Side: side, Shares: shares, Stock: itch.Alpha8(sym), Price: price}).Append(nil)
}

// waitSubscribed waits until n clients are connected and the writer has
// taken their subscriptions.
func (d *watchDaemon) waitSubscribed(t *testing.T, n uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for d.srv.Stats().Accepted < n {
		if time.Now().After(deadline) {
			t.Fatal("the client did not connect")
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	d.pub.Flush() // takes the subscription: the snapshot follows
}

// TestWatchEndToEnd runs tickwire watch's program headless against a
// server on loopback: the book changes before and after it joins, another
// instrument changes too, then the server ends the session; the ladder
// must show the server book's best bid and ask, the prints of the watched
// instrument only, and leave the terminal restored.
func TestWatchEndToEnd(t *testing.T) { watchEndToEnd(t, false) }

// TestWatchNATS is TestWatchEndToEnd through NATS JetStream (tickwire
// watch --nats): the server's books published into an embedded JetStream
// server by transport/natsjs, the program's client from client.DialNATS.
func TestWatchNATS(t *testing.T) { watchEndToEnd(t, true) }

func watchEndToEnd(t *testing.T, viaNATS bool) {
	d := newWatchDaemon(t)
	const aapl, msft = 1, 2
	var natsURL string
	if viaNATS {
		natsURL = jetStreamServer(t)
		np, err := natsjs.Start(d.pub, natsjs.Config{URL: natsURL, SnapshotEvery: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		np.SetSession([10]byte{'W', 'A', 'T', 'C', 'H', ' ', ' ', ' ', ' ', ' '})
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			np.Close(ctx)
		})
		for deadline := time.Now().Add(10 * time.Second); !np.Stats().Connected; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the NATS publisher never got its stream")
			}
		}
	}
	d.apply(t, d.directory(aapl, "AAPL"), d.directory(msft, "MSFT"),
		d.add(aapl, "AAPL", 1, itch.Buy, 300, 1012200),
		d.add(aapl, "AAPL", 2, itch.Sell, 500, 1012300),
		d.add(aapl, "AAPL", 3, itch.Sell, 200, 1012500),
		d.add(msft, "MSFT", 4, itch.Buy, 900, 4000000))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	opts := []client.Option{client.WithSymbols("AAPL"), client.WithDepth(client.DepthOrders, 0), client.WithName("watch test")}
	var c *client.Client
	var err error
	if viaNATS {
		d.apply(t) // a Flush: the publisher's first snapshots, a session to find
		c, err = client.DialNATS(ctx, natsURL, opts...)
	} else {
		c, err = client.Dial(ctx, d.srv.Addr().String(), opts...)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out syncBuffer
	type result struct {
		m   *watchModel
		err error
	}
	done := make(chan result, 1)
	cfg := watchConfig{symbol: "AAPL", levels: 5, trades: 5, frame: 10 * time.Millisecond, endWait: 200 * time.Millisecond}
	go func() {
		m, err := runWatch(ctx, c, cfg, tea.WithInput(nil), tea.WithOutput(&out), tea.WithoutSignalHandler(), tea.WithWindowSize(100, 40))
		done <- result{m, err}
	}()
	if viaNATS {
		time.Sleep(300 * time.Millisecond) // reading the stream
	} else {
		d.waitSubscribed(t, 1)
	}

	d.apply(t,
		d.add(aapl, "AAPL", 5, itch.Buy, 400, 1012210),                                               // a better bid
		d.add(aapl, "AAPL", 6, itch.Buy, 100, 1012210),                                               // joins it
		d.add(msft, "MSFT", 7, itch.Sell, 50, 4000100),                                               // not watched
		(&itch.OrderExecutedMsg{Header: d.header(aapl), Ref: 2, Shares: 500, Match: 11}).Append(nil), // the best ask goes
		(&itch.OrderExecutedWithPriceMsg{Header: d.header(aapl), Ref: 3, Shares: 50, Match: 12, Printable: 'Y', ExecPrice: 1012400}).Append(nil),
		(&itch.OrderExecutedMsg{Header: d.header(msft), Ref: 4, Shares: 10, Match: 13}).Append(nil),
		(&itch.TradeMsg{Header: d.header(aapl), Ref: 0, Side: itch.Buy, Shares: 77, Stock: itch.Alpha8("AAPL"), Price: 1012350, Match: 14}).Append(nil),
	)
	time.Sleep(50 * time.Millisecond) // a few frames of the live book
	d.pub.Status(tw.FeedStateEndOfSession, "end of session", d.seq)

	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		t.Fatal("tickwire watch did not exit after the end of the session")
	}
	if r.err != nil {
		t.Fatalf("runWatch: %v", r.err)
	}
	st := &r.m.st
	bid, ask, _ := d.book.Best(aapl)
	if !st.Listed || len(st.Bids) == 0 || len(st.Asks) == 0 || st.Bids[0] != bid || st.Asks[0] != ask {
		t.Fatalf("ladder best bid %v ask %v, the server's book %v %v", st.Bids, st.Asks, bid, ask)
	}
	if !st.Ended || st.Feed != tw.FeedStateEndOfSession {
		t.Errorf("ended %v, feed %s: want the end of session shown", st.Ended, feedStateName(st.Feed))
	}
	var prints []string
	for _, tr := range st.Trades {
		prints = append(prints, formatPrice(tr.Price)+"x"+strconv.FormatUint(tr.Shares, 10))
	}
	if got, want := strings.Join(prints, " "), "101.2300x500 101.2400x50 101.2350x77"; got != want {
		t.Errorf("trades %q, want %q (the watched instrument's prints in order)", got, want)
	}
	if st.Updates == 0 {
		t.Errorf("no updates counted")
	}
	view := renderWatch(st, r.m.view())
	t.Logf("final view:\n%s", view)
	for _, want := range []string{formatPrice(bid.Price), formatPrice(ask.Price), "spread 0.0290", "the server ended the session"} {
		if !strings.Contains(view, want) {
			t.Errorf("final view lacks %q", want)
		}
	}
	if s := r.m.summary(); !strings.Contains(s, "bid 101.2210 x 500 ask 101.2500 x 150") {
		t.Errorf("summary %q", s)
	}
	if o := out.String(); !strings.Contains(o, "\x1b[?1049h") || !strings.Contains(o, "\x1b[?1049l") {
		t.Errorf("the alternate screen was not entered and left (%d bytes written)", len(o))
	}
}

// TestWatchQuit: q on the input ends the program while the session goes on,
// without an error, and Run with it.
func TestWatchQuit(t *testing.T) {
	d := newWatchDaemon(t)
	d.apply(t, d.directory(1, "AAPL"), d.add(1, "AAPL", 1, itch.Buy, 300, 1012200))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, d.srv.Addr().String(), client.WithSymbols("AAPL"), client.WithDepth(client.DepthOrders, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	in, keys := io.Pipe()
	defer keys.Close()
	done := make(chan error, 1)
	var model *watchModel
	go func() {
		m, err := runWatch(ctx, c, watchConfig{symbol: "AAPL", levels: 3, trades: 3, frame: 10 * time.Millisecond, endWait: time.Minute},
			tea.WithInput(in), tea.WithOutput(io.Discard), tea.WithoutSignalHandler(), tea.WithWindowSize(80, 24))
		model = m
		done <- err
	}()
	d.waitSubscribed(t, 1)
	time.Sleep(50 * time.Millisecond)
	if _, err := keys.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("runWatch after q: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("q did not end tickwire watch")
	}
	if model == nil || model.st.Ended || len(model.st.Bids) != 1 || model.st.Bids[0].Price != 1012200 {
		t.Errorf("after q: %+v", model)
	}
}
