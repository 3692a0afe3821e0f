package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/transport"
	"github.com/tickwire/tickwire/transport/tw"
)

// Depth is what a subscription receives for each instrument.
type Depth uint8

// Depths, as in transport's schema.
const (
	DepthOrders Depth = Depth(tw.DepthOrders) // order by order
	DepthLevels Depth = Depth(tw.DepthLevels) // every price level
	DepthTopN   Depth = Depth(tw.DepthTopN)   // the best N levels (the mirror keeps every level)
	DepthTop    Depth = Depth(tw.DepthTop)    // the best level of each side
)

// ParseDepth reads a depth as tickwire subscribe's --depth flag gives it:
// orders, levels, top, or a number of levels.
func ParseDepth(s string) (Depth, int, error) {
	switch s {
	case "orders":
		return DepthOrders, 0, nil
	case "levels", "":
		return DepthLevels, 0, nil
	case "top":
		return DepthTop, 0, nil
	}
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil || n <= 0 || n > 0xFFFF || fmt.Sprint(n) != s {
		return 0, 0, fmt.Errorf("depth %q: want orders, levels, top or a number of levels", s)
	}
	return DepthTopN, n, nil
}

// Options configures Dial. Build it with the With functions; Dial starts
// from the defaults named beside each field.
type Options struct {
	// Token is presented in the Hello (the server's transport.token).
	// Default none.
	Token string
	// Name names the client in the server's logs. Default none.
	Name string
	// Symbols and Locates are the stocks subscribed to, by symbol and by
	// ITCH stock locate. The default, without WithSymbols or WithLocates,
	// is every instrument; WithSymbols() naming none subscribes to none
	// (Client.Subscribe adds stocks later). A stock not on the feed yet is
	// subscribed to when it is listed.
	Symbols []string
	Locates []uint16
	some    bool // WithSymbols or WithLocates: not every instrument
	// Depth is the depth of the subscriptions, Levels the levels per side
	// for DepthTopN. Default DepthLevels.
	Depth  Depth
	Levels int
	// Reconnect makes Run connect again when the connection is lost,
	// waiting FirstWait before the first attempt and doubling the wait up
	// to MaxWait. Default true, 100 ms, 5 s.
	Reconnect          bool
	FirstWait, MaxWait time.Duration
	// TLS, when not nil, makes the connection TLS with this configuration
	// (its ServerName, when empty, is the address's host). Default nil.
	TLS *tls.Config
	// NATS configures DialNATS (WithNATS).
	NATS NATSOptions
}

// Option configures Dial.
type Option func(*Options)

// WithToken presents token in the Hello (Options.Token).
func WithToken(token string) Option { return func(o *Options) { o.Token = token } }

// WithName names the client in the server's logs (Options.Name).
func WithName(name string) Option { return func(o *Options) { o.Name = name } }

// WithSymbols subscribes to these stocks (the default is every instrument).
// A stock not on the feed yet is subscribed to when it is listed.
func WithSymbols(symbols ...string) Option {
	return func(o *Options) { o.Symbols, o.some = append(o.Symbols, symbols...), true }
}

// WithLocates subscribes to these ITCH stock locates.
func WithLocates(locates ...uint16) Option {
	return func(o *Options) { o.Locates, o.some = append(o.Locates, locates...), true }
}

// WithDepth sets the depth of the subscriptions (default DepthLevels); n
// is the levels per side for DepthTopN.
func WithDepth(d Depth, n int) Option { return func(o *Options) { o.Depth, o.Levels = d, n } }

// WithReconnect sets the wait before the first reconnection and its
// ceiling (default 100 ms and 5 s, doubling); WithoutReconnect turns
// reconnection off.
func WithReconnect(first, ceiling time.Duration) Option {
	return func(o *Options) { o.Reconnect, o.FirstWait, o.MaxWait = true, first, ceiling }
}

// WithTLS makes the connection TLS with cfg (its ServerName, when empty,
// is the address's host).
func WithTLS(cfg *tls.Config) Option { return func(o *Options) { o.TLS = cfg } }

// WithoutReconnect makes a lost connection end Run with its error.
func WithoutReconnect() Option { return func(o *Options) { o.Reconnect = false } }

// EventKind says what an Event reports.
type EventKind uint8

// Event kinds.
const (
	// EventMessage: a message of the server, applied to the mirror
	// (Message; Locate for an update or a snapshot).
	EventMessage EventKind = iota + 1
	// EventReconnected: the connection was lost and made again; the
	// mirror is being rebuilt from fresh snapshots.
	EventReconnected
)

// Event is what Run hands the application: valid only during the call.
type Event struct {
	Kind    EventKind
	Message *transport.Message // EventMessage
	Locate  uint16             // the instrument of an update or snapshot
	Err     error              // EventReconnected: why the connection was lost
}

// Client is a subscriber connection with its book mirror. Its methods but
// Close must be called from one goroutine (the one running Run).
type Client struct {
	addr    string
	o       Options
	conn    net.Conn
	book    *Book
	fr      *transport.FrameReader
	buf     []byte
	pending []byte // read and not yet cut into frames
	enc     *transport.Encoder
	seqIn   uint64 // the last stream sequence received
	out     uint64 // the last stream sequence sent
	// orders mirrors each order of an Orders subscription, to find the
	// level of an execution or cancel, which names only the order.
	orders orders
	ended  bool // the server said the session ended
	closed chan struct{}
	connMu sync.Mutex // conn, for Close and the context's interruption from other goroutines
	msg    transport.Message
	nats   *natsState // DialNATS's; nil over TCP
}

// Dial connects to the server at addr, says Hello and subscribes as the
// options say. A refused Hello returns ErrRefused.
func Dial(ctx context.Context, addr string, opts ...Option) (*Client, error) {
	c := &Client{addr: addr, o: Options{Depth: DepthLevels, Reconnect: true, FirstWait: 100 * time.Millisecond, MaxWait: 5 * time.Second},
		book: NewBook(), buf: make([]byte, 64<<10), enc: transport.NewEncoder(1 << 10), closed: make(chan struct{})}
	for _, opt := range opts {
		opt(&c.o)
	}
	if err := c.connect(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Book returns the mirror: read it from Run's goroutine (in the event
// callback or after Run returned).
func (c *Client) Book() *Book { return c.book }

// Ended reports whether the server announced the end of the session.
func (c *Client) Ended() bool { return c.ended }

// Close closes the connection; Run returns.
func (c *Client) Close() error {
	select {
	case <-c.closed:
	default:
		close(c.closed)
	}
	c.connMu.Lock()
	defer c.connMu.Unlock()
	if c.conn != nil {
		return c.conn.Close()
	}
	return nil
}

// interrupt makes the read in progress return (ctx is done).
func (c *Client) interrupt() {
	c.connMu.Lock()
	defer c.connMu.Unlock()
	if c.conn != nil {
		c.conn.SetReadDeadline(time.Now())
	}
}

// connect dials, says Hello, reads the reply and subscribes.
func (c *Client) connect(ctx context.Context) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return err
	}
	if c.o.TLS != nil {
		cfg := c.o.TLS
		if cfg.ServerName == "" {
			cfg = cfg.Clone()
			cfg.ServerName, _, _ = net.SplitHostPort(c.addr)
		}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return fmt.Errorf("client: TLS handshake with %s: %w", c.addr, err)
		}
		conn = tc
	}
	c.connMu.Lock()
	c.conn = conn
	c.connMu.Unlock()
	if c.isClosed() {
		conn.Close()
		return net.ErrClosed
	}
	c.fr, c.seqIn, c.out = transport.NewFrameReader(0), 0, 0
	c.enc.Begin(c.nextOut())
	c.enc.Hello(transport.ProtocolVersion, []byte(c.o.Token), []byte(c.o.Name))
	if err := c.send(); err != nil {
		conn.Close()
		return err
	}
	// The reply, within the server's Hello timeout.
	if d, ok := ctx.Deadline(); ok {
		conn.SetReadDeadline(d)
	} else {
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	}
	defer conn.SetReadDeadline(time.Time{})
	for {
		f, err := c.readFrame()
		if err != nil {
			conn.Close()
			return fmt.Errorf("client: waiting for the server's HelloReply: %w", err)
		}
		for i := range f.Len() {
			m := f.Message(i, &c.msg)
			switch m.Type() {
			case tw.BodyHelloReply:
				var r tw.HelloReply
				t := m.Table()
				r.Init(t.Bytes, t.Pos)
				if !r.Accepted() {
					conn.Close()
					return fmt.Errorf("%w: %s", ErrRefused, r.Reason())
				}
				return c.subscribe(false, c.o.Symbols, c.o.Locates, !c.o.some, c.o.Depth, c.o.Levels)
			case tw.BodyServerError:
				conn.Close()
				return serverError(m)
			}
		}
	}
}

// final reports whether err ends the client instead of a reconnection: a
// refused Hello, or a server certificate that does not verify.
func final(err error) bool {
	var v *tls.CertificateVerificationError
	return errors.Is(err, ErrRefused) || errors.As(err, &v)
}

func serverError(m *transport.Message) error {
	var e tw.ServerError
	t := m.Table()
	e.Init(t.Bytes, t.Pos)
	return fmt.Errorf("%w: %s: %s", ErrServer, tw.EnumNamesErrorCode[e.Code()], e.Text())
}

func (c *Client) nextOut() uint64 {
	c.out++
	return c.out
}

// send writes the encoder's frame.
func (c *Client) send() error {
	f, err := c.enc.Finish()
	if err != nil {
		return err
	}
	_, err = c.conn.Write(f)
	return err
}

// Subscribe adds stocks to the subscription at depth (n levels for
// DepthTopN); their snapshots follow.
func (c *Client) Subscribe(symbols []string, depth Depth, n int) error {
	c.o.Symbols = append(c.o.Symbols, symbols...)
	return c.subscribe(false, symbols, nil, false, depth, n)
}

// Unsubscribe drops stocks from the subscription; the mirror keeps their
// last books.
func (c *Client) Unsubscribe(symbols []string) error {
	return c.subscribe(true, symbols, nil, false, 0, 0)
}

func (c *Client) subscribe(unsub bool, symbols []string, locates []uint16, all bool, depth Depth, n int) error {
	stocks := make([][]byte, len(symbols))
	for i, s := range symbols {
		stocks[i] = []byte(s)
	}
	c.enc.Begin(c.nextOut())
	c.enc.Subscribe(unsub, stocks, locates, all, tw.Depth(depth), uint16(n))
	return c.send()
}

// readFrame reads until the next frame; it aliases c.buf or the reader's
// scratch until the next call.
func (c *Client) readFrame() (transport.Frame, error) {
	for {
		if len(c.pending) > 0 {
			f, n, ok, err := c.fr.Next(c.pending)
			c.pending = c.pending[n:]
			if err != nil {
				return transport.Frame{}, err
			}
			if ok {
				if s := f.StreamSeq(); s != c.seqIn+1 {
					return transport.Frame{}, fmt.Errorf("client: stream sequence %d after %d: frames lost", s, c.seqIn)
				}
				c.seqIn++
				return f, nil
			}
		}
		n, err := c.conn.Read(c.buf)
		if n == 0 && err != nil {
			return transport.Frame{}, err
		}
		c.pending = c.buf[:n]
	}
}

// Run reads the server's frames, applies each message to the mirror and
// then calls fn with it (fn may be nil), until ctx is done, Close is
// called, fn returns an error, or the server ends the session (Run then
// returns nil). A lost connection is made again with a fresh subscription,
// unless WithoutReconnect; a refusal on reconnection is final. Nothing is
// allocated per message once the mirror has grown.
func (c *Client) Run(ctx context.Context, fn func(*Event) error) error {
	if c.nats != nil {
		return c.runNATS(ctx, fn)
	}
	stop := context.AfterFunc(ctx, c.interrupt)
	defer stop()
	var ev Event
	wait := c.o.FirstWait
	for {
		err := c.read(ctx, fn, &ev)
		if err == nil || c.ended || ctx.Err() != nil || c.isClosed() {
			if ctx.Err() != nil && !c.ended {
				return ctx.Err()
			}
			return nil
		}
		var fnErr fnError
		if errors.As(err, &fnErr) {
			return fnErr.err
		}
		if !c.o.Reconnect || final(err) {
			return err
		}
		c.conn.Close()
		for {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-c.closed:
				return nil
			case <-time.After(wait):
			}
			wait = min(2*wait, c.o.MaxWait)
			cerr := c.connect(ctx)
			if cerr == nil {
				break
			}
			if final(cerr) {
				return cerr
			}
		}
		stop()
		stop = context.AfterFunc(ctx, c.interrupt)
		wait = c.o.FirstWait
		c.orders.reset()
		if fn != nil {
			ev = Event{Kind: EventReconnected, Err: err}
			if ferr := fn(&ev); ferr != nil {
				return ferr
			}
		}
	}
}

func (c *Client) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }

// read runs one connection until it fails, or the session ends (nil).
func (c *Client) read(ctx context.Context, fn func(*Event) error, ev *Event) error {
	for {
		f, err := c.readFrame()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = fmt.Errorf("client: the server closed the connection: %w", err)
			}
			return err
		}
		for i := range f.Len() {
			m := f.Message(i, &c.msg)
			loc, err := c.apply(m)
			if err != nil {
				return err
			}
			if fn != nil {
				*ev = Event{Kind: EventMessage, Message: m, Locate: loc}
				if err := fn(ev); err != nil {
					return fnError{err}
				}
			}
			if c.ended {
				return nil
			}
		}
	}
}

// apply applies one message to the mirror and returns its instrument.
func (c *Client) apply(m *transport.Message) (uint16, error) {
	switch t := m.Type(); t {
	case tw.BodySnapshot:
		return c.snapshot(m), nil
	case tw.BodyLevelChanged:
		var v tw.LevelChangedFields
		v.Init(m.Fields(t))
		s := v.Stamp(nil)
		loc := s.Locate()
		if c.o.Depth == DepthTop && c.depthOf(loc) == DepthTop {
			c.book.setTop(loc, byte(v.Side()), v.Price(), v.Shares(), v.OrderCount(), s.FeedSeq())
		} else {
			c.book.SetLevel(loc, byte(v.Side()), v.Price(), v.Shares(), v.OrderCount(), s.FeedSeq())
		}
		return loc, nil
	case tw.BodyOrderAdded:
		var v tw.OrderAddedFields
		v.Init(m.Fields(t))
		s := v.Stamp(nil)
		c.add(s.Locate(), v.OrderRef(), byte(v.Side()), v.Price(), v.Shares(), s.FeedSeq())
		return s.Locate(), nil
	case tw.BodyOrderExecuted:
		var v tw.OrderExecutedFields
		v.Init(m.Fields(t))
		s := v.Stamp(nil)
		c.reduce(v.OrderRef(), v.Shares(), s.FeedSeq())
		return s.Locate(), nil
	case tw.BodyOrderCancelled:
		var v tw.OrderCancelledFields
		v.Init(m.Fields(t))
		s := v.Stamp(nil)
		c.reduce(v.OrderRef(), v.Shares(), s.FeedSeq())
		return s.Locate(), nil
	case tw.BodyOrderDeleted:
		var v tw.OrderDeletedFields
		v.Init(m.Fields(t))
		s := v.Stamp(nil)
		c.reduce(v.OrderRef(), ^uint32(0), s.FeedSeq())
		return s.Locate(), nil
	case tw.BodyOrderReplaced:
		var v tw.OrderReplacedFields
		v.Init(m.Fields(t))
		s := v.Stamp(nil)
		c.reduce(v.OldRef(), ^uint32(0), s.FeedSeq())
		c.add(s.Locate(), v.NewRef(), byte(v.Side()), v.Price(), v.Shares(), s.FeedSeq())
		return s.Locate(), nil
	case tw.BodyTradingState:
		var v tw.TradingState
		tab := m.Table()
		v.Init(tab.Bytes, tab.Pos)
		var st tw.Stamp
		s := v.Stamp(&st)
		if in := c.book.Instrument(s.Locate()); in != nil {
			in.TradingState = byte(v.State())
		}
		return s.Locate(), nil
	case tw.BodyStatus:
		var v tw.Status
		tab := m.Table()
		v.Init(tab.Bytes, tab.Pos)
		if v.State() == tw.FeedStateEndOfSession && v.Locate() == 0 {
			c.ended = true
		}
		return v.Locate(), nil
	case tw.BodyServerError:
		return 0, serverError(m)
	default:
		if s, ok := m.Stamp(); ok {
			return s.Locate, nil
		}
	}
	return 0, nil
}

// depthOf is the depth the instrument was last snapshotted at.
func (c *Client) depthOf(loc uint16) Depth {
	if in := c.book.Instrument(loc); in != nil {
		return in.depth
	}
	return c.o.Depth
}

// add adds an order of an Orders subscription and its shares to its level.
func (c *Client) add(loc uint16, ref uint64, side byte, price, shares uint32, seq uint64) {
	c.orders.put(ref, order{locate: loc, side: side, price: price, shares: shares})
	c.book.addToLevel(loc, side, price, int64(shares), 1, seq)
}

// reduce takes shares from an order of an Orders subscription (all of
// them: ^0) and from its level.
func (c *Client) reduce(ref uint64, shares uint32, seq uint64) {
	i := c.orders.find(ref)
	if i < 0 {
		return
	}
	o := &c.orders.slots[i].o
	shares = min(shares, o.shares)
	o.shares -= shares
	loc, side, price, gone := o.locate, o.side, o.price, int32(0)
	if o.shares == 0 {
		c.orders.deleteAt(i)
		gone = -1
	}
	c.book.addToLevel(loc, side, price, -int64(shares), gone, seq)
}

// snapshot resets an instrument from a Snapshot (or its next part).
func (c *Client) snapshot(m *transport.Message) uint16 {
	var s tw.Snapshot
	tab := m.Table()
	s.Init(tab.Bytes, tab.Pos)
	loc := s.Locate()
	var sym [8]byte
	for i := range sym {
		sym[i] = ' '
	}
	copy(sym[:], s.Stock())
	in := c.book.Instrument(loc)
	if in == nil || !in.partial {
		if in != nil && in.depth == DepthOrders {
			c.dropOrders(loc)
		}
		in = c.book.Reset(loc, sym, byte(s.TradingState()), s.Suspect(), s.FeedSeq())
	}
	in.depth = Depth(s.Depth())
	in.partial = s.More()
	var lv tw.BookLevel
	for i := range s.BidLevelsLength() {
		s.BidLevels(&lv, i)
		c.book.SetLevel(loc, itch.Buy, lv.Price(), lv.Shares(), lv.OrderCount(), s.FeedSeq())
	}
	for i := range s.AskLevelsLength() {
		s.AskLevels(&lv, i)
		c.book.SetLevel(loc, itch.Sell, lv.Price(), lv.Shares(), lv.OrderCount(), s.FeedSeq())
	}
	var o tw.BookOrder
	for i := range s.BidOrdersLength() {
		s.BidOrders(&o, i)
		c.orders.put(o.OrderRef(), order{locate: loc, side: itch.Buy, price: o.Price(), shares: o.Shares()})
		c.book.addToLevel(loc, itch.Buy, o.Price(), int64(o.Shares()), 1, s.FeedSeq())
	}
	for i := range s.AskOrdersLength() {
		s.AskOrders(&o, i)
		c.orders.put(o.OrderRef(), order{locate: loc, side: itch.Sell, price: o.Price(), shares: o.Shares()})
		c.book.addToLevel(loc, itch.Sell, o.Price(), int64(o.Shares()), 1, s.FeedSeq())
	}
	return loc
}

// dropOrders forgets the orders of instrument loc, before its new snapshot.
func (c *Client) dropOrders(loc uint16) {
	c.orders.removeLocate(loc)
}
