package transport

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/tickwire/tickwire/internal/affinity"
	"github.com/tickwire/tickwire/internal/latency"
	"github.com/tickwire/tickwire/transport/ring"
	"github.com/tickwire/tickwire/transport/tw"
)

// ServerConfig configures a Server. Zero values take the defaults named.
type ServerConfig struct {
	// Listen is the TCP address to serve on, e.g. "127.0.0.1:27100"; port
	// 0 picks a free one (Server.Addr).
	Listen string
	// Token, when set, must be in every client's Hello (compared in
	// constant time); a client without it is refused.
	Token string
	// TLS, when set, is served on Listen instead of plain TCP (it needs a
	// certificate): see tlsFront for what it costs.
	TLS *tls.Config
	// Disconnect: a slow consumer is cut off (ServerError SlowConsumer)
	// instead of conflated.
	Disconnect bool
	// QueueBytes bounds how far a connection may be behind the feed, in
	// the ring's bytes it has not been sent and those gnet holds for it
	// (default 4 MiB): past it for SlowAfter, it is conflated or cut off.
	QueueBytes int
	// SlowAfter is how long a connection may stay past QueueBytes, or
	// take nothing of what waits for it, before it is conflated or cut
	// off (default 500 ms).
	SlowAfter time.Duration
	// HelloTimeout is how long a new connection has to send its Hello
	// (default 5 s).
	HelloTimeout time.Duration
	// MaxClients bounds the connections served at once (default 16384).
	MaxClients int
	// Heartbeat is how often a connection gets a frame when nothing else
	// was sent (default 1 s).
	Heartbeat time.Duration
	// RingBytes is the size of the fan-out ring (default 64 MiB): a
	// connection further behind than it is conflated.
	RingBytes int
	// Loops is the number of event loops (default 1: the book's writer
	// and the server then share two cores).
	Loops int
	// LoopCPUs, when set, are the CPUs the event loops' threads run on,
	// and LoopNice, when not 0, their niceness: above the feed's, the
	// fan-out yields to the feed where they share a CPU (the writer's
	// own CPU, feed.cpu, is kept clear of them either way).
	LoopCPUs []int
	LoopNice int
	// Logf, if set, receives one line per event worth an operator's eye
	// (a client refused, conflated, cut off).
	Logf func(format string, args ...any)
	// OnWrite, if set, is called on the event loop right after each write
	// of published frames to a connection, with the bytes written (whole
	// frames with their prefixes, valid only during the call): a hook for
	// latency measurements. It must be quick and must not keep b. Unset,
	// it costs a nil check per write.
	OnWrite func(b []byte)
}

func (c *ServerConfig) resolve() {
	if c.QueueBytes <= 0 {
		c.QueueBytes = 4 << 20
	}
	if c.SlowAfter <= 0 {
		c.SlowAfter = 500 * time.Millisecond
	}
	if c.HelloTimeout <= 0 {
		c.HelloTimeout = 5 * time.Second
	}
	if c.MaxClients <= 0 {
		c.MaxClients = 16384
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = time.Second
	}
	if c.RingBytes <= 0 {
		c.RingBytes = 64 << 20
	}
	if c.Loops <= 0 {
		c.Loops = 1
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
}

// Reasons a server disconnects a client, counted in ServerStats.
const (
	DisconnectHelloTimeout = iota
	DisconnectRefused      // wrong token or version
	DisconnectBadFrame     // garbage, an oversized frame
	DisconnectProtocol     // a message not allowed
	DisconnectSlow         // slow consumer with Disconnect set
	DisconnectTooMany      // MaxClients reached
	DisconnectTLS          // the TLS handshake failed
	numDisconnects
)

// DisconnectReasons names the reasons, for logs and metrics.
var DisconnectReasons = [numDisconnects]string{"hello_timeout", "refused", "bad_frame", "protocol", "slow_consumer", "too_many_clients", "tls_handshake"}

// ServerStats are the server's counters.
type ServerStats struct {
	Clients     int64 // connected now
	Accepted    uint64
	Conflations uint64
	Disconnects [numDisconnects]uint64
	// Buffered is the bytes gnet holds for the connections, not yet
	// taken by their sockets, as of each event loop's last pass, and
	// BufferedPeak the most any loop's pass has seen: a backlog waits in
	// the ring, so these stay within about writeAhead plus a batch per
	// connection however slow the clients.
	Buffered, BufferedPeak int64
}

// Server serves the books to subscribers over TCP: gnet event loops read
// the clients' frames and write them what the Publisher put in the ring.
// The book's writer never waits for it: after each Flush the server is
// woken, and each event loop copies to each of its connections the records
// that concern it, patching the connection's own stream sequence into each
// frame.
type Server struct {
	cfg  ServerConfig
	ring *ring.Ring
	pub  *Publisher
	addr netip.AddrPort

	eng     gnet.Engine
	front   *tlsFront // with TLS: what serves Listen
	booted  chan error
	stopped chan error
	done    chan struct{}

	mu       sync.Mutex
	loops    []*loopState
	loopList atomic.Pointer[[]*loopState] // a copy of loops, read without mu

	nextID      atomic.Uint64
	clients     atomic.Int64
	accepted    atomic.Uint64
	conflations atomic.Uint64
	disconnects [numDisconnects]atomic.Uint64
	shutdown    atomic.Bool
}

// NewServer returns a server with its ring and publisher; Start serves.
func NewServer(cfg ServerConfig) *Server {
	cfg.resolve()
	s := &Server{cfg: cfg, ring: ring.New(cfg.RingBytes), booted: make(chan error, 1), stopped: make(chan error, 1),
		done: make(chan struct{})}
	s.ring.Prefault()
	s.pub = NewPublisher(s.ring, s.notify)
	return s
}

// Publisher returns the publisher to install as the book's listener.
func (s *Server) Publisher() *Publisher { return s.pub }

// Addr returns the address served, once Start has returned.
func (s *Server) Addr() netip.AddrPort { return s.addr }

// Stats returns the server's counters.
func (s *Server) Stats() ServerStats {
	st := ServerStats{Clients: s.clients.Load(), Accepted: s.accepted.Load(), Conflations: s.conflations.Load()}
	for i := range st.Disconnects {
		st.Disconnects[i] = s.disconnects[i].Load()
	}
	if l := s.loopList.Load(); l != nil {
		for _, ls := range *l {
			st.Buffered += ls.buffered.Load()
			st.BufferedPeak = max(st.BufferedPeak, ls.bufferedPeak.Load())
		}
	}
	return st
}

// Start listens and serves in the background.
func (s *Server) Start() error {
	ap, err := netip.ParseAddrPort(s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("transport: listen address %q: %w", s.cfg.Listen, err)
	}
	h := &handler{s: s}
	serve := "tcp://" + ap.String()
	if s.cfg.TLS != nil {
		if s.front, err = listenTLS(s, ap.String()); err != nil {
			return fmt.Errorf("transport: listen on %s: %w", ap, err)
		}
		serve = "unix://" + s.front.sock
	}
	go func() {
		err := gnet.Run(h, serve, gnet.WithNumEventLoop(s.cfg.Loops), gnet.WithTCPNoDelay(gnet.TCPNoDelay),
			gnet.WithReuseAddr(true), gnet.WithLogger(quietLogger{}),
			gnet.WithLockOSThread(len(s.cfg.LoopCPUs) > 0 || s.cfg.LoopNice != 0))
		select {
		case s.booted <- err:
		default:
		}
		s.stopped <- err
	}()
	if err := <-s.booted; err != nil {
		if s.front != nil {
			s.front.close(context.Background())
		}
		return fmt.Errorf("transport: listen on %s: %w", ap, err)
	}
	if s.front != nil {
		s.addr = s.front.ln.Addr().(*net.TCPAddr).AddrPort()
		s.front.wg.Add(1)
		go s.front.serve()
	}
	go s.tick()
	return nil
}

// Close tells nothing to the clients (publish a Status first), waits up to
// ctx for every connection to have been sent all that was published, then
// closes them all and stops. A connection conflated near the end waits for
// its snapshots, which only the book's writer takes: call Finish instead
// once the writer has stopped.
func (s *Server) Close(ctx context.Context) error { return s.close(ctx, nil) }

// Finish is Close for the book's writer once it applies no more messages:
// called on its goroutine, it goes on taking the connections' requests
// while they drain, so that a connection conflated at the end of the
// session is sent its fresh snapshots before the end of the session.
func (s *Server) Finish(ctx context.Context) error { return s.close(ctx, s.pub.Flush) }

func (s *Server) close(ctx context.Context, flush func()) error {
	if !s.shutdown.CompareAndSwap(false, true) {
		return nil
	}
	for ctx.Err() == nil && !s.drained() {
		if flush != nil {
			flush()
		}
		s.notify()
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Millisecond):
		}
	}
	close(s.done)
	err := s.eng.Stop(context.Background())
	<-s.stopped
	// The loops have stopped: what they recorded since their last
	// publication is published from here.
	if l := s.loopList.Load(); l != nil {
		for _, ls := range *l {
			for _, h := range ls.stages {
				h.Publish()
			}
		}
	}
	if s.front != nil {
		// The bridges pass on the last bytes once the loops closed
		// their side: a second more at most.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		s.front.close(ctx)
		cancel()
	}
	return err
}

// drained reports whether every connection has been sent everything.
func (s *Server) drained() bool {
	s.mu.Lock()
	loops := append([]*loopState(nil), s.loops...)
	s.mu.Unlock()
	for _, ls := range loops {
		done := make(chan bool, 1)
		if err := ls.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
			done <- ls.drained()
			return nil
		})); err != nil {
			return true
		}
		select {
		case ok := <-done:
			if !ok {
				return false
			}
		case <-time.After(time.Second):
			return false
		}
	}
	return true
}

// notify queues, on each event loop not already scheduled, a pass over its
// connections. It never blocks: called by the book's writer after a Flush,
// it costs an atomic load and a compare-and-swap per loop, and the loop's
// wake-up (a write to its eventfd) when the loop is not already due for a
// pass. The writer schedules the pass itself rather than waking a goroutine
// that would: one hand-over less between the book and the sockets.
func (s *Server) notify() {
	if l := s.loopList.Load(); l != nil {
		now, origin := time.Now().UnixNano(), s.pub.origin
		for _, ls := range *l {
			// The oldest flush (and wire time) the loop's next pass
			// carries, for its latency stages.
			ls.flushAt.CompareAndSwap(0, now)
			if origin != 0 {
				ls.origin.CompareAndSwap(0, origin)
			}
			ls.schedule()
		}
	}
}

// Stages of the server's latency, in Stage's numbering.
const (
	StagePublish = iota // book updated (the writer's Flush) -> bytes written to a subscriber
	StageWire           // kernel receive of the oldest datagram applied (Publisher.SetOrigin) -> bytes written
	numStages
)

// StageNames name the stages, for metrics and tables.
var StageNames = [numStages]string{"publish", "end_to_end"}

// MergeStage adds into dst stage i's latency as last published by the
// event loops (about once a second), every loop's: per write to a
// subscriber, from the oldest flush (or datagram) the write's pass carried,
// so an upper bound for each update written. Safe from any goroutine.
func (s *Server) MergeStage(i int, dst *hdrhistogram.Histogram) {
	if l := s.loopList.Load(); l != nil {
		for _, ls := range *l {
			ls.stages[i].MergeInto(dst)
		}
	}
}

// schedule queues a pass over the loop's connections unless one is due.
func (ls *loopState) schedule() {
	if ls.scheduled.CompareAndSwap(false, true) {
		if ls.el.Execute(context.Background(), ls) != nil {
			ls.scheduled.Store(false)
		}
	}
}

// tick runs the timers: hello timeouts, heartbeats, slow consumers.
func (s *Server) tick() {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		s.schedule(true)
	}
}

// schedule queues, on each event loop not already scheduled, a pass over
// its connections; timers: the pass runs the connections' timers too.
func (s *Server) schedule(timers bool) {
	if l := s.loopList.Load(); l != nil {
		for _, ls := range *l {
			if timers {
				ls.timers.Store(true)
			}
			ls.schedule()
		}
	}
}

// loop returns the state of event loop el, making it on first use.
func (s *Server) loop(el gnet.EventLoop) *loopState {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ls := range s.loops {
		if ls.el == el {
			return ls
		}
	}
	ls := &loopState{s: s, el: el, enc: NewEncoder(1 << 10), out: make([]byte, 0, outBatch+MaxFrameSize)}
	if len(s.cfg.LoopCPUs) > 0 || s.cfg.LoopNice != 0 {
		// On the loop's own thread (its first connection's OnOpen),
		// locked to it by gnet.
		if err := affinity.Place(s.cfg.LoopCPUs, s.cfg.LoopNice); err != nil {
			s.cfg.Logf("event loop: %v", err)
		}
	}
	ls.retry = time.AfterFunc(time.Hour, ls.schedule)
	ls.retry.Stop()
	for i := range ls.stages {
		ls.stages[i] = latency.New()
	}
	s.loops = append(s.loops, ls)
	l := append([]*loopState(nil), s.loops...)
	s.loopList.Store(&l)
	return ls
}

// outBatch is how much a loop gathers for one connection before a write.
const outBatch = 256 << 10

// writeAhead is how much of a connection's backlog gnet may hold beyond
// what the kernel took: the rest waits in the ring, so a slow consumer
// costs its cursor and no memory of its own (gnet copies what it holds).
const writeAhead = 64 << 10

// loopState is one event loop's: its connections and scratch buffers,
// touched only on the loop's goroutine.
type loopState struct {
	s            *Server
	el           gnet.EventLoop
	conns        []*connState
	scheduled    atomic.Bool
	timers       atomic.Bool // set by tick: the pass runs the timers
	enc          *Encoder
	out          []byte
	throttled    bool         // a connection of this pass left its backlog in the ring
	buffered     atomic.Int64 // what gnet held for the connections after the last pass
	bufferedPeak atomic.Int64
	retry        *time.Timer // then schedules another pass soon

	flushAt, origin     atomic.Int64 // set by the writer's notify, taken by the pass
	passFlush, passWire int64        // this pass's, for the stages
	stages              [numStages]*latency.Histogram
	published           time.Time // the stages were last published
}

// Run is a pass over the loop's connections (gnet.Runnable).
func (ls *loopState) Run(context.Context) error {
	ls.scheduled.Store(false)
	now := time.Now()
	timers := ls.timers.Swap(false)
	ls.passFlush, ls.passWire = ls.flushAt.Swap(0), ls.origin.Swap(0)
	ls.throttled = false
	if timers && now.Sub(ls.published) >= time.Second {
		ls.published = now
		for _, h := range ls.stages {
			h.Publish()
		}
	}
	// A connection closed during its turn (a failed write closes it at
	// once) is removed from ls.conns, the last one taking its place: that
	// one's turn is then at the same index.
	var buffered int64
	for i := 0; i < len(ls.conns); i++ {
		cs := ls.conns[i]
		if timers {
			cs.timers(now)
		}
		if i < len(ls.conns) && ls.conns[i] == cs {
			cs.pump(now)
		}
		if i < len(ls.conns) && ls.conns[i] == cs {
			buffered += int64(cs.c.OutboundBuffered())
		} else if i < len(ls.conns) {
			i--
		}
	}
	ls.buffered.Store(buffered)
	if buffered > ls.bufferedPeak.Load() {
		ls.bufferedPeak.Store(buffered)
	}
	if ls.throttled {
		// Its socket was full: look again once the kernel has had time
		// to take some, whether or not the feed moves meanwhile.
		ls.retry.Reset(retryAfter)
	}
	return nil
}

// retryAfter is how soon a loop looks again at connections whose backlog
// waits in the ring for room in their sockets.
const retryAfter = time.Millisecond

func (ls *loopState) drained() bool {
	for _, cs := range ls.conns {
		if cs.accepted && !cs.closing && (cs.rd.Behind() > 0 || cs.c.OutboundBuffered() > 0 || cs.inflight > 0) {
			return false
		}
	}
	return true
}

func (ls *loopState) remove(cs *connState) {
	for i, c := range ls.conns {
		if c == cs {
			ls.conns[i] = ls.conns[len(ls.conns)-1]
			ls.conns[len(ls.conns)-1] = nil
			ls.conns = ls.conns[:len(ls.conns)-1]
			return
		}
	}
}

// connState is one client connection's, touched on its loop's goroutine
// but for ready, which the book's writer fills.
type connState struct {
	id       uint64
	c        gnet.Conn
	ls       *loopState
	opened   time.Time
	remote   string // the client's address (a TLS client's, not the bridge's)
	accepted bool
	closing  bool
	rd       *ring.Reader
	fr       *FrameReader
	seq      uint64 // the last stream sequence sent
	lastSent time.Time

	// Subscriptions, as applied at their markers.
	all       bool
	allStream int
	locs      map[uint16]int // locate -> stream; nil when none
	suspended bool           // conflated: nothing but Status until the resync's marker
	late      bool           // past QueueBytes, or stalled, since slowSince
	dropping  bool           // given up: records skipped until it takes what gnet holds
	resync    bool           // a resync record reached: resynchronise
	slowSince time.Time
	// Whether the client takes what it is sent (see progress).
	written    uint64 // bytes handed to gnet
	acked      uint64 // of which taken by the client, as of progressAt
	progressAt time.Time
	stalled    bool
	reqID      uint64 // the last request submitted
	inflight   int    // requests submitted and not applied yet
	asked      bool   // it has sent a Subscribe: it gets the feed's Status from then on

	mu    sync.Mutex
	ready []*request // taken by the writer, applied at their markers
}

func (cs *connState) subscribed() bool { return cs.all || len(cs.locs) > 0 }

// wants reports whether the connection takes stream records of loc.
func (cs *connState) wants(stream int, loc uint16) bool {
	if s, ok := cs.locs[loc]; ok {
		return s == stream
	}
	return cs.all && cs.allStream == stream
}

// handler is the gnet event handler.
type handler struct {
	gnet.BuiltinEventEngine
	s *Server
}

func (h *handler) OnBoot(eng gnet.Engine) gnet.Action {
	s := h.s
	s.eng = eng
	fd, err := eng.Dup()
	if err == nil {
		sa, e := unix.Getsockname(fd)
		unix.Close(fd)
		if in, ok := sa.(*unix.SockaddrInet4); ok && e == nil {
			s.addr = netip.AddrPortFrom(netip.AddrFrom4(in.Addr), uint16(in.Port))
		} else if in6, ok := sa.(*unix.SockaddrInet6); ok && e == nil {
			s.addr = netip.AddrPortFrom(netip.AddrFrom16(in6.Addr), uint16(in6.Port))
		}
	}
	s.booted <- nil
	return gnet.None
}

func (h *handler) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	s := h.s
	if s.clients.Load() >= int64(s.cfg.MaxClients) || s.shutdown.Load() {
		s.disconnects[DisconnectTooMany].Add(1)
		e := NewEncoder(256)
		e.Begin(1)
		e.ServerError(tw.ErrorCodeInternal, []byte("too many clients"))
		f, _ := e.Finish()
		return f, gnet.Close
	}
	s.clients.Add(1)
	ls := s.loop(c.EventLoop())
	cs := &connState{id: s.nextID.Add(1), c: c, ls: ls, opened: time.Now(), fr: NewFrameReader(maxClientFrame)}
	if cs.remote = s.front.peer(c.RemoteAddr()); cs.remote == "" && c.RemoteAddr() != nil {
		cs.remote = c.RemoteAddr().String()
	}
	c.SetContext(cs)
	ls.conns = append(ls.conns, cs)
	return nil, gnet.None
}

// maxClientFrame bounds a client's frames: a Subscribe of every symbol of
// the day fits.
const maxClientFrame = 256 << 10

func (h *handler) OnClose(c gnet.Conn, _ error) gnet.Action {
	cs, ok := c.Context().(*connState)
	if !ok {
		return gnet.None
	}
	h.s.clients.Add(-1)
	cs.closing = true
	cs.ls.remove(cs)
	if cs.accepted {
		h.s.pub.submit(&request{conn: cs.id, closed: true})
	}
	return gnet.None
}

func (h *handler) OnTraffic(c gnet.Conn) gnet.Action {
	cs, ok := c.Context().(*connState)
	if !ok {
		return gnet.Close
	}
	buf, _ := c.Next(-1)
	cs.input(buf)
	return gnet.None
}

// input handles bytes the client sent: every frame they complete.
func (cs *connState) input(buf []byte) {
	for len(buf) > 0 && !cs.closing {
		f, n, ok, err := cs.fr.Next(buf)
		buf = buf[n:]
		if err != nil {
			cs.fail(DisconnectBadFrame, tw.ErrorCodeBadFrame, err.Error())
			return
		}
		if !ok {
			return
		}
		cs.frame(&f)
	}
}

// frame handles one frame from the client.
func (cs *connState) frame(f *Frame) {
	var m Message
	for i := range f.Len() {
		if cs.closing {
			return
		}
		f.Message(i, &m)
		t := m.Type()
		if !cs.accepted {
			if t != tw.BodyHello {
				cs.fail(DisconnectProtocol, tw.ErrorCodeBadHello, "the first message must be a Hello")
				return
			}
			cs.hello(&m)
			continue
		}
		switch t {
		case tw.BodySubscribe, tw.BodyUnsubscribe:
			cs.subscribe(&m, t == tw.BodyUnsubscribe)
		case tw.BodyHeartbeat:
		case tw.BodyNONE:
			// A message of a newer schema: skipped.
		default:
			cs.fail(DisconnectProtocol, tw.ErrorCodeProtocolViolation, fmt.Sprintf("a %s is not a client's message", tw.EnumNamesBody[t]))
			return
		}
	}
}

func (cs *connState) hello(m *Message) {
	s := cs.ls.s
	var h tw.Hello
	tab := m.Table()
	h.Init(tab.Bytes, tab.Pos)
	switch {
	case h.Version() != ProtocolVersion:
		cs.refuse(tw.ErrorCodeUnsupportedVersion, fmt.Sprintf("protocol version %d not served (this server speaks %d)", h.Version(), ProtocolVersion))
		return
	case s.cfg.Token != "" && subtle.ConstantTimeCompare(h.Token(), []byte(s.cfg.Token)) != 1:
		cs.refuse(tw.ErrorCodeUnauthorized, "wrong token")
		return
	}
	cs.accepted = true
	cs.rd = s.ring.NewReader()
	s.accepted.Add(1)
	e := cs.ls.enc
	e.Begin(cs.nextSeq())
	e.HelloReply(true, nil, ProtocolVersion, uint32(s.cfg.Heartbeat/time.Millisecond))
	cs.write(e)
}

// refuse answers a Hello with a refusal and closes.
func (cs *connState) refuse(code tw.ErrorCode, reason string) {
	s := cs.ls.s
	s.disconnects[DisconnectRefused].Add(1)
	s.cfg.Logf("client %s refused: %s", cs.remote, reason)
	e := cs.ls.enc
	e.Begin(cs.nextSeq())
	e.HelloReply(false, []byte(reason), ProtocolVersion, 0)
	cs.write(e)
	cs.closing = true
	cs.c.Close()
}

// fail sends a ServerError and closes, counting why.
func (cs *connState) fail(reason int, code tw.ErrorCode, text string) {
	s := cs.ls.s
	s.disconnects[reason].Add(1)
	s.cfg.Logf("client %s cut off: %s: %s", cs.remote, DisconnectReasons[reason], text)
	e := cs.ls.enc
	e.Begin(cs.nextSeq())
	e.ServerError(code, []byte(text))
	cs.write(e)
	cs.closing = true
	cs.c.Close()
}

func (cs *connState) nextSeq() uint64 {
	cs.seq++
	return cs.seq
}

// write sends e's frame now (small control frames only).
func (cs *connState) write(e *Encoder) {
	f, err := e.Finish()
	if err != nil {
		return
	}
	cs.c.Write(f)
	cs.written += uint64(len(f))
	cs.lastSent = time.Now()
}

// subscribe passes a Subscribe or Unsubscribe to the writer.
func (cs *connState) subscribe(m *Message, unsub bool) {
	tab := m.Table()
	r := &request{conn: cs.id, sink: cs.take, unsub: unsub}
	// Unsubscribe's three fields are Subscribe's first three, in the same
	// slots: one accessor reads both.
	var sub tw.Subscribe
	sub.Init(tab.Bytes, tab.Pos)
	r.all = sub.AllStocks()
	if !unsub {
		r.depth, r.n = sub.Depth(), sub.N()
		if r.depth > tw.DepthTop {
			cs.fail(DisconnectProtocol, tw.ErrorCodeProtocolViolation, fmt.Sprintf("unknown depth %d", r.depth))
			return
		}
	}
	for i := range sub.LocatesLength() {
		r.locs = append(r.locs, sub.Locates(i))
	}
	for i := range sub.StocksLength() {
		r.stocks = append(r.stocks, append([]byte(nil), sub.Stocks(i)...))
	}
	cs.reqID++
	r.id = cs.reqID
	cs.inflight++
	cs.asked = cs.asked || !unsub
	cs.ls.s.pub.submit(r)
}

// take is the request's sink: the writer hands the taken request over
// before appending its marker.
func (cs *connState) take(r *request) {
	cs.mu.Lock()
	cs.ready = append(cs.ready, r)
	cs.mu.Unlock()
}

// timers runs the connection's timers.
func (cs *connState) timers(now time.Time) {
	s := cs.ls.s
	switch {
	case cs.closing:
	case !cs.accepted:
		if now.Sub(cs.opened) > s.cfg.HelloTimeout {
			cs.fail(DisconnectHelloTimeout, tw.ErrorCodeHelloTimeout, fmt.Sprintf("no Hello within %v", s.cfg.HelloTimeout))
		}
	default:
		cs.progress(now)
		if now.Sub(cs.lastSent) >= s.cfg.Heartbeat && cs.c.OutboundBuffered() == 0 {
			e := cs.ls.enc
			e.Begin(cs.nextSeq())
			e.Heartbeat(s.pub.lastSeqPublished())
			cs.write(e)
		}
	}
}

// progress sees whether the client took any of what it was sent since the
// last look: the bytes written less those still queued, in gnet and in the
// kernel's send queue (TIOCOUTQ, which is SIOCOUTQ: on TCP, the bytes not
// acknowledged yet; on the Unix socket of a TLS bridge, those the bridge has
// not read). A client that stops reading acknowledges nothing once its
// receive buffer is full, while one merely slow goes on taking bytes:
// stalled is set when nothing was taken for SlowAfter with bytes waiting,
// long before a stopped client's backlog could reach QueueBytes through the
// kernel's buffers. One ioctl per look, only when bytes were written or wait.
func (cs *connState) progress(now time.Time) {
	if !cs.asked || (cs.acked == cs.written && !cs.stalled) {
		cs.progressAt = now
		return
	}
	queued, err := unix.IoctlGetInt(cs.c.Fd(), unix.TIOCOUTQ)
	if err != nil {
		return
	}
	waiting := uint64(cs.c.OutboundBuffered()) + uint64(queued)
	if waiting > cs.written {
		return // not a count of this connection's bytes: no judgement
	}
	acked := cs.written - waiting
	if acked != cs.acked || acked == cs.written {
		cs.acked, cs.progressAt, cs.stalled = acked, now, false
		return
	}
	cs.stalled = now.Sub(cs.progressAt) > cs.ls.s.cfg.SlowAfter
}

// pump copies to the connection what the ring holds for it.
func (cs *connState) pump(now time.Time) {
	if !cs.accepted || cs.closing {
		return
	}
	s := cs.ls.s
	if !cs.asked && cs.inflight == 0 {
		// Nothing in the ring is for it: a connection that only said
		// Hello costs a cursor move per pass.
		cs.rd.Skip()
		return
	}
	// The ring is the connection's queue: gnet is handed no more than
	// writeAhead beyond what the kernel took, and the rest waits in the
	// ring, where it costs nothing. A connection further behind than
	// QueueBytes (in the ring and in gnet), or taking nothing, for
	// SlowAfter is given up: cut off, or conflated (its backlog skipped,
	// then fresh snapshots once it takes what gnet holds).
	lag := cs.rd.Behind() + uint64(cs.c.OutboundBuffered())
	if lag <= uint64(s.cfg.QueueBytes) && !cs.stalled {
		cs.late = false
	} else if !cs.late {
		cs.late, cs.slowSince = true, now
	}
	if cs.late && !cs.dropping && (cs.stalled || now.Sub(cs.slowSince) > s.cfg.SlowAfter) {
		why := fmt.Sprintf("more than %d bytes behind for %v", s.cfg.QueueBytes, s.cfg.SlowAfter)
		if cs.stalled {
			why = fmt.Sprintf("nothing read for %v with bytes waiting", s.cfg.SlowAfter)
		}
		if s.cfg.Disconnect {
			cs.fail(DisconnectSlow, tw.ErrorCodeSlowConsumer, why)
			return
		}
		cs.dropping = true
		s.conflations.Add(1)
		s.cfg.Logf("client %s conflated: %s", cs.remote, why)
	}
	if cs.dropping {
		cs.rd.Skip()
		if cs.stalled || cs.full() {
			return // resynchronised once it takes what it was sent
		}
		cs.dropping, cs.late = false, false
		cs.conflate("the connection fell behind by more than queue_bytes", false)
	}
	if cs.full() {
		return
	}
	out := cs.ls.out[:0]
	for {
		mark := len(out)
		n, err := cs.rd.Next(func(tag uint32, payload []byte) bool {
			if len(out) >= outBatch {
				return false // not taken: seen again by the next call
			}
			mark = len(out)
			switch kind := int(tag >> 16); kind {
			case recMarker:
				if len(payload) == 16 && binary.LittleEndian.Uint64(payload) == cs.id {
					out = cs.applyReady(out, binary.LittleEndian.Uint64(payload[8:]))
				}
			case recFeed:
				// A suspended connection is told the feed's state at
				// its resynchronisation's marker instead, and one whose
				// first subscription is not applied yet at that
				// subscription's marker: told it now, an end of session
				// would come before their snapshots.
				if cs.asked && !cs.suspended && (cs.inflight == 0 || cs.subscribed()) {
					out = cs.appendFrame(out, payload)
				}
			case recResync:
				if cs.subscribed() {
					cs.resync = true
					return false // after what was gathered: then resynchronise
				}
			default:
				if !cs.suspended && cs.wants(kind, uint16(tag)) {
					out = cs.appendFrame(out, payload)
				}
			}
			return true
		})
		if cs.resync {
			cs.resync = false
			past := false
			cs.rd.Next(func(uint32, []byte) bool { // past the resync record alone
				took := !past
				past = true
				return took
			})
			cs.flush(out)
			out = out[:0]
			cs.conflate("the daemon rebuilt its books from a snapshot", false)
			continue
		}
		if errors.Is(err, ring.ErrLapped) {
			out = out[:mark]
			cs.flush(out)
			out = out[:0]
			cs.rd.Skip()
			cs.conflate("the connection fell behind by more than the ring", true)
			continue
		}
		if len(out) >= outBatch {
			cs.flush(out)
			out = out[:0]
			if cs.full() {
				return // the rest waits in the ring
			}
			continue
		}
		if n == 0 || err != nil {
			break
		}
	}
	cs.flush(out)
}

// full reports whether gnet holds more than writeAhead for the
// connection: its backlog then waits in the ring, and the loop looks again
// after retryAfter.
func (cs *connState) full() bool {
	if cs.c.OutboundBuffered() <= writeAhead {
		return false
	}
	cs.ls.throttled = true
	return true
}

func (cs *connState) flush(out []byte) {
	if len(out) == 0 {
		return
	}
	cs.c.Write(out)
	cs.written += uint64(len(out))
	if ls := cs.ls; ls.passFlush != 0 {
		now := time.Now().UnixNano()
		ls.stages[StagePublish].Record(now - ls.passFlush)
		if ls.passWire != 0 {
			ls.stages[StageWire].Record(now - ls.passWire)
		}
	}
	if f := cs.ls.s.cfg.OnWrite; f != nil {
		f(out)
	}
	cs.lastSent = time.Now()
}

// appendFrame appends a ring frame with the connection's next stream
// sequence patched in.
func (cs *connState) appendFrame(out, f []byte) []byte {
	n := len(out)
	out = append(out, f...)
	patchSeq(out[n:], cs.nextSeq())
	return out
}

// applyReady applies the requests the writer took, up to id: their
// snapshots, then the subscription change.
func (cs *connState) applyReady(out []byte, id uint64) []byte {
	for _, r := range takeReady(&cs.mu, &cs.ready, id) {
		if !r.listed {
			cs.inflight--
		}
		for _, f := range r.out {
			out = cs.appendFrame(out, f)
		}
		first := !cs.subscribed()
		cs.applySubs(r)
		// The feed's state, which a new subscriber has not seen, nor a
		// conflated one, whose records were dropped.
		if st := r.status; r.resync || (first && cs.subscribed() && st.state != tw.FeedStateLive) {
			cs.suspended = cs.suspended && !r.resync
			if r.resync && st.state == tw.FeedStateLive {
				st.reason = "resynchronised after conflation"
			}
			e := cs.ls.enc
			e.Begin(placeholderSeq)
			e.Status(st.state, []byte(st.reason), st.seq, 0)
			f, _ := e.Finish()
			out = cs.appendFrame(out, f)
		}
	}
	return out
}

// applySubs applies r's change to the subscriptions.
func (cs *connState) applySubs(r *request) {
	stream := depthStream(r.depth)
	if r.all {
		cs.all, cs.allStream = !r.unsub, stream
		if r.unsub {
			cs.locs = nil
		}
		return
	}
	for _, loc := range r.resolved {
		if r.unsub {
			delete(cs.locs, loc)
			continue
		}
		if cs.locs == nil {
			cs.locs = map[uint16]int{}
		}
		cs.locs[loc] = stream
	}
}

// conflate drops what the connection was owed, tells it, and asks the
// writer for fresh snapshots of everything it subscribes to; until they
// come it is sent nothing else.
func (cs *connState) conflate(why string, count bool) {
	s := cs.ls.s
	if count {
		s.conflations.Add(1)
		s.cfg.Logf("client %s conflated: %s", cs.remote, why)
	}
	// Requests taken whose markers were skipped: applied now, their
	// snapshots superseded by the resynchronisation's.
	cs.mu.Lock()
	rs := cs.ready
	cs.ready = nil
	cs.mu.Unlock()
	for _, r := range rs {
		cs.applySubs(r)
		if !r.listed {
			cs.inflight--
		}
	}
	e := cs.ls.enc
	e.Begin(cs.nextSeq())
	e.Status(tw.FeedStateConflated, []byte(why), s.pub.lastSeqPublished(), 0)
	cs.write(e)
	cs.suspended = true
	var reqs []*request
	if cs.all {
		reqs = append(reqs, &request{all: true, depth: streamDepth(cs.allStream)})
	}
	byStream := [numStreams]*request{}
	for loc, st := range cs.locs {
		if byStream[st] == nil {
			byStream[st] = &request{depth: streamDepth(st)}
			reqs = append(reqs, byStream[st])
		}
		byStream[st].locs = append(byStream[st].locs, loc)
	}
	if len(reqs) == 0 {
		reqs = append(reqs, &request{locs: nil}) // nothing subscribed: a marker to resume at
	}
	for i, r := range reqs {
		cs.reqID++
		r.conn, r.id, r.sink, r.resync = cs.id, cs.reqID, cs.take, i == len(reqs)-1
		cs.inflight++
		s.pub.submit(r)
	}
}

// patchSeq writes seq into the stream_seq field of frame f (length prefix
// included), which an Encoder built with a non-zero stream_seq, so that the
// field is present.
func patchSeq(f []byte, seq uint64) {
	b := f[PrefixSize:]
	root := binary.LittleEndian.Uint32(b)
	vt := int64(root) - int64(int32(binary.LittleEndian.Uint32(b[root:])))
	off := binary.LittleEndian.Uint16(b[vt+4:])
	binary.LittleEndian.PutUint64(b[uint64(root)+uint64(off):], seq)
}

// quietLogger keeps gnet's own logging out of the daemon's output: what an
// operator needs comes through ServerConfig.Logf.
type quietLogger struct{}

func (quietLogger) Debugf(string, ...any) {}
func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Warnf(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}
