package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	tea "charm.land/bubbletea/v2"
	"golang.org/x/sys/unix"

	"github.com/tickwire/tickwire/client"
	"github.com/tickwire/tickwire/feed/mcast"
	"github.com/tickwire/tickwire/internal/config"
	"github.com/tickwire/tickwire/internal/sim"
)

// tickwire demo: the whole pipeline on one machine, in one process. The
// simulator plays a capture on loopback multicast, lines A and B, with
// loss on both and a re-request server; the daemon (the live handler with
// its default configuration, re-request recovery and the subscriber
// server) rebuilds the books; a subscriber mirrors every book over TCP and
// `tickwire watch` draws one instrument's ladder. At the end of the session
// it prints the daemon's summary and checks that the subscriber's mirror
// equals the daemon's books, and those the capture's own books when it has
// them (pcaps/sample.books.jsonl for the bundled sample).
func demoCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tickwire demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		capture = fs.String("capture", "pcaps/sample.pcap", "the capture to play: pcap/pcapng of MoldUDP64 or raw ITCH")
		want    = fs.String("books", "", "the capture's expected books, compared at the end (default: the capture's name with .books.jsonl, when present)")
		symbol  = fs.String("symbol", "AAPL", "the instrument the ladder shows")
		rate    = fs.Float64("rate", 5000, "messages per second the simulator sends")
		loss    = fs.Float64("loss", 0.02, "packet loss probability on each line")
		noWatch = fs.Bool("no-watch", false, "no ladder: progress lines instead (the default when stdout is not a terminal)")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "tickwire demo: %v\n", err)
		return code
	}
	if *want == "" {
		if p := strings.TrimSuffix(*capture, ".pcap") + ".books.jsonl"; fileExists(p) {
			*want = p
		}
	}
	hist, err := loadHistory(*capture, 0, 0, 0, "")
	if err != nil {
		return fail(1, fmt.Errorf("%s: %w", *capture, err))
	}
	ladder := !*noWatch && isTerminal(os.Stdout) && isTerminal(os.Stdin)

	// The exchange's side: two groups on loopback and a re-request server.
	port := 20000 + rand.IntN(20000)
	groupA := netip.MustParseAddrPort(fmt.Sprintf("239.192.%d.1:%d", rand.IntN(250), port))
	groupB := netip.MustParseAddrPort(fmt.Sprintf("239.192.%d.2:%d", groupA.Addr().As4()[2], port))
	rr, err := sim.NewServer(netip.MustParseAddrPort("127.0.0.1:0"), sim.ServerConfig{Session: "TICKWIRE01", MaxPayload: 1400, AnswerLimit: 500, Seed: 1}, hist)
	if err != nil {
		return fail(1, err)
	}
	defer rr.Close()
	go rr.Serve()

	// The daemon: the default configuration but for the lines, the
	// re-request server and the subscriber server's port.
	cfg, err := config.Parse(strings.NewReader(fmt.Sprintf(`feed:
  interface: lo
  line_a: {group: %s}
  line_b: {group: %s}
  rerequest: {server: %s}
transport: {listen: "127.0.0.1:0"}
`, groupA, groupB, rr.Addr())))
	if err != nil {
		return fail(1, err)
	}
	var logs bytes.Buffer // the daemon's log lines, shown after the ladder
	var logw io.Writer = &prefixWriter{w: stderr, prefix: "tickwire run: "}
	if ladder {
		logw = &prefixWriter{w: &logs, prefix: "tickwire run: "}
	}
	subs, h, err := startDaemon(cfg, logw)
	if err != nil {
		return fail(1, err)
	}
	defer h.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	handled := make(chan error, 1)
	start := time.Now()
	go func() { handled <- h.Run(ctx, true) }()

	// The subscribers: a mirror of every book, and the ladder's.
	addr := subs.srv.Addr().String()
	dialCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	mirror, err := client.Dial(dialCtx, addr, client.WithDepth(client.DepthLevels, 0), client.WithName("tickwire demo"))
	if err != nil {
		return fail(1, err)
	}
	defer mirror.Close()
	mirrored := make(chan error, 1)
	go func() { mirrored <- mirror.Run(ctx, nil) }()
	var watcher *client.Client
	if ladder {
		if watcher, err = client.Dial(dialCtx, addr, client.WithSymbols(strings.ToUpper(*symbol)), client.WithDepth(client.DepthOrders, 0), client.WithName("tickwire watch")); err != nil {
			return fail(1, err)
		}
		defer watcher.Close()
	}

	// The exchange sends, once the subscriptions are taken.
	sender, err := mcast.NewSender("lo", 1, true)
	if err != nil {
		return fail(1, err)
	}
	defer sender.Close()
	simCfg := sim.Config{Session: "TICKWIRE01", MaxPayload: 1400, Rate: *rate, Seed: 1}
	simCfg.Lines[0] = sim.Line{Group: groupA, Loss: *loss}
	simCfg.Lines[1] = sim.Line{Group: groupB, Loss: *loss, Lag: 2}
	type simResult struct {
		st  sim.Stats
		err error
	}
	sent := make(chan simResult, 1)
	go func() {
		time.Sleep(300 * time.Millisecond)
		st, err := sim.Run(ctx, simCfg, hist, sender, 50*time.Millisecond)
		sent <- simResult{st, err}
	}()

	if ladder {
		wcfg := watchConfig{symbol: strings.ToUpper(*symbol), levels: 10, trades: 8, frame: watchFrame, endWait: 2 * time.Second}
		m, err := runWatch(ctx, watcher, wcfg, tea.WithInput(os.Stdin), tea.WithOutput(os.Stdout))
		if m != nil {
			fmt.Fprintln(stdout, m.summary())
		}
		if err != nil {
			fmt.Fprintf(stderr, "tickwire demo: the ladder: %v\n", err)
		}
	} else {
		fmt.Fprintf(stdout, "demo: %d messages from %s at %.0f/s on %s and %s, %.0f%% loss each, re-requests to %s; subscribers on %s\n",
			hist.Len(), *capture, *rate, groupA, groupB, 100**loss, rr.Addr(), addr)
	}
	herr := <-handled
	elapsed := time.Since(start)
	subs.close()
	stop()
	sr := <-sent
	merr := <-mirrored
	os.Stderr.Write(logs.Bytes())
	if sr.err != nil && !errors.Is(sr.err, context.Canceled) {
		return fail(1, fmt.Errorf("the simulator: %w", sr.err))
	}
	fmt.Fprintf(stdout, "sim: %d messages in %d packets; line A lost %d of %d, line B lost %d of %d; re-requests %d, answered %d, %d messages resent\n",
		sr.st.Messages, sr.st.Packets, sr.st.Lines[0].Lost, sr.st.Lines[0].Sent, sr.st.Lines[1].Lost, sr.st.Lines[1].Sent,
		rr.Stats.Requests.Load(), rr.Stats.Answered.Load(), rr.Stats.Messages.Load())
	if !h.Started() {
		if herr == nil {
			herr = errors.New("the session never started")
		}
		return fail(1, herr)
	}
	h.WriteSummary(stdout, elapsed, 10)
	writeStages(stdout, h, subs)
	if herr != nil {
		return fail(1, herr)
	}
	var daemonBooks, mirrorBooks bytes.Buffer
	h.WriteBooks(&daemonBooks)
	mirror.Book().WriteBooks(&mirrorBooks)
	ok := h.Trusted()
	switch {
	case merr != nil || !mirror.Ended():
		fmt.Fprintf(stdout, "check       the subscriber did not see the end of the session: %v\n", merr)
		ok = false
	case !bytes.Equal(mirrorBooks.Bytes(), daemonBooks.Bytes()):
		fmt.Fprintf(stdout, "check       the subscriber's mirror DIFFERS from the daemon's books\n")
		ok = false
	default:
		fmt.Fprintf(stdout, "check       the subscriber's mirror equals the daemon's books (%d instruments, %d bytes)\n",
			bytes.Count(daemonBooks.Bytes(), []byte("\n")), daemonBooks.Len())
	}
	if *want != "" {
		if w, err := os.ReadFile(*want); err != nil {
			fmt.Fprintf(stdout, "check       %v\n", err)
			ok = false
		} else if bytes.Equal(w, daemonBooks.Bytes()) {
			fmt.Fprintf(stdout, "check       the daemon's books equal %s\n", *want)
		} else {
			fmt.Fprintf(stdout, "check       the daemon's books DIFFER from %s\n", *want)
			ok = false
		}
	}
	if !ok {
		return 1
	}
	return 0
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
