package natsjs_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	neturl "net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/tickwire/tickwire/book"
	"github.com/tickwire/tickwire/client"
	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/internal/gen"
	"github.com/tickwire/tickwire/internal/natstest"
	"github.com/tickwire/tickwire/transport"
	"github.com/tickwire/tickwire/transport/natsjs"
	"github.com/tickwire/tickwire/transport/ring"
	"github.com/tickwire/tickwire/transport/tw"
)

// startNATS runs a nats-server with JetStream on a loopback port, storing
// in dir (t.TempDir() when empty), and returns it.
func startNATS(t testing.TB, dir string, port int) *server.Server {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir,
		NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(ns.Shutdown)
	return ns
}

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

var sessionID = [10]byte{'T', 'E', 'S', 'T', 'S', 'E', 'S', 'S', '0', '1'}

// handler is a daemon's books, its Publisher and a NATS publisher of them,
// fed from the test's goroutine as the live handler feeds them.
type handler struct {
	pub  *transport.Publisher
	book *book.Book
	np   *natsjs.Publisher
}

func newHandler(t testing.TB, cfg natsjs.Config) *handler {
	t.Helper()
	return newHandlerRing(t, cfg, 32<<20)
}

// newHandlerRing is newHandler with a fan-out ring of ringSize bytes.
func newHandlerRing(t testing.TB, cfg natsjs.Config, ringSize int) *handler {
	t.Helper()
	pub := transport.NewPublisher(ring.New(ringSize), nil)
	h := &handler{pub: pub, book: book.New(book.WithListener(pub))}
	pub.SetBook(h.book)
	if cfg.SnapshotEvery == 0 {
		cfg.SnapshotEvery = 100 * time.Millisecond
	}
	cfg.Logf = t.Logf
	np, err := natsjs.Start(pub, cfg)
	if err != nil {
		t.Fatal(err)
	}
	np.SetSession(sessionID)
	h.np = np
	t.Cleanup(func() { h.close(t) })
	return h
}

// waitReady waits until the publisher has its stream and bucket.
func (h *handler) waitReady(t testing.TB) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !h.np.Stats().Connected; {
		if time.Now().After(deadline) {
			t.Fatal("the publisher never got its stream")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// play applies msgs[from:to] (feed sequence = index + 1), flushing every
// batch messages.
func (h *handler) play(t testing.TB, msgs [][]byte, from, to, batch int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := itch.Check(msgs[i]); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		h.book.Apply(uint64(i+1), itch.Message(msgs[i]))
		if (i+1)%batch == 0 {
			h.pub.Flush()
		}
	}
	h.pub.Flush()
}

func (h *handler) end(seq uint64) {
	h.pub.Status(tw.FeedStateEndOfSession, "end of session", seq)
	// As the daemon does when it stops: Flush until the publisher follows
	// the books (a lapped one takes its snapshots at a Flush).
	for deadline := time.Now().Add(5 * time.Second); !h.np.Synced() && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		h.pub.Flush()
	}
}

func (h *handler) close(t testing.TB) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.np.Close(ctx); err != nil {
		t.Log(err)
	}
}

// mirror subscribes through NATS until the end of the session and returns
// the books.
func mirror(ctx context.Context, url string, opts ...client.Option) ([]byte, error) {
	b, skipped, err := mirrorSkipped(ctx, url, opts...)
	if err == nil && skipped != 0 {
		err = fmt.Errorf("the client refused %d of the publisher's messages", skipped)
	}
	return b, err
}

// mirrorSkipped is mirror, and the messages the client refused.
func mirrorSkipped(ctx context.Context, url string, opts ...client.Option) ([]byte, uint64, error) {
	c, err := client.DialNATS(ctx, url, opts...)
	if err != nil {
		return nil, 0, err
	}
	defer c.Close()
	if err := c.Run(ctx, nil); err != nil {
		return nil, c.NATSSkipped(), err
	}
	if !c.Ended() {
		return nil, c.NATSSkipped(), errors.New("Run returned before the end of the session")
	}
	var b bytes.Buffer
	err = c.Book().WriteBooks(&b)
	return b.Bytes(), c.NATSSkipped(), err
}

// liveMirror is a client running in the background (goMirror).
type liveMirror struct {
	books chan []byte
	err   chan error
}

// goMirror runs mirror in the background from now on.
func goMirror(ctx context.Context, url string, opts ...client.Option) *liveMirror {
	l := &liveMirror{books: make(chan []byte, 1), err: make(chan error, 1)}
	go func() {
		b, err := mirror(ctx, url, opts...)
		l.books <- b
		l.err <- err
	}()
	return l
}

// check waits for the client's end and compares its books with want.
func (l *liveMirror) check(t *testing.T, name string, want []byte) {
	t.Helper()
	b := <-l.books
	if err := <-l.err; err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	sameBooks(t, name, b, want)
}

func sameBooks(t *testing.T, name string, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	g, w := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := range max(len(g), len(w)) {
		if i >= len(g) || i >= len(w) || !bytes.Equal(g[i], w[i]) {
			var gl, wl []byte
			if i < len(g) {
				gl = g[i]
			}
			if i < len(w) {
				wl = w[i]
			}
			t.Errorf("%s: the books differ from the session's at line %d of %d:\n%s\nwant:\n%s", name, i+1, len(w), head(gl), head(wl))
			return
		}
	}
}

func head(b []byte) []byte { return b[:min(len(b), 600)] }

// TestReplayTheDay publishes a session into JetStream and, after its end,
// rebuilds the books from the stream's start, from the bucket's latest
// snapshots, and from points of the day (a feed sequence, an exchange
// time): every mirror equals the session's books byte for byte. A client
// subscribed live from before the first message does too.
func TestReplayTheDay(t *testing.T) {
	msgs, want := session(t, 40_000, 30, 11)
	ns := startNATS(t, "", 0)
	url := ns.ClientURL()
	h := newHandler(t, natsjs.Config{URL: url})
	h.waitReady(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	h.play(t, msgs, 0, 2_000, 50)
	live := goMirror(ctx, url) // joins a session under way
	for from := 2_000; from < len(msgs); from += 4_000 {
		h.play(t, msgs, from, min(from+4_000, len(msgs)), 50)
		time.Sleep(30 * time.Millisecond) // rounds of snapshots between
	}
	h.end(uint64(len(msgs)))
	h.close(t)
	st := h.np.Stats()
	t.Logf("publisher: %+v", st)
	if st.Dropped != 0 || st.Failed != 0 || st.Rounds < 2 {
		t.Errorf("publisher: %+v: want nothing dropped or failed, and rounds of snapshots", st)
	}
	live.check(t, "live client", want)

	for _, c := range []struct {
		name string
		from client.From
	}{
		{"from the start", client.FromStart()},
		{"latest snapshots", client.From{}},
		{"from a feed sequence", client.FromSeq(uint64(len(msgs) / 2))},
		{"from an exchange time", client.FromTime(timestampOf(msgs[len(msgs)/3]))},
	} {
		got, err := mirror(ctx, url, client.WithNATS(client.NATSOptions{From: c.from}))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		sameBooks(t, c.name, got, want)
	}
}

func timestampOf(m []byte) uint64 {
	return uint64(binary.BigEndian.Uint16(m[5:]))<<32 | uint64(binary.BigEndian.Uint32(m[7:]))
}

// TestRedundantHandlers runs two handlers on the same feed, publishing
// into one stream, each flushing its books at its own pace; the second
// is stopped (killed: it never finishes its session) two thirds in. The
// stream's duplicate window keeps one copy of most messages, and clients
// that start live and after the end equal the session's books.
func TestRedundantHandlers(t *testing.T) {
	msgs, want := session(t, 40_000, 30, 12)
	ns := startNATS(t, "", 0)
	url := ns.ClientURL()
	a := newHandler(t, natsjs.Config{URL: url})
	b := newHandler(t, natsjs.Config{URL: url})
	a.waitReady(t)
	b.waitReady(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	live := goMirror(ctx, url)
	cut := 2 * len(msgs) / 3
	for from := 0; from < len(msgs); from += 5_000 {
		to := min(from+5_000, len(msgs))
		a.play(t, msgs, from, to, 50)
		if from < cut {
			b.play(t, msgs, from, min(to, cut), 70)
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.np.Close(ctx) // mid-session: the other handler goes on alone
	a.end(uint64(len(msgs)))
	a.close(t)
	sa, sb := a.np.Stats(), b.np.Stats()
	t.Logf("handler a: %+v\nhandler b: %+v", sa, sb)
	if sa.Duplicates+sb.Duplicates == 0 {
		t.Error("the stream kept every message of both handlers: no duplicate detected")
	}
	live.check(t, "live client", want)
	for _, from := range []client.From{client.FromStart(), {}} {
		got, err := mirror(ctx, url, client.WithNATS(client.NATSOptions{From: from}))
		if err != nil {
			t.Fatal(err)
		}
		sameBooks(t, fmt.Sprintf("late client %+v", from), got, want)
	}
}

// TestNATSRestart stops the NATS server under a running handler and
// starts it again (same port, same storage): the handler's feed goes on,
// what it could not publish is counted and its instruments repaired by
// snapshots in the stream, and a client that was subscribed throughout
// and one that replays the day after the end both equal the books. The
// session's end comes during a second outage: readers still get it.
func TestNATSRestart(t *testing.T) {
	msgs, want := session(t, 40_000, 30, 13)
	dir := t.TempDir()
	ns := startNATS(t, dir, 0)
	url := ns.ClientURL()
	port := ns.Addr().(*net.TCPAddr).Port
	h := newHandler(t, natsjs.Config{URL: url})
	h.waitReady(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	live := goMirror(ctx, url)
	third := len(msgs) / 3
	h.play(t, msgs, 0, third, 50)
	time.Sleep(100 * time.Millisecond)
	ns.Shutdown()
	ns.WaitForShutdown()
	h.play(t, msgs, third, 2*third, 50) // NATS is down
	time.Sleep(200 * time.Millisecond)  // the publisher meets the outage
	ns = startNATS(t, dir, port)
	h.waitReady(t)
	h.play(t, msgs, 2*third, len(msgs), 50)
	time.Sleep(100 * time.Millisecond)
	// The session ends while NATS is down again: readers still get its end.
	ns.Shutdown()
	ns.WaitForShutdown()
	h.end(uint64(len(msgs)))
	time.Sleep(300 * time.Millisecond)
	startNATS(t, dir, port) // stopped by the test's cleanup
	h.waitReady(t)
	h.close(t)
	st := h.np.Stats()
	t.Logf("publisher: %+v", st)
	if st.Dropped+st.Failed == 0 || st.Repairs == 0 {
		t.Errorf("NATS down: want frames counted as dropped or failed, and instruments repaired: %+v", st)
	}
	live.check(t, "client subscribed throughout", want)
	got, err := mirror(ctx, url, client.WithNATS(client.NATSOptions{From: client.FromStart()}))
	if err != nil {
		t.Fatal(err)
	}
	sameBooks(t, "replay from the start", got, want)
}

// TestClusterLeaderKilled publishes into a three-node JetStream cluster
// (stream and bucket with three replicas) and kills the stream's leader
// mid-session: the handler carries on through the other servers, and a
// client subscribed throughout and one replaying the day after the end
// equal the session's books.
func TestClusterLeaderKilled(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a three-node cluster: not under the race detector (minutes there) nor -short")
	}
	msgs, want := session(t, 30_000, 30, 14)
	cl, err := natstest.Start(3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Stop)
	nodes, urls, url := cl.Nodes, cl.URLs, cl.URL
	h := newHandler(t, natsjs.Config{URL: url, Replicas: 3})
	for deadline := time.Now().Add(30 * time.Second); !h.np.Stats().Connected; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the cluster never took the stream")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	live := goMirror(ctx, url)
	half := len(msgs) / 2
	h.play(t, msgs, 0, half, 50)
	time.Sleep(100 * time.Millisecond)
	killed := -1
	for i, ns := range nodes {
		if ns.JetStreamIsStreamLeader("$G", "TICKWIRE") {
			killed = i
			ns.Shutdown()
			break
		}
	}
	if killed < 0 {
		t.Fatal("no stream leader found")
	}
	t.Logf("killed the stream leader n%d", killed)
	h.play(t, msgs, half, len(msgs), 50)
	time.Sleep(200 * time.Millisecond)
	h.end(uint64(len(msgs)))
	h.close(t)
	t.Logf("publisher: %+v", h.np.Stats())
	live.check(t, "client subscribed throughout", want)
	var alive []string
	for i, u := range urls {
		if i != killed {
			alive = append(alive, u)
		}
	}
	got, err := mirror(ctx, strings.Join(alive, ","), client.WithNATS(client.NATSOptions{From: client.FromStart()}))
	if err != nil {
		t.Fatal(err)
	}
	sameBooks(t, "replay from the start", got, want)
}

// TestLeafNode: a client in a remote office reads through a NATS leaf
// node (no JetStream of its own) connected to the hub the handler
// publishes into, naming the hub's JetStream domain: live and replaying
// the day after the end, it equals the session's books.
func TestLeafNode(t *testing.T) {
	msgs, want := session(t, 20_000, 20, 21)
	ports, err := natstest.FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	hub, err := server.NewServer(&server.Options{ServerName: "hub", Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true,
		StoreDir: t.TempDir(), JetStreamDomain: "hub", NoLog: true, NoSigs: true, LeafNode: server.LeafNodeOpts{Host: "127.0.0.1", Port: ports[0]}})
	if err != nil {
		t.Fatal(err)
	}
	go hub.Start()
	t.Cleanup(hub.Shutdown)
	if !hub.ReadyForConnections(10 * time.Second) {
		t.Fatal("hub not ready")
	}
	remote, _ := neturl.Parse(fmt.Sprintf("nats-leaf://127.0.0.1:%d", ports[0]))
	leaf, err := server.NewServer(&server.Options{ServerName: "office", Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true,
		LeafNode: server.LeafNodeOpts{Remotes: []*server.RemoteLeafOpts{{URLs: []*neturl.URL{remote}}}}})
	if err != nil {
		t.Fatal(err)
	}
	go leaf.Start()
	t.Cleanup(leaf.Shutdown)
	if !leaf.ReadyForConnections(10 * time.Second) {
		t.Fatal("leaf node not ready")
	}
	for deadline := time.Now().Add(10 * time.Second); leaf.NumLeafNodes() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the leaf node never connected to the hub")
		}
	}
	h := newHandler(t, natsjs.Config{URL: hub.ClientURL()})
	h.waitReady(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	h.play(t, msgs, 0, 1000, 50) // a session to find
	viaHub := client.WithNATS(client.NATSOptions{Domain: "hub"})
	live := goMirror(ctx, leaf.ClientURL(), viaHub)
	h.play(t, msgs, 1000, len(msgs), 50)
	time.Sleep(200 * time.Millisecond)
	h.end(uint64(len(msgs)))
	h.close(t)
	live.check(t, "client through the leaf node", want)
	got, err := mirror(ctx, leaf.ClientURL(), client.WithNATS(client.NATSOptions{Domain: "hub", From: client.FromStart()}))
	if err != nil {
		t.Fatal(err)
	}
	sameBooks(t, "replay through the leaf node", got, want)
}

// TestPublisherLapped holds the publisher back (few publishes may await
// acknowledgement) behind books written as fast as they go into a small
// ring: the publisher, waiting for JetStream, is lapped again and again,
// never reads a record the writer is overwriting (a torn frame once
// crashed it), resynchronises from fresh snapshots each time, and a
// client replaying the day after the end equals the session's books.
func TestPublisherLapped(t *testing.T) {
	msgs, want := session(t, 60_000, 30, 23)
	ns := startNATS(t, "", 0)
	h := newHandlerRing(t, natsjs.Config{URL: ns.ClientURL(), MaxPending: 8}, 256<<10)
	h.waitReady(t)
	h.play(t, msgs, 0, len(msgs), 20)
	time.Sleep(200 * time.Millisecond)
	h.end(uint64(len(msgs)))
	h.close(t)
	st := h.np.Stats()
	t.Logf("publisher: %+v", st)
	if st.Resyncs == 0 || st.Held == 0 {
		t.Errorf("the publisher was never held back and lapped: %+v", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	got, err := mirror(ctx, ns.ClientURL(), client.WithNATS(client.NATSOptions{From: client.FromStart()}))
	if err != nil {
		t.Fatal(err)
	}
	sameBooks(t, "replay from the start", got, want)
}

// TestBucketSnapshotsAreEvents: a client starting from the bucket's
// snapshots hands Run's function each of them as an event, as a TCP
// client is handed its subscription's snapshots (tickwire watch's ladder
// is built from them).
func TestBucketSnapshotsAreEvents(t *testing.T) {
	msgs, want := session(t, 10_000, 12, 29)
	ns := startNATS(t, "", 0)
	h := newHandler(t, natsjs.Config{URL: ns.ClientURL()})
	h.waitReady(t)
	h.play(t, msgs, 0, len(msgs), 50)
	time.Sleep(200 * time.Millisecond)
	h.end(uint64(len(msgs)))
	h.close(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.DialNATS(ctx, ns.ClientURL()) // the bucket's final snapshots
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.NATSFallback() != nil {
		t.Fatalf("no snapshots from the bucket: %v", c.NATSFallback())
	}
	snapshots := map[uint16]int{}
	err = c.Run(ctx, func(ev *client.Event) error {
		if ev.Kind == client.EventMessage && ev.Message.Type() == tw.BodySnapshot {
			snapshots[ev.Locate]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := c.Book().WriteBooks(&b); err != nil {
		t.Fatal(err)
	}
	sameBooks(t, "from the bucket", b.Bytes(), want)
	if len(snapshots) != 12 {
		t.Errorf("Snapshot events for %d instruments, want 12: %v", len(snapshots), snapshots)
	}
}
