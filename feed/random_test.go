package feed

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tickwire/tickwire/codec/moldudp64"
)

// TestArbiterRandom plays a generated session of ~100k messages on two lines
// with independent loss, duplication, reordering and a lagging line B. Without
// double loss every message must be delivered exactly once, in order, with no
// gap; with double loss the gaps must be exactly the doubly-lost ranges.
// FEED_SEED=n replays a run.
func TestArbiterRandom(t *testing.T) {
	seed := testSeed(t)
	for _, double := range []bool{false, true} {
		name := "each packet on a line"
		if double {
			name = "double loss"
		}
		t.Run(name, func(t *testing.T) {
			testArbiterRandom(t, rand.New(rand.NewPCG(seed, map[bool]uint64{false: 1, true: 2}[double])), double)
		})
	}
}

type lineEvent struct {
	at   int64
	line int
	ord  int // generation order, breaks ties
	p    moldudp64.Packet
}

func testArbiterRandom(t *testing.T, r *rand.Rand, double bool) {
	const (
		total    = 100_000
		interval = 1_000  // ns between packets at the source
		jitter   = 5_000  // per-line delay variation: reorders up to ~5 packets
		lagB     = 30_000 // line B lags by ~30 packets
		dupDelay = 20_000 // a duplicated packet comes again up to this much later
		holdTime = 200_000
		loss     = 0.05
		dupRate  = 0.02
	)
	pad := func(seq uint64) int { return int(seq % 17) }
	var (
		events []lineEvent
		lost   [][2]uint64 // doubly-lost ranges [first, end), merged
		send   = func(at int64, line int, p moldudp64.Packet) {
			events = append(events, lineEvent{at: at, line: line, ord: len(events), p: p})
		}
		deliverBoth = func(sent int64, p moldudp64.Packet, lostA, lostB bool) {
			for line, isLost := range [2]bool{lostA, lostB} {
				if isLost {
					continue
				}
				at := sent + r.Int64N(jitter)
				if line == 1 {
					at += lagB
				}
				send(at, line, p)
				if r.Float64() < dupRate {
					send(at+r.Int64N(dupDelay), line, p)
				}
			}
		}
	)
	seq := uint64(1)
	var sent int64
	for seq <= total {
		n := min(1+r.IntN(30), total-int(seq)+1)
		p := moldudp64.Packet(appendPacket(nil, testSession, seq, n, pad))
		lostA, lostB := r.Float64() < loss, r.Float64() < loss
		if lostA && lostB && !double {
			if r.IntN(2) == 0 {
				lostA = false
			} else {
				lostB = false
			}
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
			// Heartbeats announce the next sequence; they are lost like data.
			hb := heartbeat(testSession, seq, moldudp64.Heartbeat)
			deliverBoth(sent-interval/2, hb, r.Float64() < loss, r.Float64() < loss)
		}
	}
	deliverBoth(sent, heartbeat(testSession, seq, moldudp64.EndOfSession), false, false)
	slices.SortFunc(events, func(x, y lineEvent) int {
		return cmp.Or(cmp.Compare(x.at, y.at), cmp.Compare(x.ord, y.ord))
	})

	rec := &recorder{t: t, expect: 1}
	a := NewArbiter(rec, WithHoldTime(holdTime), WithHoldPackets(4096), WithHoldBytes(8<<20))
	for _, e := range events {
		a.Packet(e.line, e.at, e.p)
	}
	a.Close()
	if t.Failed() {
		return
	}

	var lostMsgs uint64
	for _, l := range lost {
		lostMsgs += l[1] - l[0]
	}
	s := a.Stats()
	t.Logf("%d packets on the lines, %d messages, %d doubly-lost ranges (%d messages); held %d (max %d), duplicates %d, trimmed %d, heartbeats %d",
		len(events), s.Messages, len(lost), lostMsgs, s.Held, s.MaxHeldPackets, s.Duplicates, s.Trimmed, s.Heartbeats)
	if rec.expect != total+1 {
		t.Errorf("stream ends before %d, want %d", rec.expect, total+1)
	}
	if s.Messages != total-lostMsgs || rec.msgs != s.Messages {
		t.Errorf("%d messages delivered (handler saw %d), want %d", s.Messages, rec.msgs, total-lostMsgs)
	}
	if s.Lines[0].Messages+s.Lines[1].Messages != s.Messages {
		t.Errorf("line messages %d + %d, total %d", s.Lines[0].Messages, s.Lines[1].Messages, s.Messages)
	}
	if s.Held == 0 || s.Duplicates == 0 || s.Heartbeats == 0 {
		t.Errorf("the generator exercised too little: %+v", s)
	}
	if s.HeldPackets != 0 || s.HeldBytes != 0 {
		t.Errorf("%d packets (%d bytes) still held after Close", s.HeldPackets, s.HeldBytes)
	}
	// Adjacent gaps are one lost range (a tail given up by a heartbeat's
	// timer may be reported apart from the hole above it).
	var gaps [][2]uint64
	for _, g := range rec.gaps {
		if k := len(gaps) - 1; k >= 0 && gaps[k][1] == g[0] {
			gaps[k][1] += g[1]
		} else {
			gaps = append(gaps, [2]uint64{g[0], g[0] + g[1]})
		}
	}
	if !slices.Equal(gaps, lost) {
		t.Errorf("gaps %v\nwant %v (the doubly-lost ranges)", gaps, lost)
	}
	if !double && (s.Gaps != 0 || len(lost) != 0) {
		t.Errorf("%d gaps without double loss", s.Gaps)
	}
	if double && len(lost) == 0 {
		t.Errorf("the generator lost nothing on both lines")
	}
}
