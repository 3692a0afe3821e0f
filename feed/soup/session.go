package soup

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/cpu"

	"github.com/tickwire/tickwire/codec/soupbintcp"
)

// Config describes a SoupBinTCP session.
type Config struct {
	Addr     string // server host:port
	Username string // at most 6 bytes
	Password string // at most 10 bytes
	// Session to join: "" = the server's current session. After Login
	// Accepted the session's real name is used on every reconnect, so a
	// reconnect cannot land in a new session.
	Session string
	// Seq is the Requested Sequence Number of the first login: 1 = from
	// the start of the session, N = resume at N, 0 = only new messages.
	Seq uint64
	// V41 sends the SoupBinTCP 4.1 Login Request, which carries
	// HeartbeatTimeout (in ms, at most 99999) to the server.
	V41 bool
	// HeartbeatTimeout: a server silent this long (no packet of any kind)
	// is dropped and a new connection made. Default 15 s.
	HeartbeatTimeout time.Duration
	// Reconnect is the delay before each reconnection attempt. Default 1 s.
	Reconnect time.Duration
}

// ClientHeartbeatInterval is the idle time after which a Client Heartbeat
// is sent.
const ClientHeartbeatInterval = time.Second

func (c *Config) validate() error {
	switch {
	case c.Addr == "":
		return fmt.Errorf("%w: Addr empty", ErrConfig)
	case len(c.Username) > soupbintcp.UsernameLen:
		return fmt.Errorf("%w: Username longer than %d bytes", ErrConfig, soupbintcp.UsernameLen)
	case len(c.Password) > soupbintcp.PasswordLen:
		return fmt.Errorf("%w: Password longer than %d bytes", ErrConfig, soupbintcp.PasswordLen)
	case len(c.Session) > soupbintcp.SessionLen:
		return fmt.Errorf("%w: Session longer than %d bytes", ErrConfig, soupbintcp.SessionLen)
	case c.HeartbeatTimeout < 0 || c.Reconnect < 0:
		return fmt.Errorf("%w: HeartbeatTimeout or Reconnect negative", ErrConfig)
	}
	if c.HeartbeatTimeout == 0 {
		c.HeartbeatTimeout = 15 * time.Second
	}
	if c.Reconnect == 0 {
		c.Reconnect = time.Second
	}
	if c.V41 && c.HeartbeatTimeout.Milliseconds() > soupbintcp.MaxHeartbeatTimeout {
		return fmt.Errorf("%w: HeartbeatTimeout above %d ms cannot be sent in a 4.1 login", ErrConfig, soupbintcp.MaxHeartbeatTimeout)
	}
	return nil
}

// Handler receives a session's events. Its methods are called one at a
// time, from the session's event loop, never concurrently; they must not
// block for long (the loop stops reading meanwhile) and must not call
// Session.Close.
type Handler interface {
	// Message delivers Sequenced Data packet seq's payload (one ITCH
	// message). msg aliases the session's read buffer: valid only during
	// the call.
	Message(seq uint64, msg []byte)
	// LoggedIn reports a Login Accepted: the session joined (spaces
	// trimmed) and the sequence number of the next Message. After a
	// reconnect next is normally the sequence the session asked for.
	LoggedIn(session string, next uint64)
	// EndOfSession reports End of Session ('Z'): the session has stopped
	// and will not reconnect.
	EndOfSession()
	// Rejected reports a Login Rejected reason code: the session has
	// stopped with an ErrRejected error.
	Rejected(reason byte)
}

// Stats counts a session's traffic.
type Stats struct {
	Messages   uint64 // Sequenced Data packets delivered
	Heartbeats uint64 // Server Heartbeats received
	Reconnects uint64 // connections established after the first
	Timeouts   uint64 // connections dropped for server silence
	Garbage    uint64 // unparseable or unexpected packets (each drops the connection)
}

// counters are updated by the event loop and read by Stats; on their own
// cache line, away from the fields the ticker reads.
type counters struct {
	_                                                   cpu.CacheLinePad
	messages, heartbeats, reconnects, timeouts, garbage atomic.Uint64
	next                                                atomic.Uint64
	_                                                   cpu.CacheLinePad
}

// Session is a SoupBinTCP client session. Its methods are safe for
// concurrent use, except that Close must not be called from a Handler
// method.
type Session struct {
	cfg Config
	h   Handler
	cli *gnet.Client
	c   counters

	// Event-loop state.
	next    uint64 // sequence number of the next 'S' packet
	session [soupbintcp.SessionLen]byte
	framer  soupbintcp.Framer
	ended   bool

	cur atomic.Pointer[conn] // the open connection, if any

	mu      sync.Mutex // guards closing, timer, enrolling connections
	closing bool
	timer   *time.Timer

	done    chan struct{} // closed when the session stops
	endOnce sync.Once
	err     error // why it stopped; written before done is closed
}

// conn is the state of one connection.
type conn struct {
	c        gnet.Conn
	lastRecv atomic.Int64 // UnixNano of the last bytes received
	lastSend atomic.Int64 // UnixNano of the last packet sent
	loggedIn atomic.Bool
	closed   bool // event loop only
}

// clientHeartbeat is the Client Heartbeat packet. It is never modified, so
// it may be handed to gnet's AsyncWrite any number of times.
var clientHeartbeat = soupbintcp.AppendEmpty(nil, soupbintcp.TypeClientHeartbeat)

// Dial connects to cfg.Addr and logs in; the login's outcome arrives at h
// (LoggedIn or Rejected). It returns an error for an invalid Config or if
// the first TCP connection fails; later connections are retried every
// cfg.Reconnect until Close. The Session must be closed with Close.
func Dial(cfg Config, h Handler) (*Session, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Session{cfg: cfg, h: h, next: cfg.Seq, session: soupbintcp.Session(cfg.Session), done: make(chan struct{})}
	s.c.next.Store(cfg.Seq)
	cli, err := gnet.NewClient(&events{s: s},
		gnet.WithMulticore(false),
		gnet.WithTicker(true),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithLogger(quietLogger{}))
	if err != nil {
		return nil, fmt.Errorf("soup: %w", err)
	}
	if err := cli.Start(); err != nil {
		return nil, fmt.Errorf("soup: %w", err)
	}
	s.cli = cli
	if err := s.connect(); err != nil {
		s.stop(nil)
		_ = cli.Stop()
		return nil, err
	}
	return s, nil
}

// connect opens one TCP connection and hands it to the event loop, which
// sends the login (events.OnOpen).
func (s *Session) connect() error {
	nc, err := net.DialTimeout("tcp", s.cfg.Addr, s.cfg.HeartbeatTimeout)
	if err != nil {
		return fmt.Errorf("soup: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		_ = nc.Close()
		return net.ErrClosed
	}
	// EnrollContext closes nc (gnet keeps a duplicate of its descriptor)
	// and returns once the loop has opened the connection.
	if _, err := s.cli.EnrollContext(nc, &conn{}); err != nil {
		return fmt.Errorf("soup: %w", err)
	}
	return nil
}

// reconnect is run by the reconnection timer.
func (s *Session) reconnect() {
	if err := s.connect(); err != nil {
		if errors.Is(err, net.ErrClosed) {
			return
		}
		s.schedule()
		return
	}
	s.c.reconnects.Add(1)
}

// schedule arms the reconnection timer.
func (s *Session) schedule() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return
	}
	s.timer = time.AfterFunc(s.cfg.Reconnect, s.reconnect)
}

// stop ends the session with err (nil: Close or End of Session).
func (s *Session) stop(err error) {
	s.endOnce.Do(func() {
		s.err = err
		close(s.done)
	})
}

// Close ends the session: no more reconnections, the connection is closed
// and the event loop stopped. It returns the session's error (Err).
func (s *Session) Close() error {
	s.mu.Lock()
	s.closing = true
	if s.timer != nil {
		s.timer.Stop()
	}
	s.mu.Unlock()
	s.stop(nil)
	_ = s.cli.Stop()
	return s.Err()
}

// Done is closed when the session has stopped: Close, or Login Rejected or
// End of Session after the Handler's Rejected or EndOfSession has returned.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err returns why the session stopped: an ErrRejected error after Login
// Rejected, nil after End of Session or Close, or nil while it runs.
func (s *Session) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// Next returns the sequence number of the next expected message: the
// requested one until Login Accepted, then Login Accepted's plus the
// messages received.
func (s *Session) Next() uint64 { return s.c.next.Load() }

// Stats returns the session's counters.
func (s *Session) Stats() Stats {
	return Stats{
		Messages:   s.c.messages.Load(),
		Heartbeats: s.c.heartbeats.Load(),
		Reconnects: s.c.reconnects.Load(),
		Timeouts:   s.c.timeouts.Load(),
		Garbage:    s.c.garbage.Load(),
	}
}

// events is the gnet event handler of a Session.
type events struct {
	gnet.BuiltinEventEngine
	s *Session
}

// errDrop closes the connection from a framer callback.
var errDrop = errors.New("soup: drop connection")

func (e *events) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	s := e.s
	cs, ok := c.Context().(*conn)
	if !ok || s.ended {
		return nil, gnet.Close
	}
	cs.c = c
	now := time.Now().UnixNano()
	cs.lastRecv.Store(now)
	cs.lastSend.Store(now)
	s.framer.Reset()
	s.cur.Store(cs)
	r := soupbintcp.LoginRequest{
		Username: soupbintcp.Username(s.cfg.Username),
		Password: soupbintcp.Password(s.cfg.Password),
		Session:  s.session,
		Seq:      s.next,
		V41:      s.cfg.V41,
	}
	if r.V41 {
		r.HeartbeatTimeout = uint32(s.cfg.HeartbeatTimeout.Milliseconds())
	}
	return r.Append(nil), gnet.None
}

func (e *events) OnClose(c gnet.Conn, _ error) gnet.Action {
	s := e.s
	cs, ok := c.Context().(*conn)
	if !ok || cs.closed {
		return gnet.None
	}
	cs.closed = true
	s.cur.CompareAndSwap(cs, nil)
	if !s.ended {
		s.schedule()
	}
	return gnet.None
}

func (e *events) OnTraffic(c gnet.Conn) gnet.Action {
	s := e.s
	cs, ok := c.Context().(*conn)
	if !ok {
		return gnet.Close
	}
	buf, _ := c.Next(-1)
	cs.lastRecv.Store(time.Now().UnixNano())
	err := s.framer.Feed(buf, func(p soupbintcp.Packet) error { return e.packet(cs, p) })
	switch {
	case err == nil:
		return gnet.None
	case errors.Is(err, soupbintcp.ErrZeroLength):
		s.c.garbage.Add(1)
	}
	return gnet.Close
}

// packet handles one server packet; an error closes the connection.
func (e *events) packet(cs *conn, p soupbintcp.Packet) error {
	s := e.s
	if s.ended {
		return errDrop
	}
	switch t := p.Type(); {
	case t == soupbintcp.TypeSequencedData && cs.loggedIn.Load():
		seq := s.next
		s.next++
		s.c.next.Store(s.next)
		s.c.messages.Add(1)
		s.h.Message(seq, p.Payload())
		return nil
	case t == soupbintcp.TypeServerHeartbeat:
		s.c.heartbeats.Add(1)
		return nil
	case t == soupbintcp.TypeDebug, t == soupbintcp.TypeUnsequencedData && cs.loggedIn.Load():
		return nil
	case t == soupbintcp.TypeLoginAccepted && !cs.loggedIn.Load():
		a, err := soupbintcp.ParseLoginAccepted(p)
		if err != nil {
			break
		}
		s.session = a.Session
		s.next = a.Seq
		s.c.next.Store(a.Seq)
		cs.loggedIn.Store(true)
		s.h.LoggedIn(string(soupbintcp.TrimSession(a.Session[:])), a.Seq)
		return nil
	case t == soupbintcp.TypeLoginRejected && !cs.loggedIn.Load():
		reason, err := soupbintcp.ParseLoginRejected(p)
		if err != nil {
			break
		}
		s.ended = true
		s.h.Rejected(reason)
		s.stop(fmt.Errorf("%w: %q %s", ErrRejected, reason, soupbintcp.RejectReason(reason)))
		return errDrop
	case t == soupbintcp.TypeEndOfSession && cs.loggedIn.Load():
		s.ended = true
		s.h.EndOfSession()
		s.stop(nil)
		return errDrop
	}
	s.c.garbage.Add(1)
	return errDrop
}

// OnTick runs on gnet's ticker goroutine: it drops a silent server and
// sends Client Heartbeats, through gnet's concurrency-safe Close and
// AsyncWrite.
func (e *events) OnTick() (time.Duration, gnet.Action) {
	s := e.s
	tick := min(s.cfg.HeartbeatTimeout/4, 100*time.Millisecond)
	cs := s.cur.Load()
	if cs == nil {
		return tick, gnet.None
	}
	now := time.Now()
	if now.Sub(time.Unix(0, cs.lastRecv.Load())) >= s.cfg.HeartbeatTimeout {
		if s.cur.CompareAndSwap(cs, nil) {
			s.c.timeouts.Add(1)
			_ = cs.c.Close()
		}
		return tick, gnet.None
	}
	if cs.loggedIn.Load() && now.Sub(time.Unix(0, cs.lastSend.Load())) >= ClientHeartbeatInterval {
		cs.lastSend.Store(now.UnixNano())
		_ = cs.c.AsyncWrite(clientHeartbeat, nil)
	}
	return tick, gnet.None
}

// quietLogger discards gnet's log output: the session reports through
// Stats and Err.
type quietLogger struct{}

func (quietLogger) Debugf(string, ...any) {}
func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Warnf(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(string, ...any) {}
