package natsjs_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/tickwire/tickwire/book"
	"github.com/tickwire/tickwire/client"
	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/internal/gen"
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
	pub := transport.NewPublisher(ring.New(32<<20), nil)
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
	c, err := client.DialNATS(ctx, url, opts...)
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

func sameBooks(t *testing.T, name string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s: the books differ from the session's:\n%s\nwant:\n%s", name, head(got), head(want))
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

	live := make(chan []byte, 1)
	liveErr := make(chan error, 1)
	h.play(t, msgs, 0, 2_000, 50)
	go func() {
		b, err := mirror(ctx, url)
		live <- b
		liveErr <- err
	}()
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
	if err := <-liveErr; err != nil {
		t.Fatalf("live client: %v", err)
	}
	sameBooks(t, "live client", <-live, want)

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

var _ = fmt.Sprint
