package sim

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tickwire/tickwire/codec/soupbintcp"
)

// soupPacket is a copy of one packet read by soupClient.
type soupPacket struct {
	typ     byte
	payload []byte
}

// soupClient logs in over a raw TCP connection and reads packets until
// stop returns true, the connection closes, or the deadline passes.
func soupClient(t *testing.T, s *SoupServer, req soupbintcp.LoginRequest, stop func([]soupPacket) bool) []soupPacket {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(req.Append(nil)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var (
		f   soupbintcp.Framer
		got []soupPacket
		buf = make([]byte, 32<<10)
	)
	for !stop(got) {
		n, err := c.Read(buf)
		ferr := f.Feed(buf[:n], func(p soupbintcp.Packet) error {
			got = append(got, soupPacket{p.Type(), bytes.Clone(p.Payload())})
			return nil
		})
		if ferr != nil {
			t.Fatal(ferr)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return got
}

// smallHistory returns n distinct short messages (not valid ITCH: the
// server does not look inside them).
func smallHistory(n int) *History {
	h := &History{}
	for i := range n {
		h.Append([]byte{'T', byte(i >> 8), byte(i)})
	}
	return h
}

func login(user, pass, session string, seq uint64) soupbintcp.LoginRequest {
	return soupbintcp.LoginRequest{
		Username: soupbintcp.Username(user), Password: soupbintcp.Password(pass),
		Session: soupbintcp.Session(session), Seq: seq,
	}
}

func newSoup(t *testing.T, cfg SoupConfig, h *History) *SoupServer {
	t.Helper()
	s, err := NewSoupServer("127.0.0.1:0", cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func untilType(typ byte) func([]soupPacket) bool {
	return func(ps []soupPacket) bool { return len(ps) > 0 && ps[len(ps)-1].typ == typ }
}

func TestSoupServerStream(t *testing.T) {
	h := history(t, 3000)
	s := newSoup(t, SoupConfig{Session: "S1", Username: "u", Password: "p", EndOfSession: true}, h)
	for _, tc := range []struct {
		name  string
		seq   uint64
		first uint64
		v41   bool
	}{
		{"from start", 1, 1, false},
		{"resume", 2500, 2500, true},
		{"only new", 0, 3001, false},
		{"past the end", 5000, 5000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := login("u", "p", "", tc.seq)
			req.V41, req.HeartbeatTimeout = tc.v41, 15000
			got := soupClient(t, s, req, untilType(soupbintcp.TypeEndOfSession))
			if len(got) == 0 || got[0].typ != soupbintcp.TypeLoginAccepted {
				t.Fatalf("first packet %v, want Login Accepted", got)
			}
			a, err := soupbintcp.ParseLoginAccepted(soupbintcp.AppendPacket(nil, 'A', got[0].payload))
			if err != nil {
				t.Fatal(err)
			}
			if string(soupbintcp.TrimSession(a.Session[:])) != "S1" || a.Seq != tc.first {
				t.Fatalf("accepted %q next %d, want S1 next %d", a.Session, a.Seq, tc.first)
			}
			seq := tc.first
			for _, p := range got[1:] {
				switch p.typ {
				case soupbintcp.TypeSequencedData:
					if seq > h.Len() || !bytes.Equal(p.payload, h.Message(seq)) {
						t.Fatalf("message %d differs from the history", seq)
					}
					seq++
				case soupbintcp.TypeServerHeartbeat, soupbintcp.TypeEndOfSession:
				default:
					t.Fatalf("unexpected packet %q", p.typ)
				}
			}
			if want := max(h.Len()+1, tc.first); seq != want {
				t.Fatalf("stream ended before %d, want %d", seq, want)
			}
		})
	}
}

func TestSoupServerRejects(t *testing.T) {
	h := smallHistory(10)
	for _, tc := range []struct {
		name string
		cfg  SoupConfig
		req  soupbintcp.LoginRequest
		want byte
	}{
		{"password", SoupConfig{Session: "S1", Username: "u", Password: "p"}, login("u", "x", "", 1), 'A'},
		{"username", SoupConfig{Session: "S1", Username: "u", Password: "p"}, login("v", "p", "", 1), 'A'},
		{"session", SoupConfig{Session: "S1", Username: "u", Password: "p"}, login("u", "p", "S2", 1), 'S'},
		{"forced", SoupConfig{Session: "S1", Reject: 'X'}, login("", "", "S1", 1), 'X'},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSoup(t, tc.cfg, h)
			got := soupClient(t, s, tc.req, func([]soupPacket) bool { return false }) // until EOF
			if len(got) != 1 || got[0].typ != soupbintcp.TypeLoginRejected || !bytes.Equal(got[0].payload, []byte{tc.want}) {
				t.Fatalf("got %v, want one Login Rejected %q then close", got, tc.want)
			}
			if s.Stats.Rejected.Load() != 1 {
				t.Fatalf("Rejected = %d", s.Stats.Rejected.Load())
			}
		})
	}
}

func TestSoupServerHeartbeatAndRate(t *testing.T) {
	h := smallHistory(20)
	s := newSoup(t, SoupConfig{Session: "S1", Heartbeat: 50 * time.Millisecond, Rate: 200}, h)
	got := soupClient(t, s, login("", "", "S1", 1), func(ps []soupPacket) bool {
		n := 0
		for _, p := range ps {
			if p.typ == soupbintcp.TypeServerHeartbeat {
				n++
			}
		}
		return n >= 2
	})
	var msgs int
	for _, p := range got[1:] {
		if p.typ == soupbintcp.TypeSequencedData {
			msgs++
		}
	}
	if msgs != 20 {
		t.Fatalf("%d messages before the heartbeats, want 20", msgs)
	}
}

func TestSoupServerDropsSilentClient(t *testing.T) {
	h := smallHistory(5)
	s := newSoup(t, SoupConfig{Session: "S1", Heartbeat: 20 * time.Millisecond, ClientTimeout: 100 * time.Millisecond}, h)
	got := soupClient(t, s, login("", "", "", 1), func([]soupPacket) bool { return false }) // until EOF
	if len(got) < 6 {
		t.Fatalf("got %d packets before the drop, want login and 5 messages", len(got))
	}
	if s.Stats.Dropped.Load() != 1 {
		t.Fatalf("Dropped = %d, want 1", s.Stats.Dropped.Load())
	}
}

func TestSoupServerSnapshot(t *testing.T) {
	snap := [][]byte{[]byte("S-one"), []byte("A-two"), []byte("G-three")}
	var asked atomic.Uint64
	asked.Store(99)
	s := newSoup(t, SoupConfig{Session: "G", EndOfSession: true, Messages: func(seq uint64) [][]byte {
		asked.Store(seq)
		return snap
	}}, nil)
	got := soupClient(t, s, login("", "", "", 1), untilType(soupbintcp.TypeEndOfSession))
	if asked.Load() != 1 {
		t.Fatalf("hook asked for %d, want 1", asked.Load())
	}
	var msgs [][]byte
	for _, p := range got {
		if p.typ == soupbintcp.TypeSequencedData {
			msgs = append(msgs, p.payload)
		}
	}
	if len(msgs) != len(snap) {
		t.Fatalf("got %d messages, want %d", len(msgs), len(snap))
	}
	for i := range snap {
		if !bytes.Equal(msgs[i], snap[i]) {
			t.Fatalf("message %d = %q, want %q", i, msgs[i], snap[i])
		}
	}
}

func TestSoupConfigErrors(t *testing.T) {
	for _, cfg := range []SoupConfig{
		{Session: "ELEVENCHARS"},
		{Session: "S", Rate: -1},
		{Session: "S", Username: "seven77"},
	} {
		if _, err := NewSoupServer("127.0.0.1:0", cfg, &History{}); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: err %v, want ErrConfig", cfg, err)
		}
	}
	if _, err := NewSoupServer("127.0.0.1:0", SoupConfig{Session: "S"}, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("no source: err %v, want ErrConfig", err)
	}
}
