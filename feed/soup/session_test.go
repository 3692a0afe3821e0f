package soup

import (
	"bytes"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/tickwire/tickwire/codec/soupbintcp"
	"github.com/tickwire/tickwire/internal/sim"
)

// recorder is a Handler keeping copies of what it receives.
type recorder struct {
	mu       sync.Mutex
	seqs     []uint64
	msgs     [][]byte
	logins   []uint64
	sessions []string
	ended    bool
	rejected []byte
	gaps     [][2]uint64
	faults   []error
}

func (r *recorder) Gap(first, count uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gaps = append(r.gaps, [2]uint64{first, count})
}

func (r *recorder) Fault(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.faults = append(r.faults, err)
}

// faulted reports whether a fault wrapping target was reported.
func (r *recorder) faulted(target error) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, err := range r.faults {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

func (r *recorder) Message(seq uint64, msg []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seqs = append(r.seqs, seq)
	r.msgs = append(r.msgs, bytes.Clone(msg))
}

func (r *recorder) LoggedIn(session string, next uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sessions = append(r.sessions, session)
	r.logins = append(r.logins, next)
}

func (r *recorder) EndOfSession() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ended = true
}

func (r *recorder) Rejected(reason byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rejected = append(r.rejected, reason)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

// history returns n distinct messages.
func history(n int) *sim.History {
	h := &sim.History{}
	for i := range n {
		h.Append([]byte{'T', byte(i >> 16), byte(i >> 8), byte(i)})
	}
	return h
}

func server(t *testing.T, cfg sim.SoupConfig, h *sim.History) *sim.SoupServer {
	t.Helper()
	s, err := sim.NewSoupServer("127.0.0.1:0", cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func dial(t *testing.T, cfg Config, h Handler) *Session {
	t.Helper()
	s, err := Dial(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkStream checks r received messages first.. of h in order, each once.
func checkStream(t *testing.T, r *recorder, h *sim.History, first uint64) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if want := int(h.Len() - first + 1); len(r.msgs) != want {
		t.Fatalf("%d messages, want %d", len(r.msgs), want)
	}
	for i, m := range r.msgs {
		seq := first + uint64(i)
		if r.seqs[i] != seq || !bytes.Equal(m, h.Message(seq)) {
			t.Fatalf("message %d: seq %d, %x; want %d, %x", i, r.seqs[i], m, seq, h.Message(seq))
		}
	}
}

var soupCfg = sim.SoupConfig{Session: "SESS1", Username: "user", Password: "pass", EndOfSession: true}

func TestSessionStream(t *testing.T) {
	h := history(5000)
	srv := server(t, soupCfg, h)
	for _, tc := range []struct {
		name string
		seq  uint64
		v41  bool
	}{{"from start", 1, false}, {"resume", 4000, true}} {
		t.Run(tc.name, func(t *testing.T) {
			var r recorder
			s := dial(t, Config{Addr: srv.Addr().String(), Username: "user", Password: "pass", Seq: tc.seq, V41: tc.v41}, &r)
			select {
			case <-s.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("no end of session")
			}
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			checkStream(t, &r, h, tc.seq)
			if !r.ended || len(r.logins) != 1 || r.logins[0] != tc.seq || r.sessions[0] != "SESS1" {
				t.Fatalf("ended %v, logins %v %v", r.ended, r.logins, r.sessions)
			}
			if st := s.Stats(); st.Messages != h.Len()-tc.seq+1 || st.Reconnects != 0 || st.Garbage != 0 {
				t.Fatalf("stats %+v", st)
			}
			if s.Next() != h.Len()+1 {
				t.Fatalf("Next = %d", s.Next())
			}
		})
	}
}

func TestSessionRejected(t *testing.T) {
	for _, tc := range []struct {
		name     string
		user     string
		pass     string
		session  string
		want     byte
		wantText string
	}{
		{"bad password", "user", "wrong", "", soupbintcp.RejectNotAuthorized, "not authorized"},
		{"wrong session", "user", "pass", "OTHER", soupbintcp.RejectSessionUnavailable, "session not available"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := server(t, soupCfg, history(10))
			var r recorder
			s := dial(t, Config{Addr: srv.Addr().String(), Username: tc.user, Password: tc.pass, Session: tc.session,
				Seq: 1, Reconnect: 10 * time.Millisecond}, &r)
			select {
			case <-s.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("session did not stop")
			}
			err := s.Err()
			if !errors.Is(err, ErrRejected) || !bytes.Contains([]byte(err.Error()), []byte(tc.wantText)) {
				t.Fatalf("err %v, want ErrRejected naming %q", err, tc.wantText)
			}
			time.Sleep(100 * time.Millisecond) // ten reconnect delays
			if n := srv.Stats.Connections.Load(); n != 1 {
				t.Fatalf("%d connections, want 1: the session reconnected after a rejection", n)
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			if !bytes.Equal(r.rejected, []byte{tc.want}) || len(r.msgs) != 0 {
				t.Fatalf("rejected %q, %d messages", r.rejected, len(r.msgs))
			}
		})
	}
}

func TestSessionReconnectsAfterDrop(t *testing.T) {
	h := history(3000)
	cfg := soupCfg
	cfg.Drop = 700 // each connection closes after 700 messages
	srv := server(t, cfg, h)
	var r recorder
	s := dial(t, Config{Addr: srv.Addr().String(), Username: "user", Password: "pass", Seq: 1, Reconnect: 10 * time.Millisecond}, &r)
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatalf("no end of session; %d messages", r.count())
	}
	checkStream(t, &r, h, 1)
	// The counter is bumped on the reconnect timer's goroutine and may lag
	// the handler's calls by a moment: let it catch up.
	for deadline := time.Now().Add(time.Second); s.Stats().Reconnects < 4 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if st := s.Stats(); st.Reconnects < 4 {
		t.Fatalf("Reconnects = %d, want at least 4", st.Reconnects)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.logins) < 5 {
		t.Fatalf("%d logins, want 5 (one per 700 messages)", len(r.logins))
	}
	for i, next := range r.logins[1:] {
		if next != uint64(i+1)*700+1 || r.sessions[i+1] != "SESS1" {
			t.Fatalf("login %d resumed at %d in %q", i+1, next, r.sessions[i+1])
		}
	}
}

// rawServer accepts connections and runs serve on each, recording the
// login requests.
type rawServer struct {
	ln     net.Listener
	mu     sync.Mutex
	logins []soupbintcp.LoginRequest
}

func newRawServer(t *testing.T, serve func(n int, c net.Conn)) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rs := &rawServer{ln: ln}
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Go(func() {
		for n := 0; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				buf := make([]byte, soupbintcp.LengthLen+soupbintcp.LenLoginRequest)
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				if _, err := ioReadFull(c, buf); err != nil {
					return
				}
				p, _, err := soupbintcp.Parse(buf)
				if err != nil {
					return
				}
				req, err := soupbintcp.ParseLoginRequest(p)
				if err != nil {
					return
				}
				rs.mu.Lock()
				rs.logins = append(rs.logins, req)
				rs.mu.Unlock()
				serve(n, c)
			})
		}
	})
	return rs
}

func ioReadFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := c.Read(b[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (rs *rawServer) requests() []soupbintcp.LoginRequest {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return append([]soupbintcp.LoginRequest(nil), rs.logins...)
}

// hold keeps c open until the peer closes it (or the deadline passes).
func hold(c net.Conn) {
	buf := make([]byte, 512)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}

func TestSessionSilentServer(t *testing.T) {
	rs := newRawServer(t, func(n int, c net.Conn) {
		out := soupbintcp.LoginAccepted{Session: soupbintcp.Session("QUIET"), Seq: uint64(1 + 3*n)}.Append(nil)
		for i := range 3 {
			out = soupbintcp.AppendSequenced(out, []byte{byte(3*n + i)})
		}
		if _, err := c.Write(out); err != nil {
			return
		}
		hold(c) // then silence: no data, no heartbeats
	})
	var r recorder
	s := dial(t, Config{Addr: rs.ln.Addr().String(), Seq: 1, HeartbeatTimeout: 150 * time.Millisecond, Reconnect: 10 * time.Millisecond}, &r)
	wait(t, "a second connection's messages", func() bool { return r.count() >= 6 })
	st := s.Stats()
	if st.Timeouts < 1 || st.Reconnects < 1 {
		t.Fatalf("stats %+v: want a timeout and a reconnect", st)
	}
	reqs := rs.requests()
	if len(reqs) < 2 || reqs[1].Seq != 4 || string(soupbintcp.TrimSession(reqs[1].Session[:])) != "QUIET" {
		t.Fatalf("second login %+v, want seq 4 in session QUIET", reqs)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range 6 {
		if r.seqs[i] != uint64(i+1) || r.msgs[i][0] != byte(i) {
			t.Fatalf("message %d: seq %d %x", i, r.seqs[i], r.msgs[i])
		}
	}
}

func TestSessionGarbage(t *testing.T) {
	for _, tc := range []struct {
		name    string
		garbage []byte
	}{
		{"unknown type", soupbintcp.AppendPacket(nil, '?', []byte("junk"))},
		{"zero length", []byte{0, 0, 'S', 1, 2}},
		{"second login accepted", soupbintcp.LoginAccepted{Session: soupbintcp.Session("G"), Seq: 9}.Append(nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rs := newRawServer(t, func(n int, c net.Conn) {
				out := soupbintcp.LoginAccepted{Session: soupbintcp.Session("G"), Seq: uint64(1 + n)}.Append(nil)
				out = soupbintcp.AppendSequenced(out, []byte{byte(n)})
				out = append(out, tc.garbage...)
				if _, err := c.Write(out); err != nil {
					return
				}
				hold(c)
			})
			var r recorder
			s := dial(t, Config{Addr: rs.ln.Addr().String(), Seq: 1, Reconnect: 10 * time.Millisecond}, &r)
			// The counters are updated after the message is delivered:
			// wait for them too.
			wait(t, "three connections", func() bool { st := s.Stats(); return r.count() >= 3 && st.Garbage >= 2 && st.Reconnects >= 2 })
			st := s.Stats()
			if st.Garbage < 2 || st.Reconnects < 2 {
				t.Fatalf("stats %+v: want garbage counted and reconnects", st)
			}
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			for i := range 3 {
				if r.seqs[i] != uint64(i+1) {
					t.Fatalf("seqs %v, want 1, 2, 3", r.seqs)
				}
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Addr: "x:1", Username: "toolong"},
		{Addr: "x:1", Session: "ELEVENCHARS"},
		{Addr: "x:1", V41: true, HeartbeatTimeout: 200 * time.Second},
		{Addr: "x:1", Reconnect: -1},
	} {
		if _, err := Dial(cfg, &recorder{}); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: err %v, want ErrConfig", cfg, err)
		}
	}
}

func TestDialRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	if _, err := Dial(Config{Addr: addr}, &recorder{}); err == nil {
		t.Fatal("Dial to a closed port succeeded")
	}
}
