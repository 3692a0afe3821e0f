package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/tickwire/tickwire/book"
	"github.com/tickwire/tickwire/client"
	"github.com/tickwire/tickwire/transport/tw"
)

// tickwire watch: a live terminal ladder of one instrument.
//
// Two goroutines: the client's Run loop keeps the mirror and, after each
// message of the instrument, copies what the screen shows (the top levels,
// the last trades, the feed's state, counters) into the watcher's own
// buffers under a mutex, allocating nothing per message; the terminal UI
// (bubbletea) takes a copy of those buffers every frame (50 ms) and draws
// it. The mirror itself is only ever read on Run's goroutine.
//
// The subscription is order by order, not by level: only an Orders
// subscription carries the executions of displayed orders (ITCH 'E' and
// 'C'); at Levels depth the server sends Trade only for 'P' and 'Q', and the
// tape would miss most prints. The mirror sums the orders into the same
// levels.
//
// When the server ends the session the ladder stays up with a banner saying
// so, until a key is pressed or endWait (5 s) has passed.

const (
	watchFrame   = 50 * time.Millisecond // the UI's refresh period
	watchEndWait = 5 * time.Second       // how long the end of session stays shown
	watchStale   = 3 * time.Second       // silence after which the ladder says so
	rateWindow   = time.Second           // the update rate is averaged over this
)

// watchConfig is what the ladder shows and how often.
type watchConfig struct {
	symbol  string
	levels  int           // per side
	trades  int           // last trades listed
	frame   time.Duration // UI refresh period
	endWait time.Duration // the end of session stays on screen this long
}

func watchCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tickwire watch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: tickwire watch SYMBOL [--addr HOST:PORT] [--token T] [--levels N] [--trades N] [--nats URL [--from start|SEQ|HH:MM:SS]]")
		fs.PrintDefaults()
	}
	var (
		addr   = fs.String("addr", "127.0.0.1:27100", "the daemon's subscriber `HOST:PORT` (transport.listen)")
		token  = fs.String("token", "", "the daemon's transport.token, if it has one")
		levels = fs.Int("levels", 10, "price levels shown per side")
		trades = fs.Int("trades", 10, "last trades shown")
		tlsOpt = tlsFlags(fs)
		dial   = natsFlags(fs)
	)
	// The symbol may come before or after the flags.
	var pos []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		pos, rest = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "tickwire watch: %v\n", err)
		return code
	}
	switch {
	case len(pos) != 1:
		fs.Usage()
		return 2
	case len(pos[0]) == 0 || len(pos[0]) > 8:
		return fail(2, fmt.Errorf("symbol %q: want 1 to 8 characters", pos[0]))
	case *levels < 1 || *trades < 0:
		return fail(2, errors.New("--levels must be at least 1 and --trades at least 0"))
	}
	cfg := watchConfig{symbol: strings.ToUpper(pos[0]), levels: *levels, trades: *trades, frame: watchFrame, endWait: watchEndWait}

	opts, err := tlsOpt()
	if err != nil {
		return fail(2, err)
	}
	dialCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	c, err := dial(dialCtx, *addr, append(opts, client.WithSymbols(cfg.symbol), client.WithDepth(client.DepthOrders, 0),
		client.WithToken(*token), client.WithName("tickwire watch"))...)
	cancel()
	if err != nil {
		return fail(1, err)
	}
	defer c.Close()
	// bubbletea takes the terminal (raw mode, alternate screen) and gives it
	// back on every way out; SIGINT and SIGTERM end the program like q.
	m, err := runWatch(context.Background(), c, cfg, tea.WithInput(os.Stdin), tea.WithOutput(os.Stdout))
	if m != nil {
		fmt.Fprintln(stdout, m.summary())
	}
	if err != nil {
		return fail(1, err)
	}
	return 0
}

// runWatch shows the ladder of c's subscription until q, Ctrl-C, a signal,
// or the end of the session (then after a key or cfg.endWait), and returns
// the model's final state and the error Run ended with, if any (an end of
// session, q or Ctrl-C are not errors). opts set the program's input and
// output.
func runWatch(ctx context.Context, c *client.Client, cfg watchConfig, opts ...tea.ProgramOption) (*watchModel, error) {
	w := newWatcher(cfg.symbol, cfg.levels, cfg.trades)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		bk := c.Book()
		err := c.Run(runCtx, func(ev *client.Event) error {
			w.handle(bk, ev, time.Now())
			return nil
		})
		w.finish(err, c.Ended())
	}()
	p := tea.NewProgram(newWatchModel(cfg, w), append([]tea.ProgramOption{tea.WithContext(ctx)}, opts...)...)
	final, perr := p.Run()
	cancel() // Run returns; the connection is closed by the caller
	<-w.finished
	var m *watchModel
	if fm, ok := final.(watchModel); ok {
		m = &fm
	}
	if perr != nil && !errors.Is(perr, tea.ErrInterrupted) && !errors.Is(perr, tea.ErrProgramKilled) {
		return m, perr
	}
	w.mu.Lock()
	err := w.err
	w.mu.Unlock()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return m, err
}

// watchTrade is one print of the tape.
type watchTrade struct {
	Timestamp uint64 // nanoseconds since midnight
	Match     uint64
	Shares    uint64
	Price     uint32 // Price(4)
	Cross     tw.CrossKind
	Broken    bool // a Trade Broken named its match number
}

// watchState is what the ladder draws: a copy, owned by whoever holds it
// (not safe for concurrent use; the watcher hands out clones).
type watchState struct {
	Symbol       string
	Listed       bool         // the instrument's snapshot was received
	Bids, Asks   []book.Level // best first, at most the levels shown
	Trades       []watchTrade // oldest first, at most the trades shown
	TradingState byte         // ITCH 'H' state, 0 before one is known
	Suspect      bool         // the daemon's book may be wrong after a gap
	Feed         tw.FeedState // the last Status for the feed or the instrument
	FeedReason   string
	Seq          uint64    // feed sequence of the last message reflected
	Updates      uint64    // updates of the instrument received
	LastMsg      time.Time // when the last message of any kind arrived
	Reconnects   int
	LastErr      string // why the connection was last lost
	Ended        bool   // the server ended the session
	Done         bool   // Run returned
	Err          string // what Run returned with, if not nil
}

// clone returns a copy of s that shares nothing with it.
func (s *watchState) clone() watchState {
	c := *s
	c.Bids, c.Asks, c.Trades = slices.Clone(s.Bids), slices.Clone(s.Asks), slices.Clone(s.Trades)
	return c
}

// watcher collects, on Run's goroutine, what the ladder shows. Its state
// is guarded by mu: handle and finish write it, snapshot reads it from the
// UI's goroutine.
type watcher struct {
	symbol   string
	levels   int
	trades   int
	locate   uint16
	found    bool
	mu       sync.Mutex
	st       watchState // guarded by mu; its slices keep their storage
	err      error      // Run's result, guarded by mu
	finished chan struct{}
}

func newWatcher(symbol string, levels, trades int) *watcher {
	return &watcher{symbol: symbol, levels: levels, trades: trades, finished: make(chan struct{}),
		st: watchState{Symbol: symbol, Bids: make([]book.Level, 0, levels), Asks: make([]book.Level, 0, levels),
			Trades: make([]watchTrade, 0, trades)}}
}

// handle takes an event of Run (after the client applied it to bk) into
// the state. It allocates nothing once the trades list is full.
func (w *watcher) handle(bk *client.Book, ev *client.Event, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := &w.st
	st.LastMsg = now
	if ev.Kind == client.EventReconnected {
		st.Reconnects++
		if ev.Err != nil {
			st.LastErr = ev.Err.Error()
		}
		return
	}
	m := ev.Message
	switch t := m.Type(); t {
	case tw.BodySnapshot:
		if in := bk.Instrument(ev.Locate); in != nil && string(bytes.TrimRight(in.Symbol[:], " \x00")) == w.symbol {
			w.locate, w.found, st.Listed = ev.Locate, true, true
		}
	case tw.BodyStatus:
		var s tw.Status
		tab := m.Table()
		s.Init(tab.Bytes, tab.Pos)
		if s.Locate() == 0 || (w.found && s.Locate() == w.locate) {
			st.Feed, st.FeedReason = s.State(), string(s.Reason())
		}
		if s.State() == tw.FeedStateEndOfSession && s.Locate() == 0 {
			st.Ended = true
		}
	case tw.BodyTrade:
		if w.mine(ev.Locate) {
			var v tw.TradeFields
			v.Init(m.Fields(t))
			w.trade(watchTrade{Timestamp: v.Stamp(nil).Timestamp(), Match: v.MatchNumber(), Shares: v.Shares(), Price: v.Price(), Cross: v.Cross()})
		}
	case tw.BodyOrderExecuted:
		if w.mine(ev.Locate) {
			var v tw.OrderExecutedFields
			v.Init(m.Fields(t))
			if v.Printable() { // a non-printable execution is counted in a later cross
				w.trade(watchTrade{Timestamp: v.Stamp(nil).Timestamp(), Match: v.MatchNumber(), Shares: uint64(v.Shares()), Price: v.Price()})
			}
		}
	case tw.BodyTradeBroken:
		if w.mine(ev.Locate) {
			var v tw.TradeBrokenFields
			v.Init(m.Fields(t))
			for i := range st.Trades {
				if st.Trades[i].Match == v.MatchNumber() {
					st.Trades[i].Broken = true
				}
			}
		}
	}
	if !w.mine(ev.Locate) {
		return
	}
	if m.IsUpdate() {
		st.Updates++
	}
	in := bk.Instrument(w.locate)
	if in == nil {
		return
	}
	st.Bids = append(st.Bids[:0], in.Bids[:min(len(in.Bids), w.levels)]...)
	st.Asks = append(st.Asks[:0], in.Asks[:min(len(in.Asks), w.levels)]...)
	st.TradingState, st.Suspect, st.Seq = in.TradingState, in.Suspect, in.Seq
}

// mine reports whether locate is the watched instrument's.
func (w *watcher) mine(locate uint16) bool { return w.found && locate == w.locate }

// trade appends t to the tape, dropping the oldest past w.trades. Called
// with mu held.
func (w *watcher) trade(t watchTrade) {
	if w.trades == 0 {
		return
	}
	tr := w.st.Trades
	if len(tr) == w.trades {
		copy(tr, tr[1:])
		tr = tr[:len(tr)-1]
	}
	w.st.Trades = append(tr, t)
}

// finish records that Run returned with err.
func (w *watcher) finish(err error, ended bool) {
	w.mu.Lock()
	w.err = err
	w.st.Done, w.st.Ended = true, w.st.Ended || ended
	if err != nil && !errors.Is(err, context.Canceled) {
		w.st.Err = err.Error()
	}
	w.mu.Unlock()
	close(w.finished)
}

// snapshot returns a copy of the state, for the UI's goroutine.
func (w *watcher) snapshot() watchState {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.st.clone()
}

// The model's messages.
type (
	frameMsg struct { // a frame's copy of the state
		at time.Time
		st watchState
	}
	runDoneMsg struct{ st watchState } // Run returned; the final state
	endWaitMsg struct{}                // the end of session was shown long enough
)

// watchModel is the bubbletea model: the last state copied from the
// watcher and the update rate measured over the frames. A value, changed
// only by Update on the program's goroutine.
type watchModel struct {
	cfg     watchConfig
	w       *watcher // nil in tests that feed Update by hand
	st      watchState
	now     time.Time    // the last frame's time
	samples []rateSample // (time, updates) of the frames in the last rateWindow
	rate    float64
	width   int
	height  int
}

type rateSample struct {
	at      time.Time
	updates uint64
}

func newWatchModel(cfg watchConfig, w *watcher) watchModel {
	return watchModel{cfg: cfg, w: w, st: watchState{Symbol: cfg.symbol}}
}

// Init starts the frames and the wait for Run's end.
func (m watchModel) Init() tea.Cmd {
	if m.w == nil {
		return nil
	}
	w := m.w
	return tea.Batch(m.frame(), func() tea.Msg {
		<-w.finished
		return runDoneMsg{st: w.snapshot()}
	})
}

// frame schedules the next frame's copy of the state.
func (m watchModel) frame() tea.Cmd {
	if m.w == nil {
		return nil
	}
	w := m.w
	return tea.Tick(m.cfg.frame, func(t time.Time) tea.Msg { return frameMsg{at: t, st: w.snapshot()} })
}

// Update takes keys, frames and the end of Run.
func (m watchModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		if m.st.Done || msg.String() == "q" || msg.String() == "ctrl+c" {
			return m, tea.Quit
		}
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case frameMsg:
		if m.st.Done {
			return m, nil // the final state stands
		}
		m.observe(msg.at, msg.st)
		return m, m.frame()
	case runDoneMsg:
		m.observe(m.now, msg.st)
		return m, tea.Tick(m.cfg.endWait, func(time.Time) tea.Msg { return endWaitMsg{} })
	case endWaitMsg:
		return m, tea.Quit
	}
	return m, nil
}

// observe takes st, copied at time at, and updates the rate: the updates
// counted over the frames of the last rateWindow.
func (m *watchModel) observe(at time.Time, st watchState) {
	m.st = st
	if at.IsZero() {
		return
	}
	m.now = at
	m.samples = append(m.samples, rateSample{at, st.Updates})
	i := 0
	for i < len(m.samples)-1 && at.Sub(m.samples[i+1].at) >= rateWindow {
		i++
	}
	m.samples = m.samples[i:]
	first := m.samples[0]
	if dt := at.Sub(first.at); dt > 0 {
		m.rate = float64(st.Updates-first.updates) / dt.Seconds()
	}
}

// View draws the ladder on the alternate screen.
func (m watchModel) View() tea.View {
	v := tea.NewView(renderWatch(&m.st, m.view()))
	v.AltScreen = true
	v.WindowTitle = "tickwire watch " + m.cfg.symbol
	return v
}

// view is how renderWatch draws: the levels and trades fitted to the
// window's height, when known.
func (m watchModel) view() watchView {
	v := watchView{levels: m.cfg.levels, trades: m.cfg.trades, rate: m.rate, now: m.now, endWait: m.cfg.endWait}
	if m.height > 0 {
		// Fixed rows: title, status, column heads, spread, blank, tape head,
		// blank, footer (and two spare for the banners).
		const fixed = 10
		room := max(m.height-fixed, 2)
		v.trades = min(v.trades, room/3)
		v.levels = max(1, min(v.levels, (room-v.trades)/2))
	}
	return v
}

// summary is the line printed once the terminal is back.
func (m *watchModel) summary() string {
	st := &m.st
	var b strings.Builder
	fmt.Fprintf(&b, "tickwire watch: %s", st.Symbol)
	if len(st.Bids) > 0 {
		fmt.Fprintf(&b, " bid %s x %d", formatPrice(st.Bids[0].Price), st.Bids[0].Shares)
	}
	if len(st.Asks) > 0 {
		fmt.Fprintf(&b, " ask %s x %d", formatPrice(st.Asks[0].Price), st.Asks[0].Shares)
	}
	fmt.Fprintf(&b, "; %d updates", st.Updates)
	if st.Ended {
		b.WriteString("; the session ended")
	}
	return b.String()
}

// watchView is how many rows renderWatch draws and what the model measured.
type watchView struct {
	levels  int // per side
	trades  int
	rate    float64   // updates per second
	now     time.Time // the frame's time, for staleness; zero: not shown
	endWait time.Duration
}

// renderWatch draws st as text: a title with the feed's and the
// instrument's state and the update rate, then the asks (worst at the top,
// best just above the spread) and the bids (best just below it), each
// side padded to v.levels rows so that the spread stays put, then the last
// trades, newest first, then banners for the end of the session.
func renderWatch(st *watchState, v watchView) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-8s  feed %-12s  %-16s  %8.1f updates/s  seq %d\n",
		st.Symbol, feedStateName(st.Feed), tradingStateName(st.TradingState), v.rate, st.Seq)
	var notes []string
	if st.FeedReason != "" {
		notes = append(notes, st.FeedReason)
	}
	if !st.Listed {
		notes = append(notes, "waiting for "+st.Symbol+" to be listed on the feed")
	}
	if st.Suspect {
		notes = append(notes, "SUSPECT: the daemon's book may be wrong after a gap")
	}
	if st.Reconnects > 0 {
		notes = append(notes, fmt.Sprintf("reconnected %d times (last: %s)", st.Reconnects, st.LastErr))
	}
	if !v.now.IsZero() && !st.LastMsg.IsZero() && !st.Done && v.now.Sub(st.LastMsg) >= watchStale {
		notes = append(notes, fmt.Sprintf("no data for %s", v.now.Sub(st.LastMsg).Truncate(time.Second)))
	}
	fmt.Fprintf(&b, "%s\n", strings.Join(notes, "; "))

	fmt.Fprintf(&b, "%-4s %14s %12s %8s\n", "", "price", "shares", "orders")
	asks := st.Asks[:min(len(st.Asks), v.levels)]
	for range v.levels - len(asks) {
		b.WriteString("\n")
	}
	for i := len(asks) - 1; i >= 0; i-- {
		writeLevel(&b, "ask", asks[i])
	}
	b.WriteString(spreadLine(st.Bids, st.Asks))
	bids := st.Bids[:min(len(st.Bids), v.levels)]
	for _, l := range bids {
		writeLevel(&b, "bid", l)
	}
	for range v.levels - len(bids) {
		b.WriteString("\n")
	}

	if v.trades > 0 {
		fmt.Fprintf(&b, "\nlast trades %18s %12s\n", "price", "shares")
		tr := st.Trades[max(0, len(st.Trades)-v.trades):]
		for i := len(tr) - 1; i >= 0; i-- {
			t := tr[i]
			fmt.Fprintf(&b, "%-16s %14s %12d", formatTime(t.Timestamp), formatPrice(t.Price), t.Shares)
			if t.Cross != tw.CrossKindContinuous {
				fmt.Fprintf(&b, "  %s cross", strings.ToLower(tw.EnumNamesCrossKind[t.Cross]))
			}
			if t.Broken {
				b.WriteString("  BROKEN")
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("\n")
	switch {
	case st.Err != "":
		fmt.Fprintf(&b, "connection lost: %s\npress any key to exit (closing in %s)\n", st.Err, v.endWait)
	case st.Ended:
		fmt.Fprintf(&b, "the server ended the session\npress any key to exit (closing in %s)\n", v.endWait)
	default:
		b.WriteString("q or Ctrl-C to quit\n")
	}
	return b.String()
}

func writeLevel(b *strings.Builder, side string, l book.Level) {
	fmt.Fprintf(b, "%-4s %14s %12d %8d\n", side, formatPrice(l.Price), l.Shares, l.Orders)
}

// spreadLine separates the asks from the bids, with the spread when both
// sides have a level.
func spreadLine(bids, asks []book.Level) string {
	const rule = "----"
	if len(bids) == 0 || len(asks) == 0 {
		return fmt.Sprintf("%s %35s\n", rule, "")
	}
	bid, ask := bids[0].Price, asks[0].Price
	switch {
	case ask == bid:
		return fmt.Sprintf("%s %14s %20s\n", rule, "locked", "")
	case ask < bid:
		return fmt.Sprintf("%s %14s %20s\n", rule, "crossed -"+formatPrice(bid-ask), "")
	}
	return fmt.Sprintf("%s %14s %20s\n", rule, "spread "+formatPrice(ask-bid), "")
}

// formatPrice writes a Price(4) (4 implied decimals) in decimal.
func formatPrice(p uint32) string { return fmt.Sprintf("%d.%04d", p/10000, p%10000) }

// formatTime writes nanoseconds since midnight as hh:mm:ss.microseconds.
func formatTime(ns uint64) string {
	s := ns / 1e9
	return fmt.Sprintf("%02d:%02d:%02d.%06d", s/3600, s/60%60, s%60, ns%1e9/1e3)
}

// feedStateName names a Status state.
func feedStateName(s tw.FeedState) string {
	if n, ok := tw.EnumNamesFeedState[s]; ok {
		return n
	}
	return fmt.Sprintf("state %d", s)
}

// tradingStateName names an ITCH 'H' Trading State.
func tradingStateName(s byte) string {
	switch s {
	case 'H':
		return "halted"
	case 'P':
		return "paused"
	case 'Q':
		return "quotation only"
	case 'T':
		return "trading"
	case 0:
		return "trading state ?"
	}
	return fmt.Sprintf("trading state %q", s)
}
