package soup

import (
	"bytes"
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
	// the start of the session, N = resume at N, 0 = only new messages
	// (the first Login Accepted's sequence number is then adopted; see
	// Handler for how later ones are compared with the next expected).
	Seq uint64
	// V41 sends the SoupBinTCP 4.1 Login Request, which carries
	// HeartbeatTimeout (in ms, at most 99999) to the server.
	V41 bool
	// HeartbeatTimeout: a server silent this long is dropped and a new
	// connection made (ErrSilence). Silent means no complete packet since
	// Login Accepted, or, before it, no answer to the login since the
	// connection opened (Debug and Heartbeat packets do not answer it).
	// Default 15 s.
	HeartbeatTimeout time.Duration
	// Reconnect is the delay before each reconnection attempt. Default 1 s.
	Reconnect time.Duration
	// PacketTimeout bounds the time from the first byte of a packet to its
	// last: a packet still incomplete this long after its first byte
	// arrived drops the connection (ErrPacketTimeout), as silence does.
	// Default DefaultPacketTimeout. Bytes of an incomplete packet never count
	// as the server being alive for HeartbeatTimeout.
	PacketTimeout time.Duration
	// MaxSeq is the largest sequence number a Login Accepted may name.
	// Default DefaultMaxSeq.
	MaxSeq uint64
	// MaxGap is the most messages a Login Accepted may skip ahead of the
	// next expected sequence number (a gap reported to GapHandler); further
	// is ErrImplausibleSeq. Default DefaultMaxGap.
	MaxGap uint64
}

// Defaults of Config.
//
// A packet is at most 65537 bytes, which take half a second at 1 Mbit/s;
// 5 s leaves room for TCP retransmissions on a lossy link while stopping a
// drip-fed packet well before the 15 s silence rule would.
//
// A TotalView-ITCH day numbers of the order of 10^9 messages, under 2^32: no
// resumption can skip more (DefaultMaxGap), and 2^40 (DefaultMaxSeq, the
// bound of feed.DefaultSnapshotMaxSeq too) is a thousand times beyond any
// sequence number of a day, far below the 2^63 where arithmetic could
// overflow.
const (
	DefaultPacketTimeout = 5 * time.Second
	DefaultMaxSeq        = 1 << 40
	DefaultMaxGap        = 1 << 32
)

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
	case c.HeartbeatTimeout < 0 || c.Reconnect < 0 || c.PacketTimeout < 0:
		return fmt.Errorf("%w: HeartbeatTimeout, Reconnect or PacketTimeout negative", ErrConfig)
	}
	if c.PacketTimeout == 0 {
		c.PacketTimeout = DefaultPacketTimeout
	}
	if c.MaxSeq == 0 {
		c.MaxSeq = DefaultMaxSeq
	}
	if c.MaxGap == 0 {
		c.MaxGap = DefaultMaxGap
	}
	if c.Seq > c.MaxSeq {
		return fmt.Errorf("%w: Seq %d above MaxSeq %d", ErrConfig, c.Seq, c.MaxSeq)
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
// Session.Close. A Handler may also implement GapHandler and FaultHandler.
//
// Each message is delivered once, in sequence order. Every Login Accepted's
// sequence number A is compared with the next expected one, E (Session.Next:
// Config.Seq before the first login, then one past the last delivered):
//
//   - A = E: the stream goes on.
//   - A > E (the server resumed ahead, or began at A when asked for 1):
//     messages E .. A-1 will never come; they are reported as a gap
//     (GapHandler, Stats.Gaps) and the stream goes on at A.
//   - A < E (the server resumed behind): messages A .. E-1 are dropped as
//     duplicates (Stats.Duplicates), never passed to Message again.
//   - E = 0 (Config.Seq 0 and no login accepted yet): A is adopted.
//   - A = 0, A > Config.MaxSeq, or A > E + Config.MaxGap: ErrImplausibleSeq;
//     A is not adopted and the session reconnects.
//   - another session than the first login's (or Config.Session):
//     ErrSessionChanged stops the session.
type Handler interface {
	// Message delivers Sequenced Data packet seq's payload (one ITCH
	// message). msg aliases the session's read buffer: valid only during
	// the call.
	Message(seq uint64, msg []byte)
	// LoggedIn reports a Login Accepted: the session joined (spaces
	// trimmed) and the sequence number of the next Message, after the
	// comparison above (for a server behind, the next expected one, not
	// the server's). After a reconnect next is normally the sequence the
	// session asked for.
	LoggedIn(session string, next uint64)
	// EndOfSession reports End of Session ('Z'): the session has stopped
	// and will not reconnect.
	EndOfSession()
	// Rejected reports a Login Rejected reason code: the session has
	// stopped with an ErrRejected error.
	Rejected(reason byte)
}

// GapHandler is implemented by a Handler that wants to hear of messages lost
// for good: a Login Accepted resumed ahead of the next expected sequence
// number, so messages first .. first+count-1 will never be delivered. Gap is
// called on the event loop, before the LoggedIn of that login. Without it a
// gap is only counted (Stats.Gaps, Stats.GapMessages) and reported as a
// fault (ErrResumed).
type GapHandler interface {
	Gap(first, count uint64)
}

// FaultHandler is implemented by a Handler that wants each fault of the
// server (ErrPacketTimeout, ErrSilence, ErrUnexpectedPacket,
// ErrMalformedPacket, ErrImplausibleSeq, ErrResumed) as it happens, to log
// it: err wraps the sentinel and says what and where. Fault is called on the
// event loop; it must not block for long.
type FaultHandler interface {
	Fault(err error)
}

// ReadHandler is implemented by a Handler that wants to know when the
// messages of one read have all been delivered (to write out what they
// produced in one go). ReadDone is called on the event loop after each read
// from the server, after that read's Message calls; it must not block for
// long.
type ReadHandler interface {
	ReadDone()
}

// Stats counts a session's traffic.
type Stats struct {
	Messages       uint64 // Sequenced Data packets delivered
	Heartbeats     uint64 // Server Heartbeats received
	Reconnects     uint64 // connections established after the first
	Timeouts       uint64 // connections dropped for server silence (ErrSilence)
	PacketTimeouts uint64 // connections dropped for a packet not completed in time (ErrPacketTimeout)
	Garbage        uint64 // unparseable or unexpected packets (each drops the connection)
	Implausible    uint64 // Login Accepted with an implausible sequence number (each drops the connection)
	Gaps           uint64 // logins that resumed ahead, leaving a gap
	GapMessages    uint64 // messages in those gaps: lost for good
	Duplicates     uint64 // Sequenced Data packets below the next expected sequence, dropped
	// Pending is the number of bytes of an incomplete packet held now: at
	// most soupbintcp.MaxPacket, whatever the server sends.
	Pending uint64
}

// counters are updated by the event loop (timeouts also by the ticker) and
// read by Stats; on their own cache line, away from the fields the ticker
// reads.
type counters struct {
	_                                                   cpu.CacheLinePad
	messages, heartbeats, reconnects, timeouts, garbage atomic.Uint64
	packetTimeouts, implausible, gaps, gapMessages      atomic.Uint64
	duplicates, pending                                 atomic.Uint64
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
	next    uint64 // sequence number of the next 'S' packet, as the server counts
	want    uint64 // next sequence number to deliver; 0 = adopt the first login's
	session [soupbintcp.SessionLen]byte
	known   bool // session holds the name to insist on (Config.Session or the first login's)
	conns   uint64
	framer  soupbintcp.Framer
	ended   bool

	lastFault atomic.Pointer[error]

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
	c gnet.Conn
	n uint64 // connection number, from 1
	// lastRecv is the UnixNano of the last sign of life: the connection's
	// opening, Login Accepted, and every complete packet after it. Bytes of
	// an incomplete packet and packets before login do not count.
	lastRecv atomic.Int64
	// partialSince is the UnixNano of the read that brought the first byte
	// of the incomplete packet held, 0 if none.
	partialSince atomic.Int64
	lastSend     atomic.Int64 // UnixNano of the last packet sent
	loggedIn     atomic.Bool
	// fault is why the ticker closed the connection, reported by OnClose.
	fault  atomic.Pointer[error]
	closed bool // event loop only
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
	s := &Session{cfg: cfg, h: h, next: cfg.Seq, want: cfg.Seq, session: soupbintcp.Session(cfg.Session),
		known: cfg.Session != "", done: make(chan struct{})}
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
// Rejected, an ErrSessionChanged error after a Login Accepted of another
// session, nil after End of Session or Close, or nil while it runs.
func (s *Session) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// Next returns the sequence number of the next message to deliver, which
// each reconnection requests: Config.Seq until a Login Accepted, then
// that login's (or, if the server resumed behind, the one expected before)
// plus the messages delivered.
func (s *Session) Next() uint64 { return s.c.next.Load() }

// LastFault returns the latest fault of the server (see ErrPacketTimeout and
// the errors after it), or nil if there was none.
func (s *Session) LastFault() error {
	if p := s.lastFault.Load(); p != nil {
		return *p
	}
	return nil
}

// Stats returns the session's counters.
func (s *Session) Stats() Stats {
	return Stats{
		Messages:       s.c.messages.Load(),
		Heartbeats:     s.c.heartbeats.Load(),
		Reconnects:     s.c.reconnects.Load(),
		Timeouts:       s.c.timeouts.Load(),
		PacketTimeouts: s.c.packetTimeouts.Load(),
		Garbage:        s.c.garbage.Load(),
		Implausible:    s.c.implausible.Load(),
		Gaps:           s.c.gaps.Load(),
		GapMessages:    s.c.gapMessages.Load(),
		Duplicates:     s.c.duplicates.Load(),
		Pending:        s.c.pending.Load(),
	}
}

// faultf builds a fault error: sentinel, what, and where.
func (s *Session) faultf(cs *conn, sentinel error, format string, a ...any) error {
	return fmt.Errorf("%w: %s (server %s, connection %d, next sequence %d)",
		sentinel, fmt.Sprintf(format, a...), s.cfg.Addr, cs.n, s.want)
}

// report records err as the latest fault and hands it to the Handler if it
// is a FaultHandler. Event loop only.
func (s *Session) report(err error) {
	s.lastFault.Store(&err)
	if fh, ok := s.h.(FaultHandler); ok {
		fh.Fault(err)
	}
}

// events is the gnet event handler of a Session.
type events struct {
	gnet.BuiltinEventEngine
	s *Session
}

func (e *events) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	s := e.s
	cs, ok := c.Context().(*conn)
	if !ok || s.ended {
		return nil, gnet.Close
	}
	cs.c = c
	s.conns++
	cs.n = s.conns
	now := time.Now().UnixNano()
	cs.lastRecv.Store(now)
	cs.lastSend.Store(now)
	s.framer.Reset()
	s.c.pending.Store(0)
	s.cur.Store(cs)
	r := soupbintcp.LoginRequest{
		Username: soupbintcp.Username(s.cfg.Username),
		Password: soupbintcp.Password(s.cfg.Password),
		Session:  s.session,
		Seq:      s.want,
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
	s.c.pending.Store(0)
	if f := cs.fault.Load(); f != nil {
		s.report(*f)
	}
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
	now := time.Now().UnixNano()
	completed := 0
	err := s.framer.Feed(buf, func(p soupbintcp.Packet) error {
		completed++
		if err := e.packet(cs, p); err != nil {
			return err
		}
		if cs.loggedIn.Load() {
			cs.lastRecv.Store(now)
		}
		return nil
	})
	// The packet timer starts with the read bringing a packet's first byte:
	// this read if it completed a packet or none was pending before.
	pending := s.framer.Buffered()
	switch {
	case pending == 0:
		cs.partialSince.Store(0)
	case completed > 0 || cs.partialSince.Load() == 0:
		cs.partialSince.Store(now)
	}
	s.c.pending.Store(uint64(pending))
	if rh, ok := s.h.(ReadHandler); ok {
		rh.ReadDone()
	}
	switch {
	case err == nil:
		return gnet.None
	case errors.Is(err, soupbintcp.ErrZeroLength):
		s.c.garbage.Add(1)
		s.report(s.faultf(cs, ErrMalformedPacket, "Packet Length 0 after %d packets of this read", completed))
	}
	return gnet.Close
}

// unexpected counts and reports a packet the server may not send now; the
// connection is then dropped.
func (e *events) unexpected(cs *conn, p soupbintcp.Packet, why string) error {
	e.s.c.garbage.Add(1)
	e.s.report(e.s.faultf(cs, ErrUnexpectedPacket, "%s (type %q, %d bytes) %s",
		soupbintcp.TypeName(p.Type()), p.Type(), len(p), why))
	return errDrop
}

// malformed counts and reports a packet that cannot be decoded.
func (e *events) malformed(cs *conn, p soupbintcp.Packet, err error) error {
	e.s.c.garbage.Add(1)
	e.s.report(e.s.faultf(cs, ErrMalformedPacket, "%s of %d bytes: %v", soupbintcp.TypeName(p.Type()), len(p), err))
	return errDrop
}

// packet handles one server packet; an error closes the connection.
func (e *events) packet(cs *conn, p soupbintcp.Packet) error {
	s := e.s
	if s.ended {
		return errDrop
	}
	loggedIn := cs.loggedIn.Load()
	switch t := p.Type(); {
	case t == soupbintcp.TypeSequencedData && loggedIn:
		seq := s.next
		s.next++
		if seq < s.want {
			// The server resumed behind: already delivered.
			s.c.duplicates.Add(1)
			return nil
		}
		s.want = s.next
		s.c.next.Store(s.want)
		s.c.messages.Add(1)
		s.h.Message(seq, p.Payload())
		return nil
	case t == soupbintcp.TypeServerHeartbeat:
		s.c.heartbeats.Add(1)
		return nil
	case t == soupbintcp.TypeDebug, t == soupbintcp.TypeUnsequencedData && loggedIn:
		return nil
	case t == soupbintcp.TypeLoginAccepted && !loggedIn:
		return e.loginAccepted(cs, p)
	case t == soupbintcp.TypeLoginRejected && !loggedIn:
		reason, err := soupbintcp.ParseLoginRejected(p)
		if err != nil {
			return e.malformed(cs, p, err)
		}
		s.ended = true
		s.h.Rejected(reason)
		s.stop(fmt.Errorf("%w: %q %s", ErrRejected, reason, soupbintcp.RejectReason(reason)))
		return errDrop
	case t == soupbintcp.TypeEndOfSession && loggedIn:
		s.ended = true
		s.h.EndOfSession()
		s.stop(nil)
		return errDrop
	case loggedIn:
		return e.unexpected(cs, p, "after Login Accepted")
	}
	return e.unexpected(cs, p, "before Login Accepted")
}

// loginAccepted checks a Login Accepted against the session and sequence
// number expected (see Handler) and adopts it.
func (e *events) loginAccepted(cs *conn, p soupbintcp.Packet) error {
	s := e.s
	a, err := soupbintcp.ParseLoginAccepted(p)
	if err != nil {
		return e.malformed(cs, p, err)
	}
	name := soupbintcp.TrimSession(a.Session[:])
	if s.known {
		if want := soupbintcp.TrimSession(s.session[:]); !bytes.Equal(name, want) {
			err := fmt.Errorf("%w: Login Accepted for session %q, expected %q: a new session cannot be resumed (server %s, connection %d, next sequence %d)",
				ErrSessionChanged, name, want, s.cfg.Addr, cs.n, s.want)
			s.ended = true
			s.stop(err)
			return errDrop
		}
	}
	switch {
	case a.Seq == 0, a.Seq > s.cfg.MaxSeq:
		s.c.implausible.Add(1)
		s.report(s.faultf(cs, ErrImplausibleSeq, "sequence number %d, outside [1, %d]", a.Seq, s.cfg.MaxSeq))
		return errDrop
	case s.want != 0 && a.Seq > s.want && a.Seq-s.want > s.cfg.MaxGap:
		s.c.implausible.Add(1)
		s.report(s.faultf(cs, ErrImplausibleSeq, "sequence number %d, %d ahead of the one expected: more than MaxGap %d",
			a.Seq, a.Seq-s.want, s.cfg.MaxGap))
		return errDrop
	}
	s.session, s.known = a.Session, true
	s.next = a.Seq
	cs.loggedIn.Store(true)
	switch {
	case s.want == 0:
		s.want = a.Seq
	case a.Seq > s.want:
		first, n := s.want, a.Seq-s.want
		s.c.gaps.Add(1)
		s.c.gapMessages.Add(n)
		s.report(s.faultf(cs, ErrResumed, "asked for %d, resumed ahead at %d: messages %d to %d lost",
			first, a.Seq, first, a.Seq-1))
		s.want = a.Seq
		if gh, ok := s.h.(GapHandler); ok {
			gh.Gap(first, n)
		}
	case a.Seq < s.want:
		s.report(s.faultf(cs, ErrResumed, "asked for %d, resumed behind at %d: messages %d to %d dropped as duplicates",
			s.want, a.Seq, a.Seq, s.want-1))
	}
	s.c.next.Store(s.want)
	s.h.LoggedIn(string(name), s.want)
	return nil
}

// OnTick runs on gnet's ticker goroutine: it drops a silent server and
// sends Client Heartbeats, through gnet's concurrency-safe Close and
// AsyncWrite.
func (e *events) OnTick() (time.Duration, gnet.Action) {
	s := e.s
	tick := min(s.cfg.HeartbeatTimeout/4, s.cfg.PacketTimeout/4, 100*time.Millisecond)
	cs := s.cur.Load()
	if cs == nil {
		return tick, gnet.None
	}
	now := time.Now()
	if since := cs.partialSince.Load(); since != 0 && now.Sub(time.Unix(0, since)) >= s.cfg.PacketTimeout {
		if s.cur.CompareAndSwap(cs, nil) {
			s.c.packetTimeouts.Add(1)
			err := fmt.Errorf("%w: %d bytes of a packet held, its first %v ago, PacketTimeout %v (server %s, connection %d)",
				ErrPacketTimeout, s.c.pending.Load(), now.Sub(time.Unix(0, since)).Round(time.Millisecond), s.cfg.PacketTimeout, s.cfg.Addr, cs.n)
			cs.fault.Store(&err)
			_ = cs.c.Close()
		}
		return tick, gnet.None
	}
	if last := cs.lastRecv.Load(); now.Sub(time.Unix(0, last)) >= s.cfg.HeartbeatTimeout {
		if s.cur.CompareAndSwap(cs, nil) {
			s.c.timeouts.Add(1)
			what := "no complete packet"
			if !cs.loggedIn.Load() {
				what = "no answer to the login"
			}
			err := fmt.Errorf("%w: %s for %v, HeartbeatTimeout %v (server %s, connection %d)",
				ErrSilence, what, now.Sub(time.Unix(0, last)).Round(time.Millisecond), s.cfg.HeartbeatTimeout, s.cfg.Addr, cs.n)
			cs.fault.Store(&err)
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
