package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tickwire/tickwire/feed/mcast"
	"github.com/tickwire/tickwire/internal/gen"
	"github.com/tickwire/tickwire/internal/pipeline"
	"github.com/tickwire/tickwire/internal/sim"
	"github.com/tickwire/tickwire/replay"
)

func simCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tickwire sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		itchPath    = fs.String("itch", "", "play this capture instead of a generated session: a raw ITCH file (plain or gzip), or a pcap/pcapng of MoldUDP64 (lines arbitrated, as replay reads it)")
		speed       = fs.Float64("speed", 0, "pace as recorded (ITCH timestamps), this many times faster; 0 paces by -rate")
		messages    = fs.Int("messages", 100000, "messages of the generated session")
		instruments = fs.Int("instruments", 100, "instruments of the generated session")
		seed        = fs.Uint64("seed", 1, "seed of the generated session and of the impairments")
		books       = fs.String("books", "", "write the generated session's expected books to `FILE`")
		session     = fs.String("session", "TICKWIRE01", "MoldUDP64 session")
		groupA      = fs.String("group-a", "233.54.12.111:26477", "line A group:port")
		groupB      = fs.String("group-b", "233.54.12.112:26477", "line B group:port")
		iface       = fs.String("interface", "lo", "interface to send on")
		rate        = fs.Float64("rate", 100000, "messages per second (0: as fast as possible)")
		payload     = fs.Int("payload", 1400, "MoldUDP64 packet size bound, bytes")
		lossA       = fs.Float64("loss-a", 0, "line A packet loss probability")
		lossB       = fs.Float64("loss-b", 0, "line B packet loss probability")
		dup         = fs.Float64("dup", 0, "duplication probability on each line")
		reorder     = fs.Float64("reorder", 0, "reordering probability on each line")
		lagB        = fs.Int("lag-b", 2, "packets line B trails line A by")
		cutA        = fs.String("cut-a", "", "cut line A for packets starting in sequence range `FROM:TO`")
		cutB        = fs.String("cut-b", "", "cut line B for packets starting in sequence range `FROM:TO`")
		rereq       = fs.String("rerequest", "", "serve MoldUDP64 re-requests on this unicast `ADDR:PORT`")
		limit       = fs.Int("answer-limit", 500, "messages answered per re-request at most")
		rrDelay     = fs.Duration("rerequest-delay", 0, "delay before answering a re-request (a slow server)")
		rrLoss      = fs.Float64("rerequest-loss", 0, "probability of ignoring a re-request (a lossy server)")
		rrDown      = fs.Duration("rerequest-down", 0, "re-request server down for this long from the start")
		soupAddr    = fs.String("soup", "", "serve the session over SoupBinTCP 4.0 on `ADDR:PORT` (with end of session)")
		soupRate    = fs.Float64("soup-rate", 0, "SoupBinTCP messages per second per client (0: as fast as the socket takes)")
		glimpseAddr = fs.String("glimpse", "", "serve GLIMPSE snapshots of the session so far over SoupBinTCP on `ADDR:PORT`")
		soupUser    = fs.String("soup-user", "", "SoupBinTCP username the SoupBinTCP and GLIMPSE servers require")
		soupPass    = fs.String("soup-password", "", "SoupBinTCP password the SoupBinTCP and GLIMPSE servers require")
		start       = fs.Duration("start-delay", 0, "wait this long before sending (lets receivers join)")
		linger      = fs.Duration("linger", 2*time.Second, "keep the re-request, SoupBinTCP and GLIMPSE servers up this long after the multicast session ends")
		endInterval = fs.Duration("end-interval", 100*time.Millisecond, "interval between end-of-session packets")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "tickwire sim: %v\n", err)
		return code
	}
	cfg := sim.Config{Session: *session, MaxPayload: *payload, Rate: *rate, Speed: *speed, Seed: *seed}
	for i, g := range []string{*groupA, *groupB} {
		ap, err := netip.ParseAddrPort(g)
		if err != nil || !ap.Addr().IsMulticast() {
			return fail(2, fmt.Errorf("--group-%c %q: not a multicast group:port", 'a'+i, g))
		}
		cfg.Lines[i].Group = ap
	}
	cfg.Lines[0].Loss, cfg.Lines[1].Loss = *lossA, *lossB
	cfg.Lines[1].Lag = *lagB
	for i := range cfg.Lines {
		cfg.Lines[i].Dup, cfg.Lines[i].Reorder = *dup, *reorder
	}
	for i, c := range []string{*cutA, *cutB} {
		if c == "" {
			continue
		}
		from, to, ok := strings.Cut(c, ":")
		f, err1 := strconv.ParseUint(from, 10, 64)
		t, err2 := strconv.ParseUint(to, 10, 64)
		if !ok || err1 != nil || err2 != nil || t < f {
			return fail(2, fmt.Errorf("--cut-%c %q: want FROM:TO sequence numbers", 'a'+i, c))
		}
		cfg.Lines[i].CutFrom, cfg.Lines[i].CutTo = f, t
	}

	h, err := loadHistory(*itchPath, *messages, *instruments, *seed, *books)
	if err != nil {
		return fail(1, err)
	}
	sender, err := mcast.NewSender(*iface, 1, true)
	if err != nil {
		return fail(1, err)
	}
	defer sender.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var srv *sim.Server
	if *rereq != "" {
		ap, err := netip.ParseAddrPort(*rereq)
		if err != nil {
			return fail(2, fmt.Errorf("--rerequest %q: %v", *rereq, err))
		}
		srv, err = sim.NewServer(ap, sim.ServerConfig{Session: *session, MaxPayload: *payload, AnswerLimit: *limit,
			Delay: *rrDelay, Loss: *rrLoss, Seed: *seed}, h)
		if err != nil {
			return fail(1, err)
		}
		defer srv.Close()
		if *rrDown > 0 {
			srv.SetDown(true)
			time.AfterFunc(*rrDown, func() { srv.SetDown(false) })
		}
		go srv.Serve()
	}
	var progress atomic.Uint64
	progress.Store(1)
	cfg.Progress = &progress
	if *glimpseAddr != "" {
		// Each login gets a snapshot of the state after the messages sent
		// on the lines so far, ending with G carrying the next sequence.
		snap := func(uint64) [][]byte {
			msgs, err := h.Snapshot(progress.Load())
			if err != nil {
				fmt.Fprintf(stderr, "tickwire sim: snapshot: %v\n", err)
				return nil
			}
			return msgs
		}
		gs, err := sim.NewSoupServer(*glimpseAddr, sim.SoupConfig{Session: *session, Username: *soupUser, Password: *soupPass, Messages: snap}, h)
		if err != nil {
			return fail(1, err)
		}
		defer gs.Close()
	}
	if *soupAddr != "" {
		ss, err := sim.NewSoupServer(*soupAddr, sim.SoupConfig{Session: *session, Username: *soupUser, Password: *soupPass,
			Rate: *soupRate, EndOfSession: true}, h)
		if err != nil {
			return fail(1, err)
		}
		defer ss.Close()
	}
	if *start > 0 {
		select {
		case <-ctx.Done():
			return 1
		case <-time.After(*start):
		}
	}
	began := time.Now()
	st, err := sim.Run(ctx, cfg, h, sender, *endInterval)
	if err != nil {
		return fail(1, err)
	}
	el := time.Since(began)
	fmt.Fprintf(stdout, "sim: %d messages in %d packets in %.3f s (%.0f msg/s); line A sent %d, lost %d, dup %d, reordered %d; line B sent %d, lost %d, dup %d, reordered %d\n",
		st.Messages, st.Packets, el.Seconds(), float64(st.Messages)/el.Seconds(),
		st.Lines[0].Sent, st.Lines[0].Lost, st.Lines[0].Dups, st.Lines[0].Reordered,
		st.Lines[1].Sent, st.Lines[1].Lost, st.Lines[1].Dups, st.Lines[1].Reordered)
	if srv != nil || *soupAddr != "" || *glimpseAddr != "" {
		// Keep serving re-requests, SoupBinTCP streams and snapshots for a
		// while after the multicast session ends.
		select {
		case <-ctx.Done():
		case <-time.After(*linger):
		}
	}
	if srv != nil {
		fmt.Fprintf(stdout, "sim: re-requests %d, answered %d, ignored %d, malformed %d, %d messages resent\n",
			srv.Stats.Requests.Load(), srv.Stats.Answered.Load(), srv.Stats.Ignored.Load(), srv.Stats.Malformed.Load(), srv.Stats.Messages.Load())
	}
	return 0
}

// loadHistory reads a raw ITCH file, or generates a session (writing its
// expected books to booksPath when set).
func loadHistory(path string, messages, instruments int, seed uint64, booksPath string) (*sim.History, error) {
	if path == "" {
		var raw bytes.Buffer
		out := gen.Outputs{ITCH: &raw}
		if booksPath != "" {
			f, err := os.Create(booksPath)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			out.Books = f
		}
		if _, err := gen.Generate(gen.Config{Seed: seed, Messages: messages, Instruments: instruments}, out); err != nil {
			return nil, err
		}
		return sim.ReadHistory(&raw)
	}
	f, err := replay.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if f.Format() != replay.FormatITCH && f.Format() != replay.FormatITCHGzip {
		// A packet capture: its session, arbitrated as replay reads it.
		h := &sim.History{}
		p, err := pipeline.New(pipeline.Config{Tap: func(_ uint64, msg []byte) { h.Append(msg) }})
		if err != nil {
			return nil, err
		}
		if _, err := p.ReplayFiles([]string{path}, nil); err != nil {
			return nil, err
		}
		return h, nil
	}
	h := &sim.History{}
	r := f.Messages()
	for {
		msg, err := r.Next()
		if err == io.EOF {
			return h, nil
		}
		if err != nil {
			return nil, err
		}
		h.Append(msg)
	}
}
