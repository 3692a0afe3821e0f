package transport_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tickwire/tickwire/book"
	"github.com/tickwire/tickwire/client"
	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/internal/gen"
	"github.com/tickwire/tickwire/transport"
	"github.com/tickwire/tickwire/transport/tw"
)

// session generates a session's raw ITCH messages and its expected books.
func session(t testing.TB, messages, instruments int, seed uint64) (msgs [][]byte, books []byte) {
	t.Helper()
	var raw, want bytes.Buffer
	if _, err := gen.Generate(gen.Config{Seed: seed, Messages: messages, Instruments: instruments}, gen.Outputs{ITCH: &raw, Books: &want}); err != nil {
		t.Fatal(err)
	}
	b := raw.Bytes()
	for len(b) >= 2 {
		n := int(binary.BigEndian.Uint16(b))
		msgs = append(msgs, b[2:2+n])
		b = b[2+n:]
	}
	return msgs, want.Bytes()
}

// daemon is a book fed by one goroutine, as the live handler feeds it,
// with a server publishing it.
type daemon struct {
	srv  *transport.Server
	pub  *transport.Publisher
	book *book.Book
}

func newDaemon(t testing.TB, cfg transport.ServerConfig) *daemon {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	srv := transport.NewServer(cfg)
	d := &daemon{srv: srv, pub: srv.Publisher()}
	d.book = book.New(book.WithListener(d.pub))
	d.pub.SetBook(d.book)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Finish(ctx)
	})
	return d
}

// play applies msgs from seq first, flushing every batch messages and
// pausing every pause of them (so that clients may join mid-session).
func (d *daemon) play(t testing.TB, msgs [][]byte, first uint64, batch int, each func(seq uint64)) {
	for i, m := range msgs {
		if err := itch.Check(m); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		seq := first + uint64(i)
		d.book.Apply(seq, itch.Message(m))
		if (i+1)%batch == 0 {
			d.pub.Flush()
			if each != nil {
				each(seq)
			}
		}
	}
	d.pub.Flush()
}

// mirror runs a client until the end of the session and returns its books.
func mirror(ctx context.Context, addr string, opts ...client.Option) ([]byte, error) {
	c, err := client.Dial(ctx, addr, opts...)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.Run(ctx, nil); err != nil {
		return nil, err
	}
	if !c.Ended() {
		return nil, errors.New("Run returned before the end of the session")
	}
	var b bytes.Buffer
	err = c.Book().WriteBooks(&b)
	return b.Bytes(), err
}

// TestMirrorsEqualTheBooks plays a generated session through a book and
// the server to clients on loopback at every depth that carries levels, one
// of them joining half-way, and checks every mirror writes the session's
// books byte for byte.
func TestMirrorsEqualTheBooks(t *testing.T) {
	msgs, want := session(t, 60_000, 40, 7)
	d := newDaemon(t, transport.ServerConfig{})
	addr := d.srv.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	type result struct {
		name  string
		books []byte
		err   error
	}
	results := make(chan result, 8)
	var wg sync.WaitGroup
	start := func(name string, opts ...client.Option) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := mirror(ctx, addr, opts...)
			results <- result{name, b, err}
		}()
	}
	waitClients := func(n int64) {
		for d.srv.Stats().Accepted < uint64(n) {
			time.Sleep(time.Millisecond)
		}
	}
	start("levels", client.WithDepth(client.DepthLevels, 0))
	start("orders", client.WithDepth(client.DepthOrders, 0))
	start("top 5", client.WithDepth(client.DepthTopN, 5))
	waitClients(3)
	time.Sleep(50 * time.Millisecond) // the subscriptions taken
	half := uint64(len(msgs) / 2)
	d.play(t, msgs, 1, 25, func(seq uint64) {
		if seq == half {
			start("joining", client.WithDepth(client.DepthLevels, 0))
			waitClients(4)
		}
		if seq%1000 == 0 {
			time.Sleep(time.Millisecond) // let the joiner's subscription be taken mid-session
		}
	})
	d.pub.Status(tw.FeedStateEndOfSession, "end of session", uint64(len(msgs)))
	waited := make(chan struct{})
	go func() {
		wg.Wait()
		close(waited)
	}()
	flushWhile(d, waited)
	close(results)
	t.Logf("server: %+v", d.srv.Stats())
	for r := range results {
		if r.err != nil {
			t.Errorf("%s: %v", r.name, r.err)
			continue
		}
		t.Logf("%s: %d bytes of books, %d lines", r.name, len(r.books), bytes.Count(r.books, []byte("\n")))
		if !bytes.Equal(r.books, want) {
			t.Errorf("%s: mirror differs from the books (%d vs %d bytes)\n%s", r.name, len(r.books), len(want), firstDiff(r.books, want))
		}
	}
}

func firstDiff(a, b []byte) string {
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := range min(len(la), len(lb)) {
		if !bytes.Equal(la[i], lb[i]) {
			return fmt.Sprintf("line %d:\n got %s\nwant %s", i+1, la[i], lb[i])
		}
	}
	return fmt.Sprintf("%d lines vs %d", len(la), len(lb))
}

// rawClient is a test client speaking the protocol by hand.
type rawClient struct {
	t    testing.TB
	conn net.Conn
	fr   *transport.FrameReader
	buf  []byte
	rest []byte
}

func dialRaw(t testing.TB, addr string) *rawClient {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawClient{t: t, conn: conn, fr: transport.NewFrameReader(0), buf: make([]byte, 1<<16)}
}

// next returns the next frame's first message type and the message.
func (c *rawClient) next(timeout time.Duration) (tw.Body, *transport.Message, error) {
	c.conn.SetReadDeadline(time.Now().Add(timeout))
	for {
		if len(c.rest) > 0 {
			f, n, ok, err := c.fr.Next(c.rest)
			c.rest = c.rest[n:]
			if err != nil {
				return 0, nil, err
			}
			if ok {
				var m transport.Message
				f.Message(0, &m)
				return m.Type(), &m, nil
			}
		}
		n, err := c.conn.Read(c.buf)
		if n == 0 {
			return 0, nil, err
		}
		c.rest = c.buf[:n]
	}
}

func errorCode(m *transport.Message) tw.ErrorCode {
	var e tw.ServerError
	tab := m.Table()
	e.Init(tab.Bytes, tab.Pos)
	return e.Code()
}

// expectError reads until a ServerError and the connection's close.
func (c *rawClient) expectError(code tw.ErrorCode, timeout time.Duration) {
	c.t.Helper()
	for {
		typ, m, err := c.next(timeout)
		if err != nil {
			c.t.Fatalf("waiting for ServerError %v: %v", code, err)
		}
		if typ == tw.BodyServerError {
			if got := errorCode(m); got != code {
				c.t.Fatalf("ServerError %v, want %v", got, code)
			}
			break
		}
	}
	if _, _, err := c.next(timeout); err == nil {
		c.t.Fatal("the connection stayed open after the ServerError")
	}
}

// TestHostileClients: garbage, an oversized frame, a message before Hello,
// no Hello at all and a wrong token are each cut off with the right error;
// a subscriber beside them stays exact.
func TestHostileClients(t *testing.T) {
	d := newDaemon(t, transport.ServerConfig{Token: "s3cret", HelloTimeout: 300 * time.Millisecond})
	addr := d.srv.Addr().String()
	msgs, want := session(t, 20_000, 10, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan []byte, 1)
	go func() {
		b, err := mirror(ctx, addr, client.WithToken("s3cret"))
		if err != nil {
			t.Errorf("good client: %v", err)
		}
		done <- b
	}()
	for d.srv.Stats().Accepted < 1 {
		time.Sleep(time.Millisecond)
	}

	garbage := dialRaw(t, addr)
	garbage.conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	garbage.expectError(tw.ErrorCodeBadFrame, 2*time.Second)

	huge := dialRaw(t, addr)
	huge.conn.Write(binary.LittleEndian.AppendUint32(nil, 8<<20))
	huge.expectError(tw.ErrorCodeBadFrame, 2*time.Second)

	e := transport.NewEncoder(256)
	early := dialRaw(t, addr)
	e.Begin(1)
	e.Subscribe(false, nil, nil, true, tw.DepthLevels, 0)
	f, _ := e.Finish()
	early.conn.Write(f)
	early.expectError(tw.ErrorCodeBadHello, 2*time.Second)

	silent := dialRaw(t, addr)
	silent.expectError(tw.ErrorCodeHelloTimeout, 2*time.Second)

	wrong := dialRaw(t, addr)
	e.Begin(1)
	e.Hello(transport.ProtocolVersion, []byte("guess"), nil)
	f, _ = e.Finish()
	wrong.conn.Write(f)
	typ, m, err := wrong.next(2 * time.Second)
	if err != nil || typ != tw.BodyHelloReply {
		t.Fatalf("wrong token: %v %v", typ, err)
	}
	var r tw.HelloReply
	tab := m.Table()
	r.Init(tab.Bytes, tab.Pos)
	if r.Accepted() || !bytes.Contains(r.Reason(), []byte("token")) {
		t.Fatalf("wrong token: accepted %v, reason %q", r.Accepted(), r.Reason())
	}
	if _, err := client.Dial(ctx, addr, client.WithToken("nope")); !errors.Is(err, client.ErrRefused) {
		t.Fatalf("client.Dial with a wrong token: %v", err)
	}

	d.play(t, msgs, 1, 20, nil)
	d.pub.Status(tw.FeedStateEndOfSession, "end of session", uint64(len(msgs)))
	if got := flushWhile(d, done); !bytes.Equal(got, want) {
		t.Fatalf("the good client's mirror differs\n%s", firstDiff(got, want))
	}
	st := d.srv.Stats()
	if st.Disconnects[transport.DisconnectBadFrame] != 2 || st.Disconnects[transport.DisconnectProtocol] != 1 ||
		st.Disconnects[transport.DisconnectHelloTimeout] != 1 || st.Disconnects[transport.DisconnectRefused] != 2 {
		t.Fatalf("disconnects %v", st.Disconnects)
	}
}

// TestSlowConsumer: a client that subscribes and stops reading is
// conflated (its queue bounded) or cut off, while another stays exact.
func TestSlowConsumer(t *testing.T) {
	for _, disconnect := range []bool{false, true} {
		t.Run(fmt.Sprintf("disconnect=%v", disconnect), func(t *testing.T) {
			d := newDaemon(t, transport.ServerConfig{QueueBytes: 256 << 10, SlowAfter: 200 * time.Millisecond, Disconnect: disconnect})
			addr := d.srv.Addr().String()
			msgs, want := session(t, 200_000, 50, 11)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			done := make(chan []byte, 1)
			go func() {
				b, err := mirror(ctx, addr)
				if err != nil {
					t.Errorf("good client: %v", err)
				}
				done <- b
			}()
			slow := dialRaw(t, addr)
			slow.conn.(*net.TCPConn).SetReadBuffer(4 << 10)
			e := transport.NewEncoder(256)
			e.Begin(1)
			e.Hello(transport.ProtocolVersion, nil, []byte("slow"))
			e.Subscribe(false, nil, nil, true, tw.DepthOrders, 0)
			f, _ := e.Finish()
			slow.conn.Write(f)
			for d.srv.Stats().Accepted < 2 {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(50 * time.Millisecond)
			d.play(t, msgs, 1, 10, func(seq uint64) {
				if seq%20_000 == 0 {
					time.Sleep(100 * time.Millisecond) // time for the bound to be noticed
				}
			})
			d.pub.Status(tw.FeedStateEndOfSession, "end of session", uint64(len(msgs)))
			if got := flushWhile(d, done); !bytes.Equal(got, want) {
				t.Fatalf("the good client's mirror differs\n%s", firstDiff(got, want))
			}
			st := d.srv.Stats()
			if disconnect && st.Disconnects[transport.DisconnectSlow] != 1 {
				t.Fatalf("slow client not cut off: %+v", st)
			}
			if !disconnect && st.Conflations == 0 {
				t.Fatalf("slow client not conflated: %+v", st)
			}
		})
	}
}

// TestStalledClientNoticed: a client that stops reading is conflated for
// acknowledging nothing while bytes wait, though its backlog, held in the
// kernel's buffers, never reaches QueueBytes (1 GiB here), while a client
// that reads slowly, and one that reads everything, are not; then the
// stalled one reads again and ends exact.
func TestStalledClientNoticed(t *testing.T) {
	d := newDaemon(t, transport.ServerConfig{QueueBytes: 1 << 30, SlowAfter: 300 * time.Millisecond})
	addr := d.srv.Addr().String()
	msgs, want := session(t, 120_000, 50, 41)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan error, 3)
	start := func(each func(*client.Event)) *client.Client {
		c, err := client.Dial(ctx, addr, client.WithDepth(client.DepthOrders, 0), client.WithoutReconnect())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		go func() {
			done <- c.Run(ctx, func(ev *client.Event) error {
				each(ev)
				return nil
			})
		}()
		return c
	}
	release := make(chan struct{})
	stalled := false
	stopped := start(func(ev *client.Event) {
		if !stalled && ev.Message.IsUpdate() {
			stalled = true
			<-release
		}
	})
	n := 0
	slow := start(func(*client.Event) {
		if n++; n%2000 == 0 {
			time.Sleep(time.Millisecond) // slower than the feed, reading all the while
		}
	})
	good := start(func(*client.Event) {})
	for d.srv.Stats().Accepted < 3 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	d.play(t, msgs[:len(msgs)/2], 1, 10, func(seq uint64) {
		if seq%10_000 == 0 {
			time.Sleep(50 * time.Millisecond)
		}
	})
	for d.srv.Stats().Conflations == 0 && ctx.Err() == nil {
		d.pub.Flush()
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	d.play(t, msgs[len(msgs)/2:], uint64(len(msgs)/2)+1, 10, nil)
	d.endAndWait(t, len(msgs), done, 3)
	for name, c := range map[string]*client.Client{"stopped": stopped, "slow": slow, "good": good} {
		var got bytes.Buffer
		c.Book().WriteBooks(&got)
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s client's mirror differs\n%s", name, firstDiff(got.Bytes(), want))
		}
	}
	if n := d.srv.Stats().Conflations; n != 1 {
		t.Fatalf("%d conflations, want the stopped client's alone", n)
	}
}

// TestConflatedClientResynchronises: a client that stalls long enough to
// be conflated, then reads again, gets Status Conflated, fresh snapshots
// and Status Live, and ends the session exact.
func TestConflatedClientResynchronises(t *testing.T) {
	d := newDaemon(t, transport.ServerConfig{QueueBytes: 128 << 10, SlowAfter: 100 * time.Millisecond})
	addr := d.srv.Addr().String()
	msgs, want := session(t, 300_000, 50, 13)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, addr, client.WithDepth(client.DepthOrders, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var states []tw.FeedState
	stalled := false
	done := make(chan error, 1)
	go func() {
		done <- c.Run(ctx, func(ev *client.Event) error {
			if !stalled && ev.Message.IsUpdate() {
				stalled = true
				time.Sleep(1500 * time.Millisecond)
			}
			if ev.Message.Type() == tw.BodyStatus {
				var s tw.Status
				tab := ev.Message.Table()
				s.Init(tab.Bytes, tab.Pos)
				states = append(states, s.State())
			}
			return nil
		})
	}()
	for d.srv.Stats().Accepted < 1 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	d.play(t, msgs, 1, 10, func(seq uint64) {
		if seq%50_000 == 0 {
			time.Sleep(200 * time.Millisecond)
		}
	})
	d.endAndCompare(t, len(msgs), done, c, want)
	if d.srv.Stats().Conflations == 0 || len(states) < 2 || states[0] != tw.FeedStateConflated || states[len(states)-1] != tw.FeedStateEndOfSession {
		t.Fatalf("conflations %d, states %v", d.srv.Stats().Conflations, states)
	}
}

// TestConflatedAtTheEnd: a connection conflated just before the end of the
// session is sent its fresh snapshots before the end of the session, which
// it would otherwise take as final with the stale book it had (a CI run
// caught the race; here it is forced: the end is published between the
// conflation and the writer's taking its snapshots).
func TestConflatedAtTheEnd(t *testing.T) {
	d := newDaemon(t, transport.ServerConfig{QueueBytes: 64 << 10, SlowAfter: 50 * time.Millisecond})
	addr := d.srv.Addr().String()
	msgs, want := session(t, 100_000, 20, 29)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, addr, client.WithDepth(client.DepthOrders, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	release, conflated := make(chan struct{}), make(chan struct{})
	stalled, told := false, false
	done := make(chan error, 1)
	go func() {
		done <- c.Run(ctx, func(ev *client.Event) error {
			if !stalled && ev.Message.IsUpdate() {
				stalled = true
				<-release
			}
			if ev.Message.Type() == tw.BodyStatus && !told {
				var s tw.Status
				tab := ev.Message.Table()
				s.Init(tab.Bytes, tab.Pos)
				if s.State() == tw.FeedStateConflated {
					told = true
					close(conflated)
				}
			}
			return nil
		})
	}()
	for d.srv.Stats().Accepted < 1 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	d.play(t, msgs, 1, 10, nil)
	for d.srv.Stats().Conflations == 0 {
		if ctx.Err() != nil {
			t.Fatal("never conflated")
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	select {
	case <-conflated:
	case <-ctx.Done():
		t.Fatal("no Status Conflated")
	}
	// The resynchronisation is asked for and not taken yet: the end comes
	// first in the ring.
	d.endAndCompare(t, len(msgs), done, c, want)
}

// flushWhile flushes d's publisher every millisecond, as the live
// handler's loop does while idle (a client resynchronising gets its
// snapshots, and the end after them, only once a Flush takes its request),
// until ch yields, and returns what it yielded.
func flushWhile[T any](d *daemon, ch <-chan T) T {
	for {
		select {
		case v := <-ch:
			return v
		case <-time.After(time.Millisecond):
			d.pub.Flush()
		}
	}
}

// endAndWait publishes the end of a session of n messages and flushes
// until n results came on done, each nil.
func (d *daemon) endAndWait(t *testing.T, msgs int, done <-chan error, n int) {
	t.Helper()
	d.pub.Status(tw.FeedStateEndOfSession, "end of session", uint64(msgs))
	for range n {
		if err := flushWhile(d, done); err != nil {
			t.Fatal(err)
		}
	}
}

// endAndCompare publishes the end of a session of n messages, flushes while
// the client's Run (done) goes on, as the live handler's loop does while
// idle, so that requests are taken, and compares the client's mirror with
// want.
func (d *daemon) endAndCompare(t *testing.T, n int, done <-chan error, c *client.Client, want []byte) {
	t.Helper()
	d.endAndWait(t, n, done, 1)
	var got bytes.Buffer
	c.Book().WriteBooks(&got)
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("the mirror differs at the end\n%s", firstDiff(got.Bytes(), want))
	}
}

// TestRebuildResynchronises: when the daemon rebuilds its book (Status
// Recovering, the book emptied and refilled, Status Live), every client is
// sent fresh snapshots and ends exact.
func TestRebuildResynchronises(t *testing.T) {
	d := newDaemon(t, transport.ServerConfig{})
	addr := d.srv.Addr().String()
	msgs, want := session(t, 40_000, 20, 17)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan []byte, 2)
	for _, depth := range []client.Depth{client.DepthLevels, client.DepthOrders} {
		go func() {
			b, err := mirror(ctx, addr, client.WithDepth(depth, 0))
			if err != nil {
				t.Errorf("depth %d: %v", depth, err)
			}
			done <- b
		}()
	}
	for d.srv.Stats().Accepted < 2 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	half := len(msgs) / 2
	d.play(t, msgs[:half], 1, 20, nil)
	// The rebuild: what a snapshot gives, applied to an emptied book.
	d.pub.Status(tw.FeedStateRecovering, "rebuilding", uint64(half))
	d.book.Reset()
	d.play(t, msgs[:half], 1, 1000, nil)
	d.pub.Status(tw.FeedStateLive, "", uint64(half))
	d.play(t, msgs[half:], uint64(half)+1, 20, nil)
	d.pub.Status(tw.FeedStateEndOfSession, "end of session", uint64(len(msgs)))
	// The writer goes on flushing while idle, as the live handler's loop
	// does: a client resynchronising after the rebuild is sent its
	// snapshots, and the end after them, only once its request is taken.
	deadline := time.After(20 * time.Second)
	for n := 0; n < 2; {
		select {
		case got := <-done:
			if !bytes.Equal(got, want) {
				t.Fatalf("mirror differs after the rebuild\n%s", firstDiff(got, want))
			}
			n++
		case <-time.After(time.Millisecond):
			d.pub.Flush()
		case <-deadline:
			t.Fatal("no end")
		}
	}
}

// TestMarketWide: the market-wide circuit breaker's levels and breach (V,
// W: locate 0) reach every subscriber whatever it subscribed to, and a
// subscriber joining later is told them before its snapshots; a broken
// trade (B) reaches the instrument's subscribers at every depth.
func TestMarketWide(t *testing.T) {
	d := newDaemon(t, transport.ServerConfig{})
	addr := d.srv.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	type seen struct {
		levels, breach, broken int
		level1                 uint64
		breached               uint8
	}
	done := make(chan error, 2)
	watch := func(opts ...client.Option) *seen {
		c, err := client.Dial(ctx, addr, opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		s := &seen{}
		go func() {
			done <- c.Run(ctx, func(ev *client.Event) error {
				m := ev.Message
				if m == nil {
					return nil
				}
				switch m.Type() {
				case tw.BodyMwcbLevels:
					var v tw.MwcbLevelsFields
					v.Init(m.Fields(tw.BodyMwcbLevels))
					s.levels, s.level1 = s.levels+1, v.Level1()
				case tw.BodyMwcbBreach:
					var v tw.MwcbBreachFields
					v.Init(m.Fields(tw.BodyMwcbBreach))
					s.breach, s.breached = s.breach+1, v.BreachedLevel()
				case tw.BodyTradeBroken:
					s.broken++
				}
				return nil
			})
		}()
		return s
	}
	seq := uint64(0)
	apply := func(m []byte) {
		if err := itch.Check(m); err != nil {
			t.Fatal(err)
		}
		seq++
		d.book.Apply(seq, itch.Message(m))
		d.pub.Flush()
	}
	early := watch(client.WithSymbols("AAPL"), client.WithDepth(client.DepthTop, 0))
	for d.srv.Stats().Accepted < 1 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	d.pub.Flush()
	apply((&itch.StockDirectoryMsg{Header: itch.Header{Locate: 7}, Stock: itch.Alpha8("AAPL")}).Append(nil))
	apply((&itch.MWCBDeclineLevelMsg{Level1: 5_000_00000000, Level2: 4_000_00000000, Level3: 3_000_00000000}).Append(nil))
	apply((&itch.MWCBStatusMsg{BreachedLevel: '1'}).Append(nil))
	apply((&itch.BrokenTradeMsg{Header: itch.Header{Locate: 7}, Match: 99}).Append(nil))
	late := watch(client.WithDepth(client.DepthOrders, 0))
	for d.srv.Stats().Accepted < 2 {
		time.Sleep(time.Millisecond)
	}
	for range 20 { // the late subscription taken before the end
		d.pub.Flush()
		time.Sleep(time.Millisecond)
	}
	d.endAndWait(t, int(seq), done, 2)
	if *early != (seen{levels: 1, breach: 1, broken: 1, level1: 5_000_00000000, breached: 1}) {
		t.Errorf("the early subscriber saw %+v", *early)
	}
	if *late != (seen{levels: 1, breach: 1, level1: 5_000_00000000, breached: 1}) {
		t.Errorf("the late subscriber saw %+v", *late)
	}
}

// TestSubscribedAtTheEnd: a client whose first Subscribe reaches the server
// just before the end of the session is published (its snapshots not taken
// yet) gets its snapshots before the end, not an end of session first and
// an empty mirror (TestPythonSubscriberTLS caught it once).
func TestSubscribedAtTheEnd(t *testing.T) {
	d := newDaemon(t, transport.ServerConfig{})
	msgs, want := session(t, 20_000, 20, 43)
	d.play(t, msgs, 1, 50, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, d.srv.Addr().String(), client.WithDepth(client.DepthLevels, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, nil) }()
	time.Sleep(100 * time.Millisecond) // the Subscribe has arrived; no Flush has taken it
	d.endAndCompare(t, len(msgs), done, c, want)
}

// TestBacklogWaitsInTheRing: a client that stops reading for a while, under
// SlowAfter and QueueBytes, keeps its backlog in the ring, not in buffers of
// its own: gnet holds at most about writeAhead and a batch for it however
// far behind it is; once it reads again it catches up, is not conflated,
// and ends exact.
func TestBacklogWaitsInTheRing(t *testing.T) {
	d := newDaemon(t, transport.ServerConfig{QueueBytes: 1 << 30, SlowAfter: 20 * time.Second})
	addr := d.srv.Addr().String()
	msgs, want := session(t, 300_000, 50, 43)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, addr, client.WithDepth(client.DepthOrders, 0), client.WithoutReconnect())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	release := make(chan struct{})
	paused := false
	done := make(chan error, 1)
	go func() {
		done <- c.Run(ctx, func(ev *client.Event) error {
			if !paused && ev.Message.IsUpdate() {
				paused = true
				<-release
			}
			return nil
		})
	}()
	for d.srv.Stats().Accepted < 1 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	d.play(t, msgs, 1, 100, nil)
	// The whole session is now waiting for the client: in the kernel's
	// buffers, in gnet's, and the rest in the ring.
	for range 20 {
		d.pub.Flush()
		time.Sleep(5 * time.Millisecond)
	}
	st := d.srv.Stats()
	close(release)
	d.pub.Status(tw.FeedStateEndOfSession, "end of session", uint64(len(msgs)))
	if err := flushWhile(d, done); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	c.Book().WriteBooks(&b)
	if !bytes.Equal(b.Bytes(), want) {
		t.Fatalf("the paused client's mirror differs\n%s", firstDiff(b.Bytes(), want))
	}
	const bound = 64<<10 + 256<<10 + transport.MaxFrameSize // writeAhead, outBatch, a frame
	if st.BufferedPeak > bound {
		t.Errorf("gnet held up to %d bytes for one paused client, want at most %d", st.BufferedPeak, bound)
	}
	if st.BufferedPeak == 0 {
		t.Errorf("gnet held nothing: the session fit in the kernel's buffers, and the test shows nothing")
	}
	if n := d.srv.Stats().Conflations; n != 0 {
		t.Errorf("%d conflations of a client within QueueBytes and SlowAfter", n)
	}
	t.Logf("paused client: gnet held at most %d bytes", st.BufferedPeak)
}

// TestLoopPlaced: transport.nice reaches the event loop's thread.
func TestLoopPlaced(t *testing.T) {
	d := newDaemon(t, transport.ServerConfig{LoopNice: 3})
	c := dialRaw(t, d.srv.Addr().String())
	defer c.conn.Close()
	for d.srv.Stats().Accepted+uint64(d.srv.Stats().Clients) == 0 {
		time.Sleep(time.Millisecond)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		tasks, _ := os.ReadDir("/proc/self/task")
		for _, e := range tasks {
			stat, err := os.ReadFile("/proc/self/task/" + e.Name() + "/stat")
			if err != nil {
				continue
			}
			// Fields after the command's closing parenthesis: state is
			// the first, nice the 17th.
			f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
			if len(f) > 16 && f[16] == "3" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no thread of the process at nice 3: the event loop was not placed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
