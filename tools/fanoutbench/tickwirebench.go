package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/tickwire/tickwire/book"
	"github.com/tickwire/tickwire/client"
	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/transport"
	"github.com/tickwire/tickwire/transport/tw"
)

// feed is the book's writer: it applies ITCH messages whose timestamps are
// the time they are applied (nanoseconds since base), each of them changing
// the best bid of one instrument (an order better than the resting one is
// added, then deleted), so that every message is one top-of-book update.
type feed struct {
	b    *book.Book
	pub  *transport.Publisher
	n    int // instruments, locates 1..n
	seq  uint64
	next int
	up   []uint64 // by locate: the ref of the better order resting, 0 if none
	ref  uint64
	tops atomic.Int64 // top-of-book changes applied (by the listener)
	buf  []byte
}

func newFeed(pub *transport.Publisher, n int) *feed {
	f := &feed{pub: pub, n: n, up: make([]uint64, n+1), ref: 1 << 32}
	f.b = book.New(book.WithListener(book.ListenerFunc(func(c *book.Change) {
		if c.Kind == book.ChangeTop {
			f.tops.Add(1)
		}
		pub.Change(c)
	})))
	pub.SetBook(f.b)
	for loc := 1; loc <= n; loc++ {
		h := itch.Header{Locate: uint16(loc), Timestamp: nowNS()}
		sym := itch.Alpha8(fmt.Sprintf("S%05d", loc))
		f.apply((&itch.StockDirectoryMsg{Header: h, Stock: sym, MarketCategory: 'Q', RoundLotSize: 100}).Append(f.buf[:0]))
		f.apply((&itch.AddOrderMsg{Header: h, Ref: uint64(loc) * 2, Side: itch.Buy, Shares: 100, Stock: sym, Price: 1_000_000}).Append(f.buf[:0]))
		f.apply((&itch.AddOrderMsg{Header: h, Ref: uint64(loc)*2 + 1, Side: itch.Sell, Shares: 100, Stock: sym, Price: 1_010_000}).Append(f.buf[:0]))
	}
	pub.Flush()
	return f
}

func (f *feed) apply(m []byte) {
	if err := itch.Check(m); err != nil {
		panic(err)
	}
	f.buf = m
	f.seq++
	f.b.Apply(f.seq, itch.Message(m))
}

// step applies the next message, round robin over the instruments.
func (f *feed) step() {
	loc := f.next%f.n + 1
	f.next++
	h := itch.Header{Locate: uint16(loc), Timestamp: nowNS()}
	if r := f.up[loc]; r != 0 {
		f.up[loc] = 0
		f.apply((&itch.OrderDeleteMsg{Header: h, Ref: r}).Append(f.buf[:0]))
		return
	}
	f.ref++
	f.up[loc] = f.ref
	f.apply((&itch.AddOrderMsg{Header: h, Ref: f.ref, Side: itch.Buy, Shares: 200, Stock: itch.Alpha8(""), Price: 1_000_100}).Append(f.buf[:0]))
}

// emit applies n messages and flushes: one batch (an ITCH packet).
func (f *feed) emit(n int) {
	for range n {
		f.step()
	}
	f.pub.Flush()
}

// sub is one subscriber: a client.Client running on its own goroutine.
type sub struct {
	c     *client.Client
	ups   atomic.Int64 // LevelChanged updates received
	snaps atomic.Int64
	lat   *lat
	done  chan error
}

// runTickwire measures tickwire's fan-out in the same shape as runNATS.
func runTickwire(c config, logf func(string, ...any)) (*result, error) {
	r := &result{}
	var recording atomic.Bool
	wrote, first := newLat(), newLat()
	// A pass writes the connections one after the other: a write less
	// than 100 us after the one before is a turn of the same pass.
	var lastWrite int64 // on the event loop alone
	var turnSum, turnN atomic.Int64
	var events atomic.Int64
	srv := transport.NewServer(transport.ServerConfig{Listen: "127.0.0.1:0", MaxClients: c.idle + 4*c.subs + 64, Loops: c.loops,
		Logf: func(format string, args ...any) {
			if events.Add(1) <= 5 {
				logf("tickwire server: "+format, args...)
			}
		},
		OnWrite: func(b []byte) {
			if recording.Load() {
				now := int64(nowNS())
				recordWrite(wrote, b)
				if d := now - lastWrite; lastWrite != 0 && d < 100_000 {
					turnSum.Add(d)
					turnN.Add(1)
				} else {
					recordWrite(first, b)
				}
				lastWrite = now
			}
		}})
	pub := srv.Publisher()
	f := newFeed(pub, c.instruments)
	if err := srv.Start(); err != nil {
		return nil, err
	}
	// Connections are closed once the server is, so that closing them
	// is not measured.
	var closers []func()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Close(ctx)
		for _, f := range closers {
			f()
		}
	}()
	addr := srv.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	subs := make([]*sub, c.subs)
	for i := range subs {
		cl, err := client.Dial(ctx, addr, client.WithDepth(client.DepthTop, 0), client.WithoutReconnect(), client.WithName(fmt.Sprint("bench", i)))
		if err != nil {
			return nil, err
		}
		closers = append(closers, func() { cl.Close() })
		s := &sub{c: cl, lat: newLat(), done: make(chan error, 1)}
		subs[i] = s
		go func() {
			s.done <- cl.Run(ctx, func(ev *client.Event) error {
				if ev.Kind != client.EventMessage {
					return nil
				}
				switch ev.Message.Type() {
				case tw.BodyLevelChanged:
					s.ups.Add(1)
					if recording.Load() {
						st, _ := ev.Message.Stamp()
						s.lat.record(nowNS()-st.Timestamp, 1)
					}
				case tw.BodySnapshot:
					s.snaps.Add(1)
				}
				return nil
			})
		}()
	}
	// The subscriptions are taken at a Flush.
	for end := time.Now().Add(10 * time.Second); ; {
		pub.Flush()
		ready := 0
		for _, s := range subs {
			if s.snaps.Load() >= int64(c.instruments) {
				ready++
			}
		}
		if ready == len(subs) {
			break
		}
		if time.Now().After(end) {
			return nil, fmt.Errorf("%d of %d subscribers got their snapshots", ready, len(subs))
		}
		time.Sleep(time.Millisecond)
	}
	f.tops.Store(0)
	lats := make([]*lat, len(subs))
	for i, s := range subs {
		lats[i] = s.lat
	}
	minUps := func() int64 {
		m := subs[0].ups.Load()
		for _, s := range subs[1:] {
			m = min(m, s.ups.Load())
		}
		return m
	}
	total := func() int64 {
		var t int64
		for _, s := range subs {
			t += s.ups.Load()
		}
		return t
	}
	drain := func() {
		for end := time.Now().Add(5 * time.Second); minUps() < f.tops.Load() && time.Now().Before(end); {
			time.Sleep(time.Millisecond)
		}
	}

	// Throughput: the writer as fast as it goes in batches, held back only
	// so that no subscriber is lapped by the ring (nothing may be lost): at
	// most window updates ahead of the slowest (about 2 MiB of frames,
	// below QueueBytes: a connection past it is dropped and conflated).
	logf("tickwire: throughput, %d subscribers, %v", c.subs, c.window)
	const window = 20_000
	unpaced := func(d time.Duration) {
		for t0 := time.Now(); time.Since(t0) < d; {
			if f.tops.Load()-minUps() > window {
				time.Sleep(50 * time.Microsecond)
				continue
			}
			f.emit(c.batch)
		}
	}
	unpaced(c.window / 4) // warm up
	drain()
	pub0, got0, t0 := f.tops.Load(), total(), time.Now()
	unpaced(c.window)
	el := time.Since(t0)
	r.published = float64(f.tops.Load()-pub0) / el.Seconds()
	r.delivered = float64(total()-got0) / el.Seconds()
	drain()

	// Latency at the paced rate.
	logf("tickwire: latency at %d/s, %v", c.rate, c.window)
	recording.Store(true)
	pace(c.rate, c.window, nil, f.emit)
	drain()
	r.lat, r.wrote, r.firstWrote = gather(lats), gather([]*lat{wrote}), gather([]*lat{first})
	if n := turnN.Load(); n > 0 {
		r.turn = time.Duration(turnSum.Load() / n)
	}

	// Idle connections while the paced feed runs.
	logf("tickwire: %d idle connections, the paced feed running", c.idle)
	stop := make(chan struct{})
	idleDone := make(chan struct{})
	go func() {
		defer close(idleDone)
		var ic *idleChild
		r.idle, r.idleErr, ic = idleCost("tickwire", addr, c.idle, func() int { return int(srv.Stats().Clients) })
		if ic != nil {
			closers = append(closers, ic.stop)
		}
		close(stop)
	}()
	pace(c.rate, time.Minute, stop, f.emit)
	<-idleDone
	drain()
	r.idleLat, r.idleWrote = gather(lats), gather([]*lat{wrote})

	if n := srv.Stats().Conflations; n > 0 {
		r.conflated = fmt.Sprintf("%d conflations before the stalled subscriber", n)
	}

	// A subscriber that stops reading.
	logf("tickwire: a subscriber stops reading")
	slowConn, err := tickwireSlow(c, srv, f, r, lats, wrote)
	if slowConn != nil {
		closers = append(closers, func() { slowConn.Close() })
	}
	if err != nil {
		return nil, err
	}
	drain()
	recording.Store(false)

	// The end of the session: every subscriber's mirror is checked.
	pub.Status(tw.FeedStateEndOfSession, "end of session", f.seq)
	r.lost = "none: every mirror equals the book, every update counted"
	if r.conflated != "" {
		r.lost = r.conflated
	}
	for i, s := range subs {
		select {
		case err := <-s.done:
			if err != nil {
				return nil, fmt.Errorf("subscriber %d: %w", i, err)
			}
		case <-time.After(10 * time.Second):
			return nil, fmt.Errorf("subscriber %d did not see the end of the session", i)
		}
		if got, want := s.ups.Load(), f.tops.Load(); got != want {
			r.lost = fmt.Sprintf("subscriber %d: %d updates for %d applied", i, got, want)
			if got > want {
				r.lost += fmt.Sprintf(" (%d duplicated)", got-want)
			}
			break
		}
		if err := sameTops(f.b, s.c.Book(), c.instruments, false); err != nil {
			r.lost = fmt.Sprintf("subscriber %d: %v", i, err)
			break
		}
	}
	return r, nil
}

// recordWrite records, for each frame in b, the age of its oldest update:
// the first message of the first frame is the oldest of the write, and
// every frame in it is counted at that age (an upper bound per update,
// cheap on the event loop: one frame opened per write).
func recordWrite(l *lat, b []byte) {
	now := nowNS()
	frames := int64(0)
	for p := b; len(p) >= transport.PrefixSize; frames++ {
		n := transport.PrefixSize + int(binary.LittleEndian.Uint32(p))
		if n > len(p) {
			break
		}
		p = p[n:]
	}
	if frames == 0 {
		return
	}
	n := transport.PrefixSize + int(binary.LittleEndian.Uint32(b))
	fr, err := transport.Open(b[transport.PrefixSize:n])
	if err != nil || fr.Len() == 0 {
		return
	}
	var m transport.Message
	if st, ok := fr.Message(0, &m).Stamp(); ok && m.Type() == tw.BodyLevelChanged && st.Timestamp <= now {
		l.record(now-st.Timestamp, frames)
	}
}

// tickwireSlow subscribes a raw connection with a small receive buffer,
// stops reading it, and runs the paced feed until the server conflates it
// or cuts it off (SlowAfter past QueueBytes, the defaults) or slowMax
// passes, and a second after.
func tickwireSlow(c config, srv *transport.Server, f *feed, r *result, lats []*lat, wrote *lat) (net.Conn, error) {
	conn, err := smallRcvBuf.Dial("tcp", srv.Addr().String())
	if err != nil {
		return nil, err
	}
	if err := tickwireHello(conn); err != nil {
		return conn, err
	}
	e := transport.NewEncoder(256)
	e.Begin(2)
	e.Subscribe(false, nil, nil, true, tw.DepthTop, 0)
	fr, _ := e.Finish()
	if _, err := conn.Write(fr); err != nil {
		return conn, err
	}
	st0 := srv.Stats()
	acted := func() (bool, string) {
		st := srv.Stats()
		if st.Disconnects[transport.DisconnectSlow] > st0.Disconnects[transport.DisconnectSlow] {
			return true, "cut off (slow consumer)"
		}
		if st.Conflations > st0.Conflations {
			return true, "conflated"
		}
		return false, ""
	}
	gather(lats)
	gather([]*lat{wrote})
	stop := make(chan struct{})
	t0 := time.Now()
	var took atomic.Int64
	var action atomic.Value
	go func() {
		for time.Since(t0) < c.slowMax {
			if ok, a := acted(); ok {
				action.Store(a)
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		took.Store(int64(time.Since(t0)))
		time.Sleep(time.Second)
		close(stop)
	}()
	pace(c.rate, c.slowMax+2*time.Second, stop, f.emit)
	r.slowLat, r.slowWrote = gather(lats), gather([]*lat{wrote})
	if a, ok := action.Load().(string); ok {
		r.slowAfter, r.slowAction = time.Duration(took.Load()), a
	} else {
		r.slowAfter, r.slowAction = -1, "not conflated"
	}
	return conn, nil
}

// tickwireHello says Hello on c and reads the HelloReply.
func tickwireHello(c net.Conn) error {
	c.SetDeadline(time.Now().Add(10 * time.Second))
	defer c.SetDeadline(time.Time{})
	e := transport.NewEncoder(256)
	e.Begin(1)
	e.Hello(transport.ProtocolVersion, nil, []byte("idle"))
	f, _ := e.Finish()
	if _, err := c.Write(f); err != nil {
		return err
	}
	rd := transport.NewFrameReader(0)
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return err
		}
		fr, _, ok, err := rd.Next(buf[:n])
		if err != nil {
			return err
		}
		if ok {
			var m transport.Message
			if fr.Message(0, &m).Type() != tw.BodyHelloReply {
				return fmt.Errorf("tickwire: %s, want a HelloReply", tw.EnumNamesBody[m.Type()])
			}
			return nil
		}
	}
}

// sameTops compares the mirror's best levels with the book's: a mirror
// at DepthTop holds the best level alone (deeper holds more: only
// its first is compared).
func sameTops(b *book.Book, m *client.Book, n int, deeper bool) error {
	for loc := 1; loc <= n; loc++ {
		bid, ask, _ := b.Best(uint16(loc))
		in := m.Instrument(uint16(loc))
		if in == nil {
			return fmt.Errorf("locate %d not mirrored", loc)
		}
		if !sameLevel(bid, in.Bids, deeper) || !sameLevel(ask, in.Asks, deeper) {
			return fmt.Errorf("locate %d: mirror %v/%v, book %v/%v", loc, in.Bids, in.Asks, bid, ask)
		}
	}
	return nil
}

func sameLevel(l book.Level, ls []book.Level, deeper bool) bool {
	if l.Orders == 0 {
		return len(ls) == 0
	}
	return (len(ls) == 1 || deeper && len(ls) > 1) && ls[0] == l
}
