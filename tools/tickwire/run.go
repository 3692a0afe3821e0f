package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tickwire/tickwire/internal/config"
	"github.com/tickwire/tickwire/internal/pipeline"
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h, err := newHandler(cfg, stderr)
	if err != nil {
		return fail(1, err)
	}
	defer h.close()
	var stopping atomic.Bool
	go func() { <-ctx.Done(); stopping.Store(true) }()

	start := time.Now()
	err = h.loop(&stopping, *exitOnEnd)
	elapsed := time.Since(start)
	if h.fetch != nil {
		h.fetch.stop()
		h.fetch = nil
		h.markStale("shut down while a snapshot was being fetched")
	}
	h.writeSummary(stdout, elapsed, *top)
	if err != nil {
		return fail(1, err)
	}
	if cfg.BooksOnExit != "" {
		if err := writeBooks(cfg.BooksOnExit, &pipeline.Group{P: []*pipeline.Pipeline{h.p}}, stdout); err != nil {
			return fail(1, err)
		}
	}
	if *exitOnEnd && !h.trusted() {
		return fail(1, errors.New("the session ended, but the books may be wrong (see the summary)"))
	}
	return 0
}

// trusted reports whether the books are known to be right: not stale, and
// no gap given up since they were last built.
func (h *handler) trusted() bool { return !h.stale && h.p.Stats().Gaps == h.gapsAtBuild }

// writeSummary prints what the handler did, and says the session ended
// with every message accounted for only when that is known: the lines
// agreed on the end of session, no gap was given up since the books were
// last built, and the books are not stale.
func (h *handler) writeSummary(w io.Writer, elapsed time.Duration, top int) {
	cfg := h.cfg
	g := &pipeline.Group{P: []*pipeline.Pipeline{h.p}}
	g.WriteSummary(w, pipeline.Summary{Inputs: []string{cfg.Feed.LineA.Group, cfg.Feed.LineB.Group}, Format: "live MoldUDP64", Elapsed: elapsed, Top: top})
	fst := h.p.FeedStats()
	fmt.Fprintf(w, "recovery    %d requests (%d messages), %d retries, %d recovered, %d given up, %d overflow, %d evicted, %d answers clipped\n",
		fst.Requests, fst.RequestedMessages, fst.Retries, fst.Recovered, fst.GivenUp, fst.RecoveryOverflow, fst.Evicted, fst.Clipped)
	fmt.Fprintf(w, "untrusted   %d implausible sequence, %d unsolicited answers, %d not from the re-request server, %d truncated, %d after the end, %d contradicted ends, %d jumps taken, %d discarded at the end\n",
		fst.Implausible, fst.Unsolicited, h.faults.total(faultForeign), h.faults.total(faultTruncated), fst.AfterEnd, fst.Contradicted, fst.Jumps, fst.Discarded)
	drops := "kernel      drops:"
	for line, s := range h.socks {
		drops += fmt.Sprintf(" %s %d,", lineNames[line], s.Drops())
	}
	fmt.Fprintln(w, strings.TrimSuffix(drops, ","))
	if l := h.lat; l.TotalCount() > 0 {
		us := func(q float64) float64 { return float64(l.ValueAtQuantile(q)) / 1e3 }
		fmt.Fprintf(w, "latency     kernel receive -> book updated, %d packets (%s poll): p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us\n",
			l.TotalCount(), cfg.Feed.Poll, us(50), us(99), us(99.9), float64(l.Max())/1e3)
	}
	if n, _ := h.p.SnapshotStats(); n > 0 || h.rebuilds > 0 {
		fmt.Fprintf(w, "snapshot    %d snapshot messages applied, %d snapshot(s) taken\n", n, h.rebuilds)
	}
	gaps := h.p.Stats().Gaps - h.gapsAtBuild
	switch {
	case h.stale:
		fmt.Fprintf(w, "books       STALE: %s\n", h.staleWhy)
	case gaps > 0:
		fmt.Fprintf(w, "books       may be wrong: %d gap(s) given up\n", gaps)
	}
	switch ended := h.p.Finished(); {
	case ended && !h.stale && gaps == 0:
		fmt.Fprintf(w, "session     ended at sequence %d (end of session agreed by the lines, every message accounted for)\n", h.p.Arbiter().EndSeq())
	case ended:
		fmt.Fprintf(w, "session     ended at sequence %d (end of session agreed by the lines; NOT every message accounted for)\n", h.p.Arbiter().EndSeq())
	default:
		fmt.Fprintf(w, "session     not ended (next sequence %d)\n", h.p.Arbiter().Next())
	}
}
