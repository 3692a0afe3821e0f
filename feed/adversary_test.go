package feed

import (
	"encoding/binary"
	"flag"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tickwire/tickwire/codec/moldudp64"
)

var adversaryRounds = flag.Int("adversary.rounds", 40, "sessions the randomized adversary test plays (make fuzz raises it)")

// advHandler checks what the arbiter delivers in an adversary run: each
// message once, in order, no gap, and true content (type 'T') except where
// the adversary, whose messages are type 'X', carried that sequence.
type advHandler struct {
	t      *testing.T
	seed   uint64
	next   uint64
	forged map[uint64]bool // sequences some adversary packet carried
	faked  uint64
	a      *Arbiter
}

func (h *advHandler) Message(seq uint64, msg []byte) {
	if seq != h.next {
		h.t.Fatalf("seed %d: message %d, expected %d", h.seed, seq, h.next)
	}
	h.next++
	if len(msg) < 9 || binary.BigEndian.Uint64(msg[1:9]) != seq {
		h.t.Fatalf("seed %d: message %d carries %x", h.seed, seq, msg)
	}
	switch msg[0] {
	case 'T':
	case 'X':
		if !h.forged[seq] {
			h.t.Fatalf("seed %d: forged message %d delivered, but no forged packet carried it", h.seed, seq)
		}
		h.faked++
	default:
		h.t.Fatalf("seed %d: message %d of type %q", h.seed, seq, msg[0])
	}
}

func (h *advHandler) Gap(first, count uint64) {
	h.t.Fatalf("seed %d: gap of %d from %d: every message of the true session was recoverable; stats %+v", h.seed, count, first, h.a.Stats())
}

// TestAdversary plays a true session on two lines with independent loss,
// recovered from a re-request server that is slow and loses answers, while
// an adversary injects arbitrary packets on either line and on the recovery
// socket: any session, any sequence (near the feed, far ahead, far behind,
// beyond the end), any count, heartbeats and ends of session, forged
// answers. It asserts the rule of the hardening issue: the adversary can at
// worst supply the content of sequences it carries when it is first; it
// never opens a gap, never moves the sequence, never ends the session
// early or keeps it from ending at its true end, and memory stays within
// its bounds.
func TestAdversary(t *testing.T) {
	base := testSeed(t)
	rounds := *adversaryRounds
	if testing.Short() {
		rounds = 5
	}
	for r := range rounds {
		adversaryRound(t, base+uint64(r), r%2 == 0)
	}
}

const (
	advLineRec = 2
	advMaxJump = 1 << 20
)

// adversaryRound plays one session. With recovery, both lines lose packets
// independently and a re-request server fills the holes; without, no
// packet is lost on both lines, and holes are given up by the hold time.
func adversaryRound(t *testing.T, seed uint64, recovery bool) {
	rng := rand.New(rand.NewPCG(seed, 0xad5e))
	total := uint64(2000 + rng.IntN(8000)) // messages in the true session
	h := &advHandler{t: t, seed: seed, next: 1, forged: map[uint64]bool{}}

	type answer struct {
		at  int64
		pkt []byte
	}
	var pendingAnswers []answer
	now := int64(0)
	req := RequesterFunc(func(r moldudp64.Request) {
		if r.Session != testSession {
			t.Fatalf("seed %d: request for session %q", seed, r.Session)
		}
		if r.Seq > total+1 || rng.Float64() < 0.1 {
			return // beyond what exists, or the answer is lost
		}
		n := min(uint64(r.Count), total+1-r.Seq, uint64(1+rng.IntN(40)))
		if n == 0 {
			return
		}
		pendingAnswers = append(pendingAnswers, answer{now + int64(200_000+rng.IntN(2_000_000)),
			appendPacket(nil, testSession, r.Seq, int(n), pad3)})
	})
	const holdBytes = 256 << 10
	cfg := RecoveryConfig{FillTime: 1_000_000, MaxOutstanding: 8, MaxCount: 100, Timeout: 5_000_000, Backoff: 2, MaxRetries: 4, MaxAge: 500_000_000}
	opts := []Option{WithSession(testSession), WithMaxJump(advMaxJump), WithQuiet(300_000_000)}
	if recovery {
		opts = append(opts, WithHoldPackets(512), WithHoldBytes(holdBytes), WithRecovery(req, cfg), WithRecoveryLine(advLineRec))
	} else {
		opts = append(opts, WithHoldPackets(4096), WithHoldBytes(holdBytes*8), WithHoldTime(100_000_000))
	}
	a := NewArbiter(h, opts...)
	h.a = a

	var buf []byte
	lines := 2
	if recovery {
		lines = 3 // and the recovery socket
	}
	forge := func() (int, []byte) {
		line := rng.IntN(lines)
		sess := testSession
		switch rng.IntN(10) {
		case 0:
			sess = otherSession
		case 1:
			copy(sess[:], "ROGUE00001")
		}
		var seq uint64
		switch k := rng.IntN(8); {
		case k < 3: // near the feed
			seq = max(1, h.next+uint64(rng.IntN(400))-100)
		case k == 3: // ahead, within the jump bound
			seq = h.next + uint64(rng.IntN(advMaxJump))
		case k == 4: // far ahead, up to the top
			seq = h.next + advMaxJump + rng.Uint64N(math.MaxUint64/2)
		case k == 5: // beyond the true end
			seq = total + 1 + uint64(rng.IntN(300))
		case k == 6: // behind
			seq = 1 + rng.Uint64N(h.next)
		default:
			seq = rng.Uint64()
		}
		buf = buf[:0]
		switch rng.IntN(6) {
		case 0:
			return line, moldudp64.AppendHeader(buf, sess, seq, moldudp64.Heartbeat)
		case 1:
			return line, moldudp64.AppendHeader(buf, sess, seq, moldudp64.EndOfSession)
		case 2: // a count that does not match the blocks
			p := moldudp64.AppendHeader(buf, sess, seq, uint16(2+rng.IntN(5)))
			return line, moldudp64.AppendBlock(p, []byte{'X', 1, 2})
		}
		n := 1 + rng.IntN(30)
		if seq == 0 || seq > math.MaxUint64-uint64(n) {
			seq = 1
		}
		p := moldudp64.AppendHeader(buf, sess, seq, uint16(n))
		var m [32]byte
		for i := range n {
			s := seq + uint64(i)
			if sess == testSession {
				h.forged[s] = true
			}
			msg := appendMsg(m[:0], s, 3)
			msg[0] = 'X'
			p = moldudp64.AppendBlock(p, msg)
		}
		return line, p
	}

	lossA, lossB := rng.Float64()*0.1, rng.Float64()*0.1
	step := func(line int, p []byte) {
		a.Packet(line, now, p)
		st := a.Stats()
		if recovery && (st.HeldBytes > holdBytes || st.Outstanding > cfg.MaxOutstanding || len(a.rec.holes) > 4096) {
			t.Fatalf("seed %d: held %d bytes, %d requests, %d holes: beyond the bounds", seed, st.HeldBytes, st.Outstanding, len(a.rec.holes))
		}
		if a.Ended() {
			t.Fatalf("seed %d: the session ended at %d before its true end (next true message %d of %d)", seed, a.EndSeq(), h.next, total)
		}
	}
	var due []answer
	deliverAnswers := func() {
		// Answers are taken out first: passing one may send requests,
		// whose answers join pendingAnswers.
		due = due[:0]
		w := 0
		for _, ans := range pendingAnswers {
			if ans.at <= now {
				due = append(due, ans)
				continue
			}
			pendingAnswers[w] = ans
			w++
		}
		pendingAnswers = pendingAnswers[:w]
		for _, ans := range due {
			a.Packet(advLineRec, now, ans.pkt)
		}
	}
	for seq := uint64(1); seq <= total; {
		n := uint64(1 + rng.IntN(20))
		n = min(n, total+1-seq)
		p := appendPacket(nil, testSession, seq, int(n), pad3)
		lostA := rng.Float64() < lossA
		lostB := rng.Float64() < lossB
		if !recovery && lostA && lostB {
			lostB = false
		}
		if !lostA {
			step(0, p)
		}
		if !lostB {
			step(1, p)
		}
		seq += n
		if rng.IntN(4) == 0 {
			line, f := forge()
			step(line, f)
		}
		now += int64(20_000 + rng.IntN(200_000))
		deliverAnswers()
		a.Tick(now)
	}
	// The true end: every line announces it every 10 ms, while the
	// adversary goes on; it must end at exactly total+1.
	end := moldudp64.AppendHeader(nil, testSession, total+1, moldudp64.EndOfSession)
	for i := 0; i < 2000 && !a.Ended(); i++ {
		if rng.IntN(3) == 0 {
			line, f := forge()
			a.Packet(line, now, f)
		}
		for line := 0; line < 2; line++ {
			if rng.Float64() >= lossA {
				a.Packet(line, now, end)
			}
		}
		now += 10_000_000
		deliverAnswers()
		a.Tick(now)
	}
	st := a.Stats()
	if !a.Ended() || a.EndSeq() != total+1 {
		t.Fatalf("seed %d: ended %v at %d, want the true end %d; next %d, stats %+v", seed, a.Ended(), a.EndSeq(), total+1, a.Next(), st)
	}
	if h.next < total+1 {
		t.Fatalf("seed %d: %d of %d messages delivered", seed, h.next-1, total)
	}
	if st.Jumps != 0 || st.Gaps != 0 {
		t.Fatalf("seed %d: %d jumps, %d gaps", seed, st.Jumps, st.Gaps)
	}
	t.Logf("seed %d (recovery %v): %d messages, %d forged ones won a first copy; %d implausible, %d unsolicited, %d clipped, %d requests, %d evicted, %d discarded",
		seed, recovery, total, h.faked, st.Implausible, st.Unsolicited, st.Clipped, st.Requests, st.Evicted, st.Discarded)
}

// TestAdversaryForgedEndBelowNext replays the round that found an end of
// session forged on both lines below the sequence already delivered (4,
// with 6 messages in): taken at once, it ended the session early. An end
// below next now counts only when every line repeats it (endRepeats).
func TestAdversaryForgedEndBelowNext(t *testing.T) {
	adversaryRound(t, 1796622666440757913, false)
}
