package transport

import (
	"net"
	"testing"

	"github.com/panjf2000/gnet/v2"

	"github.com/tickwire/tickwire/transport/tw"
)

// fakeConn is the part of a gnet.Conn the protocol handling uses.
type fakeConn struct {
	gnet.Conn
	out    []byte
	closed bool
}

func (c *fakeConn) Write(p []byte) (int, error) { c.out = append(c.out, p...); return len(p), nil }
func (c *fakeConn) Close() error                { c.closed = true; return nil }
func (c *fakeConn) RemoteAddr() net.Addr        { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (c *fakeConn) OutboundBuffered() int       { return 0 }

// FuzzServerInput throws arbitrary client bytes, in two pieces, at a
// connection's protocol handling: it never panics, answers only with
// frames that validate, and closes the connection after any ServerError.
func FuzzServerInput(f *testing.F) {
	e := NewEncoder(256)
	e.Begin(1)
	e.Hello(ProtocolVersion, []byte("tok"), []byte("fuzz"))
	e.Subscribe(false, [][]byte{[]byte("AAPL")}, []uint16{3}, false, tw.DepthTopN, 5)
	e.Subscribe(true, nil, nil, true, 0, 0)
	e.Heartbeat(7)
	good, _ := e.Finish()
	good = append([]byte(nil), good...)
	f.Add(good, uint16(5))
	e.Begin(1)
	e.Status(tw.FeedStateLive, nil, 1, 0)
	bad, _ := e.Finish()
	f.Add(append(append([]byte(nil), good...), bad...), uint16(30))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"), uint16(3))
	s := NewServer(ServerConfig{Token: "tok", RingBytes: 64 << 10}) // its publisher's tables are large: one for all
	f.Fuzz(func(t *testing.T, in []byte, cut uint16) {
		c := &fakeConn{}
		cs := &connState{id: 1, c: c, ls: &loopState{s: s, enc: NewEncoder(256)}, fr: NewFrameReader(maxClientFrame)}
		k := min(int(cut), len(in))
		cs.input(in[:k])
		cs.input(in[k:])
		s.pub.Flush() // take what was asked: no book, so no snapshots
		cs.pump(cs.opened)
		r := NewFrameReader(0)
		var m Message
		for b := c.out; len(b) > 0; {
			fr, n, ok, err := r.Next(b)
			if err != nil || !ok {
				t.Fatalf("the server wrote a frame that does not read back: %v (ok %v)", err, ok)
			}
			b = b[n:]
			for i := range fr.Len() {
				if fr.Message(i, &m).Type() == tw.BodyServerError && !c.closed {
					t.Fatal("a ServerError without closing the connection")
				}
			}
		}
	})
}
