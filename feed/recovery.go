package feed

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/tickwire/tickwire/codec/moldudp64"
)

// Requester sends MoldUDP64 request packets to the session's re-request
// server. The Arbiter calls Request, from Packet or Tick, once per request
// packet it wants sent; the caller owns the socket and writes
// r.Append(buf[:0]) to the server. The answers are ordinary downstream
// packets: the caller passes them to Arbiter.Packet, on a line number of its
// choice (a "recovery line" keeps them apart in Stats.Lines).
//
// Request must not block for long and must not call back into the Arbiter. A
// request that cannot be sent (a full socket buffer) may simply be dropped:
// the Arbiter retries requests that stay unanswered.
type Requester interface {
	Request(r moldudp64.Request)
}

// RequesterFunc adapts a function to the Requester interface.
type RequesterFunc func(r moldudp64.Request)

// Request calls f(r).
func (f RequesterFunc) Request(r moldudp64.Request) { f(r) }

// RecoveryConfig configures gap recovery by re-requests (WithRecovery).
// Times are nanoseconds of the now argument of Arbiter.Packet and Tick. A
// field left zero takes the default named beside it, except MaxRetries, whose
// zero means "no retry"; DefaultRecoveryConfig returns every default.
type RecoveryConfig struct {
	// FillTime is how long a hole may wait for another line to fill it
	// before it is requested. DefaultFillTime; a negative value requests
	// holes as soon as they are seen (a single line).
	FillTime int64
	// MaxOutstanding is the most requests in flight at once.
	// DefaultMaxOutstanding; values above MaxOutstandingLimit are reduced to
	// it.
	MaxOutstanding int
	// MaxCount is the most messages asked for by one request: the server's
	// answer limit. Larger holes are requested in pieces of at most MaxCount.
	// DefaultMaxCount; values above MaxRequestCount are reduced to it.
	MaxCount uint16
	// Timeout is how long a request may stay unanswered before it is sent
	// again. DefaultTimeout.
	Timeout int64
	// Backoff multiplies the timeout at every retry. DefaultBackoff; values
	// below 1 (or not a number) count as 1, a constant timeout.
	Backoff float64
	// MaxRetries is how many times an unanswered request is sent again; when
	// the last one times out too, the range it asked for is given up as a
	// gap. 0 sends each request once. DefaultMaxRetries is the usual
	// setting; negative values count as 0.
	MaxRetries int
	// MaxAge is how long a hole may stay open without progress, from the
	// time it was seen or last shrank from below (the sequence going on into
	// it: a packet far ahead opened it, and the lines are catching up),
	// before it is given up as a gap, whatever the state of its requests.
	// DefaultMaxAge. It bounds the time the feed can stall on one hole.
	MaxAge int64
}

// Defaults and bounds of RecoveryConfig.
const (
	DefaultFillTime       = 2_000_000 // 2 ms
	DefaultMaxOutstanding = 8
	DefaultMaxCount       = 500
	DefaultTimeout        = 50_000_000 // 50 ms
	DefaultBackoff        = 2.0
	DefaultMaxRetries     = 5
	DefaultMaxAge         = 5_000_000_000 // 5 s
	MaxOutstandingLimit   = 1024
	// MaxRequestCount is the most messages one request can ask for: a
	// downstream packet carries at most 0xFFFE (0xFFFF is end of session).
	MaxRequestCount = 0xFFFE
)

// DefaultRecoveryConfig returns the default recovery settings.
func DefaultRecoveryConfig() RecoveryConfig {
	return RecoveryConfig{
		FillTime:       DefaultFillTime,
		MaxOutstanding: DefaultMaxOutstanding,
		MaxCount:       DefaultMaxCount,
		Timeout:        DefaultTimeout,
		Backoff:        DefaultBackoff,
		MaxRetries:     DefaultMaxRetries,
		MaxAge:         DefaultMaxAge,
	}
}

// Validate reports the first field of c that is out of range (zero fields
// stand for their defaults and are valid), as an error wrapping
// ErrRecoveryConfig. WithRecovery accepts any value, bringing each into
// range as its documentation says; Validate is for configuration loaders
// that prefer to refuse.
func (c RecoveryConfig) Validate() error {
	bad := func(field string, v any) error {
		return fmt.Errorf("%w: %s %v", ErrRecoveryConfig, field, v)
	}
	switch {
	case c.MaxOutstanding < 0 || c.MaxOutstanding > MaxOutstandingLimit:
		return bad("MaxOutstanding", c.MaxOutstanding)
	case c.MaxCount > MaxRequestCount:
		return bad("MaxCount", c.MaxCount)
	case c.Timeout < 0:
		return bad("Timeout", c.Timeout)
	case math.IsNaN(c.Backoff) || math.IsInf(c.Backoff, 0) || (c.Backoff != 0 && c.Backoff < 1):
		return bad("Backoff", c.Backoff)
	case c.MaxRetries < 0:
		return bad("MaxRetries", c.MaxRetries)
	case c.MaxAge < 0:
		return bad("MaxAge", c.MaxAge)
	case c.MaxAge != 0 && c.FillTime > 0 && c.MaxAge <= c.FillTime:
		return bad("MaxAge (not above FillTime)", c.MaxAge)
	}
	return nil
}

// resolve applies the defaults and bounds.
func (c *RecoveryConfig) resolve() {
	if c.FillTime == 0 {
		c.FillTime = DefaultFillTime
	}
	c.FillTime = max(c.FillTime, 0)
	if c.MaxOutstanding == 0 {
		c.MaxOutstanding = DefaultMaxOutstanding
	}
	c.MaxOutstanding = min(max(c.MaxOutstanding, 1), MaxOutstandingLimit)
	if c.MaxCount == 0 {
		c.MaxCount = DefaultMaxCount
	}
	c.MaxCount = min(c.MaxCount, MaxRequestCount)
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	switch {
	case c.Backoff == 0:
		c.Backoff = DefaultBackoff
	case !(c.Backoff >= 1) || math.IsInf(c.Backoff, 0): // below 1, NaN, +Inf
		c.Backoff = 1
	}
	c.MaxRetries = max(c.MaxRetries, 0)
	if c.MaxAge <= 0 {
		c.MaxAge = DefaultMaxAge
	}
}

// hole is a range of missing messages: not delivered, not held.
type hole struct {
	first, end uint64 // [first, end)
	seen       int64  // clock when it was first known to be missing (FillTime counts from it)
	since      int64  // clock of its last progress: seen, or when it last shrank from below (MaxAge counts from it)
	dead       bool   // given up: a gap as soon as next reaches it
}

// request is a range under recovery: asked for, not yet answered. Its range
// only shrinks; what it covers is missing (in a hole) or arrived since.
type request struct {
	first, end uint64 // [first, end), at most MaxCount messages
	deadline   int64  // clock at which it is retried
	timeout    int64  // current timeout, grown by Backoff at each retry
	sent       int64  // clock when it was first sent, or its retries last started over
	tries      int32  // retries sent so far
	resend     bool   // answered in part: ask for the rest at the next pump
}

// recovery is the re-request state of an Arbiter.
//
// holes lists the missing ranges in sequence order, disjoint: together with
// the held packets they cover [next, known) exactly. reqs lists the requests
// in flight in sequence order, disjoint, each inside [next, known). Both are
// preallocated; holes grows (rarely) beyond its initial capacity only when
// many holes are split by requests given up in their middle.
type recovery struct {
	req   Requester
	cfg   RecoveryConfig
	known uint64 // end of the highest sequence known to exist
	holes []hole
	reqs  []request
	wake  int64 // clock at which the next timer fires
	due   bool  // pump at the next opportunity: a request was answered or removed
}

func newRecovery(req Requester, cfg RecoveryConfig, holdPackets int) *recovery {
	return &recovery{
		req:   req,
		cfg:   cfg,
		holes: make([]hole, 0, holdPackets+2*cfg.MaxOutstanding+16),
		reqs:  make([]request, 0, cfg.MaxOutstanding),
		wake:  math.MaxInt64,
	}
}

// addClamp returns t+d (d >= 0) without overflowing.
func addClamp(t, d int64) int64 {
	if t > math.MaxInt64-d {
		return math.MaxInt64
	}
	return t + d
}

// searchHole returns the index of the first hole ending after seq.
func (r *recovery) searchHole(seq uint64) int {
	lo, hi := 0, len(r.holes)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if r.holes[m].end <= seq {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// firstLive returns the lowest sequence of [first, end) in a hole not given
// up, and false if there is none.
func (r *recovery) firstLive(first, end uint64) (uint64, bool) {
	for i := r.searchHole(first); i < len(r.holes) && r.holes[i].first < end; i++ {
		if !r.holes[i].dead {
			return max(r.holes[i].first, first), true
		}
	}
	return 0, false
}

// requested returns how many messages of [first, end) requests in flight
// cover.
func (r *recovery) requested(first, end uint64) uint64 {
	var n uint64
	for i := range r.reqs {
		q := &r.reqs[i]
		if q.first >= end {
			break
		}
		if lo, hi := max(q.first, first), min(q.end, end); lo < hi {
			n += hi - lo
		}
	}
	return n
}

// addHole records the new hole [first, end) above every other one.
func (r *recovery) addHole(first, end uint64, now int64) {
	r.holes = append(r.holes, hole{first: first, end: end, seen: now, since: now})
	r.wake = min(r.wake, addClamp(now, r.cfg.FillTime), addClamp(addClamp(now, r.cfg.MaxAge), 1))
}

// recFill records that the well-formed data packet [first, end) arrived at
// now: it leaves the holes it fills (splitting them if it falls inside), opens
// a hole if it is beyond every known sequence, and answers the requests whose
// first sequence it carries.
func (a *Arbiter) recFill(first, end uint64, now int64) {
	r := a.rec
	r.known = max(r.known, a.next)
	if f, e := max(first, a.next), min(end, r.known); f < e && len(r.holes) > 0 {
		i := r.searchHole(f)
		for i < len(r.holes) && r.holes[i].first < e {
			h := &r.holes[i]
			x, y := max(h.first, f), min(h.end, e)
			a.stats.Recovered += r.requested(x, y)
			switch {
			case x == h.first && y == h.end:
				r.holes = slices.Delete(r.holes, i, i+1)
			case x == h.first:
				// The hole shrinks from below: the sequence is going on
				// into it (the lines catching up with a packet far ahead,
				// or answers coming in). It is not stalled: its age starts
				// again.
				h.first, h.since = y, now
				i++
			case y == h.end:
				h.end = x
				i++
			default: // inside: split
				rest := hole{first: y, end: h.end, seen: h.seen, since: h.since, dead: h.dead}
				h.end = x
				r.holes = slices.Insert(r.holes, i+1, rest)
				i += 2
			}
		}
		// The answer to a request carries its first sequence (so does the
		// other line's copy of the lost packet, which answers it as well).
		// A request answered in full is done; in part (the server's MTU:
		// the answer stops short of a range still missing), the rest is
		// asked for at once. The ranges of a retry sent apart (what arrived
		// in their middle is not asked for again) wait for their answers.
		w := 0
		for _, q := range r.reqs {
			if f <= q.first && q.first < e {
				r.due = true
				m, ok := r.firstLive(q.first, q.end)
				if !ok {
					continue
				}
				q.first = m
				q.resend = q.resend || m == e
			}
			r.reqs[w] = q
			w++
		}
		r.reqs = r.reqs[:w]
	}
	if end > r.known {
		if first > r.known {
			r.addHole(r.known, first, now)
		}
		r.known = end
	}
}

// recAnnounce records the next sequence seq announced by a heartbeat or
// end-of-session packet at now: a lost tail is a hole like any other.
func (a *Arbiter) recAnnounce(seq uint64, now int64) {
	r := a.rec
	r.known = max(r.known, a.next)
	if seq > r.known {
		r.addHole(r.known, seq, now)
		r.known = seq
	}
}

// recPrune forgets the holes and requests below next, which a gap has just
// moved past, or deliveries (a request may cover messages that arrived
// since it was sent).
func (a *Arbiter) recPrune() {
	r := a.rec
	r.known = max(r.known, a.next)
	n := 0
	for n < len(r.holes) && r.holes[n].end <= a.next {
		n++
	}
	r.holes = slices.Delete(r.holes, 0, n)
	if len(r.holes) > 0 {
		r.holes[0].first = max(r.holes[0].first, a.next)
	}
	n = 0
	for n < len(r.reqs) && r.reqs[n].end <= a.next {
		n++
	}
	if n > 0 {
		r.reqs = slices.Delete(r.reqs, 0, n)
		r.due = true // slots freed
	}
	if len(r.reqs) > 0 {
		r.reqs[0].first = max(r.reqs[0].first, a.next)
	}
}

// recover runs the recovery timers when one is due, after every Packet and
// Tick.
func (a *Arbiter) recover() {
	r := a.rec
	if len(r.reqs) > 0 && r.reqs[0].first < a.next {
		a.recPrune()
	}
	if r.due || a.clock >= r.wake || (len(r.holes) > 0 && r.holes[0].dead) {
		a.pump()
	}
}

// pump gives up the holes too old and the requests retried too often,
// retries the requests timed out, asks for the rest of the requests answered
// in part, reports the holes given up that next has reached as gaps, sends
// new requests for the holes that waited FillTime (within MaxOutstanding),
// and sets the time of the next timer.
func (a *Arbiter) pump() {
	r := a.rec
	now := a.clock
	r.due = false

	for i := range r.holes {
		h := &r.holes[i]
		if !h.dead && uint64(now)-uint64(h.since) > uint64(r.cfg.MaxAge) {
			h.dead = true
			a.stats.GivenUp++
		}
	}
	r.mergeDead()

	w := 0
	for i := range r.reqs {
		q := r.reqs[i]
		m, ok := r.firstLive(q.first, q.end)
		if !ok {
			continue // filled or given up: nothing left to ask for
		}
		q.first = m
		switch {
		case now >= q.deadline:
			if int(q.tries) >= r.cfg.MaxRetries {
				if i := r.searchHole(q.first); i < len(r.holes) && r.holes[i].since > q.sent {
					// Its hole has shrunk from below since: the messages
					// asked for may simply not exist yet (a packet far
					// ahead opened the hole). Start the retries over.
					q.tries, q.timeout, q.sent = 0, r.cfg.Timeout, now
					a.stats.Retries += a.send(&q, now)
					break
				}
				a.markDead(q.first, q.end)
				continue
			}
			q.tries++
			q.timeout = grow(q.timeout, r.cfg.Backoff, r.cfg.MaxAge)
			a.stats.Retries += a.send(&q, now)
		case q.resend:
			a.send(&q, now)
		}
		q.resend = false
		r.reqs[w] = q
		w++
	}
	r.reqs = r.reqs[:w]

	a.giveUpDead()
	a.requestNew(now)

	wake := int64(math.MaxInt64)
	for i := range r.reqs {
		wake = min(wake, r.reqs[i].deadline)
	}
	for i := range r.holes {
		h := &r.holes[i]
		if h.dead {
			continue
		}
		wake = min(wake, addClamp(addClamp(h.since, r.cfg.MaxAge), 1))
		if t := addClamp(h.seen, r.cfg.FillTime); t > now {
			wake = min(wake, t)
		}
	}
	r.wake = wake
}

// grow returns the timeout after a retry, at most limit.
func grow(timeout int64, backoff float64, limit int64) int64 {
	t := float64(timeout) * backoff
	if t >= float64(limit) {
		return max(limit, timeout)
	}
	return max(int64(t), timeout)
}

// send asks for the messages of q's range still missing and not given up,
// one request packet per missing range, sets q's deadline and returns the
// number of packets sent.
func (a *Arbiter) send(q *request, now int64) uint64 {
	r := a.rec
	var n uint64
	for i := r.searchHole(q.first); i < len(r.holes) && r.holes[i].first < q.end; i++ {
		h := &r.holes[i]
		if h.dead {
			continue
		}
		f, e := max(h.first, q.first), min(h.end, q.end)
		r.req.Request(moldudp64.Request{Session: a.session, Seq: f, Count: uint16(e - f)})
		a.stats.Requests++
		a.stats.RequestedMessages += e - f
		n++
	}
	q.deadline = addClamp(now, q.timeout)
	return n
}

// requestNew sends requests for the parts of the holes, lowest first, that
// have waited FillTime and that no request in flight covers, in pieces of at
// most MaxCount messages, while fewer than MaxOutstanding are in flight. A
// hole below the highest request in flight takes its slot when none is free
// (the highest is asked for again in its turn): holes far ahead, which a
// rogue packet opens and whose messages may not exist yet, cannot starve
// the ones next needs.
func (a *Arbiter) requestNew(now int64) {
	r := a.rec
	k := 0 // first request ending after c
	for i := 0; i < len(r.holes); i++ {
		h := r.holes[i]
		if h.dead || uint64(now)-uint64(h.seen) < uint64(r.cfg.FillTime) {
			continue
		}
		for c := h.first; c < h.end; {
			for k < len(r.reqs) && r.reqs[k].end <= c {
				k++
			}
			if k < len(r.reqs) && r.reqs[k].first <= c {
				c = r.reqs[k].end // in flight already
				continue
			}
			if len(r.reqs) == r.cfg.MaxOutstanding {
				if k == len(r.reqs) {
					return // every slot serves a lower hole
				}
				r.reqs = r.reqs[:len(r.reqs)-1] // preempt the highest
				a.stats.Preempted++
			}
			e := h.end
			if e-c > uint64(r.cfg.MaxCount) {
				e = c + uint64(r.cfg.MaxCount)
			}
			if k < len(r.reqs) {
				e = min(e, r.reqs[k].first)
			}
			r.reqs = slices.Insert(r.reqs, k, request{first: c, end: e, timeout: r.cfg.Timeout, sent: now})
			a.send(&r.reqs[k], now)
			k++
			c = e
		}
	}
}

// answer takes a packet of the recovery line (Options.RecoveryLine): only
// as the answer to a request in flight, and only the part of it that
// request asked for. Whatever else it carries is dropped, and a packet
// that answers nothing is Unsolicited: a packet sent from the server's
// address, or spoofed, can supply at most the messages asked for.
func (a *Arbiter) answer(ls *LineStats, line int, now int64, p moldudp64.Packet, mark bool, seq, end uint64) Verdict {
	if mark {
		// The lines announce the session's progress; an announcement on
		// the recovery socket is not trusted to.
		if p.Count() == moldudp64.EndOfSession {
			ls.EndOfSession++
			a.stats.EndOfSession++
		} else {
			ls.Heartbeats++
			a.stats.Heartbeats++
		}
		return Announcement
	}
	if a.started && end <= a.next {
		return a.duplicate(ls)
	}
	if !wellFormed(p) {
		return a.malformed(ls)
	}
	r := a.rec
	k := 0
	for k < len(r.reqs) && r.reqs[k].end <= seq {
		k++
	}
	if !a.started || k == len(r.reqs) || r.reqs[k].first >= end {
		if a.started && a.hold.covered(seq, end) {
			return a.duplicate(ls)
		}
		ls.Unsolicited++
		a.stats.Unsolicited++
		return Unsolicited
	}
	q := r.reqs[k]
	lo, hi := max(seq, q.first), min(end, q.end)
	if lo != seq || hi != end {
		p = a.clip(p, seq, lo, hi)
		a.stats.Clipped++
	}
	return a.data(ls, line, now, p, lo, hi)
}

// clip returns the well-formed packet p, which carries sequences from
// first, cut to [lo, hi), in the Arbiter's scratch buffer: valid until the
// next call.
func (a *Arbiter) clip(p moldudp64.Packet, first, lo, hi uint64) moldudp64.Packet {
	off, from := moldudp64.HeaderLen, moldudp64.HeaderLen
	for seq := first; seq < hi; seq++ {
		if seq == lo {
			from = off
		}
		off += 2 + int(binary.BigEndian.Uint16(p[off:]))
	}
	b := append(a.scratch[:0], p[:moldudp64.HeaderLen]...)
	binary.BigEndian.PutUint64(b[10:], lo)
	binary.BigEndian.PutUint16(b[18:], uint16(hi-lo))
	a.scratch = append(b, p[from:off]...)
	return a.scratch
}

// evictTop drops the highest held packet to make room for a lower one: the
// messages only it held become a hole again, requested in their turn.
func (a *Arbiter) evictTop(now int64) {
	r := a.rec
	n := a.hold.len()
	s := a.hold.at(n - 1)
	lo, hi := s.first, s.end
	if n > 1 {
		lo = max(lo, a.hold.at(n-2).end)
	}
	a.hold.release(a.hold.order[n-1])
	a.hold.order = a.hold.order[:n-1]
	a.stats.Evicted++
	if lo < hi {
		r.holes = slices.Insert(r.holes, r.searchHole(lo), hole{first: lo, end: hi, seen: now, since: now})
		r.wake = min(r.wake, addClamp(now, r.cfg.FillTime), addClamp(addClamp(now, r.cfg.MaxAge), 1))
	}
}

// markDead gives up the missing messages of [first, end): the holes there
// become gaps as soon as next reaches them.
func (a *Arbiter) markDead(first, end uint64) {
	r := a.rec
	for i := r.searchHole(first); i < len(r.holes) && r.holes[i].first < end; i++ {
		if r.holes[i].dead {
			continue
		}
		if h := r.holes[i]; h.first < first {
			r.holes[i].end = first
			r.holes = slices.Insert(r.holes, i+1, hole{first: first, end: h.end, seen: h.seen, since: h.since})
			i++
		}
		if h := r.holes[i]; h.end > end {
			r.holes[i].end = end
			r.holes = slices.Insert(r.holes, i+1, hole{first: end, end: h.end, seen: h.seen, since: h.since})
		}
		r.holes[i].dead = true
		a.stats.GivenUp++
	}
	r.mergeDead()
}

// mergeDead merges adjacent holes given up.
func (r *recovery) mergeDead() {
	w := 0
	for i := range r.holes {
		if h := r.holes[i]; w > 0 && h.dead && r.holes[w-1].dead && r.holes[w-1].end == h.first {
			r.holes[w-1].end = h.end
			continue
		}
		r.holes[w] = r.holes[i]
		w++
	}
	r.holes = r.holes[:w]
}

// giveUpDead reports the holes given up that next has reached as gaps, and
// delivers the held packets behind them.
func (a *Arbiter) giveUpDead() {
	r := a.rec
	if a.endAnnounced() {
		return
	}
	for len(r.holes) > 0 && r.holes[0].dead && r.holes[0].first == a.next && a.passed(r.holes[0].end) {
		a.gapTo(r.holes[0].end)
		a.drain()
	}
}

// checkRecovery panics if the holes and held packets do not cover
// [next, known) exactly, or the requests are inconsistent.
func (a *Arbiter) checkRecovery() {
	r := a.rec
	h := &a.hold
	c, j := a.next, 0
	for i := range r.holes {
		x := r.holes[i]
		if x.end <= x.first || x.first < c {
			panic(fmt.Sprintf("feed: hole [%d, %d) after %d", x.first, x.end, c))
		}
		if k := h.searchEnd(x.first); k < h.len() && h.at(k).first < x.end {
			panic(fmt.Sprintf("feed: hole [%d, %d) overlaps held [%d, %d)", x.first, x.end, h.at(k).first, h.at(k).end))
		}
		for c < x.first {
			for j < h.len() && h.at(j).end <= c {
				j++
			}
			if j == h.len() || h.at(j).first > c {
				panic(fmt.Sprintf("feed: sequence %d neither held nor missing (next %d)", c, a.next))
			}
			c = min(h.at(j).end, x.first)
		}
		c = x.end
	}
	if c > r.known || (h.len() > 0 && h.lastEnd() > r.known) {
		panic(fmt.Sprintf("feed: holes or held packets up to %d, known %d", max(c, h.lastEnd()), r.known))
	}
	for c < r.known {
		for j < h.len() && h.at(j).end <= c {
			j++
		}
		if j == h.len() || h.at(j).first > c {
			panic(fmt.Sprintf("feed: sequence %d below known %d neither held nor missing", c, r.known))
		}
		c = h.at(j).end
	}
	if len(r.reqs) > r.cfg.MaxOutstanding {
		panic(fmt.Sprintf("feed: %d requests in flight, limit %d", len(r.reqs), r.cfg.MaxOutstanding))
	}
	prev := a.next
	for _, q := range r.reqs {
		if q.first < prev || q.end <= q.first || q.end > r.known || q.end-q.first > uint64(r.cfg.MaxCount) {
			panic(fmt.Sprintf("feed: request [%d, %d) after %d, known %d", q.first, q.end, prev, r.known))
		}
		prev = q.end
	}
}
