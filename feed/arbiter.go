package feed

import (
	"bytes"
	"fmt"
	"math"

	"github.com/tickwire/tickwire/codec/moldudp64"
	"github.com/tickwire/tickwire/internal/invariants"
)

// Handler receives the messages of a session in sequence order.
//
// Message is called once for every sequence number that is not part of a
// gap, in increasing order; msg is one message block (an ITCH message, type
// byte first) that aliases the packet passed to Arbiter.Packet or the
// Arbiter's held copy of it: it is valid only during the call, and must be
// copied to be kept.
//
// Gap reports that the messages first through first+count-1 (count ≥ 1) are
// lost: no line delivered them before a hold limit or Close gave up on them.
// Gap and Message calls together cover every sequence from the first expected
// one exactly once, in order.
//
// A Handler must not call back into the Arbiter that calls it.
type Handler interface {
	Message(seq uint64, msg []byte)
	Gap(first, count uint64)
}

// Arbiter sequences one MoldUDP64 session received on one or more lines
// (A/B arbitration): the first copy of each message wins, later copies are
// duplicates, packets ahead of a hole are held until the hole fills from any
// line, and holes that do not fill within the hold limits are reported as
// gaps. See the package documentation.
//
// An Arbiter is not safe for concurrent use: one goroutine passes the packets
// of every line to it, and the Handler runs on that goroutine.
type Arbiter struct {
	h    Handler
	next uint64 // sequence of the next message owed to h

	// tail is a next sequence announced by a heartbeat or end-of-session
	// packet; while above next, the holes below it have been known since
	// tailAt. pend is the highest sequence announced since, first announced
	// at pendAt; it becomes the tail when the tail is reached. (Announcements
	// in between are forgotten: their holes are given up with pend's, later
	// than they could be, never earlier.)
	tail, pend     uint64
	tailAt, pendAt int64

	// clock is the highest now seen: time never goes backwards, so a
	// clock stepping back cannot expire anything early.
	clock int64

	holdPackets int
	holdBytes   int
	holdTime    int64
	hold        holdSet

	rec *recovery // nil without WithRecovery

	session    [10]byte
	sessionSet bool
	started    bool // next is known (false only with WithStart(0) before the first packet)

	stats Stats
	sink  LineStats // counts of lines outside [0, MaxLines), discarded

	shadow uint64 // invariants: next sequence the Handler has seen

	maxJump uint64    // Options.MaxJump
	jump    jumpProbe // the last packet that jumped too far
}

// jumpProbe remembers the last implausible packet, for corroboration.
type jumpProbe struct {
	set      bool
	line     int
	seq, end uint64
}

// NewArbiter returns an Arbiter that delivers to h. It allocates the hold pool
// (Options.HoldPackets × Options.PacketSize bytes) up front.
func NewArbiter(h Handler, opts ...Option) *Arbiter {
	var o Options
	for _, opt := range opts {
		opt(&o)
	}
	o.resolve()
	a := &Arbiter{
		h:           h,
		next:        o.Start,
		holdPackets: o.HoldPackets,
		holdBytes:   o.HoldBytes,
		holdTime:    o.HoldTime,
		hold:        newHoldSet(o.HoldPackets, o.PacketSize),
		session:     o.Session,
		sessionSet:  o.SessionSet,
		started:     o.Start != 0,
		shadow:      o.Start,
		clock:       math.MinInt64,
		maxJump:     o.MaxJump,
	}
	if o.Requester != nil {
		a.rec = newRecovery(o.Requester, o.Recovery, o.HoldPackets)
		a.rec.known = a.next
		a.holdTime = 0 // recovery decides when a hole is given up
	}
	return a
}

// Next returns the sequence of the next message the Handler will receive
// (or the first sequence of the next gap).
func (a *Arbiter) Next() uint64 { return a.next }

// Session returns the session accepted, and false while it is not fixed yet.
func (a *Arbiter) Session() ([10]byte, bool) { return a.session, a.sessionSet }

// Stats returns the counters.
func (a *Arbiter) Stats() Stats {
	s := a.stats
	s.HeldPackets, s.HeldBytes = a.hold.len(), a.hold.bytes
	if a.rec != nil {
		s.Outstanding = len(a.rec.reqs)
	}
	return s
}

func (a *Arbiter) line(line int) *LineStats {
	if uint(line) < MaxLines {
		return &a.stats.Lines[line]
	}
	return &a.sink
}

// Packet processes packet p received on line at time now (nanoseconds; capture
// or clock time, used only for Options.HoldTime and the recovery timers; a now
// lower than one seen before counts as that one). line is any small integer
// naming the line (0 for A, 1 for B, ...; answers to re-requests may use one
// of their own); lines 0 to MaxLines-1 are counted apart in Stats.Lines.
// Messages that become deliverable, and gaps that hold limits or recovery
// give up, are passed to the Handler, and requests due are passed to the
// Requester, before Packet returns. p is not retained: what must wait is
// copied.
//
// p should come from moldudp64.Parse, but any bytes are accepted: a packet too
// short for the header, or otherwise malformed, is counted and ignored.
func (a *Arbiter) Packet(line int, now int64, p moldudp64.Packet) {
	ls := a.line(line)
	ls.Packets++
	a.stats.Packets++
	a.expire(now)
	a.packet(ls, line, a.clock, p)
	if a.rec != nil {
		a.recover()
	}
	if invariants.Enabled {
		a.checkInvariants()
	}
}

// Tick applies the hold-time limit, or runs the recovery timers (requests,
// retries, holes given up), at time now without a packet: call it
// periodically on an idle live feed so that holes are requested and reported
// as gaps without waiting for the next packet. With recovery, call it at
// least as often as the shortest of RecoveryConfig.FillTime and Timeout.
func (a *Arbiter) Tick(now int64) {
	a.expire(now)
	if a.rec != nil {
		a.recover()
	}
	if invariants.Enabled {
		a.checkInvariants()
	}
}

// Close ends the input: every remaining hole, up to the end of the highest
// held packet or the sequence announced by the last heartbeat, whichever is
// higher, is reported as a gap, and every held packet is delivered. Requests
// in flight are forgotten. Packets passed after Close are processed as
// before, from Next.
func (a *Arbiter) Close() {
	limit := max(a.tail, a.pend, a.hold.lastEnd())
	if a.rec != nil {
		limit = max(limit, a.rec.known)
	}
	a.flushTo(limit)
	if a.rec != nil {
		a.recPrune()
	}
	if invariants.Enabled {
		a.checkInvariants()
	}
}

func (a *Arbiter) packet(ls *LineStats, line int, now int64, p moldudp64.Packet) {
	if len(p) < moldudp64.HeaderLen {
		a.malformed(ls)
		return
	}
	if a.sessionSet && !bytes.Equal(p.Session(), a.session[:]) {
		ls.OtherSession++
		a.stats.OtherSession++
		return
	}
	seq, count := p.Seq(), p.Count()
	if a.maxJump > 0 && a.started {
		if k := a.known(); seq > k && seq-k > a.maxJump && !a.corroborated(line, seq, count) {
			ls.Implausible++
			a.stats.Implausible++
			return
		}
	}
	switch count {
	case moldudp64.Heartbeat, moldudp64.EndOfSession:
		if len(p) != moldudp64.HeaderLen {
			a.malformed(ls)
			return
		}
		a.fixSession(p)
		if count == moldudp64.Heartbeat {
			ls.Heartbeats++
			a.stats.Heartbeats++
		} else {
			ls.EndOfSession++
			a.stats.EndOfSession++
		}
		a.announce(seq, now)
		return
	}
	if seq == 0 || seq > math.MaxUint64-uint64(count) {
		a.malformed(ls)
		return
	}
	if a.started && seq+uint64(count) <= a.next && a.sessionSet {
		// The other line's copy, the common case: drop it before walking
		// its blocks (a third of the work on a healthy A/B feed).
		ls.Duplicates++
		a.stats.Duplicates++
		return
	}
	if !wellFormed(p) {
		a.malformed(ls)
		return
	}
	a.fixSession(p)
	if !a.started {
		a.started = true
		a.next, a.shadow = seq, seq
	}
	a.data(ls, line, now, p, seq, seq+uint64(count))
}

// known returns the highest sequence number the arbiter knows of: the next
// one owed, held packets' ends, announced tails.
func (a *Arbiter) known() uint64 {
	k := max(a.next, a.tail, a.pend, a.hold.lastEnd())
	if a.rec != nil {
		k = max(k, a.rec.known)
	}
	return k
}

// corroborated decides whether a packet starting too far ahead is a genuine
// jump: another line has just shown a packet within MaxJump of it, or this
// line's previous implausible packet ended where this one starts. Otherwise
// the packet is remembered for the next call and rejected.
func (a *Arbiter) corroborated(line int, seq uint64, count uint16) bool {
	n := uint64(count)
	if count == moldudp64.EndOfSession {
		n = 0
	}
	j := &a.jump
	if j.set {
		near := seq-j.seq <= a.maxJump || j.seq-seq <= a.maxJump
		if (j.line != line && near) || (j.line == line && seq == j.end && n > 0 && j.end != j.seq) {
			j.set = false
			return true
		}
	}
	*j = jumpProbe{set: true, line: line, seq: seq, end: seq + n}
	return false
}

// wellFormed reports whether every block of p parses and their number is the
// packet's count.
func wellFormed(p moldudp64.Packet) bool {
	b := p.Blocks()
	for {
		if _, ok := b.Next(); !ok {
			break
		}
	}
	return b.Err() == nil
}

func (a *Arbiter) malformed(ls *LineStats) {
	ls.Malformed++
	a.stats.Malformed++
}

func (a *Arbiter) fixSession(p moldudp64.Packet) {
	if !a.sessionSet {
		copy(a.session[:], p.Session())
		a.sessionSet = true
	}
}

// announce handles the next sequence announced by a heartbeat or an
// end-of-session packet.
func (a *Arbiter) announce(seq uint64, now int64) {
	if !a.started {
		if seq == 0 {
			return
		}
		a.started = true
		a.next, a.shadow = seq, seq
		if a.rec != nil {
			a.rec.known = seq
		}
		return
	}
	if a.rec != nil {
		a.recAnnounce(seq, now)
		return
	}
	a.promote()
	switch {
	case seq <= a.next:
	case a.tail <= a.next:
		a.tail, a.tailAt = seq, now
		if a.holdPackets == 0 {
			a.flushTo(seq)
		}
	case seq > max(a.tail, a.pend):
		a.pend, a.pendAt = seq, now
	}
}

// promote makes pend the tail once next has reached the tail.
func (a *Arbiter) promote() {
	if a.tail <= a.next && a.pend > a.next {
		a.tail, a.tailAt = a.pend, a.pendAt
		a.pend = 0
	}
}

// data arbitrates a well-formed data packet carrying [first, end).
func (a *Arbiter) data(ls *LineStats, line int, now int64, p moldudp64.Packet, first, end uint64) {
	if a.rec != nil {
		a.recFill(first, end, now)
	}
	for {
		if end <= a.next {
			ls.Duplicates++
			a.stats.Duplicates++
			return
		}
		if first <= a.next {
			a.deliver(ls, p, first)
			a.drain()
			return
		}
		// Ahead of next: hold, unless the held packets have it all already.
		if a.hold.covered(first, end) {
			ls.Duplicates++
			a.stats.Duplicates++
			return
		}
		i, j, freed := a.hold.contained(first, end)
		if a.hold.len()-(j-i) < a.holdPackets && a.hold.bytes-freed+len(p) <= a.holdBytes {
			for k := i; k < j; k++ {
				s := a.hold.at(k)
				a.line(int(s.line)).Duplicates++
				a.stats.Duplicates++
			}
			held := int32(-1) // counted in the sink
			if uint(line) < MaxLines {
				held = int32(line)
			}
			a.hold.replace(i, j, p, first, end, now, held)
			ls.Held++
			a.stats.Held++
			a.stats.MaxHeldPackets = max(a.stats.MaxHeldPackets, a.hold.len())
			a.stats.MaxHeldBytes = max(a.stats.MaxHeldBytes, a.hold.bytes)
			return
		}
		// No room: give up the lowest hole and look again. Each round moves
		// next up to first or delivers at least one held packet.
		target := first
		if a.hold.len() > 0 {
			target = min(target, a.hold.at(0).first)
		}
		if a.rec != nil && target > a.next {
			a.stats.RecoveryOverflow++
		}
		a.gapTo(target)
		a.drain()
	}
}

// deliver passes the messages of p from next on to the Handler; p carries
// sequences from first, with first <= next < its end, and is well formed.
func (a *Arbiter) deliver(ls *LineStats, p moldudp64.Packet, first uint64) {
	skip := a.next - first
	if skip > 0 {
		a.stats.Trimmed++
	}
	b := p.Blocks()
	for {
		msg, ok := b.Next()
		if !ok {
			return
		}
		if skip > 0 {
			skip--
			continue
		}
		if invariants.Enabled {
			if a.next != a.shadow {
				panic(fmt.Sprintf("feed: delivering sequence %d, handler expects %d", a.next, a.shadow))
			}
			a.shadow++
		}
		a.h.Message(a.next, msg)
		a.next++
		ls.Messages++
		a.stats.Messages++
	}
}

// drain delivers the held packets that next has reached, in order, and drops
// those it has passed.
func (a *Arbiter) drain() {
	n := 0
	for n < a.hold.len() {
		s := a.hold.at(n)
		if s.first > a.next {
			break
		}
		ls := a.line(int(s.line))
		if s.end > a.next {
			a.deliver(ls, s.data, s.first)
		} else {
			ls.Duplicates++
			a.stats.Duplicates++
		}
		a.hold.release(a.hold.order[n])
		n++
	}
	if n > 0 {
		a.hold.trim(n)
	}
}

// gapTo reports [next, target) as a gap and moves next to target.
func (a *Arbiter) gapTo(target uint64) {
	if target <= a.next {
		return
	}
	count := target - a.next
	if invariants.Enabled {
		if a.next != a.shadow {
			panic(fmt.Sprintf("feed: gap from sequence %d, handler expects %d", a.next, a.shadow))
		}
		a.shadow = target
	}
	a.h.Gap(a.next, count)
	a.next = target
	a.stats.Gaps++
	a.stats.GapMessages += count
	if a.rec != nil {
		a.recPrune()
	}
}

// flushTo gives up every hole below limit and delivers the held packets
// they were holding back.
func (a *Arbiter) flushTo(limit uint64) {
	for a.next < limit {
		target := limit
		if a.hold.len() > 0 {
			target = min(target, a.hold.at(0).first)
		}
		a.gapTo(target)
		a.drain()
	}
}

// expire gives up the holes that have been open longer than the hold time.
func (a *Arbiter) expire(now int64) {
	a.clock = max(a.clock, now)
	now = a.clock
	if a.holdTime <= 0 {
		return
	}
	for a.hold.len() > 0 && a.expired(a.hold.oldest(), now) {
		// The lowest hole is below the oldest held packet, so it has been
		// open at least as long.
		a.gapTo(a.hold.at(0).first)
		a.drain()
	}
	for a.promote(); a.tail > a.next && a.expired(a.tailAt, now); a.promote() {
		a.flushTo(a.tail)
	}
}

// expired reports whether something that started waiting at since has waited
// longer than the hold time at now (since <= now: both are clock readings).
func (a *Arbiter) expired(since, now int64) bool {
	return uint64(now)-uint64(since) > uint64(a.holdTime)
}

// checkInvariants panics if the held set is inconsistent.
func (a *Arbiter) checkInvariants() {
	h := &a.hold
	if a.next != a.shadow {
		panic(fmt.Sprintf("feed: next %d, handler expects %d", a.next, a.shadow))
	}
	if len(h.order)+len(h.free) != len(h.slots) || len(h.heap) != len(h.order) {
		panic(fmt.Sprintf("feed: %d held + %d free slots of %d, heap %d", len(h.order), len(h.free), len(h.slots), len(h.heap)))
	}
	if len(h.order) > a.holdPackets || h.bytes > a.holdBytes {
		panic(fmt.Sprintf("feed: %d packets, %d bytes held, limits %d, %d", len(h.order), h.bytes, a.holdPackets, a.holdBytes))
	}
	sum := 0
	prev := (*slot)(nil)
	for i := range h.order {
		s := h.at(i)
		sum += len(s.data)
		if s.first <= a.next || s.end <= s.first {
			panic(fmt.Sprintf("feed: held [%d, %d) with next %d", s.first, s.end, a.next))
		}
		if prev != nil && (s.first <= prev.first || s.end <= prev.end) {
			panic(fmt.Sprintf("feed: held [%d, %d) after [%d, %d)", s.first, s.end, prev.first, prev.end))
		}
		prev = s
	}
	if sum != h.bytes {
		panic(fmt.Sprintf("feed: held bytes %d, counted %d", h.bytes, sum))
	}
	for i, id := range h.heap {
		if int(h.slots[id].hpos) != i || (i > 0 && h.less(i, (i-1)/2)) {
			panic(fmt.Sprintf("feed: heap broken at %d", i))
		}
	}
	if a.rec != nil {
		a.checkRecovery()
	}
}
