package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tickwire/tickwire/codec/soupbintcp"
	"github.com/tickwire/tickwire/feed/soup"
	"github.com/tickwire/tickwire/internal/config"
	"github.com/tickwire/tickwire/internal/pipeline"
)

// soupFeed applies a SoupBinTCP session's messages to the pipeline. Its
// methods run on the session's event loop, one at a time; the pipeline is
// the runner's again once the session is closed.
type soupFeed struct {
	p        *pipeline.Pipeline
	ended    chan struct{}
	rejected error
	stderr   io.Writer
	session  string        // the session joined, once logged in
	rebuild  bool          // a snapshot server mends gaps
	gapped   chan struct{} // capacity 1: a gap awaits a rebuild
	dropping atomic.Bool   // messages after a gap are dropped until the rebuild
	dropped  uint64        // messages so dropped
}

func (f *soupFeed) Message(seq uint64, msg []byte) {
	if f.dropping.Load() {
		f.dropped++
		return
	}
	f.p.Message(seq, msg)
}

func (f *soupFeed) LoggedIn(session string, next uint64) {
	f.session = session
	fmt.Fprintf(f.stderr, "tickwire run: SoupBinTCP: logged in to session %q at sequence %d\n", session, next)
}

func (f *soupFeed) EndOfSession() { close(f.ended) }

func (f *soupFeed) Rejected(reason byte) {
	f.rejected = fmt.Errorf("SoupBinTCP login rejected: %s", soupbintcp.RejectReason(reason))
}

// Gap implements soup.GapHandler: the server resumed ahead of the next
// expected sequence, so messages first .. first+count-1 are lost on it. The
// gap is the pipeline's (the books may be wrong); with a snapshot server
// the messages that follow are dropped until the books are rebuilt.
func (f *soupFeed) Gap(first, count uint64) {
	f.p.Gap(first, count)
	if f.rebuild {
		f.dropping.Store(true)
		select {
		case f.gapped <- struct{}{}:
		default:
		}
	}
}

// Fault implements soup.FaultHandler: each fault drops the connection, so
// they come at most one per reconnection delay.
func (f *soupFeed) Fault(err error) {
	fmt.Fprintf(f.stderr, "tickwire run: SoupBinTCP: %v\n", err)
}

// soupTotals sums the statistics of the sessions a run dialled.
type soupTotals struct{ soup.Stats }

func (t *soupTotals) add(s soup.Stats) {
	t.Messages += s.Messages
	t.Heartbeats += s.Heartbeats
	t.Reconnects += s.Reconnects
	t.Timeouts += s.Timeouts
	t.PacketTimeouts += s.PacketTimeouts
	t.Garbage += s.Garbage
	t.Implausible += s.Implausible
	t.Gaps += s.Gaps
	t.GapMessages += s.GapMessages
	t.Duplicates += s.Duplicates
}

// runSoup is the handler for a feed taken over SoupBinTCP: sequenced and
// reliable, so there is nothing to arbitrate; reconnection resumes at the
// next expected sequence, and a server that resumes elsewhere is caught by
// package soup (ahead: a gap; behind: the duplicates dropped). With a
// snapshot server the books start from a snapshot, the login asks for the
// snapshot's sequence, and a gap is mended by a new snapshot: the session
// is closed, the books rebuilt and a new session opened at the snapshot's
// sequence.
func runSoup(cfg *config.Config, exitOnEnd bool, top int, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintf(stderr, "tickwire run: %v\n", err)
		return 1
	}
	sf := cfg.Feed.SoupBinTCP
	p, err := pipeline.New(pipeline.Config{Session: cfg.Feed.Session, Orders: cfg.Book.Orders, Instruments: cfg.Book.Instruments, AllowGaps: true})
	if err != nil {
		return fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	snapshots := cfg.Feed.Snapshot.ServerAddr.IsValid()
	f := &soupFeed{p: p, ended: make(chan struct{}), stderr: stderr, rebuild: snapshots, gapped: make(chan struct{}, 1)}
	var (
		gapsAtBuild uint64 // gaps mended by the latest snapshot
		rebuilds    int
		stale       string // why the books may be wrong, when they are stale
	)
	// build fetches a snapshot and rebuilds the books from it, retrying
	// with a backoff; it returns the sequence the feed goes on from, or
	// ok = false when shut down first.
	build := func() (next uint64, ok bool) {
		wait := time.Second
		for {
			snap, next, err := fetchSnapshot(cfg.Feed.Snapshot, ctx.Done())
			if errors.Is(err, errFetchCancelled) {
				return 0, false
			}
			if err == nil {
				p.ResetBook()
				for m := range snap.all() {
					p.Snapshot(m)
				}
				gapsAtBuild = p.Stats().Gaps
				rebuilds++
				fmt.Fprintf(stderr, "tickwire run: status: books built from a snapshot of %d messages; the feed goes on from sequence %d\n", snap.n, next)
				return next, true
			}
			fmt.Fprintf(stderr, "tickwire run: snapshot failed (retry in %v): %v\n", wait, err)
			select {
			case <-ctx.Done():
				return 0, false
			case <-time.After(wait):
			}
			wait = min(2*wait, 30*time.Second)
		}
	}
	start := uint64(1)
	if snapshots {
		next, ok := build()
		if !ok {
			fmt.Fprintf(stderr, "tickwire run: shut down while the snapshot was being fetched\n")
			return 0
		}
		start = next
	}
	dial := func(seq uint64) (*soup.Session, error) {
		return soup.Dial(soup.Config{Addr: sf.ServerAddr.String(), Username: sf.Username, Password: sf.Password,
			Session: nonEmpty(f.session, sf.Session), Seq: seq, PacketTimeout: sf.PacketTimeout}, f)
	}
	began := time.Now()
	sess, err := dial(start)
	if err != nil {
		return fail(err)
	}
	var totals soupTotals
	ended := f.ended
	if !exitOnEnd {
		ended = nil
	}
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-ended:
			fmt.Fprintln(stderr, "tickwire run: SoupBinTCP: end of session")
			break loop
		case <-sess.Done():
			break loop
		case <-f.gapped:
			sess.Close() // waits for the event loop: the pipeline is ours again
			totals.add(sess.Stats())
			fmt.Fprintf(stderr, "tickwire run: status: books stale: messages lost on the SoupBinTCP server; rebuilding from a snapshot\n")
			next, ok := build()
			if !ok {
				stale = "shut down while a snapshot was being fetched"
				sess = nil
				break loop
			}
			f.dropping.Store(false)
			if sess, err = dial(next); err != nil {
				stale = fmt.Sprintf("no SoupBinTCP session after the rebuild: %v", err)
				sess = nil
				break loop
			}
		}
	}
	if sess != nil {
		sess.Close()
		totals.add(sess.Stats())
	}
	elapsed := time.Since(began)
	g := &pipeline.Group{P: []*pipeline.Pipeline{p}}
	g.WriteSummary(stdout, pipeline.Summary{Inputs: []string{sf.Server}, Format: "SoupBinTCP", Elapsed: elapsed, Top: top})
	fmt.Fprintf(stdout, "soupbintcp  %d messages, %d heartbeats, %d reconnects, %d silence timeouts, %d packet timeouts, %d garbage packets, %d implausible logins, %d duplicates dropped\n",
		totals.Messages, totals.Heartbeats, totals.Reconnects, totals.Timeouts, totals.PacketTimeouts, totals.Garbage, totals.Implausible, totals.Duplicates)
	if rebuilds > 0 {
		fmt.Fprintf(stdout, "snapshot    %d snapshot(s) taken, %d messages dropped after gaps until the rebuild\n", rebuilds, f.dropped)
	}
	gaps := p.Stats().Gaps - gapsAtBuild
	trusted := stale == "" && gaps == 0
	switch {
	case stale != "":
		fmt.Fprintf(stdout, "books       STALE: %s\n", stale)
	case gaps > 0:
		fmt.Fprintf(stdout, "books       may be wrong: %d gap(s): the server resumed ahead of the next expected sequence\n", gaps)
	}
	select {
	case <-f.ended:
		if trusted {
			fmt.Fprintln(stdout, "session     ended (End of Session from the server, every message accounted for)")
		} else {
			fmt.Fprintln(stdout, "session     ended (End of Session from the server; NOT every message accounted for)")
		}
	default:
		fmt.Fprintln(stdout, "session     not ended")
	}
	if f.rejected != nil {
		return fail(f.rejected)
	}
	if sess != nil {
		if err := sess.Err(); err != nil {
			return fail(err)
		}
	}
	if cfg.BooksOnExit != "" {
		if err := writeBooks(cfg.BooksOnExit, g, stdout); err != nil {
			return fail(err)
		}
	}
	if exitOnEnd && !trusted {
		return fail(errors.New("the session ended, but the books may be wrong (see the summary)"))
	}
	return 0
}

// nonEmpty returns a if it is not empty, else b.
func nonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
