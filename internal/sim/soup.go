package sim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/tickwire/tickwire/codec/soupbintcp"
)

// SoupConfig configures a SoupBinTCP 4.0 server (NewSoupServer).
type SoupConfig struct {
	// Session is the session name sent in Login Accepted, at most 10
	// characters. A login naming another session is rejected with 'S'; a
	// blank requested session joins this one.
	Session string
	// Username and Password a login must carry (compared space-padded to
	// 6 and 10 bytes).
	Username, Password string
	// Heartbeat is the idle time after which the server sends a Server
	// Heartbeat (default 1 s).
	Heartbeat time.Duration
	// Rate is the number of Sequenced Data packets per second sent to each
	// client; 0 sends as fast as the socket takes them.
	Rate float64
	// EndOfSession sends End of Session ('Z') after the last message, then
	// closes the connection once the output has drained.
	EndOfSession bool
	// Reject, if not 0, rejects every login with this reason code.
	Reject byte
	// ClientTimeout drops a client that sent nothing for this long
	// (default 15 s, the SoupBinTCP 3.00 figure).
	ClientTimeout time.Duration
	// Drop, if not 0, closes each connection abruptly after it has carried
	// this many Sequenced Data packets: an impairment that makes clients
	// reconnect and resume.
	Drop uint64
	// Messages, if set, replaces the History as the source of the stream
	// (a snapshot service such as GLIMPSE): it is called once per accepted
	// login with the Requested Sequence Number, and the messages it returns
	// are sent in order as Sequenced Data packets numbered from the
	// requested sequence (from 1 when 0 was requested). The server only
	// reads the returned slices; they must stay unmodified while sent.
	Messages func(requestedSeq uint64) [][]byte
}

func (c *SoupConfig) validate() error {
	if len(c.Session) > soupbintcp.SessionLen {
		return fmt.Errorf("%w: soup session %q: at most 10 characters", ErrConfig, c.Session)
	}
	if len(c.Username) > soupbintcp.UsernameLen || len(c.Password) > soupbintcp.PasswordLen {
		return fmt.Errorf("%w: soup username or password too long (6 and 10 bytes)", ErrConfig)
	}
	if c.Heartbeat < 0 || c.ClientTimeout < 0 || c.Rate < 0 {
		return fmt.Errorf("%w: soup heartbeat, client timeout or rate negative", ErrConfig)
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = time.Second
	}
	if c.ClientTimeout == 0 {
		c.ClientTimeout = 15 * time.Second
	}
	return nil
}

// SoupStats counts what a SoupServer did; safe to read while it runs.
type SoupStats struct {
	Connections, Accepted, Rejected, Dropped atomic.Uint64
	Messages, Heartbeats, EndOfSession       atomic.Uint64
}

// SoupServer plays the exchange side of SoupBinTCP 4.0 (ITCH over TCP) on
// a gnet event loop: each client logs in, is accepted or rejected, then
// receives the History (or the Messages hook's snapshot) from its
// requested sequence number, with heartbeats and an optional End of
// Session. Its methods are safe for concurrent use.
//
// # Sending design
//
// The event loop (OnOpen, OnTraffic, OnClose) only frames client input,
// answers logins and records client activity. Each connection has a pump
// goroutine that does everything time-driven: pacing, heartbeats,
// End of Session and the client-silence timeout. The pump owns one output
// buffer and hands it to gnet with Conn.AsyncWrite; the write callback runs
// on the event loop after gnet has written the bytes to the socket or
// copied the unwritten rest into the connection's outbound buffer, and only
// then does it signal the pump, which reuses the buffer: the buffer is
// never touched while gnet may still read it, and at most one write per
// connection is queued on the loop. The callback also reports the outbound
// buffer's size; above soupHighWater the pump holds back (probing the
// loop with EventLoop.Execute every millisecond) so a slow client costs a
// bounded amount of memory and never blocks the loop or other clients.
type SoupServer struct {
	cfg     SoupConfig
	session [soupbintcp.SessionLen]byte
	user    [soupbintcp.UsernameLen]byte
	pass    [soupbintcp.PasswordLen]byte
	h       *History

	addr    netip.AddrPort
	eng     gnet.Engine
	done    chan struct{} // closed by Close: pumps stop
	stopped chan struct{} // closed when gnet.Run returns
	runErr  error         // gnet.Run's result, read after stopped
	once    sync.Once
	pumps   sync.WaitGroup

	Stats SoupStats
}

// Tuning of the pumps.
const (
	soupChunk     = 64 << 10 // bytes handed to gnet per write
	soupHighWater = 1 << 20  // outbound bytes queued in gnet before the pump holds back
	soupPoll      = time.Millisecond
)

// NewSoupServer listens on addr ("127.0.0.1:0" picks a port; see Addr)
// and serves h until Close. h must not change while the server runs.
func NewSoupServer(addr string, cfg SoupConfig, h *History) (*SoupServer, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if h == nil && cfg.Messages == nil {
		return nil, fmt.Errorf("%w: soup server without history or messages", ErrConfig)
	}
	s := &SoupServer{
		cfg:     cfg,
		session: soupbintcp.Session(cfg.Session),
		user:    soupbintcp.Username(cfg.Username),
		pass:    soupbintcp.Password(cfg.Password),
		h:       h,
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	booted := make(chan error, 1)
	ev := &soupEvents{s: s, booted: booted}
	go func() {
		err := gnet.Run(ev, "tcp://"+addr,
			gnet.WithMulticore(false),
			gnet.WithReuseAddr(true),
			gnet.WithTCPNoDelay(gnet.TCPNoDelay),
			gnet.WithLogger(quietLogger{}))
		s.runErr = err
		select {
		case booted <- err: // Run failed before OnBoot
		default:
		}
		close(s.stopped)
	}()
	if err := <-booted; err != nil {
		<-s.stopped // Run returns on a failed boot
		return nil, fmt.Errorf("sim: soup server on %s: %w", addr, err)
	}
	return s, nil
}

// Addr returns the address the server listens on.
func (s *SoupServer) Addr() netip.AddrPort { return s.addr }

// Close stops the server: every connection is closed and the pumps end. It
// waits for the event loop and pumps to finish.
func (s *SoupServer) Close() error {
	var err error
	s.once.Do(func() {
		close(s.done)
		err = s.eng.Stop(context.Background())
		<-s.stopped
		s.pumps.Wait()
		if err == nil && s.runErr != nil && !errors.Is(s.runErr, net.ErrClosed) {
			err = s.runErr
		}
	})
	return err
}

// soupEvents is the gnet event handler of a SoupServer. Its methods run on
// the server's single event loop.
type soupEvents struct {
	gnet.BuiltinEventEngine
	s      *SoupServer
	booted chan error
}

// soupLogin is an accepted login handed from the event loop to the pump.
type soupLogin struct {
	seq uint64 // requested sequence number
}

// soupConn is the state of one client connection. The fields without a
// comment are used only on the event loop.
type soupConn struct {
	c        gnet.Conn
	framer   soupbintcp.Framer
	loggedIn bool
	closed   bool
	lastRecv atomic.Int64   // UnixNano of the last client bytes (loop writes, pump reads)
	login    chan soupLogin // loop -> pump, buffered 1
	wrote    chan int       // loop -> pump: outbound bytes after a write or probe, -1 if closed
	done     chan struct{}  // closed by OnClose
}

func (e *soupEvents) OnBoot(eng gnet.Engine) gnet.Action {
	s := e.s
	s.eng = eng
	fd, err := eng.Dup()
	if err == nil {
		var sa unix.Sockaddr
		sa, err = unix.Getsockname(fd)
		_ = unix.Close(fd)
		switch a := sa.(type) {
		case *unix.SockaddrInet4:
			s.addr = netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
		case *unix.SockaddrInet6:
			s.addr = netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port))
		default:
			if err == nil {
				err = fmt.Errorf("unexpected socket address %T", sa)
			}
		}
	}
	e.booted <- err
	if err != nil {
		return gnet.Shutdown
	}
	return gnet.None
}

func (e *soupEvents) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	s := e.s
	select {
	case <-s.done:
		return nil, gnet.Close
	default:
	}
	sc := &soupConn{
		c:     c,
		login: make(chan soupLogin, 1),
		wrote: make(chan int, 1),
		done:  make(chan struct{}),
	}
	sc.lastRecv.Store(time.Now().UnixNano())
	c.SetContext(sc)
	s.Stats.Connections.Add(1)
	s.pumps.Add(1)
	go s.pump(sc)
	return nil, gnet.None
}

func (e *soupEvents) OnClose(c gnet.Conn, _ error) gnet.Action {
	if sc, ok := c.Context().(*soupConn); ok && !sc.closed {
		sc.closed = true
		close(sc.done)
	}
	return gnet.None
}

func (e *soupEvents) OnTraffic(c gnet.Conn) gnet.Action {
	sc, ok := c.Context().(*soupConn)
	if !ok {
		return gnet.Close
	}
	buf, _ := c.Next(-1)
	sc.lastRecv.Store(time.Now().UnixNano())
	err := sc.framer.Feed(buf, func(p soupbintcp.Packet) error { return e.packet(sc, p) })
	if err != nil {
		return gnet.Close
	}
	return gnet.None
}

// packet handles one client packet on the event loop; an error closes the
// connection.
func (e *soupEvents) packet(sc *soupConn, p soupbintcp.Packet) error {
	s := e.s
	if !sc.loggedIn {
		if p.Type() == soupbintcp.TypeDebug {
			return nil
		}
		r, err := soupbintcp.ParseLoginRequest(p)
		if err != nil {
			return err
		}
		reason := s.cfg.Reject
		switch {
		case reason != 0:
		case r.Username != s.user || r.Password != s.pass:
			reason = soupbintcp.RejectNotAuthorized
		default:
			if want := soupbintcp.TrimSession(r.Session[:]); len(want) > 0 &&
				string(want) != string(soupbintcp.TrimSession(s.session[:])) {
				reason = soupbintcp.RejectSessionUnavailable
			}
		}
		if reason != 0 {
			s.Stats.Rejected.Add(1)
			// Written on the loop: gnet writes it now or copies it into the
			// outbound buffer, which closing flushes.
			_, _ = sc.c.Write(soupbintcp.AppendLoginRejected(nil, reason))
			return errSoupClose
		}
		sc.loggedIn = true
		s.Stats.Accepted.Add(1)
		sc.login <- soupLogin{seq: r.Seq}
		return nil
	}
	switch p.Type() {
	case soupbintcp.TypeClientHeartbeat, soupbintcp.TypeDebug, soupbintcp.TypeUnsequencedData:
		return nil
	default: // Logout Request, a second login, or anything else
		return errSoupClose
	}
}

// pump is the goroutine of one connection: it waits for the login, then
// sends the stream (see SoupServer's Sending design).
func (s *SoupServer) pump(sc *soupConn) {
	defer s.pumps.Done()
	p := pumpState{s: s, sc: sc, buf: make([]byte, 0, soupChunk+soupbintcp.MaxPacket)}
	var login soupLogin
	silence := time.NewTicker(time.Second)
	defer silence.Stop()
	for waiting := true; waiting; {
		select {
		case login = <-sc.login:
			waiting = false
		case <-silence.C:
			if p.silent() {
				return
			}
		case <-sc.done:
			return
		case <-s.done:
			return
		}
	}
	p.run(login)
}

// pumpState is a pump's working state, owned by its goroutine.
type pumpState struct {
	s        *SoupServer
	sc       *soupConn
	buf      []byte
	lastSend time.Time
}

// silent closes the connection if the client has been silent too long.
func (p *pumpState) silent() bool {
	if time.Since(time.Unix(0, p.sc.lastRecv.Load())) < p.s.cfg.ClientTimeout {
		return false
	}
	p.s.Stats.Dropped.Add(1)
	_ = p.sc.c.Close()
	return true
}

// write hands p.buf to gnet and waits until gnet no longer needs it and
// the outbound backlog is below the high-water mark. It returns false if
// the connection or the server is gone.
func (p *pumpState) write() bool {
	sc := p.sc
	err := sc.c.AsyncWrite(p.buf, func(c gnet.Conn, err error) error {
		n := -1
		if err == nil && !sc.closed {
			n = c.OutboundBuffered()
		}
		sc.wrote <- n
		return nil
	})
	if err != nil {
		return false
	}
	p.lastSend = time.Now()
	for {
		var n int
		select {
		case n = <-sc.wrote:
		case <-sc.done:
			return false
		case <-p.s.done:
			return false
		}
		if n < 0 {
			return false
		}
		if n <= soupHighWater {
			return true
		}
		if !p.probe(soupPoll) {
			return false
		}
	}
}

// probe asks the event loop, after wait, for the outbound backlog; the
// answer arrives on sc.wrote.
func (p *pumpState) probe(wait time.Duration) bool {
	sc := p.sc
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-sc.done:
		return false
	case <-p.s.done:
		return false
	}
	err := sc.c.EventLoop().Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		n := -1
		if !sc.closed {
			n = sc.c.OutboundBuffered()
		}
		sc.wrote <- n
		return nil
	}))
	return err == nil
}

// drain waits until gnet has passed all the connection's output to the
// kernel.
func (p *pumpState) drain() bool {
	for wait := time.Duration(0); ; wait = soupPoll {
		if !p.probe(wait) {
			return false
		}
		select {
		case n := <-p.sc.wrote:
			if n <= 0 {
				return n == 0
			}
		case <-p.sc.done:
			return false
		case <-p.s.done:
			return false
		}
	}
}

// run streams from the accepted login on.
func (p *pumpState) run(login soupLogin) {
	s, sc := p.s, p.sc
	cfg := &s.cfg
	var (
		msgs  [][]byte
		first uint64 // sequence number of the first message available
		last  uint64 // sequence number of the last message
		next  uint64
	)
	if cfg.Messages != nil {
		first = max(login.seq, 1)
		msgs = cfg.Messages(login.seq)
		last = first + uint64(len(msgs)) - 1
		next = first
	} else {
		first, last = 1, s.h.Len()
		switch {
		case login.seq == 0:
			next = last + 1 // only new messages: the history is complete
		default:
			next = login.seq
		}
	}
	message := func(seq uint64) []byte {
		if msgs != nil {
			return msgs[seq-first]
		}
		return s.h.Message(seq)
	}
	p.buf = soupbintcp.LoginAccepted{Session: s.session, Seq: next}.Append(p.buf[:0])
	if !p.write() {
		return
	}
	start := time.Now()
	var sent uint64 // Sequenced Data packets sent on this connection
	zSent := false
	idle := time.NewTimer(0)
	defer idle.Stop()
	for {
		select {
		case <-sc.done:
			return
		case <-s.done:
			return
		default:
		}
		if p.silent() {
			return
		}
		now := time.Now()
		allowed := uint64(1<<63 - 1)
		if cfg.Rate > 0 {
			due := uint64(now.Sub(start).Seconds()*cfg.Rate) + 1
			allowed = 0
			if due > sent {
				allowed = due - sent
			}
		}
		p.buf = p.buf[:0]
		for next <= last && allowed > 0 && len(p.buf) < soupChunk &&
			(cfg.Drop == 0 || sent < cfg.Drop) {
			p.buf = soupbintcp.AppendSequenced(p.buf, message(next))
			next++
			sent++
			allowed--
			s.Stats.Messages.Add(1)
		}
		if next > last && cfg.EndOfSession && !zSent {
			p.buf = soupbintcp.AppendEmpty(p.buf, soupbintcp.TypeEndOfSession)
			zSent = true
			s.Stats.EndOfSession.Add(1)
		}
		if len(p.buf) == 0 && now.Sub(p.lastSend) >= cfg.Heartbeat {
			p.buf = soupbintcp.AppendEmpty(p.buf, soupbintcp.TypeServerHeartbeat)
			s.Stats.Heartbeats.Add(1)
		}
		if len(p.buf) > 0 {
			if !p.write() {
				return
			}
		}
		if cfg.Drop != 0 && sent >= cfg.Drop {
			s.Stats.Dropped.Add(1)
			_ = sc.c.Close()
			return
		}
		if zSent {
			// End of session: the connection closes once Z is out.
			if p.drain() {
				_ = sc.c.Close()
			}
			return
		}
		if next <= last && (cfg.Rate == 0 || allowed > 0) {
			continue // more to send now
		}
		// Sleep until the next message is due, a heartbeat is due, or the
		// silence check.
		wait := time.Until(p.lastSend.Add(cfg.Heartbeat))
		if next <= last && cfg.Rate > 0 {
			due := start.Add(time.Duration(float64(sent) / cfg.Rate * float64(time.Second)))
			wait = min(wait, time.Until(due))
		}
		wait = max(min(wait, time.Second), 0)
		idle.Reset(wait)
		select {
		case <-idle.C:
		case <-sc.done:
			return
		case <-s.done:
			return
		}
	}
}

// quietLogger discards gnet's log output: the simulator reports through
// its Stats.
type quietLogger struct{}

func (quietLogger) Debugf(string, ...any) {}
func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Warnf(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(string, ...any) {}
