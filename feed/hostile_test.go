package feed

import (
	"math"
	"testing"

	"github.com/tickwire/tickwire/codec/moldudp64"
)

// Regression tests for what an outside tester's hostile packets did to the
// live handler (the hardening issue), at the arbiter: each plays a true
// session on two lines with a forged packet or two in it.

const ms = 1_000_000

// feedLines plays the true session [from, to) in packets of n messages on
// lines 0 and 1, one packet every step ns from *now, calling between after
// each packet when not nil.
func feedLines(a *Arbiter, now *int64, from, to uint64, n int, step int64, between func(seq uint64)) {
	for seq := from; seq < to; seq += uint64(n) {
		k := min(uint64(n), to-seq)
		p := buildPacket(seq, int(k))
		a.Packet(0, *now, p)
		a.Packet(1, *now, p)
		*now += step
		a.Tick(*now)
		if between != nil {
			between(seq)
		}
	}
}

// endLines announces the end of session at seq on both lines every 100 ms
// until it counts (endRepeats times) or 3 s have passed.
func endLines(a *Arbiter, now *int64, seq uint64) {
	for stop := *now + 3_000*ms; *now < stop && !a.Ended(); *now += 100 * ms {
		a.Packet(0, *now, endOfSession(seq))
		a.Packet(1, *now, endOfSession(seq))
		a.Tick(*now)
	}
}

func endOfSession(seq uint64) moldudp64.Packet {
	return moldudp64.AppendHeader(nil, testSession, seq, moldudp64.EndOfSession)
}

// checkClean asserts the session [1, end) was delivered whole, with no gap,
// and ended exactly at end.
func checkClean(t *testing.T, a *Arbiter, r *recorder, end uint64) {
	t.Helper()
	if r.msgs != end-1 || len(r.gaps) != 0 {
		t.Errorf("delivered %d messages of %d, gaps %v (%s)", r.msgs, end-1, r.gaps, r)
	}
	if !a.Ended() || a.EndSeq() != end {
		t.Errorf("ended %v at %d, want %d", a.Ended(), a.EndSeq(), end)
	}
}

// Finding 1: an end of session with sequence 2^63 on line A is
// implausible and must not keep the true end from being seen.
func TestHostileWildEndOfSession(t *testing.T) {
	r := &recorder{t: t}
	a := NewArbiter(r, WithSession(testSession), WithMaxJump(1<<24), WithHoldTime(100*ms))
	now := int64(0)
	feedLines(a, &now, 1, 10_001, 10, ms/10, func(seq uint64) {
		if seq == 5001 {
			if v := a.Packet(0, now, endOfSession(1<<63)); v != Implausible {
				t.Errorf("wild end of session: %v", v)
			}
		}
	})
	endLines(a, &now, 10_001)
	checkClean(t, a, r, 10_001)
}

// Finding 2: a packet with sequence 2^63 on both lines, or twice
// contiguously on line A, while the old sequence goes on, is never taken:
// no gap, nothing forged applied, every later genuine packet delivered.
func TestHostileWildCorroborated(t *testing.T) {
	for _, both := range []bool{true, false} {
		r := &recorder{t: t}
		a := NewArbiter(r, WithSession(testSession), WithMaxJump(1<<24), WithHoldTime(100*ms))
		now := int64(0)
		feedLines(a, &now, 1, 20_001, 10, ms/10, func(seq uint64) {
			if seq != 10_001 {
				return
			}
			a.Packet(0, now, buildPacket(1<<63, 1))
			if both {
				a.Packet(1, now, buildPacket(1<<63, 1))
			} else {
				a.Packet(0, now, buildPacket(1<<63+1, 1))
			}
		})
		endLines(a, &now, 20_001)
		checkClean(t, a, r, 20_001)
		if s := a.Stats(); s.Jumps != 0 || s.Implausible != 2 {
			t.Errorf("both lines %v: %d jumps, %d implausible", both, s.Jumps, s.Implausible)
		}
	}
}

// Finding 3: an end of session on line A only, below the next expected
// sequence, ends nothing while line B carries the session.
func TestHostileEarlyEndOfSession(t *testing.T) {
	r := &recorder{t: t}
	a := NewArbiter(r, WithSession(testSession), WithMaxJump(1<<24), WithHoldTime(100*ms))
	now := int64(0)
	feedLines(a, &now, 1, 20_004, 7, ms/10, func(seq uint64) {
		if seq == 10_004 {
			a.Packet(0, now, endOfSession(9_000))
			a.Packet(0, now, endOfSession(a.Next()))
			if a.Ended() {
				t.Fatalf("ended at %d by line A alone", a.EndSeq())
			}
		}
	})
	a.Packet(0, now, endOfSession(20_004))
	if a.Ended() {
		t.Fatal("ended before line B announced the end")
	}
	endLines(a, &now, 20_004)
	checkClean(t, a, r, 20_004)
}

// A line that falls silent does not hold the end back for ever: after
// Options.Quiet the other line's end of session is enough, and when every
// line falls silent after announcing it once, the silence confirms it.
func TestEndOfSessionSilentLine(t *testing.T) {
	r := &recorder{t: t}
	a := NewArbiter(r, WithSession(testSession), WithQuiet(100*ms))
	a.Packet(0, 0, buildPacket(1, 5))
	a.Packet(1, 0, buildPacket(1, 5))
	for i := range endRepeats {
		a.Packet(0, int64(50+i)*ms, endOfSession(6))
	}
	if a.Ended() {
		t.Fatal("ended while line B was live")
	}
	a.Tick(101 * ms)
	if !a.Ended() || a.EndSeq() != 6 {
		t.Fatalf("not ended once line B was silent: %v %d", a.Ended(), a.EndSeq())
	}

	r = &recorder{t: t}
	a = NewArbiter(r, WithSession(testSession), WithQuiet(100*ms))
	a.Packet(0, 0, buildPacket(1, 5))
	a.Packet(1, 0, buildPacket(1, 5))
	a.Packet(0, 10*ms, endOfSession(6))
	a.Packet(1, 10*ms, endOfSession(6))
	a.Tick(100 * ms)
	if a.Ended() {
		t.Fatal("ended on one announcement per line")
	}
	a.Tick(111 * ms)
	if !a.Ended() || a.EndSeq() != 6 {
		t.Fatalf("not ended once both lines were silent after the end: %v %d", a.Ended(), a.EndSeq())
	}
}

// An end of session forged at next on both lines while the feed is idle
// (heartbeats every second) ends nothing: each line's next heartbeat
// breaks the run, and the session goes on, exact, to its true end.
func TestHostileEndAtNext(t *testing.T) {
	r := &recorder{t: t}
	a := NewArbiter(r, WithSession(testSession), WithMaxJump(1<<24), WithHoldTime(100*ms))
	now := int64(0)
	feedLines(a, &now, 1, 1_001, 10, ms, nil)
	heartbeat := moldudp64.AppendHeader(nil, testSession, 1_001, moldudp64.Heartbeat)
	for beat := range 5 {
		for line := range 2 {
			a.Packet(line, now, heartbeat)
		}
		for k := range endRepeats - 1 {
			for line := range 2 {
				a.Packet(line, now+int64(k+1)*ms, endOfSession(1_001))
			}
		}
		now += 1_000 * ms
		a.Tick(now)
		if a.Ended() {
			t.Fatalf("heartbeat %d: a forged end at next ended the session", beat)
		}
	}
	feedLines(a, &now, 1_001, 2_001, 10, ms, nil)
	endLines(a, &now, 2_001)
	checkClean(t, a, r, 2_001)
}

// A forged packet a little ahead while the feed is idle, on one line, is
// not given up as a gap by the hold time: the other line's heartbeats show
// it has not gone past the hole. Once the true session goes on, the hole
// fills and nothing is lost.
func TestHostileAheadWhileIdle(t *testing.T) {
	r := &recorder{t: t}
	a := NewArbiter(r, WithSession(testSession), WithMaxJump(1<<24), WithHoldTime(100*ms))
	now := int64(0)
	feedLines(a, &now, 1, 1_001, 10, ms, nil)
	a.Packet(0, now, buildPacket(1_005, 3)) // forged: 1,001-1,004 never sent yet
	heartbeat := moldudp64.AppendHeader(nil, testSession, 1_001, moldudp64.Heartbeat)
	for range 3 {
		now += 1_000 * ms
		a.Packet(1, now, heartbeat)
		a.Tick(now)
	}
	if s := a.Stats(); s.Gaps != 0 {
		t.Fatalf("a forged packet ahead opened a gap while the feed was idle: %+v", s)
	}
	feedLines(a, &now, 1_001, 2_001, 10, ms, nil)
	endLines(a, &now, 2_001)
	checkClean(t, a, r, 2_001)
}

// Finding 4: the recovery socket takes only answers to requests in
// flight, cut to what was asked; a forged packet far ahead on a line,
// within the jump bound, opens a hole that the true session fills from
// below, which is never given up while it does, even though requests for
// its future messages go unanswered.
func TestHostileRecoverySocket(t *testing.T) {
	var sent []moldudp64.Request
	req := RequesterFunc(func(r moldudp64.Request) { sent = append(sent, r) })
	cfg := RecoveryConfig{FillTime: 2 * ms, MaxOutstanding: 8, MaxCount: 500, Timeout: 50 * ms, Backoff: 2, MaxRetries: 5, MaxAge: 500 * ms}
	r := &recorder{t: t, lax: true}
	a := NewArbiter(r, WithSession(testSession), WithMaxJump(1<<24), WithRecovery(req, cfg), WithRecoveryLine(2))
	now := int64(0)
	forged := func(seq uint64, n int) moldudp64.Packet {
		p := buildPacket(seq, n)
		for i := moldudp64.HeaderLen + 2; i < len(p); i += 2 + testMsgLen {
			p[i] = 'X'
		}
		return p
	}
	// A true session of 3 s: 30,000 messages, 10 a packet, every millisecond.
	feedLines(a, &now, 1, 30_001, 10, ms, func(seq uint64) {
		switch seq {
		case 1001:
			// Unasked, on the recovery socket: nothing in flight.
			if v := a.Packet(2, now, forged(3001, 5)); v != Unsolicited {
				t.Errorf("unsolicited answer: %v", v)
			}
		case 2001:
			// Far ahead on line A, within the jump bound: a hole up to
			// sequence 25,000, requested, its future never answered.
			a.Packet(0, now, forged(25_000, 1))
		case 2101:
			// A forged "answer" to what is in flight, twice as long as
			// asked: cut to the request.
			if len(sent) == 0 {
				t.Fatal("nothing requested")
			}
			q := sent[len(sent)-1]
			a.Packet(2, now, forged(q.Seq, int(q.Count)+50))
			if a.Stats().Clipped != 1 {
				t.Errorf("answer not clipped: %+v", a.Stats())
			}
		}
	})
	endLines(a, &now, 30_001)
	if r.msgs != 30_000 || len(r.gaps) != 0 || !a.Ended() || a.EndSeq() != 30_001 {
		t.Errorf("delivered %d, gaps %v, ended %v at %d", r.msgs, r.gaps, a.Ended(), a.EndSeq())
	}
	s := a.Stats()
	if s.Unsolicited != 1 || s.GivenUp != 0 || s.Gaps != 0 {
		t.Errorf("unsolicited %d, given up %d, gaps %d", s.Unsolicited, s.GivenUp, s.Gaps)
	}
}

// Finding 5 at the arbiter: a start far beyond what the lines carry (a
// snapshot's sequence of 2^64-1) is refuted once both lines show the real
// sequence with nothing at or after the start; one line alone does not.
func TestHostileStartRefuted(t *testing.T) {
	r := &recorder{t: t}
	a := NewArbiter(r, WithSession(testSession), WithMaxJump(1<<24), WithStart(math.MaxUint64-1), WithQuiet(100*ms))
	a.Packet(0, 0, buildPacket(1, 10))
	a.Packet(0, ms, buildPacket(30, 10))
	if a.Refuted() {
		t.Fatal("refuted by one line's uncorroborated packets")
	}
	a.Packet(1, 2*ms, buildPacket(31, 10))
	if !a.Refuted() {
		t.Fatalf("start not refuted: %+v", a.Stats())
	}
	a.Reset(0)
	a.Packet(0, 3*ms, buildPacket(111, 10))
	if a.Refuted() || a.Next() != 121 || r.msgs != 10 {
		t.Fatalf("after Reset(0): refuted %v, next %d, %d delivered", a.Refuted(), a.Next(), r.msgs)
	}
}

// A hold pool filled by forged packets far ahead makes room for the lower
// genuine ones (with recovery): no gap.
func TestHostileHoldFlood(t *testing.T) {
	req := RequesterFunc(func(moldudp64.Request) {})
	cfg := RecoveryConfig{FillTime: 2 * ms, MaxAge: 500 * ms}
	r := &recorder{t: t, lax: true}
	a := NewArbiter(r, WithSession(testSession), WithHoldPackets(16), WithRecovery(req, cfg), WithRecoveryLine(2))
	now := int64(0)
	a.Packet(0, now, buildPacket(1, 10))
	for i := range 16 {
		a.Packet(0, now, buildPacket(uint64(100_000+1000*i), 1))
	}
	// Line A loses 11-20; what follows must be held, in place of the
	// forged packets, until line B fills the hole.
	for seq := uint64(21); seq < 171; seq += 10 {
		a.Packet(0, now, buildPacket(seq, 10))
	}
	a.Packet(1, now, buildPacket(11, 10))
	if r.msgs != 170 || len(r.gaps) != 0 {
		t.Fatalf("delivered %d, gaps %v; stats %+v", r.msgs, r.gaps, a.Stats())
	}
	if a.Stats().Evicted == 0 {
		t.Error("nothing evicted")
	}
}

// Reset reuses the hold pool: no allocation.
func TestResetNoAllocs(t *testing.T) {
	a := NewArbiter(&countingHandler{}, WithSession(testSession))
	p := buildPacket(5, 3)
	if n := testing.AllocsPerRun(100, func() {
		a.Packet(0, 0, p)
		a.Reset(1)
	}); n != 0 {
		t.Errorf("%v allocations per Reset", n)
	}
}
