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

// Prefetcher is what a Handler may also implement to be told of the
// messages of a packet before they are delivered: Prefetch a few messages
// ahead, PrefetchOrder fewer (book.Book's two stages of prefetching). Both
// are hints: they may read msg and must change nothing. A message hinted
// may not be delivered (a copy already seen).
type Prefetcher interface {
	Prefetching() bool
	Prefetch(msg []byte)
	PrefetchOrder(msg []byte)
}

// The distances of a Prefetcher's hints inside a packet, in messages: a
// packet holds a few tens of them (book.PrefetchAhead and
// PrefetchOrderAhead, 24 and 12, are tuned for longer runs).
const (
	prefetchAhead      = 8
	prefetchOrderAhead = 4
)

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
	pf   Prefetcher // h, if it is one
	next uint64     // sequence of the next message owed to h

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
	moved       int64 // clock when next last moved by a delivery
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
	quiet   int64     // Options.Quiet

	recLine int // Options.RecoveryLine; -1 when unset or without recovery

	// lines keeps, per multicast line, when it last carried a plausible
	// packet of the session and the end of session it announced last (0:
	// none, or contradicted since by the line itself).
	lines [MaxLines]lineState
	// progress is the clock of the last plausible packet on any multicast
	// line: the current sequence going on. noClock while there was none.
	progress int64

	ended   bool   // the end of the session was agreed (Ended)
	endSeq  uint64 // its sequence
	refuted bool   // the lines corroborate a sequence far below next (Refuted)

	scratch []byte // an answer cut to the range requested (answer)
}

// endRepeats is how many times in a row, with no heartbeat between, each
// line must announce an end of session before it counts (MoldUDP64 servers
// send the end of session for a while instead of heartbeats).
const endRepeats = 3

// noClock marks a clock reading not taken yet.
const noClock = math.MinInt64

// lineState is what the Arbiter remembers of one multicast line.
type lineState struct {
	at int64 // clock of its last plausible packet, noClock if none
	// word is the highest sequence the line has shown since its last
	// heartbeat or end of session (data: a packet's end; announcements
	// set it to theirs): how far the line has gone.
	word uint64
	// eos is the sequence of the end of session the line announces, 0 if
	// none: a heartbeat, or an end at another sequence, takes it back.
	eos uint64
	// eosRun counts the line's announcements of eos in a row, with no
	// heartbeat and nothing beyond eos between them.
	eosRun int
	seen   bool
}

// jumpProbe remembers the last implausible packet, for corroboration.
type jumpProbe struct {
	set      bool
	ahead    bool // beyond everything known (false: far behind next)
	line     int
	seq, end uint64
}

// Verdict says what Arbiter.Packet made of a packet, so that a caller can
// attribute bad input to where it came from (the socket's source address).
type Verdict uint8

// Verdicts of Arbiter.Packet.
const (
	Accepted     Verdict = iota // delivered or held messages not seen before
	Duplicate                   // every message was delivered or held already
	Announcement                // a heartbeat or end of session, taken
	Malformed                   // see Stats.Malformed
	OtherSession                // another session's packet
	Implausible                 // far ahead or far behind and not (yet) corroborated: see Options.MaxJump
	Unsolicited                 // on the recovery line, answering no request in flight
	AfterEnd                    // data after the agreed end of the session
)

var verdictNames = [...]string{"accepted", "duplicate", "announcement", "malformed", "other session", "implausible sequence", "unsolicited answer", "after the end of session"}

func (v Verdict) String() string {
	if int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return fmt.Sprintf("verdict(%d)", uint8(v))
}

// Bad reports whether the verdict is one of bad or untrusted input (not a
// delivery, a duplicate or an announcement).
func (v Verdict) Bad() bool { return v >= Malformed }

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
		clock:       noClock,
		moved:       noClock,
		maxJump:     o.MaxJump,
		quiet:       o.Quiet,
		recLine:     -1,
		progress:    noClock,
	}
	a.pf, _ = h.(Prefetcher)
	for i := range a.lines {
		a.lines[i].at = noClock
	}
	if o.Requester != nil {
		a.rec = newRecovery(o.Requester, o.Recovery, o.HoldPackets)
		a.rec.known = a.next
		a.holdTime = 0 // recovery decides when a hole is given up
		if o.RecoveryLineSet {
			a.recLine = o.RecoveryLine
			a.scratch = make([]byte, 0, MaxPacketSize+moldudp64.HeaderLen)
		}
	}
	return a
}

// Reset starts the arbiter over at sequence start (0: at the first packet
// seen), as after a snapshot whose end-of-snapshot gives start: what is
// held is dropped, requests in flight are forgotten, the end of session
// and a refuted start are cleared, and from now on packets before start
// are duplicates. The hold pool is reused; the counters go on. The
// Handler's sequence restarts at start too.
func (a *Arbiter) Reset(start uint64) {
	for a.hold.len() > 0 {
		n := a.hold.len() - 1
		a.hold.release(a.hold.order[n])
		a.hold.order = a.hold.order[:n]
	}
	a.next, a.shadow = start, start
	a.started = start != 0
	a.tail, a.pend = 0, 0
	a.jump = jumpProbe{}
	a.ended, a.endSeq, a.refuted = false, 0, false
	for i := range a.lines {
		a.lines[i].eos = 0
	}
	if r := a.rec; r != nil {
		r.holes, r.reqs = r.holes[:0], r.reqs[:0]
		r.known = start
		r.wake, r.due = math.MaxInt64, false
	}
}

// Ended reports whether the session has ended: every live line (one that
// carried a plausible packet within Options.Quiet) announced the same end
// of session, and every message before it was delivered or reported as a
// gap. A single line's end of session ends nothing while another line
// still carries the session.
func (a *Arbiter) Ended() bool { return a.ended }

// EndSeq returns the sequence the agreed end of session announced, 0
// before the end.
func (a *Arbiter) EndSeq() uint64 { return a.endSeq }

// Refuted reports whether the lines have shown, corroborated and with
// nothing at or beyond Next for Options.Quiet, a sequence more than
// MaxJump below Next: the start the Arbiter was given (a snapshot's
// sequence, WithStart or Reset) is wrong. The Arbiter cannot go back; the
// caller rebuilds its state (a new snapshot) and calls Reset.
func (a *Arbiter) Refuted() bool { return a.refuted }

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
func (a *Arbiter) Packet(line int, now int64, p moldudp64.Packet) Verdict {
	ls := a.line(line)
	ls.Packets++
	a.stats.Packets++
	a.expire(now)
	v := a.packet(ls, line, a.clock, p)
	if a.rec != nil {
		a.recover()
	}
	a.settle(false)
	if invariants.Enabled {
		a.checkInvariants()
	}
	return v
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
	a.settle(false)
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
	a.settle(true)
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

func (a *Arbiter) packet(ls *LineStats, line int, now int64, p moldudp64.Packet) Verdict {
	if len(p) < moldudp64.HeaderLen {
		return a.malformed(ls)
	}
	if a.sessionSet && !bytes.Equal(p.Session(), a.session[:]) {
		ls.OtherSession++
		a.stats.OtherSession++
		return OtherSession
	}
	seq, count := p.Seq(), p.Count()
	mark := count == moldudp64.Heartbeat || count == moldudp64.EndOfSession
	var end uint64 // data packets: the sequence after their last message
	if mark {
		if len(p) != moldudp64.HeaderLen {
			return a.malformed(ls)
		}
	} else {
		if seq == 0 || seq > math.MaxUint64-uint64(count) {
			return a.malformed(ls)
		}
		end = seq + uint64(count)
	}
	if a.ended {
		return a.afterEnd(ls, mark, count, end)
	}
	if line == a.recLine {
		return a.answer(ls, line, now, p, mark, seq, end)
	}
	if a.maxJump > 0 && a.started {
		if k := a.known(); seq > k && seq-k > a.maxJump {
			if !a.probe(line, seq, end, now, true) {
				return a.implausible(ls)
			}
		} else if behind := max(seq, end); a.next > a.maxJump && behind < a.next-a.maxJump {
			a.probe(line, seq, end, now, false)
			return a.implausible(ls)
		}
	}
	if mark {
		a.fixSession(p)
		a.alive(line, now, 0)
		if uint(line) < MaxLines {
			a.lines[line].word = seq
		}
		if count == moldudp64.Heartbeat {
			ls.Heartbeats++
			a.stats.Heartbeats++
			// A line sends its end of session instead of heartbeats: one
			// that heartbeats has not ended yet. A heartbeat beyond its
			// end takes the end back; one at it breaks the run.
			a.contradict(line, seq)
			if uint(line) < MaxLines {
				a.lines[line].eosRun = 0
			}
		} else {
			ls.EndOfSession++
			a.stats.EndOfSession++
			if a.started && seq < a.next {
				ls.Contradicted++
				a.stats.Contradicted++
			}
			if uint(line) < MaxLines {
				if l := &a.lines[line]; l.eos == seq {
					l.eosRun++
				} else {
					l.eos, l.eosRun = seq, 1
				}
			}
		}
		a.announce(seq, now)
		return Announcement
	}
	if a.started && end <= a.next && a.sessionSet {
		// The other line's copy, the common case: drop it before walking
		// its blocks (a third of the work on a healthy A/B feed).
		a.alive(line, now, end)
		a.contradict(line, end)
		return a.duplicate(ls)
	}
	if !wellFormed(p) {
		return a.malformed(ls)
	}
	a.fixSession(p)
	a.alive(line, now, end)
	a.contradict(line, end)
	if !a.started {
		a.started = true
		a.next, a.shadow = seq, seq
	}
	return a.data(ls, line, now, p, seq, end)
}

// alive records that line carried a plausible packet of the session at now,
// showing sequences up to end.
func (a *Arbiter) alive(line int, now int64, end uint64) {
	a.progress = now
	if uint(line) < MaxLines {
		l := &a.lines[line]
		l.at, l.word, l.seen = now, max(l.word, end), true
	}
}

// contradict forgets the end of session line announced if the line has
// gone on beyond it since (seq: a data packet's end or a heartbeat's
// announcement).
func (a *Arbiter) contradict(line int, seq uint64) {
	if uint(line) < MaxLines {
		if l := &a.lines[line]; l.eos != 0 && seq > l.eos {
			l.eos, l.eosRun = 0, 0
		}
	}
}

// passed reports whether every live line has shown sequence t or beyond
// since its last announcement: a hole below t may then be given up as a
// gap. While a line still shows less (a heartbeat at next on an idle feed),
// whatever
// showed t may be a rogue packet, and the hole waits for the lines. With
// recovery but no WithRecoveryLine, answers may arrive on any line, so no
// line's last packet shows the feed's progress: holes go on time alone.
func (a *Arbiter) passed(t uint64) bool {
	if a.rec != nil && a.recLine < 0 {
		return true
	}
	for i := range a.lines {
		l := &a.lines[i]
		if l.seen && !a.silent(l) && l.word < t {
			return false
		}
	}
	return true
}

// settle ends the session once every live line's latest end of session
// announces the same sequence, next has reached it, and every line has
// announced it endRepeats times in a row (final: at Close, the end of a
// capture, once is enough for an end at next). What is held or known
// beyond it then is what only a rogue packet can have shown: it is
// discarded, never reported as a gap.
func (a *Arbiter) settle(final bool) {
	if a.ended || !a.started {
		return
	}
	s, run := a.agreedEnd()
	if s == 0 || a.next < s {
		return
	}
	// A line sends its end of session for a while instead of heartbeats.
	// An end forged at next on every line, between two heartbeats, must
	// be forged endRepeats times on each before the next heartbeat breaks
	// its run. An end below next: messages beyond it were delivered.
	// Either the end is forged, and the lines go on carrying messages
	// beyond it, which takes it back; or those messages were forged, and
	// the lines repeat the end with nothing more.
	if run < endRepeats && (!final || a.next > s) {
		return
	}
	a.ended, a.endSeq = true, s
	for a.hold.len() > 0 {
		n := a.hold.len() - 1
		a.hold.release(a.hold.order[n])
		a.hold.order = a.hold.order[:n]
		a.stats.Discarded++
	}
	a.tail, a.pend = 0, 0
	if r := a.rec; r != nil {
		a.stats.Discarded += uint64(len(r.holes))
		r.holes, r.reqs = r.holes[:0], r.reqs[:0]
		r.known = a.next
		r.wake, r.due = math.MaxInt64, false
	}
}

// endAnnounced reports whether every live line announces the same end of
// session, at or below next: whatever is missing beyond next then lies
// beyond the end the lines announce, and is not given up as a gap while
// the end is confirmed (settle) or contradicted.
func (a *Arbiter) endAnnounced() bool {
	s, _ := a.agreedEnd()
	return s != 0 && s <= a.next
}

// agreedEnd returns the end of session every live line announces as its
// latest, and the fewest times in a row a line has announced it; s is 0
// when the lines do not agree on one. When every line has fallen silent,
// it is the end announced last by the lines that announced one, and run is
// endRepeats: silence after the end confirms it.
func (a *Arbiter) agreedEnd() (s uint64, run int) {
	run = math.MaxInt
	live := false
	for i := range a.lines {
		l := &a.lines[i]
		live = live || (l.seen && !a.silent(l))
	}
	for i := range a.lines {
		l := &a.lines[i]
		if !l.seen || (live && a.silent(l)) || (!live && l.eos == 0) {
			continue
		}
		if l.eos == 0 || (s != 0 && l.eos != s) {
			return 0, 0
		}
		s, run = l.eos, min(run, l.eosRun)
	}
	if !live && s != 0 {
		run = endRepeats
	}
	return s, run
}

// silent reports whether l has carried nothing plausible for Options.Quiet.
func (a *Arbiter) silent(l *lineState) bool {
	return uint64(a.clock)-uint64(l.at) > uint64(a.quiet)
}

// afterEnd handles a packet that arrives once the session has ended: the
// end of session repeated, or data that no real line can carry.
func (a *Arbiter) afterEnd(ls *LineStats, mark bool, count uint16, end uint64) Verdict {
	switch {
	case count == moldudp64.EndOfSession:
		ls.EndOfSession++
		a.stats.EndOfSession++
		return Announcement
	case mark:
		ls.Heartbeats++
		a.stats.Heartbeats++
		return Announcement
	case end <= a.next:
		return a.duplicate(ls)
	}
	a.stats.AfterEnd++
	return AfterEnd
}

// probe decides whether a packet [seq, end) far from the current sequence
// (ahead of everything known, or behind next, by more than MaxJump) shows a
// genuine jump. It does when it is corroborated, by another line showing a
// packet within MaxJump of it or by the same line continuing it
// contiguously, and the current sequence is quiet: no line carried it for
// Options.Quiet. While the old sequence goes on, far packets are rogue,
// however many lines carry them. A jump ahead is then taken: every hole
// below it is given up (a gap, counted in Jumps) and probe returns true. A
// jump behind cannot be taken (sequences never go back): it marks the start
// Refuted. Otherwise the packet is remembered for the next call and probe
// returns false.
func (a *Arbiter) probe(line int, seq, end uint64, now int64, ahead bool) bool {
	j := &a.jump
	corroborated := false
	if j.set && j.ahead == ahead {
		near := seq-j.seq <= a.maxJump || j.seq-seq <= a.maxJump
		corroborated = (j.line != line && near) || (j.line == line && seq == j.end && end > seq && j.end != j.seq)
	}
	*j = jumpProbe{set: true, ahead: ahead, line: line, seq: seq, end: max(end, seq)}
	if !corroborated || (a.progress != noClock && uint64(now)-uint64(a.progress) <= uint64(a.quiet)) {
		return false
	}
	j.set = false
	if !ahead {
		a.refuted = true
		return false
	}
	a.stats.Jumps++
	a.flushTo(seq)
	return true
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

func (a *Arbiter) malformed(ls *LineStats) Verdict {
	ls.Malformed++
	a.stats.Malformed++
	return Malformed
}

func (a *Arbiter) implausible(ls *LineStats) Verdict {
	ls.Implausible++
	a.stats.Implausible++
	return Implausible
}

func (a *Arbiter) duplicate(ls *LineStats) Verdict {
	ls.Duplicates++
	a.stats.Duplicates++
	return Duplicate
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
func (a *Arbiter) data(ls *LineStats, line int, now int64, p moldudp64.Packet, first, end uint64) Verdict {
	if a.rec != nil {
		a.recFill(first, end, now)
	}
	for {
		if end <= a.next {
			return a.duplicate(ls)
		}
		if first <= a.next {
			a.deliver(ls, p, first)
			a.drain()
			return Accepted
		}
		// Ahead of next: hold, unless the held packets have it all already.
		if a.hold.covered(first, end) {
			return a.duplicate(ls)
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
			return Accepted
		}
		// No room. With recovery, a packet nearer next than the highest
		// held one takes its place (what that one carried becomes a hole,
		// requested again in its turn): packets far ahead, rogue or not,
		// never push out the ones next needs. Otherwise give up the lowest
		// hole and look again. Each round evicts a held packet, moves next
		// up to first, or delivers at least one held packet.
		if a.rec != nil && a.hold.len() > 0 && a.hold.at(a.hold.len()-1).first > first {
			a.evictTop(now)
			a.recFill(first, end, now) // the packet fills what became a hole
			continue
		}
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
	a.moved = a.clock
	b := p.Blocks()
	var slots, orders moldudp64.Blocks // the hints' cursors, ahead of b
	pf := a.pf != nil && a.pf.Prefetching()
	if pf {
		slots, orders = p.Blocks(), p.Blocks()
		for range prefetchAhead {
			if m, ok := slots.Next(); ok {
				a.pf.Prefetch(m)
			}
		}
		for range prefetchOrderAhead {
			if m, ok := orders.Next(); ok {
				a.pf.PrefetchOrder(m)
			}
		}
	}
	for {
		msg, ok := b.Next()
		if !ok {
			return
		}
		if pf {
			if m, ok := slots.Next(); ok {
				a.pf.Prefetch(m)
			}
			if m, ok := orders.Next(); ok {
				a.pf.PrefetchOrder(m)
			}
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
	if a.holdTime <= 0 || a.endAnnounced() {
		return
	}
	if !a.expired(a.moved, now) {
		// next moved within the hold time: the sequence is going on into
		// the lowest hole (the lines catching up with a packet far ahead),
		// which is not stalled.
		return
	}
	for a.hold.len() > 0 && a.expired(a.hold.oldest(), now) && a.passed(a.hold.at(0).first) {
		// The lowest hole is below the oldest held packet, so it has been
		// open at least as long.
		a.gapTo(a.hold.at(0).first)
		a.drain()
	}
	for a.promote(); a.tail > a.next && a.expired(a.tailAt, now) && a.passed(a.tail); a.promote() {
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
