package sim

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/codec/moldudp64"
	"github.com/tickwire/tickwire/internal/gen"
)

func history(t *testing.T, n int) *History {
	t.Helper()
	var raw bytes.Buffer
	if _, err := gen.Generate(gen.Config{Seed: 3, Messages: n, Instruments: 20}, gen.Outputs{ITCH: &raw}); err != nil {
		t.Fatal(err)
	}
	h, err := ReadHistory(&raw)
	if err != nil {
		t.Fatal(err)
	}
	if h.Len() != uint64(n) {
		t.Fatalf("history of %d messages, want %d", h.Len(), n)
	}
	return h
}

// recorder is a Sender that keeps copies of what it is given.
type recorder map[netip.AddrPort][][]byte

func (r recorder) SendBatch(dst netip.AddrPort, ps [][]byte) (int, error) {
	for _, p := range ps {
		r[dst] = append(r[dst], append([]byte(nil), p...))
	}
	return len(ps), nil
}

var (
	groupA = netip.MustParseAddrPort("239.1.1.1:30001")
	groupB = netip.MustParseAddrPort("239.1.1.2:30001")
)

// covered returns which sequence numbers the packets carry, checking each
// packet's blocks are the history's messages.
func covered(t *testing.T, h *History, pkts [][]byte) map[uint64]bool {
	t.Helper()
	seen := map[uint64]bool{}
	for _, raw := range pkts {
		p, err := moldudp64.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if p.IsEndOfSession() {
			continue
		}
		it := p.Blocks()
		for s := p.Seq(); ; s++ {
			b, ok := it.Next()
			if !ok {
				break
			}
			if !bytes.Equal(b, h.Message(s)) {
				t.Fatalf("sequence %d: packet carries another message", s)
			}
			seen[s] = true
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		if len(raw) > 1400 {
			t.Fatalf("packet of %d bytes over the 1400 limit", len(raw))
		}
	}
	return seen
}

func TestRunImpairments(t *testing.T) {
	h := history(t, 5000)
	cfg := Config{Session: "SIMTEST001", Seed: 1, Lines: [2]Line{
		{Group: groupA, Loss: 0.05, Dup: 0.05, Reorder: 0.05, CutFrom: 1000, CutTo: 1500},
		{Group: groupB, Lag: 3},
	}}
	r := recorder{}
	st, err := Run(context.Background(), cfg, h, r, 0)
	if err != nil {
		t.Fatal(err)
	}
	if st.Messages != h.Len() {
		t.Fatalf("sent %d messages, want %d", st.Messages, h.Len())
	}
	a, b := covered(t, h, r[groupA]), covered(t, h, r[groupB])
	if uint64(len(b)) != h.Len() {
		t.Errorf("unimpaired line B carried %d of %d messages", len(b), h.Len())
	}
	if uint64(len(a)) >= h.Len() || st.Lines[0].Lost == 0 || st.Lines[0].Dups == 0 || st.Lines[0].Reordered == 0 {
		t.Errorf("line A impairments not applied: %d of %d messages, stats %+v", len(a), h.Len(), st.Lines[0])
	}
	// No packet starting inside the cut window went out on line A (one
	// starting just before it may carry a few sequence numbers into it).
	for _, raw := range r[groupA] {
		if p := moldudp64.Packet(raw); !p.IsEndOfSession() && p.Seq() >= 1000 && p.Seq() < 1500 {
			t.Fatalf("line A sent sequence %d during its cut", p.Seq())
		}
	}
	// End of session on both lines, carrying the next sequence number.
	last := moldudp64.Packet(r[groupB][len(r[groupB])-1])
	if !last.IsEndOfSession() || last.Seq() != h.Len()+1 {
		t.Errorf("last packet on B: count %d seq %d", last.Count(), last.Seq())
	}
	// Deterministic by seed.
	r2 := recorder{}
	if _, err := Run(context.Background(), cfg, h, r2, 0); err != nil {
		t.Fatal(err)
	}
	if len(r2[groupA]) != len(r[groupA]) {
		t.Errorf("same seed, %d then %d packets on line A", len(r[groupA]), len(r2[groupA]))
	}
}

func TestServerAnswers(t *testing.T) {
	h := history(t, 3000)
	s, err := NewServer(netip.MustParseAddrPort("127.0.0.1:0"), ServerConfig{Session: "SIMTEST001", AnswerLimit: 100}, h)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	go s.Serve()
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(s.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ask := func(session string, seq uint64, count uint16) map[uint64]bool {
		req := moldudp64.Request{Session: moldudp64.MakeSession(session), Seq: seq, Count: count}
		if _, err := c.Write(req.Append(nil)); err != nil {
			t.Fatal(err)
		}
		var pkts [][]byte
		buf := make([]byte, 2048)
		for {
			c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			n, err := c.Read(buf)
			if err != nil {
				break
			}
			pkts = append(pkts, append([]byte(nil), buf[:n]...))
		}
		return covered(t, h, pkts)
	}
	got := ask("SIMTEST001", 2950, 80) // runs past the end: 51 messages
	if len(got) != 51 || !got[2950] || !got[3000] {
		t.Errorf("answer to [2950, +80): %d messages", len(got))
	}
	got = ask("SIMTEST001", 10, 1000) // over the answer limit
	if len(got) != 100 || !got[10] || !got[109] {
		t.Errorf("answer to [10, +1000) with limit 100: %d messages", len(got))
	}
	if got := ask("OTHERSESS1", 10, 5); len(got) != 0 {
		t.Errorf("answered another session: %d messages", len(got))
	}
	s.SetDown(true)
	if got := ask("SIMTEST001", 10, 5); len(got) != 0 {
		t.Errorf("answered while down: %d messages", len(got))
	}
	s.SetDown(false)
	if got := ask("SIMTEST001", 10, 5); len(got) != 5 {
		t.Errorf("after coming back up: %d messages", len(got))
	}
	if s.Stats.Malformed.Load() != 1 || s.Stats.Ignored.Load() != 1 {
		t.Errorf("stats: malformed %d ignored %d", s.Stats.Malformed.Load(), s.Stats.Ignored.Load())
	}
}

func TestHistoryErrors(t *testing.T) {
	msg := (&itch.OrderDeleteMsg{Header: itch.Header{Locate: 1}, Ref: 5}).Append(nil)
	good := append([]byte{0, byte(len(msg))}, msg...)
	for _, bad := range [][]byte{good[:len(good)-1], append(good, 0), {0, 0}} {
		if _, err := ReadHistory(bytes.NewReader(bad)); err == nil {
			t.Errorf("%x: accepted", bad)
		}
	}
	if err := (&Config{Session: "TOOLONGSESSION", Lines: [2]Line{{Group: groupA}, {Group: groupB}}}).validate(); err == nil {
		t.Error("an 14-character session was accepted")
	}
}
