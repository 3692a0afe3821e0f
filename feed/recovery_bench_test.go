package feed

import (
	"testing"

	"github.com/tickwire/tickwire/codec/moldudp64"
)

// countingRequester counts requests without allocating.
type countingRequester struct {
	n, msgs uint64
	last    moldudp64.Request
}

func (c *countingRequester) Request(r moldudp64.Request) {
	c.n++
	c.msgs += uint64(r.Count)
	c.last = r
}

// TestRecoveryNoAllocs proves that the recovery path allocates nothing in
// steady state: holes requested, answered in part and in full, a request
// retried and given up, a tail revealed by a heartbeat requested and
// answered.
func TestRecoveryNoAllocs(t *testing.T) {
	const n = 5 // messages per packet
	var h countingHandler
	var req countingRequester
	cfg := RecoveryConfig{FillTime: 100, MaxOutstanding: 4, MaxCount: 8, Timeout: 1000, Backoff: 2, MaxRetries: 1, MaxAge: 1 << 40}
	a := NewArbiter(&h, WithRecovery(&req, cfg))
	pk := make([]moldudp64.Packet, 8)
	for i := range pk {
		pk[i] = appendPacket(nil, testSession, 1, n, pad3)
	}
	part := appendPacket(nil, testSession, 1, 2, pad3)
	hb := heartbeat(testSession, 1, moldudp64.Heartbeat)
	base := uint64(1)
	var now int64
	cycle := func() {
		s := func(i int) uint64 { return base + uint64(i*n) }
		for i := range pk {
			setSeq(pk[i], s(i))
		}
		a.Packet(0, now, pk[0])                     // A delivers
		a.Packet(0, now, pk[3])                     // A lost 1 and 2: hole of 10 messages, held
		a.Packet(1, now+10, pk[0])                  // B duplicate
		a.Tick(now + 200)                           // request 8 + 2
		a.Packet(2, now+300, setSeq(part, s(1)))    // partial answer: rest requested
		a.Packet(2, now+400, pk[2])                 // answers the second request
		a.Packet(2, now+400, setSeq(pk[1], s(1)+2)) // and the rest: all delivered
		a.Packet(0, now+500, pk[5])                 // 4 lost: held
		a.Tick(now + 700)                           // request 4
		a.Tick(now + 1700)                          // retry
		a.Tick(now + 3700)                          // given up: gap 4, deliver 5
		a.Packet(0, now+3800, setSeq(hb, s(7)))     // tail 6 revealed
		a.Tick(now + 3900)                          // request 6
		a.Packet(2, now+4000, pk[6])                // answered
		now += 5000
		base = s(7)
	}
	if allocs := testing.AllocsPerRun(200, cycle); allocs != 0 {
		t.Errorf("%v allocations per cycle, want 0", allocs)
	}
	s := a.Stats()
	if s.Requests == 0 || s.Retries == 0 || s.Recovered == 0 || s.GivenUp == 0 || s.Gaps == 0 || s.Outstanding != 0 || s.HeldPackets != 0 {
		t.Errorf("cycle did not exercise recovery: %+v", s)
	}
	if h.msgs != s.Messages || a.Next() != base {
		t.Errorf("handler saw %d messages, stats %d, next %d, want %d", h.msgs, s.Messages, a.Next(), base)
	}
}

// BenchmarkRecovery measures arbitration with recovery on: lines A and B
// lose 1 packet in 50 each (B 4 packets behind), 1 in 100 on both; the
// server answers every request one packet later, at most 8 messages per
// answer. Reported per packet of line A.
func BenchmarkRecovery(b *testing.B) {
	const msgs = 20
	var h countingHandler
	srv := &benchServer{}
	cfg := RecoveryConfig{FillTime: 3000, MaxOutstanding: 16, MaxCount: 100, Timeout: 50_000, Backoff: 2, MaxRetries: 5, MaxAge: 1 << 40}
	a := NewArbiter(&h, WithRecovery(srv, cfg))
	pad := func(uint64) int { return 34 - 9 }
	const ring = 16
	var pk [ring]moldudp64.Packet
	for i := range pk {
		pk[i] = appendPacket(nil, testSession, 1, msgs, pad)
	}
	ans := appendPacket(nil, testSession, 1, 8, pad)
	b.SetBytes(int64(len(pk[0])))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		now := int64(i) * 1000
		p := setSeq(pk[i%ring], 1+uint64(i)*msgs)
		if i%50 != 7 && i%100 != 1 {
			a.Packet(0, now, p)
		}
		if j := i - 4; j >= 0 && j%50 != 29 && j%100 != 1 {
			a.Packet(1, now+1, setSeq(pk[j%ring], 1+uint64(j)*msgs))
		}
		for k := 0; k < srv.n; k++ {
			r := srv.pending[k]
			c := min(int(r.Count), 8)
			moldudp64.SetCount(ans, uint16(c))
			buf := ans[:moldudp64.HeaderLen+c*(2+34)]
			for m := range c {
				off := moldudp64.HeaderLen + m*(2+34) + 2
				copy(buf[off:], appendMsg(srv.scratch[:0], r.Seq+uint64(m), 34-9))
			}
			a.Packet(2, now+2, setSeq(buf, r.Seq))
		}
		srv.n = 0
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i), "ns/packet")
	s := a.Stats()
	if s.Gaps != 0 || (i > 1000 && s.Recovered == 0) {
		b.Fatalf("%d gaps, %d recovered: %+v", s.Gaps, s.Recovered, s)
	}
	b.ReportMetric(float64(s.Requests)/float64(i), "requests/packet")
}

// benchServer queues requests for BenchmarkRecovery to answer.
type benchServer struct {
	pending [MaxOutstandingLimit]moldudp64.Request
	n       int
	scratch [64]byte
}

func (s *benchServer) Request(r moldudp64.Request) {
	if s.n < len(s.pending) {
		s.pending[s.n] = r
		s.n++
	}
}
