package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/tickwire/tickwire/codec/soupbintcp"
	"github.com/tickwire/tickwire/feed/soup"
	"github.com/tickwire/tickwire/internal/pipeline"
)

// soupFeed applies a SoupBinTCP session's messages to the pipeline. Its
// methods run on the session's event loop, one at a time; the pipeline is
// the runner's again once the session is closed.
type soupFeed struct {
	h        *Handler
	p        *pipeline.Pipeline
	ended    chan struct{}
	rejected error
	stderr   io.Writer
	session  string        // the session joined, once logged in
	next     uint64        // the sequence of the next message
	rebuild  bool          // a snapshot server mends gaps
	gapped   chan struct{} // capacity 1: a gap awaits a rebuild
	dropping atomic.Bool   // messages after a gap are dropped until the rebuild
	dropped  uint64        // messages so dropped
	r        *soupRun
}

func (f *soupFeed) Message(seq uint64, msg []byte) {
	f.next = seq + 1
	if f.dropping.Load() {
		f.dropped++
		return
	}
	f.p.Message(seq, msg)
}

// ReadDone implements soup.ReadHandler: the messages of one read are
// applied.
func (f *soupFeed) ReadDone() {
	f.h.flush()
	if now := time.Now(); now.Sub(f.r.publishedAt) >= time.Second {
		f.r.publishedAt = now
		f.r.publishStats()
	}
}

func (f *soupFeed) LoggedIn(session string, next uint64) {
	f.session = session
	f.next = next
	fmt.Fprintf(f.stderr, "SoupBinTCP: logged in to session %q at sequence %d\n", session, next)
}

func (f *soupFeed) EndOfSession() {
	f.h.ended(f.r.trusted(), f.next)
	close(f.ended)
}

func (f *soupFeed) Rejected(reason byte) {
	f.rejected = fmt.Errorf("SoupBinTCP login rejected: %s", soupbintcp.RejectReason(reason))
}

// Gap implements soup.GapHandler: the server resumed ahead of the next
// expected sequence, so messages first .. first+count-1 are lost on it. The
// gap is the pipeline's (the books may be wrong); with a snapshot server
// the messages that follow are dropped until the books are rebuilt.
func (f *soupFeed) Gap(first, count uint64) {
	f.p.Gap(first, count)
	f.h.status(Stale, fmt.Sprintf("%d message(s) from sequence %d lost on the SoupBinTCP server", count, first), first+count)
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
	fmt.Fprintf(f.stderr, "SoupBinTCP: %v\n", err)
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

// soupRun is the live session for a feed taken over SoupBinTCP: sequenced
// and reliable, so there is nothing to arbitrate; reconnection resumes at
// the next expected sequence, and a server that resumes elsewhere is caught
// by package soup (ahead: a gap; behind: the duplicates dropped). With a
// snapshot server the books start from a snapshot, the login asks for the
// snapshot's sequence, and a gap is mended by a new snapshot: the session
// is closed, the books rebuilt and a new session opened at the snapshot's
// sequence.
type soupRun struct {
	h *Handler
	p *pipeline.Pipeline
	f *soupFeed

	totals      soupTotals
	gapsAtBuild uint64 // gaps mended by the latest snapshot
	rebuilds    int
	stale       string // why the books may be wrong, when they are stale
	started     bool   // the first session was dialled
	publishedAt time.Time
}

// publishStats publishes what a SoupBinTCP session counts (Handler.Stats):
// messages, gaps, rebuilds, anomalies, the state; no packets per line, no
// stage latencies (TCP gives no kernel receive time per message). Called on
// the goroutine applying messages.
func (r *soupRun) publishStats() {
	r.p.Sync()
	pst := r.p.Stats()
	st := Stats{At: time.Now(), State: r.h.state, Messages: pst.Messages, Gaps: pst.Gaps, GapMessages: pst.GapMessages,
		Snapshots: uint64(r.rebuilds), BookAnomalies: r.p.AnomalyTotal(), Stale: !r.trusted(), Ended: r.h.endSent}
	r.h.st.publish(&st)
}

func newSoup(h *Handler) (*soupRun, error) {
	cfg := &h.cfg
	p, err := pipeline.New(pipeline.Config{Session: cfg.Feed.Session, Orders: cfg.Book.Orders, Instruments: cfg.Book.Instruments,
		AllowGaps: true, Writers: writers(cfg)})
	if err != nil {
		return nil, err
	}
	h.p = p
	r := &soupRun{h: h, p: p}
	r.f = &soupFeed{h: h, p: p, r: r, ended: make(chan struct{}), stderr: h.stderr,
		rebuild: cfg.Feed.Snapshot.ServerAddr.IsValid(), gapped: make(chan struct{}, 1)}
	return r, nil
}

// build fetches a snapshot and rebuilds the books from it, retrying with a
// backoff; it returns the sequence the feed goes on from, or ok = false
// when ctx is done first.
func (r *soupRun) build(ctx context.Context) (next uint64, ok bool) {
	cfg, p, stderr := &r.h.cfg, r.p, r.h.stderr
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
			r.gapsAtBuild = p.Stats().Gaps
			r.rebuilds++
			fmt.Fprintf(stderr, "status: books built from a snapshot of %d messages; the feed goes on from sequence %d\n", snap.n, next)
			r.h.status(Live, "", next)
			r.h.flush()
			return next, true
		}
		fmt.Fprintf(stderr, "snapshot failed (retry in %v): %v\n", wait, err)
		select {
		case <-ctx.Done():
			return 0, false
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

func (r *soupRun) run(ctx context.Context, exitOnEnd bool) error {
	h, f, stderr := r.h, r.f, r.h.stderr
	sf := h.cfg.Feed.SoupBinTCP
	start := uint64(1)
	if f.rebuild {
		h.status(Recovering, "joining: the books come from a snapshot", 0)
		next, ok := r.build(ctx)
		if !ok {
			fmt.Fprintf(stderr, "shut down while the snapshot was being fetched\n")
			return nil
		}
		start = next
	} else {
		h.status(Live, "", start)
	}
	f.next = start
	dial := func(seq uint64) (*soup.Session, error) {
		return soup.Dial(soup.Config{Addr: sf.ServerAddr.String(), Username: sf.Username, Password: sf.Password,
			Session: nonEmpty(f.session, sf.Session), Seq: seq, PacketTimeout: sf.PacketTimeout}, f)
	}
	sess, err := dial(start)
	if err != nil {
		return err
	}
	r.started = true
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
			fmt.Fprintln(stderr, "SoupBinTCP: end of session")
			break loop
		case <-sess.Done():
			break loop
		case <-f.gapped:
			sess.Close() // waits for the event loop: the pipeline is ours again
			r.totals.add(sess.Stats())
			fmt.Fprintf(stderr, "status: books stale: messages lost on the SoupBinTCP server; rebuilding from a snapshot\n")
			h.status(Recovering, "rebuilding the books from a snapshot", f.next)
			next, ok := r.build(ctx)
			if !ok {
				r.stale = "shut down while a snapshot was being fetched"
				h.status(Stale, r.stale, f.next)
				sess = nil
				break loop
			}
			f.dropping.Store(false)
			if sess, err = dial(next); err != nil {
				r.stale = fmt.Sprintf("no SoupBinTCP session after the rebuild: %v", err)
				h.status(Stale, r.stale, next)
				sess = nil
				break loop
			}
		}
	}
	if sess != nil {
		sess.Close()
		r.totals.add(sess.Stats())
	}
	r.publishStats() // the session's event loop has stopped
	if f.rejected != nil {
		return f.rejected
	}
	if sess != nil {
		return sess.Err()
	}
	return nil
}

// trusted reports whether the books are known to be right: not stale, and
// no gap since they were last built.
func (r *soupRun) trusted() bool { return r.stale == "" && r.p.Stats().Gaps == r.gapsAtBuild }

func (r *soupRun) writeSummary(w io.Writer, elapsed time.Duration, top int) {
	g := &pipeline.Group{P: []*pipeline.Pipeline{r.p}}
	g.WriteSummary(w, pipeline.Summary{Inputs: []string{r.h.cfg.Feed.SoupBinTCP.Server}, Format: "SoupBinTCP", Elapsed: elapsed, Top: top})
	t := &r.totals
	fmt.Fprintf(w, "soupbintcp  %d messages, %d heartbeats, %d reconnects, %d silence timeouts, %d packet timeouts, %d garbage packets, %d implausible logins, %d duplicates dropped\n",
		t.Messages, t.Heartbeats, t.Reconnects, t.Timeouts, t.PacketTimeouts, t.Garbage, t.Implausible, t.Duplicates)
	if r.rebuilds > 0 {
		fmt.Fprintf(w, "snapshot    %d snapshot(s) taken, %d messages dropped after gaps until the rebuild\n", r.rebuilds, r.f.dropped)
	}
	gaps := r.p.Stats().Gaps - r.gapsAtBuild
	switch {
	case r.stale != "":
		fmt.Fprintf(w, "books       STALE: %s\n", r.stale)
	case gaps > 0:
		fmt.Fprintf(w, "books       may be wrong: %d gap(s): the server resumed ahead of the next expected sequence\n", gaps)
	}
	select {
	case <-r.f.ended:
		if r.trusted() {
			fmt.Fprintln(w, "session     ended (End of Session from the server, every message accounted for)")
		} else {
			fmt.Fprintln(w, "session     ended (End of Session from the server; NOT every message accounted for)")
		}
	default:
		fmt.Fprintln(w, "session     not ended")
	}
}

// nonEmpty returns a if it is not empty, else b.
func nonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
