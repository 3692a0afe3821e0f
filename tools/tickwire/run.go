package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"golang.org/x/sys/unix"

	"github.com/tickwire/tickwire/codec/moldudp64"
	"github.com/tickwire/tickwire/codec/soupbintcp"
	"github.com/tickwire/tickwire/feed"
	"github.com/tickwire/tickwire/feed/mcast"
	"github.com/tickwire/tickwire/feed/soup"
	"github.com/tickwire/tickwire/internal/config"
	"github.com/tickwire/tickwire/internal/pipeline"
)

// Lines of the live pipeline: the two multicast lines, and the unicast
// socket re-request answers arrive on.
const (
	lineA = iota
	lineB
	lineRecovery
)

func runCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tickwire run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfgPath   = fs.String("config", "", "configuration `FILE` (see tickwire.example.yaml)")
		booksExit = fs.String("books-on-exit", "", "write the final books to `FILE` on a clean shutdown (overrides books_on_exit)")
		exitOnEnd = fs.Bool("exit-on-end", false, "exit once the session has ended and every message is accounted for")
		top       = fs.Int("top", 10, "instruments in the exit summary's top-of-book table")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "tickwire run: %v\n", err)
		return code
	}
	if *cfgPath == "" {
		return fail(2, errors.New("--config FILE is required"))
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return fail(2, err)
	}
	if *booksExit != "" {
		cfg.BooksOnExit = *booksExit
	}
	if cfg.Feed.SoupBinTCP.ServerAddr.IsValid() {
		return runSoup(cfg, *exitOnEnd, *top, stdout, stderr)
	}
	h, err := newHandler(cfg, stderr)
	if err != nil {
		return fail(1, err)
	}
	defer h.close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var stopping atomic.Bool
	go func() { <-ctx.Done(); stopping.Store(true) }()

	start := time.Now()
	err = h.loop(&stopping, *exitOnEnd)
	elapsed := time.Since(start)
	g := &pipeline.Group{P: []*pipeline.Pipeline{h.p}}
	g.WriteSummary(stdout, pipeline.Summary{Inputs: []string{cfg.Feed.LineA.Group, cfg.Feed.LineB.Group}, Format: "live MoldUDP64", Elapsed: elapsed, Top: *top})
	fst := h.p.FeedStats()
	fmt.Fprintf(stdout, "recovery    %d requests (%d messages), %d retries, %d recovered, %d given up, %d overflow\n",
		fst.Requests, fst.RequestedMessages, fst.Retries, fst.Recovered, fst.GivenUp, fst.RecoveryOverflow)
	fmt.Fprintf(stdout, "kernel      drops: line A %d, line B %d\n", h.socks[lineA].Drops(), h.socks[lineB].Drops())
	if l := h.lat; l.TotalCount() > 0 {
		us := func(q float64) float64 { return float64(l.ValueAtQuantile(q)) / 1e3 }
		fmt.Fprintf(stdout, "latency     kernel receive -> book updated, %d packets (%s poll): p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us\n",
			l.TotalCount(), cfg.Feed.Poll, us(50), us(99), us(99.9), float64(l.Max())/1e3)
	}
	if n, r := h.p.SnapshotStats(); n > 0 {
		fmt.Fprintf(stdout, "snapshot    %d snapshot messages applied, %d rebuild(s) after failed recovery (packet counters above are since the last)\n", n, r)
	}
	if h.p.Finished() {
		fmt.Fprintln(stdout, "session     ended (end of session received, every message accounted for)")
	}
	if err != nil {
		return fail(1, err)
	}
	if cfg.BooksOnExit != "" {
		if err := writeBooks(cfg.BooksOnExit, g, stdout); err != nil {
			return fail(1, err)
		}
	}
	return 0
}

// rebuild recovers from a gap that recovery gave up: the books are marked
// stale (status line), rebuilt from a snapshot, and the feed goes on from
// the snapshot's sequence number. The sockets keep buffering meanwhile.
func (h *handler) rebuild() error {
	g := h.p.Stats().GapList
	last := g[len(g)-1]
	fmt.Fprintf(h.stderr, "tickwire run: status: books stale: %d message(s) from sequence %d could not be recovered; rebuilding from a snapshot\n", last.Count, last.First)
	snap, next, err := fetchSnapshot(h.cfg.Feed.Snapshot)
	if err != nil {
		return fmt.Errorf("rebuilding from a snapshot: %w", err)
	}
	h.p.ResetBook()
	for _, m := range snap {
		h.p.Snapshot(m)
	}
	h.p.Restart(next)
	fmt.Fprintf(h.stderr, "tickwire run: status: live: books rebuilt from a snapshot of %d messages; the feed goes on from sequence %d\n", len(snap), next)
	return nil
}

// snapshotCollector receives a GLIMPSE snapshot over SoupBinTCP. Its
// methods run on the SoupBinTCP session's event loop; fetchSnapshot reads
// the result only after done is signalled.
type snapshotCollector struct {
	loader *feed.SnapshotLoader
	msgs   [][]byte
	done   chan error
	sent   bool
}

func (c *snapshotCollector) finish(err error) {
	if !c.sent {
		c.sent = true
		c.done <- err
	}
}

func (c *snapshotCollector) Message(seq uint64, msg []byte) {
	if c.sent {
		return
	}
	end, err := c.loader.Message(msg)
	if err != nil {
		c.finish(err)
	} else if end {
		c.finish(nil)
	}
}

func (c *snapshotCollector) LoggedIn(string, uint64) {}

func (c *snapshotCollector) EndOfSession() {
	c.finish(errors.New("the server ended the session before the end of the snapshot"))
}

func (c *snapshotCollector) Rejected(reason byte) {
	c.finish(fmt.Errorf("login rejected: %s", soupbintcp.RejectReason(reason)))
}

// fetchSnapshot logs in to the GLIMPSE server (requested sequence 1, as
// GLIMPSE wants) and returns the snapshot's ITCH messages and the feed
// sequence number its end-of-snapshot message gives: the next to apply.
func fetchSnapshot(sc config.Snapshot) ([][]byte, uint64, error) {
	c := &snapshotCollector{done: make(chan error, 1)}
	c.loader = feed.NewSnapshotLoader(func(msg []byte) { c.msgs = append(c.msgs, append([]byte(nil), msg...)) })
	sess, err := soup.Dial(soup.Config{Addr: sc.ServerAddr.String(), Username: sc.Username, Password: sc.Password, Seq: 1}, c)
	if err != nil {
		return nil, 0, fmt.Errorf("snapshot server %s: %w", sc.ServerAddr, err)
	}
	defer sess.Close()
	select {
	case err := <-c.done:
		if err != nil {
			return nil, 0, fmt.Errorf("snapshot server %s: %w", sc.ServerAddr, err)
		}
		return c.msgs, c.loader.Next(), nil
	case <-sess.Done():
		return nil, 0, fmt.Errorf("snapshot server %s: session ended before the end of the snapshot: %v", sc.ServerAddr, sess.Err())
	case <-time.After(sc.Timeout):
		return nil, 0, fmt.Errorf("snapshot server %s: no complete snapshot within %v", sc.ServerAddr, sc.Timeout)
	}
}

// faultCounts are the counters of bad input the receive loop reports.
type faultCounts struct {
	notMold, otherSession, malformedPkts, implausible, malformedMsgs, unknownTypes, anomalies, gaps uint64
}

// logFaults reports, at most once per call (the loop calls it once a
// second), the bad input that arrived since the last report: what it was,
// how many, and where (the sequence numbers the pipeline recorded). It
// returns the counts to compare with next time.
func (h *handler) logFaults(prev faultCounts) faultCounts {
	st, fs := h.p.Stats(), h.p.FeedStats()
	an := h.p.Book().Anomalies()
	now := faultCounts{st.NotMoldUDP, st.OtherSession, fs.Malformed, fs.Implausible, st.Malformed, st.UnknownTypes, an.Total(), st.Gaps}
	report := func(what string, d uint64, where string) {
		if d > 0 {
			fmt.Fprintf(h.stderr, "tickwire run: %d %s in the last second%s\n", d, what, where)
		}
	}
	report("datagrams that are not MoldUDP64", now.notMold-prev.notMold, "")
	report("MoldUDP64 packets of another session", now.otherSession-prev.otherSession, "")
	report("malformed MoldUDP64 packets (block lengths do not match the packet)", now.malformedPkts-prev.malformedPkts, "")
	report("MoldUDP64 packets with an implausible sequence number (far ahead, not corroborated)", now.implausible-prev.implausible, "")
	if d := now.malformedMsgs - prev.malformedMsgs; d > 0 {
		where := ""
		if n := len(st.MsgErrors); n > 0 {
			where = "; latest: " + st.MsgErrors[n-1].String()
		}
		report("malformed ITCH messages", d, where)
	}
	report("ITCH messages of unknown types (skipped)", now.unknownTypes-prev.unknownTypes, "")
	if d := now.anomalies - prev.anomalies; d > 0 {
		where := ""
		if n := len(an.Records); n > 0 {
			r := an.Records[n-1]
			where = fmt.Sprintf("; latest recorded: sequence %d, %s, order %d, locate %d", r.Seq, r.Kind, r.Ref, r.Locate)
		}
		report("book anomalies", d, where)
	}
	if d := now.gaps - prev.gaps; d > 0 {
		where := ""
		if n := len(st.GapList); n > 0 {
			g := st.GapList[n-1]
			where = fmt.Sprintf("; latest: %d message(s) from sequence %d", g.Count, g.First)
		}
		report("gaps given up", d, where)
	}
	return now
}

// nanotime reads the wall clock (CLOCK_REALTIME, the clock of
// SO_TIMESTAMPNS) through the vDSO, as time.Now does; unix.ClockGettime
// would be a system call.
func nanotime() int64 { return time.Now().UnixNano() }

// soupFeed applies a SoupBinTCP session's messages to the pipeline. Its
// methods run on the session's event loop, one at a time.
type soupFeed struct {
	p        *pipeline.Pipeline
	ended    chan struct{}
	rejected error
	stderr   io.Writer
}

func (f *soupFeed) Message(seq uint64, msg []byte) { f.p.Message(seq, msg) }

func (f *soupFeed) LoggedIn(session string, next uint64) {
	fmt.Fprintf(f.stderr, "tickwire run: SoupBinTCP: logged in to session %q at sequence %d\n", session, next)
}

func (f *soupFeed) EndOfSession() { close(f.ended) }

func (f *soupFeed) Rejected(reason byte) {
	f.rejected = fmt.Errorf("SoupBinTCP login rejected: %s", soupbintcp.RejectReason(reason))
}

// runSoup is the handler for a feed taken over SoupBinTCP: sequenced and
// reliable, so there is nothing to arbitrate; reconnection resumes at the
// next expected sequence. With a snapshot server, the books start from a
// snapshot and the login asks for the snapshot's sequence.
func runSoup(cfg *config.Config, exitOnEnd bool, top int, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintf(stderr, "tickwire run: %v\n", err)
		return 1
	}
	sf := cfg.Feed.SoupBinTCP
	p, err := pipeline.New(pipeline.Config{Session: cfg.Feed.Session, Orders: cfg.Book.Orders, Instruments: cfg.Book.Instruments})
	if err != nil {
		return fail(err)
	}
	start := uint64(1)
	if cfg.Feed.Snapshot.ServerAddr.IsValid() {
		snap, next, err := fetchSnapshot(cfg.Feed.Snapshot)
		if err != nil {
			return fail(err)
		}
		for _, m := range snap {
			p.Snapshot(m)
		}
		start = next
		fmt.Fprintf(stderr, "tickwire run: status: books built from a snapshot of %d messages; the feed goes on from sequence %d\n", len(snap), next)
	}
	f := &soupFeed{p: p, ended: make(chan struct{}), stderr: stderr}
	began := time.Now()
	sess, err := soup.Dial(soup.Config{Addr: sf.ServerAddr.String(), Username: sf.Username, Password: sf.Password,
		Session: sf.Session, Seq: start}, f)
	if err != nil {
		return fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ended := f.ended
	if !exitOnEnd {
		ended = nil
	}
	select {
	case <-ctx.Done():
	case <-ended:
		fmt.Fprintln(stderr, "tickwire run: SoupBinTCP: end of session")
	case <-sess.Done():
	}
	sess.Close() // waits for the event loop: the pipeline is ours again
	elapsed := time.Since(began)
	g := &pipeline.Group{P: []*pipeline.Pipeline{p}}
	g.WriteSummary(stdout, pipeline.Summary{Inputs: []string{sf.Server}, Format: "SoupBinTCP", Elapsed: elapsed, Top: top})
	st := sess.Stats()
	fmt.Fprintf(stdout, "soupbintcp  %d messages, %d heartbeats, %d reconnects, %d timeouts, %d garbage packets\n",
		st.Messages, st.Heartbeats, st.Reconnects, st.Timeouts, st.Garbage)
	if f.rejected != nil {
		return fail(f.rejected)
	}
	if err := sess.Err(); err != nil {
		return fail(err)
	}
	if cfg.BooksOnExit != "" {
		if err := writeBooks(cfg.BooksOnExit, g, stdout); err != nil {
			return fail(err)
		}
	}
	return 0
}

// handler is the live pipeline: sockets, poller and book, driven by one
// goroutine.
type handler struct {
	cfg    *config.Config
	p      *pipeline.Pipeline
	socks  []*mcast.Socket // by line; lineRecovery only with a re-request server
	poller *mcast.Poller
	batch  *mcast.Batch
	stderr io.Writer
	// lat records, per packet, the time from the kernel's receive
	// timestamp to the packet's last message applied to the book (ns).
	lat *hdrhistogram.Histogram
}

// requester sends MoldUDP64 request packets from the unicast socket whose
// answers the receive loop reads as lineRecovery.
type requester struct {
	s      *mcast.Socket
	server netip.AddrPort
	buf    []byte
	errs   uint64
}

func (r *requester) Request(req moldudp64.Request) {
	r.buf = req.Append(r.buf[:0])
	if err := r.s.SendTo(r.server, r.buf); err != nil {
		r.errs++
	}
}

func newHandler(cfg *config.Config, stderr io.Writer) (*handler, error) {
	f := &cfg.Feed
	h := &handler{cfg: cfg, stderr: stderr, batch: mcast.NewBatch(64, 2048),
		lat: hdrhistogram.New(1, int64(time.Minute), 3)}
	for _, l := range []config.Line{f.LineA, f.LineB} {
		s, err := mcast.Listen(mcast.Config{Group: l.GroupAddr, Source: l.SourceAddr, Interface: f.Interface, RecvBuffer: f.RecvBuffer})
		if err != nil {
			h.close()
			return nil, err
		}
		for _, w := range s.Warnings() {
			fmt.Fprintf(stderr, "tickwire run: warning: %s\n", w)
		}
		h.socks = append(h.socks, s)
	}
	pc := pipeline.Config{
		Session:     f.Session,
		Orders:      cfg.Book.Orders,
		Instruments: cfg.Book.Instruments,
		HoldPackets: f.Hold.Packets,
		HoldBytes:   f.Hold.Bytes,
		HoldTime:    int64(f.Rerequest.MaxAge),
		MaxJump:     f.MaxJump,
	}
	if rr := f.Rerequest; rr.ServerAddr.IsValid() {
		s, err := mcast.ListenUnicast(netip.AddrPortFrom(netip.IPv4Unspecified(), 0))
		if err != nil {
			h.close()
			return nil, err
		}
		h.socks = append(h.socks, s)
		pc.Requester = &requester{s: s, server: rr.ServerAddr}
		pc.Recovery = feed.RecoveryConfig{FillTime: int64(rr.FillTime), MaxOutstanding: rr.MaxOutstanding,
			MaxCount: uint16(rr.MaxCount), Timeout: int64(rr.Timeout), Backoff: rr.Backoff,
			MaxRetries: rr.MaxRetries, MaxAge: int64(rr.MaxAge)}
	}
	// With a snapshot server, the books start from a snapshot and the feed
	// from its sequence number. The lines are joined already, so what is
	// multicast meanwhile waits in the socket buffers.
	var snap [][]byte
	if f.Snapshot.ServerAddr.IsValid() {
		var err error
		if snap, pc.Start, err = fetchSnapshot(f.Snapshot); err != nil {
			h.close()
			return nil, err
		}
		fmt.Fprintf(stderr, "tickwire run: status: books built from a snapshot of %d messages; the feed goes on from sequence %d\n", len(snap), pc.Start)
	}
	p, err := pipeline.New(pc)
	if err != nil {
		h.close()
		return nil, err
	}
	for _, m := range snap {
		p.Snapshot(m)
	}
	h.p = p
	if h.poller, err = mcast.NewPoller(f.Poll == "busy", h.socks...); err != nil {
		h.close()
		return nil, err
	}
	return h, nil
}

func (h *handler) close() {
	if h.poller != nil {
		h.poller.Close()
	}
	for _, s := range h.socks {
		s.Close()
	}
}

// loop receives and applies datagrams until stopping is set, or the session
// has ended when exitOnEnd. It runs on one OS thread, pinned when the
// configuration names a CPU.
func (h *handler) loop(stopping *atomic.Bool, exitOnEnd bool) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if cpu := h.cfg.Feed.CPU; cpu >= 0 {
		var set unix.CPUSet
		set.Set(cpu)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			fmt.Fprintf(h.stderr, "tickwire run: warning: pinning to CPU %d: %v\n", cpu, err)
		}
	}
	var drops [2]uint64
	var seen faultCounts
	var gaps uint64
	lastCheck := time.Now()
	for !stopping.Load() {
		if err := h.poller.Wait(time.Millisecond); err != nil && !errors.Is(err, mcast.ErrTimeout) {
			return err
		}
		now := time.Now().UnixNano()
		for line, s := range h.socks {
			for {
				n, err := s.Recv(h.batch)
				if err != nil {
					return fmt.Errorf("line %c: %w", 'A'+line, err)
				}
				for i := 0; i < n; i++ {
					kts := h.batch.KernelTime(i)
					ts := kts
					if ts == 0 {
						ts = now
					}
					h.p.Packet(line, ts, h.batch.Payload(i))
					if kts != 0 {
						h.lat.RecordValue(nanotime() - kts)
					}
				}
				if n < h.batch.Cap() {
					break
				}
			}
		}
		after := time.Now()
		h.p.Tick(after.UnixNano())
		if g := h.p.Stats().Gaps; g > gaps {
			gaps = g
			if h.cfg.Feed.Snapshot.ServerAddr.IsValid() {
				if err := h.rebuild(); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(h.stderr, "tickwire run: status: books may be stale: %d gap(s) given up and no snapshot server configured\n", g)
			}
		}
		if exitOnEnd && h.p.Finished() {
			return nil
		}
		if after.Sub(lastCheck) >= time.Second {
			lastCheck = after
			seen = h.logFaults(seen)
			for line := lineA; line <= lineB; line++ {
				if d := h.socks[line].Drops(); d > drops[line] {
					fmt.Fprintf(h.stderr, "tickwire run: alarm: line %c: the kernel dropped %d datagrams (socket buffer full; raise feed.recv_buffer and net.core.rmem_max)\n", 'A'+line, d-drops[line])
					drops[line] = d
				}
			}
		}
	}
	return nil
}
