package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tickwire/tickwire/client"
	"github.com/tickwire/tickwire/internal/natstest"
	"github.com/tickwire/tickwire/transport"
	"github.com/tickwire/tickwire/transport/natsjs"
	"github.com/tickwire/tickwire/transport/ring"
	"github.com/tickwire/tickwire/transport/tw"
)

// jsResult is what the path through JetStream measured (issue 12): the
// same feed as runTickwire's, published by transport/natsjs into a stream
// on nodes servers (replicas as many) and read by c.subs client.DialNATS
// subscribers of every instrument.
type jsResult struct {
	nodes     int
	solo      float64       // updates per second acknowledged, no subscriber
	published float64       // updates per second acknowledged by JetStream, subscribers reading
	rate      int           // the paced run's updates per second
	tried     []string      // the paced rates tried before, and their medians
	joined    time.Duration // from the first subscriber's dial until all had every update
	delivered float64       // updates per second, all subscribers
	msgs      float64       // NATS messages per second into the stream
	lost      string
	// At the paced rate, per update, from the book: routed by the
	// server to a plain (core NATS) subscriber of the subjects, stored
	// and acknowledged to the publisher, decoded by a JetStream
	// subscriber.
	toServer, toAck, toClient quantiles
	perUpdate                 float64 // stream bytes per update
	perMsg                    float64 // updates per NATS message, paced
	stats                     natsjs.Stats
}

// updateCounter counts the distinct updates (feed sequences) in NATS
// messages of natsjs's frames, and records their age: one per goroutine.
type updateCounter struct {
	last []uint64 // by locate: the last feed sequence counted
	n    atomic.Int64
	lat  *lat
	on   *atomic.Bool
}

func newUpdateCounter(instruments int, on *atomic.Bool) *updateCounter {
	return &updateCounter{last: make([]uint64, instruments+1), lat: newLat(), on: on}
}

// stamp counts st if it is news.
func (u *updateCounter) stamp(st transport.Stamp, now uint64) {
	if int(st.Locate) >= len(u.last) || st.FeedSeq <= u.last[st.Locate] {
		return
	}
	u.last[st.Locate] = st.FeedSeq
	u.n.Add(1)
	if u.on.Load() && st.Timestamp <= now {
		u.lat.record(now-st.Timestamp, 1)
	}
}

// message counts the updates of an instrument's message (Tw-Kind u).
func (u *updateCounter) message(m *nats.Msg) {
	if m.Header.Get(natsjs.HeaderKind) != natsjs.KindUpdates {
		return
	}
	now := nowNS()
	var msg transport.Message
	for data := m.Data; len(data) >= transport.PrefixSize; {
		n := transport.PrefixSize + int(binary.LittleEndian.Uint32(data))
		if n > len(data) {
			return
		}
		f, err := natsjs.OpenFrame(data[:n])
		if err != nil {
			return
		}
		for i := range f.Len() {
			if st, ok := f.Message(i, &msg).Stamp(); ok {
				u.stamp(st, now)
			}
		}
		data = data[n:]
	}
}

// runJetStream measures the JetStream path on nodes servers: first the
// publisher alone (no subscriber), into a stream of its own; then with
// c.subs subscribers, the rate they are all delivered, and the latency
// per hop at a paced rate they keep up with.
func runJetStream(c config, nodes int, logf func(string, ...any)) (*jsResult, error) {
	r := &jsResult{nodes: nodes}
	cl, err := natstest.Start(nodes)
	if err != nil {
		return nil, err
	}
	defer cl.Stop()
	pub := transport.NewPublisher(ring.New(64<<20), nil)
	f := newFeed(pub, c.instruments)
	var recording atomic.Bool
	const window = 20_000 // updates the feed may be ahead of the slowest reader

	// The publisher alone.
	solo := newUpdateCounter(c.instruments, &recording)
	np, err := startJS(pub, natsjs.Config{URL: cl.URL, Replicas: nodes, Prefix: "solo", Stream: "SOLO", KV: "solo_books", OnAck: solo.message}, logf)
	if err != nil {
		return nil, err
	}
	logf("jetstream (%d server(s)): the publisher alone, %v", nodes, c.window)
	quiet(np, solo, func() int64 { return solo.n.Load() })

	unpaced(f, c, c.window/4, func() bool { return np.Stats().Pending > 4096 })
	ack0, t0 := solo.n.Load(), time.Now()
	unpaced(f, c, c.window, func() bool { return np.Stats().Pending > 4096 })
	r.solo = float64(solo.n.Load()-ack0) / time.Since(t0).Seconds()
	if err := closeJS(np); err != nil {
		return nil, err
	}
	if err := deleteStream(cl.URL, "SOLO"); err != nil {
		return nil, err
	}

	acked := newUpdateCounter(c.instruments, &recording)
	np, err = startJS(pub, natsjs.Config{URL: cl.URL, Replicas: nodes, OnAck: acked.message}, logf)
	if err != nil {
		return nil, err
	}
	closed := false
	defer func() {
		if !closed {
			closeJS(np)
		}
	}()
	f.emit(c.instruments) // a session in the stream to subscribe to

	// A plain subscriber of the subjects: when the server has the
	// message (before it is stored).
	tapConn, err := nats.Connect(cl.URL)
	if err != nil {
		return nil, err
	}
	defer tapConn.Close()
	tap := newUpdateCounter(c.instruments, &recording)
	tapSub, err := tapConn.Subscribe("tickwire.>", tap.message)
	if err != nil {
		return nil, err
	}
	tapSub.SetPendingLimits(-1, -1)
	tapConn.Flush()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type jsSub struct {
		c    *client.Client
		u    *updateCounter
		done chan error
	}
	dialed := time.Now()
	subs := make([]*jsSub, c.subs)
	for i := range subs {
		dctx, dcancel := context.WithTimeout(ctx, 30*time.Second)
		cli, err := client.DialNATS(dctx, cl.URL, client.WithNATS(client.NATSOptions{From: client.FromStart()}), client.WithName(fmt.Sprint("bench", i)))
		dcancel()
		if err != nil {
			return nil, fmt.Errorf("subscriber %d: %w", i, err)
		}
		defer cli.Close()
		s := &jsSub{c: cli, u: newUpdateCounter(c.instruments, &recording), done: make(chan error, 1)}
		subs[i] = s
		go func() {
			s.done <- cli.Run(ctx, func(ev *client.Event) error {
				if ev.Kind == client.EventMessage {
					if st, ok := ev.Message.Stamp(); ok {
						s.u.stamp(st, nowNS())
					}
				}
				return nil
			})
		}()
	}
	lats := make([]*lat, len(subs))
	for i, s := range subs {
		lats[i] = s.u.lat
	}
	minGot := func() int64 {
		m := subs[0].u.n.Load()
		for _, s := range subs[1:] {
			m = min(m, s.u.n.Load())
		}
		return m
	}
	total := func() int64 {
		var t int64
		for _, s := range subs {
			t += s.u.n.Load()
		}
		return t
	}
	// applied is the updates the book made, less those the stream
	// carries in snapshots (the publisher's first ones, of the books as
	// they were when it began to follow them): counted once the stream is
	// quiet.
	var inSnapshots int64
	applied := func() int64 { return f.tops.Load() - inSnapshots }
	// drain waits until every subscriber has every update, for as long
	// as they make progress (acknowledgements may not come: a publish
	// timed out on an overloaded machine is repaired, and may be stored
	// too).
	drain := func() {
		last, since := int64(-1), time.Now()
		for minGot() < applied() && time.Since(since) < 3*time.Second {
			if g := minGot(); g != last {
				last, since = g, time.Now()
			}
			time.Sleep(time.Millisecond)
		}
	}
	// Every subscriber under way before anything is measured (a consumer
	// of a cluster's stream has been seen to take seconds to deliver its
	// first message): a round of updates after they all subscribed, seen
	// by all.
	f.emit(c.instruments)
	for end := time.Now().Add(60 * time.Second); acked.n.Load() == 0 || minGot() < acked.n.Load(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			return nil, fmt.Errorf("a subscriber has %d of the %d updates a minute after it subscribed", minGot(), acked.n.Load())
		}
	}
	r.joined = time.Since(dialed)
	quiet(np, acked, minGot)
	inSnapshots = f.tops.Load() - acked.n.Load()

	// Delivered: the feed as fast as the slowest subscriber takes it
	// (nothing dropped and repaired: MaxPending is not reached).
	logf("jetstream (%d server(s)): delivered to %d subscribers, %v", nodes, c.subs, c.window)
	behind := func() bool { return applied()-minGot() > window || np.Stats().Pending > 4096 }
	unpaced(f, c, c.window/4, behind)
	drain()
	st0, ack0, got0, t0 := np.Stats(), acked.n.Load(), total(), time.Now()
	unpaced(f, c, c.window, behind)
	el := time.Since(t0)
	st1 := np.Stats()
	r.published = float64(acked.n.Load()-ack0) / el.Seconds()
	r.delivered = float64(total()-got0) / el.Seconds()
	r.msgs = float64(st1.Published-st0.Published) / el.Seconds()
	var zero []int
	for i, s := range subs {
		if s.u.n.Load() == 0 {
			zero = append(zero, i)
		}
	}
	logf("jetstream (%d server(s)): applied %d, acknowledged %d, the slowest subscriber %d, %d awaiting acknowledgement; subscribers with nothing: %v",
		nodes, applied(), acked.n.Load(), minGot(), st1.Pending, zero)
	drain()

	// Latency per hop, paced at a rate the subscribers keep up with: from
	// half the rate delivered above (whose messages carried many updates
	// each; paced, an update is about a message), halved until a
	// subscriber's median is within 50 ms (not a queue).
	for r.rate = max(100, min(c.rate, int(r.published/2))); ; r.rate /= 2 {
		logf("jetstream (%d server(s)): latency at %d/s, %v", nodes, r.rate, c.window)
		gather(lats)
		gather([]*lat{tap.lat, acked.lat})
		st0, ack0 = np.Stats(), acked.n.Load()
		recording.Store(true)
		pace(r.rate, c.window, nil, f.emit)
		drain()
		recording.Store(false)
		st1 = np.Stats()
		r.toServer, r.toAck, r.toClient = gather([]*lat{tap.lat}), gather([]*lat{acked.lat}), gather(lats)
		if m := st1.Published - st0.Published; m > 0 {
			r.perMsg = float64(acked.n.Load()-ack0) / float64(m)
		}
		if r.toClient.p50 <= 50e6 || r.rate <= 200 {
			break
		}
		r.tried = append(r.tried, fmt.Sprintf("%d/s (p50 %s)", r.rate, dur(r.toClient.p50)))
	}

	// The end of the session: every mirror is checked.
	pub.Status(tw.FeedStateEndOfSession, "end of session", f.seq)
	pub.Flush()
	r.lost = "none: every mirror's best levels equal the book's, every update delivered"
	for i, s := range subs {
		select {
		case err := <-s.done:
			if err != nil {
				return nil, fmt.Errorf("subscriber %d: %w", i, err)
			}
		case <-time.After(30 * time.Second):
			return nil, fmt.Errorf("subscriber %d did not see the end of the session", i)
		}
		if got, want := s.u.n.Load(), applied(); got != want {
			r.lost = fmt.Sprintf("subscriber %d: %d updates of %d applied", i, got, want)
			break
		}
		if err := sameTops(f.b, s.c.Book(), c.instruments, true); err != nil {
			r.lost = fmt.Sprintf("subscriber %d: %v", i, err)
			break
		}
	}
	closed = true
	if err := closeJS(np); err != nil {
		return nil, err
	}
	r.stats = np.Stats()
	if s := r.stats; s.Dropped+s.Failed+s.Repairs > 0 {
		r.lost += fmt.Sprintf(" (publisher: %d dropped, %d failed, %d repaired)", s.Dropped, s.Failed, s.Repairs)
	}
	if b, err := streamBytes(tapConn, "TICKWIRE"); err == nil && acked.n.Load() > 0 {
		r.perUpdate = float64(b) / float64(acked.n.Load())
	}
	return r, nil
}

// startJS starts a natsjs publisher of pub and waits for its stream.
func startJS(pub *transport.Publisher, cfg natsjs.Config, logf func(string, ...any)) (*natsjs.Publisher, error) {
	cfg.Logf = func(format string, args ...any) { logf("natsjs: "+format, args...) }
	np, err := natsjs.Start(pub, cfg)
	if err != nil {
		return nil, err
	}
	np.SetSession([10]byte{'F', 'A', 'N', 'O', 'U', 'T', ' ', ' ', ' ', ' '})
	for end := time.Now().Add(30 * time.Second); !np.Stats().Connected; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			closeJS(np)
			return nil, errors.New("the stream was not created in 30 s")
		}
	}
	return np, nil
}

func closeJS(np *natsjs.Publisher) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return np.Close(ctx)
}

// quiet waits until the publisher has nothing awaiting acknowledgement
// and its acknowledged updates have stopped moving, and the readers have
// them all (for half a second; 20 s at most).
func quiet(np *natsjs.Publisher, acked *updateCounter, read func() int64) {
	for q, last, end := 0, int64(-1), time.Now().Add(20*time.Second); q < 50 && time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if a := acked.n.Load(); a == last && read() == a && np.Stats().Pending == 0 {
			q++
		} else {
			q, last = 0, a
		}
	}
}

// unpaced runs the feed as fast as it goes in batches for d, waiting
// while held says the readers are too far behind.
func unpaced(f *feed, c config, d time.Duration, held func() bool) {
	for t0 := time.Now(); time.Since(t0) < d; {
		if held() {
			time.Sleep(100 * time.Microsecond)
			continue
		}
		f.emit(c.batch)
	}
}

// deleteStream deletes a stream (the publisher-alone run's: its disk and
// its cluster's work are not the next run's).
func deleteStream(url, name string) error {
	nc, err := nats.Connect(url)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return js.DeleteStream(ctx, name)
}

// streamBytes returns a stream's stored bytes.
func streamBytes(nc *nats.Conn, name string) (uint64, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, name)
	if err != nil {
		return 0, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.State.Bytes, nil
}
