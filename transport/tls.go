package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// tlsFront terminates TLS in front of the event loops, which have none
// (gnet reads and writes plain sockets): crypto/tls serves the listen
// address on goroutines, and each connection, once its handshake is done,
// is bridged to the event loops over a Unix socket in a directory only the
// daemon's user may enter. Everything past the handshake — Hello, token,
// subscriptions, the ring, slow consumers — is the plain connection's code:
// a TLS client that stops reading stops the bridge, whose socket fills, and
// is conflated or cut off as any other.
//
// A TLS connection costs two goroutines and two 16 KiB copy buffers more
// than a plain one, and a copy each way: serve strategies on the daemon's
// own host in plain TCP on loopback, and TLS to the hosts beyond it.
type tlsFront struct {
	s    *Server
	ln   net.Listener
	dir  string // holds sock
	sock string // what the event loops serve

	next   atomic.Uint64
	active atomic.Int64 // TLS connections open
	peers  sync.Map     // bridge's local name -> the TLS client's address

	mu      sync.Mutex
	bridges map[net.Conn]struct{}
	closed  bool
	wg      sync.WaitGroup
}

// listenTLS listens for TLS on ap and prepares the Unix socket the event
// loops are to serve.
func listenTLS(s *Server, addr string) (*tlsFront, error) {
	dir, err := os.MkdirTemp("", "tickwire-tls-")
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &tlsFront{s: s, ln: ln, dir: dir, sock: filepath.Join(dir, "loop.sock"), bridges: map[net.Conn]struct{}{}}, nil
}

// serve accepts TLS connections until close.
func (t *tlsFront) serve() {
	defer t.wg.Done()
	for {
		c, err := t.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			t.s.cfg.Logf("TLS accept: %v", err)
			time.Sleep(10 * time.Millisecond) // out of descriptors: do not spin
			continue
		}
		// Bounded before the handshake, which costs goroutines: a flood
		// of connections that never finish it stops at MaxClients.
		if t.active.Load() >= int64(t.s.cfg.MaxClients) {
			t.s.disconnects[DisconnectTooMany].Add(1)
			c.Close()
			continue
		}
		if !t.track(c) {
			c.Close()
			return
		}
		t.active.Add(1)
		t.wg.Add(1)
		go t.bridge(c)
	}
}

// track adds c to the connections close closes; false once closed.
func (t *tlsFront) track(c net.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.bridges[c] = struct{}{}
	return true
}

func (t *tlsFront) untrack(c net.Conn) {
	t.mu.Lock()
	delete(t.bridges, c)
	t.mu.Unlock()
}

// bridge does c's handshake, within the Hello timeout, then copies between
// it and a new connection to the event loops until either side ends.
func (t *tlsFront) bridge(raw net.Conn) {
	defer t.wg.Done()
	defer t.active.Add(-1)
	defer t.untrack(raw)
	defer raw.Close()
	s := t.s
	tc := tls.Server(raw, s.cfg.TLS)
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.HelloTimeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		s.disconnects[DisconnectTLS].Add(1)
		s.cfg.Logf("client %s cut off: %s: %v", raw.RemoteAddr(), DisconnectReasons[DisconnectTLS], err)
		return
	}
	// The bridge's end has a name of its own, in the abstract namespace,
	// so that the event loop can name the TLS client in its logs.
	name := fmt.Sprintf("@tickwire-%d-%s-%d", os.Getpid(), filepath.Base(t.dir), t.next.Add(1))
	t.peers.Store(name, raw.RemoteAddr().String())
	defer t.peers.Delete(name)
	uc, err := net.DialUnix("unix", &net.UnixAddr{Name: name, Net: "unix"}, &net.UnixAddr{Name: t.sock, Net: "unix"})
	if err != nil {
		s.cfg.Logf("client %s: bridging TLS to the event loops: %v", raw.RemoteAddr(), err)
		return
	}
	if !t.track(uc) {
		uc.Close()
		return
	}
	defer t.untrack(uc)
	defer uc.Close()
	done := make(chan struct{})
	go func() {
		copyBuf(uc, tc) // the client's frames
		uc.CloseWrite()
		close(done)
	}()
	copyBuf(tc, uc) // the server's
	tc.CloseWrite()
	raw.Close() // ends the other copy if the client still sends
	<-done
}

func copyBuf(dst io.Writer, src io.Reader) {
	buf := make([]byte, 16<<10)
	io.CopyBuffer(struct{ io.Writer }{dst}, struct{ io.Reader }{src}, buf)
}

// peer names the TLS client behind a bridged connection whose remote
// address is addr, or returns "".
func (t *tlsFront) peer(addr net.Addr) string {
	if t == nil || addr == nil {
		return ""
	}
	if v, ok := t.peers.Load(addr.String()); ok {
		return v.(string)
	}
	return ""
}

// close stops accepting and waits up to ctx for the bridges to pass on
// what the event loops wrote (they end when the loops close their side),
// then closes every connection left and removes the socket's directory.
func (t *tlsFront) close(ctx context.Context) {
	t.ln.Close()
	done := make(chan struct{})
	go func() {
		t.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	t.mu.Lock()
	t.closed = true
	for c := range t.bridges {
		c.Close()
	}
	t.mu.Unlock()
	<-done
	os.RemoveAll(t.dir)
}
