package live_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tickwire/tickwire/book"
	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/feed/live"
	"github.com/tickwire/tickwire/feed/mcast"
	"github.com/tickwire/tickwire/internal/config"
	"github.com/tickwire/tickwire/internal/gen"
	"github.com/tickwire/tickwire/internal/sim"
)

const testSession = "TICKWIRE01"

// session generates a session of n messages: its history, for the
// simulator, and its expected books (JSON Lines).
func session(t *testing.T, seed uint64, n int) (*sim.History, []byte) {
	t.Helper()
	var raw, books bytes.Buffer
	if _, err := gen.Generate(gen.Config{Seed: seed, Messages: n, Instruments: 40}, gen.Outputs{ITCH: &raw, Books: &books}); err != nil {
		t.Fatal(err)
	}
	h, err := sim.ReadHistory(&raw)
	if err != nil {
		t.Fatal(err)
	}
	return h, books.Bytes()
}

// parse reads a test's configuration as tickwire run would.
func parse(t *testing.T, yaml string) live.Config {
	t.Helper()
	c, err := config.Parse(strings.NewReader(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return c.Config
}

// lineGroups returns two multicast groups on one random port; the sender
// sends them on lo only.
func lineGroups() (a, b netip.AddrPort) {
	port := uint16(20000 + rand.IntN(20000))
	x, y := byte(rand.IntN(250)), byte(rand.IntN(250))
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{239, 91, x, 1}), port),
		netip.AddrPortFrom(netip.AddrFrom4([4]byte{239, 91, y, 2}), port)
}

// level is one price level as the mirror keeps it.
type levelKey struct {
	locate uint16
	side   byte
	price  uint32
}

// levelMirror is a Listener that rebuilds every instrument's price levels
// from ChangeLevel alone, sharing nothing with the book.
type levelMirror struct {
	levels  map[levelKey]book.Level
	changes int
	lastSeq uint64
	backSeq int // changes whose Seq went backwards (other than snapshot changes, Seq 0)
}

func (m *levelMirror) Change(c *book.Change) {
	m.changes++
	if c.Seq != 0 {
		if c.Seq < m.lastSeq {
			m.backSeq++
		}
		m.lastSeq = c.Seq
	}
	if c.Kind != book.ChangeLevel {
		return
	}
	k := levelKey{c.Locate, c.Side, c.Price}
	if c.LevelOrders == 0 {
		delete(m.levels, k)
		return
	}
	m.levels[k] = book.Level{Price: c.Price, Shares: c.LevelShares, Orders: c.LevelOrders}
}

// compare checks the mirror against the book's levels, every instrument.
func (m *levelMirror) compare(t *testing.T, h *live.Handler) {
	t.Helper()
	n := 0
	for _, l := range h.Locates() {
		for _, side := range []byte{itch.Buy, itch.Sell} {
			for _, lv := range h.Book(l).AppendLevels(nil, l, side) {
				n++
				got, ok := m.levels[levelKey{l, side, lv.Price}]
				if !ok || got.Shares != lv.Shares || got.Orders != lv.Orders {
					t.Fatalf("locate %d %c %d: book %+v, mirror %+v (present %v)", l, side, lv.Price, lv, got, ok)
				}
			}
		}
	}
	if n != len(m.levels) {
		t.Fatalf("book has %d levels, mirror %d", n, len(m.levels))
	}
}

// booksUsed returns how many books hold h's instruments.
func booksUsed(h *live.Handler) int {
	seen := map[*book.Book]bool{}
	for _, l := range h.Locates() {
		seen[h.Book(l)] = true
	}
	return len(seen)
}

// status is one Status call.
type status struct {
	s      live.State
	reason string
	seq    uint64
}

// syncBuffer is a log safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestRunMulticastHooks plays a simulated session with loss on both lines
// and a window cut on both (so that every run needs the re-request server,
// not only when chance loses a packet on both)
// to a Handler on loopback multicast, with every hook set. The Listener's
// changes rebuild the book's levels exactly, Flush is called, Status says
// Live at the start and EndOfSession at the session's end sequence, and
// the books equal the generator's: with one book, and with the books
// spread over three writers (book.shards), whose changes reach the
// Listener merged in sequence order before each Flush.
func TestRunMulticastHooks(t *testing.T) {
	for _, shards := range []int{1, 3} {
		t.Run(fmt.Sprintf("shards=%d", shards), func(t *testing.T) { runMulticastHooks(t, shards) })
	}
}

func runMulticastHooks(t *testing.T, shards int) {
	const n = 30_000
	hist, want := session(t, 5, n)
	ga, gb := lineGroups()
	srv, err := sim.NewServer(netip.MustParseAddrPort("127.0.0.1:0"), sim.ServerConfig{Session: testSession, Seed: 5}, hist)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	go srv.Serve()
	cfg := parse(t, fmt.Sprintf(`feed:
  interface: lo
  line_a: {group: %s}
  line_b: {group: %s}
  rerequest: {server: %s, fill_time: 3ms, timeout: 40ms, max_retries: 30, max_age: 20s}
book: {shards: %d}
`, ga, gb, srv.Addr(), shards))

	mr := &levelMirror{levels: map[levelKey]book.Level{}}
	var statuses []status
	flushes, flushedChanges := 0, 0
	var h *live.Handler
	hooks := live.Hooks{
		Listener: mr,
		Flush: func() {
			flushes++
			flushedChanges = mr.changes
			_ = h.LiveOrders() // the books may be read here
		},
		Status: func(s live.State, reason string, seq uint64) {
			statuses = append(statuses, status{s, reason, seq})
		},
	}
	var log syncBuffer
	h, err = live.New(cfg, &log, hooks)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()

	sender, err := mcast.NewSender("lo", 1, true)
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close()
	simCfg := sim.Config{Session: testSession, Rate: 200_000, Seed: 5, Lines: [2]sim.Line{
		{Group: ga, Loss: 0.03, Reorder: 0.01, CutFrom: 15_000, CutTo: 15_300},
		{Group: gb, Loss: 0.03, Dup: 0.01, Lag: 3, CutFrom: 15_000, CutTo: 15_300},
	}}
	simDone := make(chan error, 1)
	go func() {
		time.Sleep(50 * time.Millisecond) // the handler is receiving by then
		_, err := sim.Run(context.Background(), simCfg, hist, sender, 20*time.Millisecond)
		simDone <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := h.Run(ctx, true); err != nil {
		t.Fatalf("Run: %v\n%s", err, log.String())
	}
	if err := <-simDone; err != nil {
		t.Fatal(err)
	}
	var sum bytes.Buffer
	h.WriteSummary(&sum, time.Second, 0)
	t.Logf("log:\n%s\nsummary:\n%s\nstatus: %v; %d flushes", log.String(), sum.String(), statuses, flushes)
	if ctx.Err() != nil {
		t.Fatal("the session did not end within a minute")
	}

	if !h.Trusted() {
		t.Error("Trusted() = false after a session recovered in full")
	}
	if strings.Contains(sum.String(), "recovery    0 requests") {
		t.Error("no re-request was needed: the test did not exercise recovery")
	}
	mr.compare(t, h)
	if got := booksUsed(h); got != shards {
		t.Errorf("the instruments are in %d books, want %d", got, shards)
	}
	if mr.changes == 0 || mr.backSeq != 0 {
		t.Errorf("%d changes, %d with a sequence going backwards", mr.changes, mr.backSeq)
	}
	if flushes == 0 || flushedChanges != mr.changes {
		t.Errorf("%d flushes, the last after %d of %d changes", flushes, flushedChanges, mr.changes)
	}
	wantStatus := []status{{live.Live, "", 1}, {live.EndOfSession, "", n + 1}}
	if !slices.Equal(statuses, wantStatus) {
		t.Errorf("statuses %v, want %v", statuses, wantStatus)
	}
	var got bytes.Buffer
	if err := h.WriteBooks(&got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("books differ from the generator's: %d bytes, want %d", got.Len(), len(want))
	}
	checkStats(t, h, n, true)
}

// TestRunSoupHooks takes a session over SoupBinTCP from the simulator's
// server on loopback: Flush follows each read, the mirror equals the book,
// and Status ends with EndOfSession at the session's end, with one book and
// with two shards.
func TestRunSoupHooks(t *testing.T) {
	for _, shards := range []int{1, 2} {
		t.Run(fmt.Sprintf("shards=%d", shards), func(t *testing.T) { runSoupHooks(t, shards) })
	}
}

func runSoupHooks(t *testing.T, shards int) {
	const n = 20_000
	hist, want := session(t, 9, n)
	ss, err := sim.NewSoupServer("127.0.0.1:0", sim.SoupConfig{Session: testSession, Username: "u", Password: "p", EndOfSession: true}, hist)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	cfg := parse(t, fmt.Sprintf(`feed:
  interface: lo
  soupbintcp: {server: %s, username: u, password: p}
book: {shards: %d}
`, ss.Addr(), shards))
	mr := &levelMirror{levels: map[levelKey]book.Level{}}
	var statuses []status
	flushes, flushedChanges := 0, 0
	h, err := live.New(cfg, &syncBuffer{}, live.Hooks{
		Listener: mr,
		Flush:    func() { flushes++; flushedChanges = mr.changes },
		Status:   func(s live.State, reason string, seq uint64) { statuses = append(statuses, status{s, reason, seq}) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := h.Run(ctx, true); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil || !h.Started() || !h.Trusted() {
		t.Fatalf("ctx %v, started %v, trusted %v", ctx.Err(), h.Started(), h.Trusted())
	}
	mr.compare(t, h)
	if flushes == 0 || flushedChanges != mr.changes {
		t.Errorf("%d flushes, the last after %d of %d changes", flushes, flushedChanges, mr.changes)
	}
	wantStatus := []status{{live.Live, "", 1}, {live.EndOfSession, "", n + 1}}
	if !slices.Equal(statuses, wantStatus) {
		t.Errorf("statuses %v, want %v", statuses, wantStatus)
	}
	var got bytes.Buffer
	if err := h.WriteBooks(&got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("books differ from the generator's")
	}
	checkStats(t, h, n, false)
}

// checkStats checks the figures the handler published at the end of Run
// (Handler.Stats, Stage): every message applied, none lost, the session
// ended; with kernel timestamps (multicast), the stages recorded.
func checkStats(t *testing.T, h *live.Handler, n uint64, stages bool) {
	t.Helper()
	st := h.Stats()
	if st.At.IsZero() || st.Messages != n || st.Gaps != 0 || st.Stale || !st.Ended || st.State != live.EndOfSession {
		t.Errorf("stats %+v, want %d messages, ended", st, n)
	}
	if stages && h.Stage(live.StageToBook).Snapshot().TotalCount() == 0 {
		t.Error("no latency recorded from kernel receive to book")
	}
}
