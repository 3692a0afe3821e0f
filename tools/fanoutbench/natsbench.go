package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// natsMsgSize is the anchor's payload: 64 bytes, the send time in the
// first 8.
const natsMsgSize = 64

// result is what one system measured; a field left zero was not measured.
type result struct {
	delivered  float64 // messages (updates) per second, all subscribers
	published  float64 // the publisher's messages per second
	lost       string  // what the subscribers missed
	lat        quantiles
	wrote      quantiles     // book updated to bytes written (tickwire)
	firstWrote quantiles     // the same, for the first connection of each pass
	turn       time.Duration // mean time of a connection's turn in a pass
	idle       perConn
	idleLat    quantiles // during the idle connections' arrival (tickwire)
	idleWrote  quantiles
	idleErr    string
	slowAfter  time.Duration // until the stalled subscriber was cut off or conflated; <0: not within slowMax
	slowAction string
	slowLat    quantiles // the others', while it was stalled
	slowWrote  quantiles
	conflated  string // subscribers conflated before the stalled one (tickwire)
}

// runNATS measures the anchor: an embedded nats-server with nats.go
// clients, as issue 9 describes it.
func runNATS(c config, logf func(string, ...any)) (*result, error) {
	opts := &server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true, MaxConn: c.idle + 4*c.subs + 64}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, err
	}
	go ns.Start()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(10 * time.Second) {
		return nil, errors.New("server not ready")
	}
	url := ns.ClientURL()
	r := &result{}

	subjects := make([]string, c.instruments)
	for i := range subjects {
		subjects[i] = fmt.Sprintf("bench.%d", i)
	}
	var recording atomic.Bool
	counts := make([]atomic.Int64, c.subs)
	lats := make([]*lat, c.subs)
	var subs []*nats.Subscription
	for i := range c.subs {
		nc, err := nats.Connect(url)
		if err != nil {
			return nil, err
		}
		defer nc.Close()
		l := newLat()
		lats[i] = l
		n := &counts[i]
		sub, err := nc.Subscribe("bench.*", func(m *nats.Msg) {
			n.Add(1)
			if recording.Load() && len(m.Data) >= 8 {
				l.record(nowNS()-binary.LittleEndian.Uint64(m.Data), 1)
			}
		})
		if err != nil {
			return nil, err
		}
		subs = append(subs, sub)
		if err := nc.Flush(); err != nil {
			return nil, err
		}
	}
	pc, err := nats.Connect(url)
	if err != nil {
		return nil, err
	}
	defer pc.Close()
	payload := make([]byte, natsMsgSize)
	seq := 0
	publish := func(n int) {
		for range n {
			binary.LittleEndian.PutUint64(payload, nowNS())
			pc.Publish(subjects[seq%len(subjects)], payload)
			seq++
		}
	}
	total := func() int64 {
		var s int64
		for i := range counts {
			s += counts[i].Load()
		}
		return s
	}
	drain := func() {
		pc.Flush()
		want := int64(seq) * int64(c.subs)
		for end := time.Now().Add(5 * time.Second); total() < want && time.Now().Before(end); {
			time.Sleep(5 * time.Millisecond)
		}
	}

	// Throughput: the publisher as fast as it goes.
	logf("nats: throughput, %d subscribers, %v", c.subs, c.window)
	publish(10_000)
	drain()
	seq0, got0, t0 := seq, total(), time.Now()
	for time.Since(t0) < c.window {
		publish(1000)
	}
	el := time.Since(t0)
	r.published = float64(seq-seq0) / el.Seconds()
	r.delivered = float64(total()-got0) / el.Seconds()
	drain()
	dropped := 0
	for _, s := range subs {
		d, _ := s.Dropped()
		dropped += d
	}
	r.lost = fmt.Sprintf("%d of %d dropped (client pending limits), %d slow consumers", int64(seq)*int64(c.subs)-total(), int64(seq)*int64(c.subs), ns.NumSlowConsumers())
	if dropped == 0 && total() == int64(seq)*int64(c.subs) {
		r.lost = "none"
	}

	// Latency at the paced rate.
	logf("nats: latency at %d/s, %v", c.rate, c.window)
	recording.Store(true)
	pace(c.rate, c.window, nil, publish)
	drain()
	r.lat = gather(lats)

	// Idle connections: the server's memory per connection.
	logf("nats: %d idle connections", c.idle)
	var ic *idleChild
	r.idle, r.idleErr, ic = idleCost("nats", ns.Addr().String(), c.idle, func() int { return ns.NumClients() })
	if ic != nil {
		ic.stop()
	}

	// A subscriber that stops reading, at the paced rate.
	logf("nats: a subscriber stops reading")
	r.slowAfter, r.slowAction, err = natsSlow(c, ns, publish, lats, r)
	return r, err
}

// natsSlow subscribes a raw connection with a small receive buffer, stops
// reading it, and publishes at the paced rate until the server cuts it off
// (its slow consumer count moves) or slowMax passes.
func natsSlow(c config, ns *server.Server, publish func(int), lats []*lat, r *result) (time.Duration, string, error) {
	conn, err := smallRcvBuf.Dial("tcp", ns.Addr().String())
	if err != nil {
		return 0, "", err
	}
	defer conn.Close()
	if err := natsHandshake(conn, "SUB bench.* 1\r\n"); err != nil {
		return 0, "", err
	}
	before := ns.NumSlowConsumers()
	gather(lats)
	stop := make(chan struct{})
	t0 := time.Now()
	var took atomic.Int64
	go func() {
		for time.Since(t0) < c.slowMax && ns.NumSlowConsumers() == before {
			time.Sleep(2 * time.Millisecond)
		}
		took.Store(int64(time.Since(t0)))
		time.Sleep(time.Second) // the others, a second after
		close(stop)
	}()
	pace(c.rate, c.slowMax+2*time.Second, stop, publish)
	r.slowLat = gather(lats)
	d := time.Duration(took.Load())
	if ns.NumSlowConsumers() == before {
		return -1, "not cut off", nil
	}
	return d, "cut off (slow consumer)", nil
}

// natsHello makes a NATS connection ready: INFO read, CONNECT sent, PONG
// read.
func natsHello(c net.Conn) error { return natsHandshake(c, "") }

func natsHandshake(c net.Conn, extra string) error {
	c.SetDeadline(time.Now().Add(10 * time.Second))
	defer c.SetDeadline(time.Time{})
	br := bufio.NewReader(c)
	line, err := br.ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "INFO") {
		return fmt.Errorf("nats: %q, want INFO", line)
	}
	if _, err := c.Write([]byte("CONNECT {\"verbose\":false,\"pedantic\":false}\r\n" + extra + "PING\r\n")); err != nil {
		return err
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		if strings.HasPrefix(line, "PONG") {
			return nil
		}
	}
}

// idleCost measures the memory per connection of n idle connections that a
// child process opens to addr; clients says how many the server holds.
// The child is returned running (nil if it failed to start): its
// connections are closed when the caller stops it.
func idleCost(proto, addr string, n int, clients func() int) (perConn, string, *idleChild) {
	before := sampleMem()
	base := clients()
	ic, err := startIdle(proto, addr, n)
	if err != nil {
		return perConn{}, err.Error(), nil
	}
	if err := <-ic.ready; err != nil {
		return perConn{}, err.Error(), ic
	}
	for end := time.Now().Add(10 * time.Second); clients() < base+n && time.Now().Before(end); {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // the server's handshakes settle
	after := sampleMem()
	msg := ""
	if got := clients() - base; got < n {
		msg = fmt.Sprintf("only %d of %d connected", got, n)
	}
	return costPer(before, after, n), msg, ic
}
