package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tickwire/tickwire/book/shard"
	"github.com/tickwire/tickwire/codec/moldudp64"
	"github.com/tickwire/tickwire/feed"
	"github.com/tickwire/tickwire/feed/mcast"
	"github.com/tickwire/tickwire/internal/affinity"
	"github.com/tickwire/tickwire/internal/latency"
	"github.com/tickwire/tickwire/internal/pipeline"
)

// Lines of the live pipeline: the two multicast lines, and the unicast
// socket re-request answers arrive on.
const (
	lineA = iota
	lineB
	lineRecovery
	numLines
)

var lineNames = [numLines]string{"line A", "line B", "recovery socket"}

// stageBytes bounds what the receive loop keeps, while a snapshot is
// fetched, of the datagrams it goes on reading: about half a second of
// both lines at NASDAQ's record rate. Past it datagrams are dropped,
// counted, and recovered by re-request like any loss.
const stageBytes = 64 << 20

// multicast is the live session over MoldUDP64 multicast: sockets, poller
// and the Handler's pipeline, driven by one goroutine (loop). A snapshot is
// fetched beside it, never inside it.
type multicast struct {
	h      *Handler
	cfg    *Config // the Handler's
	p      *pipeline.Pipeline
	socks  []*mcast.Socket // by line; lineRecovery only with a re-request server
	poller *mcast.Poller
	batch  *mcast.Batch
	stderr io.Writer
	// The stages' histograms (Handler.Stage), recorded per datagram.
	receive, apply, toBook *latency.Histogram
	packets                [numLines]uint64
	// sharded: the books are applied by writers (book.shards); unsynced
	// holds the read and kernel times of the datagrams since the last
	// Sync, whose book stages are recorded at the next.
	sharded  bool
	unsynced [][2]int64

	faults faultLog
	drops  [numLines]uint64 // kernel drops reported so far

	// Snapshot state: fetch is the fetch in progress (nil when none);
	// stage keeps what arrives meanwhile; stale says the books may be
	// wrong (a gap given up, a failed rebuild), retryAt when to try the
	// next snapshot.
	fetch    *fetcher
	joining  bool      // a late join waiting for the lines before it fetches the snapshot
	joinBy   time.Time // when a late join fetches the snapshot even if the lines are silent
	stage    stage
	stale    bool
	staleWhy string
	gapsSeen uint64
	// gapsAtBuild is the pipeline's gap count when the books were last
	// built from a snapshot: the gaps before it are mended.
	gapsAtBuild uint64
	retryAt     time.Time
	retryWait   time.Duration
	rebuilds    uint64
	closed      bool
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

// newMulticast opens the lines' sockets (and the recovery socket with a
// re-request server) and makes h's pipeline.
func newMulticast(h *Handler) (*multicast, error) {
	cfg, stderr := &h.cfg, h.stderr
	f := &cfg.Feed
	m := &multicast{h: h, cfg: cfg, stderr: stderr, batch: mcast.NewBatch(64, f.DatagramSize),
		receive: h.st.stages[StageReceive], apply: h.st.stages[StageBook], toBook: h.st.stages[StageToBook]}
	for _, l := range []Line{f.LineA, f.LineB} {
		s, err := mcast.Listen(mcast.Config{Group: l.GroupAddr, Source: l.SourceAddr, Interface: f.Interface, RecvBuffer: f.RecvBuffer})
		if err != nil {
			m.close()
			return nil, err
		}
		for _, w := range s.Warnings() {
			fmt.Fprintf(stderr, "warning: %s\n", w)
		}
		m.socks = append(m.socks, s)
	}
	pc := pipeline.Config{
		Session:     f.Session,
		Orders:      cfg.Book.Orders,
		Instruments: cfg.Book.Instruments,
		HoldPackets: f.Hold.Packets,
		HoldBytes:   f.Hold.Bytes,
		HoldTime:    int64(f.Rerequest.MaxAge),
		MaxJump:     f.MaxJump,
		AllowGaps:   true,
		Options:     []feed.Option{feed.WithQuiet(int64(f.EndQuiet))},
		Writers:     writers(cfg),
	}
	if rr := f.Rerequest; rr.ServerAddr.IsValid() {
		s, err := mcast.ListenUnicast(netip.AddrPortFrom(netip.IPv4Unspecified(), 0), mcast.WithRecvBuffer(f.RecvBuffer))
		if err != nil {
			m.close()
			return nil, err
		}
		for _, w := range s.Warnings() {
			fmt.Fprintf(stderr, "warning: recovery socket: %s\n", w)
		}
		m.socks = append(m.socks, s)
		if sa, err := unix.Getsockname(s.Fd()); err == nil {
			if in, ok := sa.(*unix.SockaddrInet4); ok {
				fmt.Fprintf(stderr, "re-requests to %s from port %d; answers taken only from %s\n", rr.ServerAddr, in.Port, rr.ServerAddr)
			}
		}
		pc.Requester = &requester{s: s, server: rr.ServerAddr}
		pc.Recovery = feed.RecoveryConfig{FillTime: int64(rr.FillTime), MaxOutstanding: rr.MaxOutstanding,
			MaxCount: uint16(rr.MaxCount), Timeout: int64(rr.Timeout), Backoff: rr.Backoff,
			MaxRetries: rr.MaxRetries, MaxAge: int64(rr.MaxAge)}
		pc.Options = append(pc.Options, feed.WithRecoveryLine(lineRecovery))
	}
	if f.Snapshot.ServerAddr.IsValid() {
		// A late join: the books come from a snapshot fetched beside the
		// receive loop, which stages what the lines carry meanwhile.
		m.stage = newStage(stageBytes)
		pc.Start = 0
	}
	p, err := pipeline.New(pc)
	if err != nil {
		m.close()
		return nil, err
	}
	m.p = p
	h.p = p
	if m.sharded = p.Books().Shards() > 1; m.sharded {
		// At most one Flush's datagrams are kept (the rest, past a round
		// of every socket's full batches, go unrecorded).
		m.unsynced = make([][2]int64, 0, numLines*m.batch.Cap())
		for _, err := range p.Books().Errors() {
			fmt.Fprintf(stderr, "warning: book.cpus: %v\n", err)
		}
	}
	if m.poller, err = mcast.NewPoller(f.Poll == "busy", m.socks...); err != nil {
		m.close()
		return nil, err
	}
	m.poller.SetSpin(f.PollSpin)
	return m, nil
}

// close closes the sockets and abandons a fetch in progress. It may be
// called more than once.
func (m *multicast) close() {
	if m.fetch != nil {
		m.fetch.stop()
		m.fetch = nil
	}
	if m.poller != nil {
		m.poller.Close()
		m.poller = nil
	}
	if !m.closed {
		m.closed = true
		for _, s := range m.socks {
			s.Close()
		}
		if m.p != nil {
			m.p.Close()
		}
	}
}

// run receives and applies datagrams until ctx is done, or the session has
// ended when exitOnEnd. A snapshot still being fetched then is abandoned,
// and the books marked stale.
func (m *multicast) run(ctx context.Context, exitOnEnd bool) error {
	var stopping atomic.Bool
	defer context.AfterFunc(ctx, func() { stopping.Store(true) })()
	err := m.loop(&stopping, exitOnEnd)
	if m.fetch != nil {
		m.fetch.stop()
		m.fetch = nil
		m.markStale("shut down while a snapshot was being fetched")
	}
	return err
}

// loop receives and applies datagrams (step) until stopping is set, or the
// session has ended when exitOnEnd. It runs on one OS thread, pinned when
// the configuration names a CPU.
func (m *multicast) loop(stopping *atomic.Bool, exitOnEnd bool) error {
	var seen pipelineFaults
	defer func() { m.logFaults(seen, "since the last report") }()
	defer m.publishStats()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if cpu := m.cfg.Feed.CPU; cpu >= 0 {
		// The CPU is the writer's alone: the event loops, the collector and
		// every other thread of the process move to the rest.
		if _, err := affinity.Isolate(cpu); err != nil {
			fmt.Fprintf(m.stderr, "warning: feed.cpu %d: %v\n", cpu, err)
		}
	}
	// A late join stages the lines from the start and fetches the snapshot
	// once they have shown where the session is (or after a second of
	// silence, before the session starts), so that its sequence can be
	// checked against theirs.
	m.joining = m.cfg.Feed.Snapshot.ServerAddr.IsValid()
	if m.joining {
		m.h.status(Recovering, "joining late: the books come from a snapshot", 0)
	} else {
		m.h.status(Live, "", m.p.Arbiter().Next())
	}
	m.joinBy = time.Now().Add(time.Second)
	lastCheck := time.Now()
	for !stopping.Load() {
		after, ended, err := m.step()
		if err != nil {
			return err
		}
		if ended && exitOnEnd {
			return nil
		}
		if after.Sub(lastCheck) >= time.Second {
			lastCheck = after
			seen = m.logFaults(seen, "in the last second")
			m.publishStats()
		}
	}
	return nil
}

// step is one round of the receive loop: it waits up to a millisecond for
// the sockets, receives and applies what they hold, runs the feed's timers
// and the snapshot state, calls Flush, and reports whether the session has
// ended (reporting that once to Status) and when the round's work ended.
func (m *multicast) step() (after time.Time, ended bool, err error) {
	if err := m.poller.Wait(time.Millisecond); err != nil && !errors.Is(err, mcast.ErrTimeout) {
		return after, false, err
	}
	for line, s := range m.socks {
		for {
			n, err := s.Recv(m.batch)
			if err != nil {
				return after, false, fmt.Errorf("%s: %w", lineNames[line], err)
			}
			now := nanotime()
			for i := 0; i < n; i++ {
				m.datagram(line, i, now)
			}
			if n < m.batch.Cap() {
				break
			}
			// A backlog: Flush after each full batch, so that what the
			// Listener gathers stays one batch long however far behind
			// the loop is (a round over a deep socket once gathered
			// millions of changes before a Flush).
			m.flush()
		}
	}
	after = time.Now()
	if m.joining && (m.stage.highest > 0 || after.After(m.joinBy)) {
		m.joining = false
		m.fetch = startFetch(m.cfg.Feed.Snapshot)
	}
	if m.fetch == nil && !m.joining {
		m.p.Tick(after.UnixNano())
	}
	if err := m.snapshotStep(after); err != nil {
		return after, false, err
	}
	m.flush()
	if m.fetch == nil && !m.joining && m.p.Finished() {
		if !m.h.endSent {
			m.h.ended(m.trusted(), m.p.Arbiter().EndSeq())
		}
		return after, true, nil
	}
	return after, false, nil
}

// datagram passes datagram i of the batch, received on line, to the
// pipeline, or stages it while a snapshot is fetched. Bad input is counted
// with where it came from.
func (m *multicast) datagram(line, i int, now int64) {
	src := m.batch.Source(i)
	payload := m.batch.Payload(i)
	m.packets[line]++
	if line == lineRecovery && src != m.cfg.Feed.Rerequest.ServerAddr {
		m.faults.note(line, faultForeign, src, payload)
		return
	}
	if m.batch.Truncated(i) {
		m.faults.note(line, faultTruncated, src, payload)
		return
	}
	kts := m.batch.KernelTime(i)
	ts := kts
	if ts == 0 {
		ts = now
	}
	if m.fetch != nil || m.joining {
		if !m.stage.add(line, ts, payload) {
			m.faults.note(line, faultStageFull, src, payload)
		}
		return
	}
	m.packet(line, ts, src, payload)
	if kts != 0 {
		m.receive.Record(now - kts)
		if b := m.h.batchRecv; b == 0 || kts < b {
			m.h.batchRecv = kts
		}
	}
	if m.sharded {
		// Applied by the writers: the book stages are recorded when
		// the batch is synced.
		if len(m.unsynced) < cap(m.unsynced) {
			m.unsynced = append(m.unsynced, [2]int64{now, kts})
		}
		return
	}
	done := nanotime()
	m.apply.Record(done - now)
	if kts != 0 {
		m.toBook.Record(done - kts)
	}
}

// recordSynced records the book stages of the datagrams applied by the
// writers since the last Sync, which just returned: each datagram's
// messages were applied by then (an upper bound for the early ones of a
// batch, as for the subscribers, who are sent a batch's changes at once).
func (m *multicast) recordSynced() {
	done := nanotime()
	for _, t := range m.unsynced {
		m.apply.Record(done - t[0])
		if t[1] != 0 {
			m.toBook.Record(done - t[1])
		}
	}
	m.unsynced = m.unsynced[:0]
}

// writers is the shard configuration of cfg's books.
func writers(cfg *Config) shard.Config {
	return shard.Config{Shards: cfg.Book.Shards, CPUs: cfg.Book.CPUs, Map: cfg.Book.Map}
}

// flush calls Hooks.Flush: a batch of datagrams is applied. With sharded
// books it waits for the writers first (Sync), so that the changes and the
// books are the batch's, and records the book stages of the datagrams
// the batch applied.
func (m *multicast) flush() {
	if m.sharded {
		m.p.Sync()
		m.recordSynced()
	}
	if f := m.h.hooks.Flush; f != nil {
		f()
	}
	m.h.batchRecv = 0
}

// publishStats publishes the counters and the stages (Handler.Stats).
func (m *multicast) publishStats() {
	m.p.Sync()
	fst := m.p.FeedStats()
	pst := m.p.Stats()
	st := Stats{At: time.Now(), State: m.h.state, Packets: m.packets, Messages: pst.Messages,
		Duplicates: fst.Duplicates, Gaps: pst.Gaps, GapMessages: pst.GapMessages,
		Rerequests: fst.Requests, RequestedMessages: fst.RequestedMessages, Recovered: fst.Recovered,
		Snapshots: m.rebuilds, BookAnomalies: m.p.AnomalyTotal(), Stale: !m.trusted(), Ended: m.p.Finished()}
	for line, s := range m.socks {
		st.KernelDrops[line] = s.Drops()
	}
	st.Faults = m.faults.sum()
	m.h.st.publish(&st)
}

// packet passes one datagram to the pipeline and counts what it rejected.
func (m *multicast) packet(line int, ts int64, src netip.AddrPort, payload []byte) {
	v := m.p.Packet(line, ts, payload)
	if !v.Bad() {
		return
	}
	k := fault(v)
	if v == feed.Malformed && len(payload) < moldudp64.HeaderLen {
		k = faultNotMold
	}
	m.faults.note(line, k, src, payload)
}

// snapshotStep drives the snapshot state: it starts a rebuild when gaps
// were given up (or the lines refuted the sequence the books are at), and
// applies a fetched snapshot, or gives up on a failed one, when its fetch
// has ended.
func (m *multicast) snapshotStep(now time.Time) error {
	st := m.p.Stats()
	if g := st.Gaps; g > m.gapsSeen {
		m.gapsSeen = g
		last := st.GapList[len(st.GapList)-1]
		m.markStale(fmt.Sprintf("%d gap(s) given up; latest: %d message(s) from sequence %d", g, last.Count, last.First))
	}
	if m.fetch == nil && m.p.Arbiter().Refuted() {
		m.markStale(fmt.Sprintf("the lines carry a sequence more than max_jump below the snapshot's %d", m.p.Arbiter().Next()))
		m.p.Restart(0) // go on from what the lines carry
	}
	sc := m.cfg.Feed.Snapshot
	if !sc.ServerAddr.IsValid() {
		return nil
	}
	if m.fetch == nil {
		if m.stale && !now.Before(m.retryAt) {
			fmt.Fprintf(m.stderr, "status: rebuilding the books from a snapshot\n")
			m.h.status(Recovering, "rebuilding the books from a snapshot", m.p.Arbiter().Next())
			m.fetch = startFetch(sc)
			if len(m.stage.buf) == 0 && cap(m.stage.buf) == 0 {
				m.stage = newStage(stageBytes)
			}
		}
		return nil
	}
	var res snapResult
	select {
	case res = <-m.fetch.done:
		m.fetch = nil
	default:
		return nil
	}
	initial := m.rebuilds == 0 && !m.stale
	if res.err == nil {
		res.err = m.plausible(res.next)
	}
	if res.err != nil {
		if initial {
			return fmt.Errorf("late join: %w", res.err)
		}
		m.retryWait = min(max(2*m.retryWait, time.Second), 30*time.Second)
		m.retryAt = now.Add(m.retryWait)
		fmt.Fprintf(m.stderr, "status: books stale: snapshot failed: %v; going on from the feed, next snapshot in %v\n", res.err, m.retryWait)
		m.h.status(Stale, "snapshot failed: "+res.err.Error(), m.p.Arbiter().Next())
		m.unstage()
		return nil
	}
	m.p.ResetBook()
	for msg := range res.msgs.all() {
		m.p.Snapshot(msg)
	}
	m.p.Restart(res.next)
	m.rebuilds++
	verb := "rebuilt"
	if initial {
		verb = "built"
	}
	fmt.Fprintf(m.stderr, "status: live: books %s from a snapshot of %d messages; the feed goes on from sequence %d\n", verb, res.msgs.n, res.next)
	m.stale, m.staleWhy, m.retryWait = false, "", 0
	m.h.status(Live, "", res.next)
	m.unstage()
	m.gapsSeen = m.p.Stats().Gaps // gaps before the snapshot's sequence are mended
	m.gapsAtBuild = m.gapsSeen
	return nil
}

// markStale records that the books may be wrong, once per cause.
func (m *multicast) markStale(why string) {
	if !m.cfg.Feed.Snapshot.ServerAddr.IsValid() {
		fmt.Fprintf(m.stderr, "status: books may be stale: %s, and no snapshot server configured\n", why)
	} else if !m.stale {
		fmt.Fprintf(m.stderr, "status: books stale: %s\n", why)
	}
	m.stale, m.staleWhy = true, why
	m.h.status(Stale, why, m.p.Arbiter().Next())
}

// plausible checks a snapshot's sequence against what the lines carried
// while it was fetched: a sequence more than max_jump away from them is a
// broken or hostile snapshot server's, and taking it would make every
// genuine packet a duplicate (or open an enormous hole).
func (m *multicast) plausible(next uint64) error {
	hi := m.stage.highest
	if hi == 0 {
		hi = m.p.Arbiter().Next()
	}
	j := m.cfg.Feed.MaxJump
	if j == 0 || hi <= 1 {
		return nil
	}
	if next > hi && next-hi > j || hi > next && hi-next > j {
		return fmt.Errorf("%w: the snapshot goes on from sequence %d, the lines carry sequence %d (max_jump %d)", errSnapshotSeq, next, hi, j)
	}
	return nil
}

// unstage passes what was staged during a fetch to the pipeline, in
// arrival order.
func (m *multicast) unstage() {
	s := &m.stage
	for _, e := range s.ents {
		m.packet(e.line, e.ts, e.src, s.buf[e.off:e.off+e.n])
	}
	if s.dropped > 0 {
		fmt.Fprintf(m.stderr, "warning: %d datagrams arrived beyond the %d bytes kept while the snapshot was fetched; recovery asks for them again\n", s.dropped, cap(s.buf))
	}
	s.reset()
}

// nanotime reads the wall clock (CLOCK_REALTIME, the clock of
// SO_TIMESTAMPNS) through the vDSO, as time.Now does; unix.ClockGettime
// would be a system call.
func nanotime() int64 { return time.Now().UnixNano() }

// trusted reports whether the books are known to be right: not stale, and
// no gap given up since they were last built.
func (m *multicast) trusted() bool { return !m.stale && m.p.Stats().Gaps == m.gapsAtBuild }

// writeSummary prints what the session did, and says the session ended
// with every message accounted for only when that is known: the lines
// agreed on the end of session, no gap was given up since the books were
// last built, and the books are not stale.
func (m *multicast) writeSummary(w io.Writer, elapsed time.Duration, top int) {
	cfg := m.cfg
	g := &pipeline.Group{P: []*pipeline.Pipeline{m.p}}
	g.WriteSummary(w, pipeline.Summary{Inputs: []string{cfg.Feed.LineA.Group, cfg.Feed.LineB.Group}, Format: "live MoldUDP64", Elapsed: elapsed, Top: top})
	fst := m.p.FeedStats()
	fmt.Fprintf(w, "recovery    %d requests (%d messages), %d retries, %d recovered, %d given up, %d overflow, %d evicted, %d answers clipped\n",
		fst.Requests, fst.RequestedMessages, fst.Retries, fst.Recovered, fst.GivenUp, fst.RecoveryOverflow, fst.Evicted, fst.Clipped)
	fmt.Fprintf(w, "untrusted   %d implausible sequence, %d unsolicited answers, %d not from the re-request server, %d truncated, %d after the end, %d contradicted ends, %d jumps taken, %d discarded at the end\n",
		fst.Implausible, fst.Unsolicited, m.faults.total(faultForeign), m.faults.total(faultTruncated), fst.AfterEnd, fst.Contradicted, fst.Jumps, fst.Discarded)
	drops := "kernel      drops:"
	for line, s := range m.socks {
		drops += fmt.Sprintf(" %s %d,", lineNames[line], s.Drops())
	}
	fmt.Fprintln(w, strings.TrimSuffix(drops, ","))
	m.toBook.Publish()
	if l := m.toBook.Snapshot(); l.TotalCount() > 0 {
		us := func(q float64) float64 { return float64(l.ValueAtQuantile(q)) / 1e3 }
		fmt.Fprintf(w, "latency     kernel receive -> book updated, %d packets (%s poll): p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us\n",
			l.TotalCount(), cfg.Feed.Poll, us(50), us(99), us(99.9), float64(l.Max())/1e3)
	}
	if n, _ := m.p.SnapshotStats(); n > 0 || m.rebuilds > 0 {
		fmt.Fprintf(w, "snapshot    %d snapshot messages applied, %d snapshot(s) taken\n", n, m.rebuilds)
	}
	gaps := m.p.Stats().Gaps - m.gapsAtBuild
	switch {
	case m.stale:
		fmt.Fprintf(w, "books       STALE: %s\n", m.staleWhy)
	case gaps > 0:
		fmt.Fprintf(w, "books       may be wrong: %d gap(s) given up\n", gaps)
	}
	switch ended := m.p.Finished(); {
	case ended && !m.stale && gaps == 0:
		fmt.Fprintf(w, "session     ended at sequence %d (end of session agreed by the lines, every message accounted for)\n", m.p.Arbiter().EndSeq())
	case ended:
		fmt.Fprintf(w, "session     ended at sequence %d (end of session agreed by the lines; NOT every message accounted for)\n", m.p.Arbiter().EndSeq())
	default:
		fmt.Fprintf(w, "session     not ended (next sequence %d)\n", m.p.Arbiter().Next())
	}
}
