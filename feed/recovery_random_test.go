package feed

import (
	"container/heap"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tickwire/tickwire/codec/moldudp64"
)

// TestRecoveryRandom plays a generated session of ~50k messages on two lines
// with independent 5% loss (so some packets are lost on both), reordering
// and a lagging line B, against a simulated re-request server that answers
// from the session's history after a random delay, with a random answer limit,
// sometimes twice and sometimes not at all. The clock is simulated: packets,
// answers and ticks are events in time order.
//
// With the server up, every message must be delivered exactly once, in order,
// with no gap, and no request may ask for a message delivered or held. With
// the server down, the gaps must be exactly the ranges lost on both lines.
// FEED_SEED=n replays a run.
func TestRecoveryRandom(t *testing.T) {
	seed := testSeed(t)
	for _, up := range []bool{true, false} {
		name := map[bool]string{true: "server up", false: "server down"}[up]
		t.Run(name, func(t *testing.T) {
			testRecoveryRandom(t, rand.New(rand.NewPCG(seed, map[bool]uint64{true: 3, false: 4}[up])), up)
		})
	}
}

type simEvent struct {
	at   int64
	ord  int
	line int // -1: tick
	p    moldudp64.Packet
}

type simQueue []simEvent

func (q simQueue) Len() int { return len(q) }
func (q simQueue) Less(i, j int) bool {
	return q[i].at < q[j].at || (q[i].at == q[j].at && q[i].ord < q[j].ord)
}
func (q simQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)   { *q = append(*q, x.(simEvent)) }
func (q *simQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// simServer is the re-request server: it answers requests from the whole
// session, on line 2.
type simServer struct {
	t        *testing.T
	r        *rand.Rand
	a        *Arbiter
	q        *simQueue
	ord      *int
	now      *int64
	total    uint64
	pad      func(uint64) int
	up       bool
	requests int
}

func (s *simServer) Request(req moldudp64.Request) {
	s.requests++
	end := req.Seq + uint64(req.Count)
	if req.Session != testSession || req.Count == 0 || req.Seq < s.a.Next() || end > s.total+1 {
		s.t.Errorf("request %d+%d (next %d)", req.Seq, req.Count, s.a.Next())
	}
	if i := s.a.hold.searchEnd(req.Seq); i < s.a.hold.len() && s.a.hold.at(i).first < end {
		s.t.Errorf("request %d+%d asks for held [%d, %d)", req.Seq, req.Count, s.a.hold.at(i).first, s.a.hold.at(i).end)
	}
	if !s.up || s.r.IntN(10) == 0 {
		return // server down, or the request or its answer lost
	}
	n := min(uint64(req.Count), 1+s.r.Uint64N(40)) // MTU
	p := moldudp64.Packet(appendPacket(nil, testSession, req.Seq, int(n), s.pad))
	for range 1 + min(s.r.IntN(20), 1) { // sometimes answered twice
		*s.ord++
		heap.Push(s.q, simEvent{at: *s.now + 100_000 + s.r.Int64N(2_000_000), ord: *s.ord, line: 2, p: p})
	}
}

func testRecoveryRandom(t *testing.T, r *rand.Rand, up bool) {
	const (
		total    = 50_000
		interval = 10_000  // ns between packets at the source
		jitter   = 50_000  // per-line delay variation: reorders a few packets
		lagB     = 300_000 // line B lags by ~30 packets
		tick     = 200_000
		loss     = 0.05  // on each line, independently
		double   = 0.01  // on both lines at once
		burst    = 0.002 // an outage of both lines starts
	)
	pad := func(seq uint64) int { return int(seq % 17) }
	var (
		q    simQueue
		ord  int
		now  int64
		lost [][2]uint64 // ranges lost on both lines, merged
	)
	push := func(at int64, line int, p moldudp64.Packet) {
		ord++
		q = append(q, simEvent{at: at, ord: ord, line: line, p: p})
	}
	deliverBoth := func(sent int64, p moldudp64.Packet, lostA, lostB bool) {
		for line, isLost := range [2]bool{lostA, lostB} {
			if !isLost {
				push(sent+int64(line)*lagB+r.Int64N(jitter), line, p)
			}
		}
	}
	seq := uint64(1)
	var sent int64
	outage := 0 // packets still to lose on both lines
	for seq <= total {
		n := min(1+r.IntN(30), total-int(seq)+1)
		p := moldudp64.Packet(appendPacket(nil, testSession, seq, n, pad))
		lostA, lostB := r.Float64() < loss, r.Float64() < loss
		if r.Float64() < burst {
			outage = 10 + r.IntN(50) // hundreds of messages: requested in pieces
		}
		if outage > 0 || r.Float64() < double {
			lostA, lostB = true, true
			outage = max(outage-1, 0)
		}
		if lostA && lostB {
			if k := len(lost) - 1; k >= 0 && lost[k][1] == seq {
				lost[k][1] += uint64(n)
			} else {
				lost = append(lost, [2]uint64{seq, seq + uint64(n)})
			}
		}
		deliverBoth(sent, p, lostA, lostB)
		seq += uint64(n)
		sent += interval
		if r.IntN(40) == 0 {
			deliverBoth(sent-interval/2, heartbeat(testSession, seq, moldudp64.Heartbeat), r.Float64() < loss, r.Float64() < loss)
		}
	}
	eos := heartbeat(testSession, seq, moldudp64.EndOfSession)
	for at := sent; at < sent+200*tick; at += 100 * tick {
		deliverBoth(at, eos, false, false)
	}
	for at := int64(0); at < sent+400*tick; at += tick {
		push(at, -1, nil)
	}
	heap.Init(&q)

	cfg := RecoveryConfig{FillTime: 1_000_000, MaxOutstanding: 16, MaxCount: 100, Timeout: 3_000_000, Backoff: 1.5, MaxRetries: 12, MaxAge: 10_000_000_000}
	if !up {
		cfg.MaxRetries, cfg.Timeout, cfg.MaxAge = 2, 1_000_000, 20_000_000
	}
	rec := &recorder{t: t, expect: 1}
	srv := &simServer{t: t, r: r, q: &q, ord: &ord, now: &now, total: total, pad: pad, up: up}
	a := NewArbiter(rec, WithRecovery(srv, cfg), WithHoldPackets(8192), WithHoldBytes(16<<20))
	srv.a = a
	for q.Len() > 0 && !t.Failed() {
		e := heap.Pop(&q).(simEvent)
		now = e.at
		if e.line < 0 {
			a.Tick(now)
		} else {
			a.Packet(e.line, now, e.p)
		}
	}
	if t.Failed() {
		return
	}
	s := a.Stats()
	var lostMsgs uint64
	for _, l := range lost {
		lostMsgs += l[1] - l[0]
	}
	t.Logf("%d packets on the lines; %d messages, %d ranges lost on both lines (%d messages); requests %d (%d messages), retries %d, recovered %d, given up %d, gaps %d, max held %d",
		s.Packets, s.Messages, len(lost), lostMsgs, s.Requests, s.RequestedMessages, s.Retries, s.Recovered, s.GivenUp, s.Gaps, s.MaxHeldPackets)
	if rec.expect != total+1 || a.Next() != total+1 {
		t.Fatalf("stream ends before %d (next %d), want %d", rec.expect, a.Next(), total+1)
	}
	if s.HeldPackets != 0 || s.Outstanding != 0 {
		t.Errorf("%d packets held, %d requests in flight at the end", s.HeldPackets, s.Outstanding)
	}
	if s.RecoveryOverflow != 0 {
		t.Errorf("%d holes given up for room", s.RecoveryOverflow)
	}
	if len(lost) == 0 || s.Requests == 0 || s.Requests != uint64(srv.requests) {
		t.Errorf("the generator exercised too little: %d lost ranges, %d requests (server saw %d)", len(lost), s.Requests, srv.requests)
	}
	if up {
		if s.Gaps != 0 || s.GivenUp != 0 || s.Messages != total {
			t.Errorf("server up: %d gaps (%d given up), %d messages of %d", s.Gaps, s.GivenUp, s.Messages, total)
		}
		if s.Recovered < lostMsgs || s.Retries == 0 {
			t.Errorf("server up: recovered %d messages (lost on both lines: %d), %d retries", s.Recovered, lostMsgs, s.Retries)
		}
		return
	}
	var gaps [][2]uint64
	for _, g := range rec.gaps {
		if k := len(gaps) - 1; k >= 0 && gaps[k][1] == g[0] {
			gaps[k][1] += g[1]
		} else {
			gaps = append(gaps, [2]uint64{g[0], g[0] + g[1]})
		}
	}
	if !slices.Equal(gaps, lost) {
		t.Errorf("gaps %v\nwant %v (the ranges lost on both lines)", gaps, lost)
	}
	if s.Messages != total-lostMsgs || s.GivenUp == 0 {
		t.Errorf("server down: %d messages, want %d; %d given up", s.Messages, total-lostMsgs, s.GivenUp)
	}
}
