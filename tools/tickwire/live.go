package main

import (
	be "encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/netip"
	"runtime"
	"sync/atomic"
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
	numLines
)

var lineNames = [numLines]string{"line A", "line B", "recovery socket"}

// stageBytes bounds what the receive loop keeps, while a snapshot is
// fetched, of the datagrams it goes on reading: about half a second of
// both lines at NASDAQ's record rate. Past it datagrams are dropped,
// counted, and recovered by re-request like any loss.
const stageBytes = 64 << 20

// handler is the live pipeline: sockets, poller and book, driven by one
// goroutine (loop). A snapshot is fetched beside it, never inside it.
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

	faults faultLog
	drops  [numLines]uint64 // kernel drops reported so far

	// Snapshot state: fetch is the fetch in progress (nil when none);
	// stage keeps what arrives meanwhile; stale says the books may be
	// wrong (a gap given up, a failed rebuild), retryAt when to try the
	// next snapshot.
	fetch    *fetcher
	joining  bool // a late join waiting for the lines before it fetches the snapshot
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
	h := &handler{cfg: cfg, stderr: stderr, batch: mcast.NewBatch(64, f.DatagramSize),
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
		AllowGaps:   true,
		Options:     []feed.Option{feed.WithQuiet(int64(f.EndQuiet))},
	}
	if rr := f.Rerequest; rr.ServerAddr.IsValid() {
		s, err := mcast.ListenUnicast(netip.AddrPortFrom(netip.IPv4Unspecified(), 0), mcast.WithRecvBuffer(f.RecvBuffer))
		if err != nil {
			h.close()
			return nil, err
		}
		for _, w := range s.Warnings() {
			fmt.Fprintf(stderr, "tickwire run: warning: recovery socket: %s\n", w)
		}
		h.socks = append(h.socks, s)
		if sa, err := unix.Getsockname(s.Fd()); err == nil {
			if in, ok := sa.(*unix.SockaddrInet4); ok {
				fmt.Fprintf(stderr, "tickwire run: re-requests to %s from port %d; answers taken only from %s\n", rr.ServerAddr, in.Port, rr.ServerAddr)
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
		h.stage = newStage(stageBytes)
		pc.Start = 0
	}
	p, err := pipeline.New(pc)
	if err != nil {
		h.close()
		return nil, err
	}
	h.p = p
	if h.poller, err = mcast.NewPoller(f.Poll == "busy", h.socks...); err != nil {
		h.close()
		return nil, err
	}
	h.poller.SetSpin(f.PollSpin)
	return h, nil
}

func (h *handler) close() {
	if h.fetch != nil {
		h.fetch.stop()
		h.fetch = nil
	}
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
	var seen pipelineFaults
	defer func() { h.logFaults(seen, "since the last report") }()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if cpu := h.cfg.Feed.CPU; cpu >= 0 {
		var set unix.CPUSet
		set.Set(cpu)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			fmt.Fprintf(h.stderr, "tickwire run: warning: pinning to CPU %d: %v\n", cpu, err)
		}
	}
	// A late join stages the lines from the start and fetches the snapshot
	// once they have shown where the session is (or after a second of
	// silence, before the session starts), so that its sequence can be
	// checked against theirs.
	h.joining = h.cfg.Feed.Snapshot.ServerAddr.IsValid()
	joinBy := time.Now().Add(time.Second)
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
					return fmt.Errorf("%s: %w", lineNames[line], err)
				}
				for i := 0; i < n; i++ {
					h.datagram(line, i, now)
				}
				if n < h.batch.Cap() {
					break
				}
			}
		}
		after := time.Now()
		if h.joining && (h.stage.highest > 0 || after.After(joinBy)) {
			h.joining = false
			h.fetch = startFetch(h.cfg.Feed.Snapshot)
		}
		if h.fetch == nil && !h.joining {
			h.p.Tick(after.UnixNano())
		}
		if err := h.snapshotStep(after); err != nil {
			return err
		}
		if exitOnEnd && h.fetch == nil && !h.joining && h.p.Finished() {
			return nil
		}
		if after.Sub(lastCheck) >= time.Second {
			lastCheck = after
			seen = h.logFaults(seen, "in the last second")
		}
	}
	return nil
}

// datagram passes datagram i of the batch, received on line, to the
// pipeline, or stages it while a snapshot is fetched. Bad input is counted
// with where it came from.
func (h *handler) datagram(line, i int, now int64) {
	src := h.batch.Source(i)
	payload := h.batch.Payload(i)
	if line == lineRecovery && src != h.cfg.Feed.Rerequest.ServerAddr {
		h.faults.note(line, faultForeign, src, payload)
		return
	}
	if h.batch.Truncated(i) {
		h.faults.note(line, faultTruncated, src, payload)
		return
	}
	kts := h.batch.KernelTime(i)
	ts := kts
	if ts == 0 {
		ts = now
	}
	if h.fetch != nil || h.joining {
		if !h.stage.add(line, ts, payload) {
			h.faults.note(line, faultStageFull, src, payload)
		}
		return
	}
	h.packet(line, ts, src, payload)
	if kts != 0 {
		h.lat.RecordValue(nanotime() - kts)
	}
}

// packet passes one datagram to the pipeline and counts what it rejected.
func (h *handler) packet(line int, ts int64, src netip.AddrPort, payload []byte) {
	v := h.p.Packet(line, ts, payload)
	if !v.Bad() {
		return
	}
	k := fault(v)
	if v == feed.Malformed && len(payload) < moldudp64.HeaderLen {
		k = faultNotMold
	}
	h.faults.note(line, k, src, payload)
}

// snapshotStep drives the snapshot state: it starts a rebuild when gaps
// were given up (or the lines refuted the sequence the books are at), and
// applies a fetched snapshot, or gives up on a failed one, when its fetch
// has ended.
func (h *handler) snapshotStep(now time.Time) error {
	st := h.p.Stats()
	if g := st.Gaps; g > h.gapsSeen {
		h.gapsSeen = g
		last := st.GapList[len(st.GapList)-1]
		h.markStale(fmt.Sprintf("%d gap(s) given up; latest: %d message(s) from sequence %d", g, last.Count, last.First))
	}
	if h.fetch == nil && h.p.Arbiter().Refuted() {
		h.markStale(fmt.Sprintf("the lines carry a sequence more than max_jump below the snapshot's %d", h.p.Arbiter().Next()))
		h.p.Restart(0) // go on from what the lines carry
	}
	sc := h.cfg.Feed.Snapshot
	if !sc.ServerAddr.IsValid() {
		return nil
	}
	if h.fetch == nil {
		if h.stale && !now.Before(h.retryAt) {
			fmt.Fprintf(h.stderr, "tickwire run: status: rebuilding the books from a snapshot\n")
			h.fetch = startFetch(sc)
			if len(h.stage.buf) == 0 && cap(h.stage.buf) == 0 {
				h.stage = newStage(stageBytes)
			}
		}
		return nil
	}
	var res snapResult
	select {
	case res = <-h.fetch.done:
		h.fetch = nil
	default:
		return nil
	}
	initial := h.rebuilds == 0 && !h.stale
	if res.err == nil {
		res.err = h.plausible(res.next)
	}
	if res.err != nil {
		if initial {
			return fmt.Errorf("late join: %w", res.err)
		}
		h.retryWait = min(max(2*h.retryWait, time.Second), 30*time.Second)
		h.retryAt = now.Add(h.retryWait)
		fmt.Fprintf(h.stderr, "tickwire run: status: books stale: snapshot failed: %v; going on from the feed, next snapshot in %v\n", res.err, h.retryWait)
		h.unstage()
		return nil
	}
	h.p.ResetBook()
	for m := range res.msgs.all() {
		h.p.Snapshot(m)
	}
	h.p.Restart(res.next)
	h.rebuilds++
	verb := "rebuilt"
	if initial {
		verb = "built"
	}
	fmt.Fprintf(h.stderr, "tickwire run: status: live: books %s from a snapshot of %d messages; the feed goes on from sequence %d\n", verb, res.msgs.n, res.next)
	h.stale, h.staleWhy, h.retryWait = false, "", 0
	h.unstage()
	h.gapsSeen = h.p.Stats().Gaps // gaps before the snapshot's sequence are mended
	h.gapsAtBuild = h.gapsSeen
	return nil
}

// markStale records that the books may be wrong, once per cause.
func (h *handler) markStale(why string) {
	if !h.cfg.Feed.Snapshot.ServerAddr.IsValid() {
		fmt.Fprintf(h.stderr, "tickwire run: status: books may be stale: %s, and no snapshot server configured\n", why)
	} else if !h.stale {
		fmt.Fprintf(h.stderr, "tickwire run: status: books stale: %s\n", why)
	}
	h.stale, h.staleWhy = true, why
}

// plausible checks a snapshot's sequence against what the lines carried
// while it was fetched: a sequence more than max_jump away from them is a
// broken or hostile snapshot server's, and taking it would make every
// genuine packet a duplicate (or open an enormous hole).
func (h *handler) plausible(next uint64) error {
	hi := h.stage.highest
	if hi == 0 {
		hi = h.p.Arbiter().Next()
	}
	j := h.cfg.Feed.MaxJump
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
func (h *handler) unstage() {
	s := &h.stage
	for _, e := range s.ents {
		h.packet(e.line, e.ts, e.src, s.buf[e.off:e.off+e.n])
	}
	if s.dropped > 0 {
		fmt.Fprintf(h.stderr, "tickwire run: warning: %d datagrams arrived beyond the %d bytes kept while the snapshot was fetched; recovery asks for them again\n", s.dropped, cap(s.buf))
	}
	s.reset()
}

// stage keeps datagrams received while a snapshot is fetched, in one
// preallocated buffer.
type stage struct {
	buf     []byte
	ents    []staged
	dropped uint64
	highest uint64 // the highest sequence the lines' packets showed
}

type staged struct {
	line   int
	ts     int64
	src    netip.AddrPort
	off, n int
}

func newStage(bytes int) stage {
	return stage{buf: make([]byte, 0, bytes), ents: make([]staged, 0, bytes/256)}
}

func (s *stage) add(line int, ts int64, payload []byte) bool {
	if len(s.buf)+len(payload) > cap(s.buf) || len(s.ents) == cap(s.ents) {
		s.dropped++
		return false
	}
	s.ents = append(s.ents, staged{line: line, ts: ts, off: len(s.buf), n: len(payload)})
	s.buf = append(s.buf, payload...)
	if line != lineRecovery && len(payload) >= moldudp64.HeaderLen {
		pkt := moldudp64.Packet(payload)
		seq := pkt.Seq()
		if c := pkt.Count(); c != moldudp64.EndOfSession {
			seq += uint64(c)
		}
		s.highest = max(s.highest, seq)
	}
	return true
}

func (s *stage) reset() {
	s.buf, s.ents, s.dropped, s.highest = s.buf[:0], s.ents[:0], 0, 0
}

// snapResult is the outcome of one snapshot fetch.
type snapResult struct {
	msgs snapshotMsgs
	next uint64
	err  error
}

// fetcher runs one snapshot fetch on its own goroutine.
type fetcher struct {
	done   chan snapResult
	cancel chan struct{}
}

func startFetch(sc config.Snapshot) *fetcher {
	f := &fetcher{done: make(chan snapResult, 1), cancel: make(chan struct{})}
	go func() {
		msgs, next, err := fetchSnapshot(sc, f.cancel)
		f.done <- snapResult{msgs, next, err}
	}()
	return f
}

// stop cancels the fetch and waits for it to end.
func (f *fetcher) stop() {
	close(f.cancel)
	<-f.done
}

// snapshotCollector receives a GLIMPSE snapshot over SoupBinTCP. Its
// methods run on the SoupBinTCP session's event loop; fetchSnapshot reads
// the result only after done is signalled.
type snapshotCollector struct {
	loader *feed.SnapshotLoader
	msgs   snapshotMsgs
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

// snapshotMsgs holds a snapshot's messages back to back in chunks of
// snapshotChunk bytes, each message after its 2-byte length: a few bytes over
// the messages' own (which feed.snapshot.max_bytes bounds). One allocation per
// message would cost several times that, and one growing buffer up to three
// times at the moment it doubles.
type snapshotMsgs struct {
	chunks [][]byte
	n      int // messages
}

const snapshotChunk = 1 << 20

func (s *snapshotMsgs) add(msg []byte) {
	k := len(s.chunks) - 1
	if k < 0 || len(s.chunks[k])+2+len(msg) > cap(s.chunks[k]) {
		s.chunks = append(s.chunks, make([]byte, 0, max(snapshotChunk, 2+len(msg))))
		k++
	}
	s.chunks[k] = append(be.BigEndian.AppendUint16(s.chunks[k], uint16(len(msg))), msg...)
	s.n++
}

// all yields the messages in order; each aliases a chunk.
func (s *snapshotMsgs) all() iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for _, b := range s.chunks {
			for len(b) >= 2 {
				n := 2 + int(be.BigEndian.Uint16(b))
				if !yield(b[2:n]) {
					return
				}
				b = b[n:]
			}
		}
	}
}

// errSnapshotSeq refuses a snapshot whose sequence is far from the lines'.
var errSnapshotSeq = errors.New("implausible snapshot sequence")

// errFetchCancelled ends a fetch cancelled by shutdown.
var errFetchCancelled = errors.New("cancelled by shutdown")

// fetchSnapshot logs in to the GLIMPSE server (requested sequence 1, as
// GLIMPSE wants) and returns the snapshot's ITCH messages and the feed
// sequence number its end-of-snapshot message gives: the next to apply.
// Closing cancel abandons it.
func fetchSnapshot(sc config.Snapshot, cancel <-chan struct{}) (snapshotMsgs, uint64, error) {
	c := &snapshotCollector{done: make(chan error, 1)}
	c.loader = feed.NewSnapshotLoader(c.msgs.add,
		feed.WithSnapshotMaxBytes(uint64(sc.MaxBytes)), feed.WithSnapshotMaxOrders(uint64(sc.MaxOrders)))
	sess, err := soup.Dial(soup.Config{Addr: sc.ServerAddr.String(), Username: sc.Username, Password: sc.Password, Seq: 1}, c)
	if err != nil {
		return snapshotMsgs{}, 0, fmt.Errorf("snapshot server %s: %w", sc.ServerAddr, err)
	}
	defer sess.Close()
	timer := time.NewTimer(sc.Timeout)
	defer timer.Stop()
	select {
	case err := <-c.done:
		if err != nil {
			return snapshotMsgs{}, 0, fmt.Errorf("snapshot server %s: %w", sc.ServerAddr, err)
		}
		return c.msgs, c.loader.Next(), nil
	case <-sess.Done():
		return snapshotMsgs{}, 0, fmt.Errorf("snapshot server %s: session ended before the end of the snapshot: %v", sc.ServerAddr, sess.Err())
	case <-timer.C:
		return snapshotMsgs{}, 0, fmt.Errorf("snapshot server %s: no complete snapshot within %v", sc.ServerAddr, sc.Timeout)
	case <-cancel:
		return snapshotMsgs{}, 0, fmt.Errorf("snapshot server %s: %w", sc.ServerAddr, errFetchCancelled)
	}
}

// fault is a kind of bad input counted per line: a feed.Verdict that is
// Bad, or one of the kinds the receive loop finds itself.
type fault uint8

const (
	faultNotMold   fault = iota + fault(feed.AfterEnd) + 1 // shorter than a MoldUDP64 header
	faultTruncated                                         // longer than feed.datagram_size: cut by the kernel (MSG_TRUNC)
	faultForeign                                           // on the recovery socket, not from the re-request server
	faultStageFull                                         // dropped while a snapshot was fetched: the staging buffer was full
	numFaults
)

func (k fault) String() string {
	switch k {
	case faultNotMold:
		return "datagrams that are not MoldUDP64"
	case faultTruncated:
		return "datagrams truncated (longer than feed.datagram_size)"
	case faultForeign:
		return "datagrams not from the re-request server"
	case faultStageFull:
		return "datagrams dropped while a snapshot was fetched (staging buffer full)"
	case fault(feed.Malformed):
		return "malformed MoldUDP64 packets (block lengths do not match the packet)"
	case fault(feed.OtherSession):
		return "MoldUDP64 packets of another session"
	case fault(feed.Implausible):
		return "MoldUDP64 packets with an implausible sequence number (far from the feed's, not corroborated)"
	case fault(feed.Unsolicited):
		return "re-request answers for nothing requested"
	case fault(feed.AfterEnd):
		return "MoldUDP64 packets after the end of the session"
	}
	return feed.Verdict(k).String()
}

// faultLog counts bad input per line and kind, with the latest source
// address and sequence number of each.
type faultLog struct {
	c [numLines][numFaults]faultCount
}

type faultCount struct {
	n, reported uint64
	src         netip.AddrPort
	seq         uint64 // 0: none (too short for a header)
}

func (l *faultLog) note(line int, k fault, src netip.AddrPort, payload []byte) {
	c := &l.c[line][k]
	c.n++
	c.src = src
	c.seq = 0
	if len(payload) >= moldudp64.HeaderLen {
		c.seq = moldudp64.Packet(payload).Seq()
	}
}

// total returns the count of kind k over every line.
func (l *faultLog) total(k fault) uint64 {
	var n uint64
	for line := range l.c {
		n += l.c[line][k].n
	}
	return n
}

// pipelineFaults are the pipeline's counters of bad messages, compared
// once a second.
type pipelineFaults struct {
	malformedMsgs, unknownTypes, anomalies uint64
}

// logFaults reports, at most once per call (the loop calls it once a
// second), the bad input that arrived since the last report: what it was,
// how many, on which line, and the latest one's source and sequence
// number; then the kernel's drops per socket. It returns the pipeline's
// counts to compare with next time.
func (h *handler) logFaults(prev pipelineFaults, period string) pipelineFaults {
	for line := range h.faults.c {
		for k := range h.faults.c[line] {
			c := &h.faults.c[line][k]
			if d := c.n - c.reported; d > 0 {
				c.reported = c.n
				where := fmt.Sprintf("latest from %s", c.src)
				if c.seq != 0 {
					where += fmt.Sprintf(", sequence %d", c.seq)
				}
				fmt.Fprintf(h.stderr, "tickwire run: %s: %d %s %s; %s\n", lineNames[line], d, fault(k), period, where)
			}
		}
	}
	st := h.p.Stats()
	an := h.p.Book().Anomalies()
	now := pipelineFaults{st.Malformed, st.UnknownTypes, an.Total()}
	report := func(what string, d uint64, where string) {
		if d > 0 {
			fmt.Fprintf(h.stderr, "tickwire run: %d %s %s%s\n", d, what, period, where)
		}
	}
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
	for line, s := range h.socks {
		if d := s.Drops(); d > h.drops[line] {
			fmt.Fprintf(h.stderr, "tickwire run: alarm: %s: the kernel dropped %d datagrams (socket buffer full; raise feed.recv_buffer and net.core.rmem_max)\n", lineNames[line], d-h.drops[line])
			h.drops[line] = d
		}
	}
	return now
}

// nanotime reads the wall clock (CLOCK_REALTIME, the clock of
// SO_TIMESTAMPNS) through the vDSO, as time.Now does; unix.ClockGettime
// would be a system call.
func nanotime() int64 { return time.Now().UnixNano() }
