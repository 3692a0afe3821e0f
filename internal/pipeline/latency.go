package pipeline

import (
	"fmt"
	"time"

	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/codec/moldudp64"
	"github.com/tickwire/tickwire/feed"
	"github.com/tickwire/tickwire/internal/latency"
)

// Latency stages a replay records when asked to (Group.RecordLatency), in
// LatencyStageNames' order. The first three are in capture time, read from
// the capture's timestamps (packet captures only, shard 0 only: every shard
// reads the same input); the last three in wall time, read from the
// monotonic clock around the work (every shard its own).
//
//   - exchange_to_capture, per message, at its first copy on any line: the
//     capture timestamp of the packet minus the message's ITCH timestamp
//     (ns since midnight in the exchange's zone, midnight taken on the
//     capture timestamp's day in that zone). Messages timestamped after
//     their capture, or more than latency.Max before it, are left out and
//     counted (LatencyReport.Early, Late).
//   - line_lag, per message carried by two lines: the capture time of its
//     second copy, on another line than the first, minus that of its first:
//     what arbitration gains over the slower line. Copies further than
//     seenRing sequence numbers apart are not matched.
//   - gap_fill, per hole: a hole opens when a message arrives, on any line,
//     beyond the highest sequence seen so far plus one; it is filled when the
//     last message it lacked arrives, from the other line or from recovery
//     answers in the capture (a line of their own). The value is the capture
//     time between the two. Holes never filled are counted (Unfilled).
//   - decode, per data packet of the session (new messages or duplicates;
//     not heartbeats, nor what the arbiter refuses, whose time is left out):
//     from the end of the previous packet reaching the arbiter (or the start
//     of the replay) to the first of its messages reaching the book, or to
//     the end of its processing when it gives this shard no message: reading
//     the capture (and the records and datagrams of other traffic skipped on
//     the way), framing, session check, arbitration.
//   - book, per packet that gave this shard a message: from that message
//     reaching the book to the end of the packet's processing: the messages'
//     framing, validation and application, and held packets it released.
//   - end_to_end, per data packet: decode and book together.
//
// For a raw ITCH file the wall-time stages are per batch of messages read
// (up to 256) instead of per packet; there are no capture-time stages.
const (
	StageExchangeToCapture = iota
	StageLineLag
	StageGapFill
	StageDecode
	StageBook
	StageEndToEnd
	numLatencyStages
)

// LatencyStageNames name the stages, for tables.
var LatencyStageNames = [numLatencyStages]string{"exchange_to_capture", "line_lag", "gap_fill", "decode", "book", "end_to_end"}

// seenRing is how many sequence numbers back the first copies are
// remembered (a power of two), for line_lag and to tell first copies from
// later ones: 3 MiB, tens of milliseconds of the busiest feed.
const seenRing = 1 << 17

// maxHoles bounds the holes followed at once for gap_fill; opening one more
// drops the oldest (counted as unfilled).
const maxHoles = 256

// monoBase is the origin of mono.
var monoBase = time.Now()

// mono reads the monotonic clock, in ns.
func mono() int64 { return int64(time.Since(monoBase)) }

// recorder records a pipeline's latency stages. A Pipeline calls it only
// when set (RecordLatency). It is not safe for concurrent use: the
// pipeline's goroutine records, readers read after it is done (Group.Latency).
type recorder struct {
	stages [numLatencyStages]*latency.Histogram // capture-time ones nil without cap

	start int64 // mono time the current packet's (or batch's) reading began
	book  int64 // mono time its first message reached the book, 0: none yet

	cap *captureClock // capture-time stages, nil but on shard 0
}

// captureClock follows the capture-time stages.
type captureClock struct {
	loc                    *time.Location
	prevMidnight, midnight int64 // ns since the epoch, of the day before and the day of capture time
	nextMidnight           int64
	day                    string // the first day seen, as "2006-01-02 Zone"

	seen  []seenSeq // by sequence mod seenRing
	hi    uint64    // highest sequence seen
	holes []hole    // open holes, in sequence order (capacity maxHoles)

	early, late, unfilled uint64
}

type seenSeq struct {
	seq    uint64
	at     int64 // capture time of the first copy
	line   int32
	lagged bool // line_lag recorded for it
}

// hole is a range of sequence numbers [first, end) no line had carried
// when a later message arrived at time at; left of them are still missing.
type hole struct {
	first, end, left uint64
	at               int64
}

// RecordLatency makes p record the latency stages (LatencyStageNames):
// the wall-time ones, and with capture set the capture-time ones, with ITCH
// timestamps taken as ns since midnight in loc. Call it before the replay.
// It wraps Config.Tap, which then runs for every message applied.
func (p *Pipeline) RecordLatency(loc *time.Location, capture bool) {
	r := &recorder{}
	for i := range r.stages {
		if capture || i >= StageDecode {
			r.stages[i] = latency.New()
		}
	}
	if capture {
		r.cap = &captureClock{loc: loc, seen: make([]seenSeq, seenRing), holes: make([]hole, 0, maxHoles)}
	}
	tap := p.cfg.Tap
	p.cfg.Tap = func(seq uint64, msg []byte) {
		if r.book == 0 {
			r.book = mono()
		}
		if tap != nil {
			tap(seq, msg)
		}
	}
	p.lat = r
}

// begin starts the clock at the start of a replay.
func (r *recorder) begin() { r.start, r.book = mono(), 0 }

// done records the wall-time stages of the packet or batch just processed
// and starts the clock for the next.
func (r *recorder) done() {
	t := mono()
	if r.book != 0 {
		r.stages[StageDecode].Record(r.book - r.start)
		r.stages[StageBook].Record(t - r.book)
	} else {
		r.stages[StageDecode].Record(t - r.start)
	}
	r.stages[StageEndToEnd].Record(t - r.start)
	r.book = 0
}

// packet records a packet of line captured at time at (ns since the epoch)
// that the arbiter judged v: a data packet's wall-time stages, then its
// capture-time ones (their bookkeeping left out of both packets' wall
// time). The time spent on any other packet is left out.
func (r *recorder) packet(line int, at int64, pkt moldudp64.Packet, v feed.Verdict) {
	if v != feed.Accepted && v != feed.Duplicate {
		r.start, r.book = mono(), 0
		return
	}
	r.done()
	r.captured(line, at, pkt, v)
	r.start = mono()
}

// captured records the capture-time stages of a packet of the session that
// the arbiter judged v: only data packets taken (new messages or duplicates).
func (r *recorder) captured(line int, at int64, pkt moldudp64.Packet, v feed.Verdict) {
	c := r.cap
	if c == nil || (v != feed.Accepted && v != feed.Duplicate) {
		return
	}
	seq := pkt.Seq()
	b := pkt.Blocks()
	for msg, ok := b.Next(); ok; msg, ok = b.Next() {
		r.message(line, at, seq, msg)
		seq++
	}
}

// message records one copy of message seq.
func (r *recorder) message(line int, at int64, seq uint64, msg []byte) {
	c := r.cap
	e := &c.seen[seq&(seenRing-1)]
	switch {
	case e.seq == seq:
		if !e.lagged && e.line != int32(line) {
			e.lagged = true
			r.stages[StageLineLag].Record(max(at-e.at, 0))
		}
		return
	case e.seq > seq || seq+seenRing <= c.hi:
		return // too old to tell a first copy
	}
	*e = seenSeq{seq: seq, at: at, line: int32(line)}
	r.exchange(at, msg)
	switch {
	case seq > c.hi:
		if c.hi != 0 && seq > c.hi+1 {
			c.open(c.hi+1, seq, at)
		}
		c.hi = seq
	default:
		if len(c.holes) > 0 {
			r.fill(seq, at)
		}
	}
}

// exchange records exchange_to_capture for the first copy of msg,
// captured at time at.
func (r *recorder) exchange(at int64, msg []byte) {
	if len(msg) < 11 {
		return // no timestamp
	}
	c := r.cap
	if at < c.midnight || at >= c.nextMidnight {
		c.setDay(at)
	}
	ts := int64(itch.Message(msg).Timestamp())
	d := at - c.midnight - ts
	if d < -int64(12*time.Hour) {
		d = at - c.prevMidnight - ts // stamped before midnight, captured after it
	}
	switch {
	case d < 0:
		c.early++
	case d > latency.Max:
		c.late++
	default:
		r.stages[StageExchangeToCapture].Record(d)
	}
}

// setDay finds the midnights around capture time at in the exchange's zone.
func (c *captureClock) setDay(at int64) {
	t := time.Unix(0, at).In(c.loc)
	y, m, d := t.Date()
	c.prevMidnight = time.Date(y, m, d-1, 0, 0, 0, 0, c.loc).UnixNano()
	c.midnight = time.Date(y, m, d, 0, 0, 0, 0, c.loc).UnixNano()
	c.nextMidnight = time.Date(y, m, d+1, 0, 0, 0, 0, c.loc).UnixNano()
	if c.day == "" {
		c.day = t.Format("2006-01-02 ") + c.loc.String()
	}
}

// open starts following the hole [first, end), found at time at.
func (c *captureClock) open(first, end uint64, at int64) {
	n := 0 // holes now too old for their copies to be told apart
	for n < len(c.holes) && c.holes[n].end+seenRing <= end {
		n++
	}
	if n == 0 && len(c.holes) == maxHoles {
		n = 1
	}
	if n > 0 {
		c.unfilled += uint64(n)
		c.holes = append(c.holes[:0], c.holes[n:]...)
	}
	c.holes = append(c.holes, hole{first: first, end: end, left: end - first, at: at})
}

// fill takes the first copy of seq, below the highest seen, at time at.
func (r *recorder) fill(seq uint64, at int64) {
	c := r.cap
	for i := range c.holes {
		h := &c.holes[i]
		if seq < h.first || seq >= h.end {
			continue
		}
		if h.left--; h.left == 0 {
			r.stages[StageGapFill].Record(max(at-h.at, 0))
			c.holes = append(c.holes[:i], c.holes[i+1:]...)
		}
		return
	}
}

// LatencyStage is one stage's percentiles, in nanoseconds.
type LatencyStage struct {
	Name string
	latency.Quantiles
}

// LatencyReport is what the stages recorded, merged over the shards.
type LatencyReport struct {
	Stages []LatencyStage // in LatencyStageNames' order; a stage that recorded nothing has Count 0
	// InRange counts the messages exchange_to_capture recorded; Early and
	// Late those it left out: captured before their ITCH timestamp, or more
	// than latency.Max after it. When more are out than in, the stage is
	// dropped (Count 0): the capture's clock, its date or the exchange's
	// zone is wrong, and its values would be nonsense.
	InRange, Early, Late uint64
	// Day is the capture's first day in the exchange's zone ("" without
	// capture time).
	Day string
	// Unfilled counts the holes that closed no other way than as gaps, or
	// were no longer followed.
	Unfilled uint64
}

// Notes returns what a reader should know about the stages: the messages
// exchange_to_capture left out, the holes gap_fill did; none when all went
// well.
func (r *LatencyReport) Notes() []string {
	var notes []string
	if out := r.Early + r.Late; out > 0 {
		s := fmt.Sprintf("exchange_to_capture: %d of %d messages out of range (%d captured before their ITCH timestamp, %d more than %v after it; capture day %s)",
			out, out+r.InRange, r.Early, r.Late, time.Duration(latency.Max), r.Day)
		if out > r.InRange {
			s += ": not shown, the capture's clock or date, or the exchange's time zone (--tz), does not match the feed's"
		}
		notes = append(notes, s)
	}
	if r.Unfilled > 0 {
		notes = append(notes, fmt.Sprintf("gap_fill: %d hole(s) never filled (gaps) left out", r.Unfilled))
	}
	return notes
}
