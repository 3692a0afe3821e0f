package feed_test

import (
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tickwire/tickwire/codec/soupbintcp"
	"github.com/tickwire/tickwire/feed"
	"github.com/tickwire/tickwire/feed/soup"
)

// glimpseServer is a hostile GLIMPSE server on loopback: after Login
// Accepted it writes the packets of body(i) for i = 0, 1, ... until body
// returns nil or the client goes away.
func glimpseServer(t *testing.T, body func(i uint64) []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				login := make([]byte, soupbintcp.LengthLen+soupbintcp.LenLoginRequest)
				if _, err := io.ReadFull(c, login); err != nil {
					return
				}
				out := soupbintcp.LoginAccepted{Session: soupbintcp.Session("GLIMPSE"), Seq: 1}.Append(nil)
				for i := uint64(0); ; i++ {
					b := body(i)
					if b == nil {
						break
					}
					out = append(out, b...)
					if len(out) < 64<<10 {
						continue
					}
					if _, err := c.Write(out); err != nil {
						return
					}
					out = out[:0]
				}
				if _, err := c.Write(out); err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, c)
			})
		}
	})
	return ln.Addr().String()
}

// loaderHandler feeds a SnapshotLoader from a SoupBinTCP session and
// reports its outcome once.
type loaderHandler struct {
	l    *feed.SnapshotLoader
	done chan error
	sent bool
}

func (h *loaderHandler) finish(err error) {
	if !h.sent {
		h.sent = true
		h.done <- err
	}
}

func (h *loaderHandler) Message(_ uint64, msg []byte) {
	if h.sent {
		return
	}
	if end, err := h.l.Message(msg); err != nil || end {
		h.finish(err)
	}
}
func (h *loaderHandler) LoggedIn(string, uint64) {}
func (h *loaderHandler) EndOfSession()           { h.finish(errors.New("end of session")) }
func (h *loaderHandler) Rejected(byte)           { h.finish(errors.New("rejected")) }

// loadOverSoup loads a snapshot from addr and returns the loader, the
// messages applied and the outcome.
func loadOverSoup(t *testing.T, addr string, opts ...feed.SnapshotOption) (*feed.SnapshotLoader, int, error) {
	t.Helper()
	applied := 0
	h := &loaderHandler{done: make(chan error, 1)}
	h.l = feed.NewSnapshotLoader(func([]byte) { applied++ }, opts...)
	s, err := soup.Dial(soup.Config{Addr: addr, Seq: 1}, h)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	select {
	case err := <-h.done:
		return h.l, applied, err
	case <-time.After(10 * time.Second):
		t.Fatal("the snapshot neither ended nor failed")
	}
	return nil, 0, nil
}

// TestSnapshotNeverEndsLoopback: a GLIMPSE server sending valid adds
// forever, never a 'G', is stopped at the order limit.
func TestSnapshotNeverEndsLoopback(t *testing.T) {
	addr := glimpseServer(t, func(i uint64) []byte { return soupbintcp.AppendSequenced(nil, endlessAdd(nil, i)) })
	l, applied, err := loadOverSoup(t, addr, feed.WithSnapshotMaxOrders(50_000))
	if !errors.Is(err, feed.ErrSnapshotOrders) || !strings.Contains(err.Error(), "limit 50000") {
		t.Fatalf("error %v, want ErrSnapshotOrders naming the limit", err)
	}
	if applied != 50_000 || l.Orders() != 50_000 {
		t.Fatalf("applied %d orders (Orders %d), want 50000", applied, l.Orders())
	}
}

// TestSnapshotSeqLoopback: a GLIMPSE server ending its snapshot with 'G'
// 18446744073709551615 is refused.
func TestSnapshotSeqLoopback(t *testing.T) {
	msgs := snapshotMsgs(^uint64(0))
	addr := glimpseServer(t, func(i uint64) []byte {
		if i >= uint64(len(msgs)) {
			return nil
		}
		return soupbintcp.AppendSequenced(nil, msgs[i])
	})
	l, applied, err := loadOverSoup(t, addr)
	if !errors.Is(err, feed.ErrSnapshotSeq) || !strings.Contains(err.Error(), "18446744073709551615") {
		t.Fatalf("error %v, want ErrSnapshotSeq naming the number", err)
	}
	if l.Done() || l.Next() != 0 || applied != len(msgs)-1 {
		t.Fatalf("Done %v, Next %d, applied %d", l.Done(), l.Next(), applied)
	}
}
