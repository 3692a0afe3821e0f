package gen

import (
	"math"

	"github.com/tickwire/tickwire/codec/moldudp64"
	"github.com/tickwire/tickwire/internal/capture"
)

// sendDelay is the time from a packet's last message to its transmission.
const sendDelay = 1_000

// sender packs messages into MoldUDP64 packets, sends heartbeats when idle
// and end-of-session packets at the end. Times are ns since midnight. Not
// safe for concurrent use.
type sender struct {
	session  [10]byte
	max      int
	window   uint64
	hb       uint64
	buf      []byte
	count    int
	t0, tl   uint64
	next     uint64 // next sequence number
	lastSend uint64
	started  bool
	wire     *wire

	packets, heartbeats, eos int64
}

// add appends one message, flushing the pending packet first when the
// message is too late for it or does not fit.
func (s *sender) add(ts uint64, msg []byte) error {
	if s.count > 0 && (ts-s.t0 > s.window || len(s.buf)+2+len(msg) > s.max || s.count == 0xFFFE) {
		if err := s.flush(); err != nil {
			return err
		}
	}
	if s.count == 0 {
		if !s.started {
			// Two heartbeats announce the session before its first message.
			s.started = true
			s.lastSend = ts - min(ts, 3*s.hb)
		}
		if err := s.idle(ts); err != nil {
			return err
		}
		s.buf = moldudp64.AppendHeader(s.buf[:0], s.session, s.next, 0)
		s.t0 = ts
	}
	s.buf = moldudp64.AppendBlock(s.buf, msg)
	s.count++
	s.tl = ts
	return nil
}

// idle sends the heartbeats due strictly before ts.
func (s *sender) idle(ts uint64) error {
	for s.lastSend+s.hb < ts {
		t := s.lastSend + s.hb
		s.buf = moldudp64.AppendHeartbeat(s.buf[:0], s.session, s.next)
		s.heartbeats++
		if err := s.send(t, 0); err != nil {
			return err
		}
	}
	return nil
}

func (s *sender) send(t uint64, count uint16) error {
	seq := s.next
	if count != moldudp64.EndOfSession {
		s.next += uint64(count)
	}
	s.lastSend = t
	return s.wire.packet(s.buf, int64(t), seq, count)
}

func (s *sender) flush() error {
	if s.count == 0 {
		return nil
	}
	moldudp64.SetCount(s.buf, uint16(s.count))
	t := max(s.tl+sendDelay, s.lastSend+1)
	n := s.count
	s.count = 0
	s.packets++
	return s.send(t, uint16(n))
}

// finish flushes the last packet and sends the end-of-session packets.
func (s *sender) finish(n int) error {
	if err := s.flush(); err != nil {
		return err
	}
	for range n {
		s.buf = moldudp64.AppendEndOfSession(s.buf[:0], s.session, s.next)
		s.eos++
		if err := s.send(s.lastSend+s.hb, moldudp64.EndOfSession); err != nil {
			return err
		}
	}
	return nil
}

// Range is an inclusive range of sequence numbers (a plain value).
type Range struct{ First, Last uint64 }

// LineStats counts what one line delivered to its capture (a plain value).
type LineStats struct {
	Records    int64 // MoldUDP64 packets captured, duplicates included
	Lost       int64 // packets lost on the line
	Duplicated int64 // packets captured twice
	Reordered  int64 // packets held back behind later ones
	Noise      int64 // noise events (NoiseFragment writes two records)
}

// record is one capture record waiting in the merge heap.
type record struct {
	at    int64 // capture time, ns since midnight
	order uint64
	line  uint8
	noise bool
	kind  capture.Noise
	buf   []byte
}

// lineSim applies one line's impairments.
type lineSim struct {
	cfg     Line
	r       rng
	inBurst bool
	last    int64 // capture time of the line's last feed record
	lastLen int
	held    []byte
	heldK   int
	holding bool
	stats   LineStats
}

// wireTime is the serialisation time of a datagram at 10 Gbit/s with
// Ethernet/IP/UDP overhead.
func wireTime(n int) int64 { return int64(n+66) * 8 / 10 }

func (l *lineSim) drop() bool {
	if l.inBurst {
		if l.r.chance(1 - 1/l.cfg.Burst) {
			return true
		}
		l.inBurst = false
	}
	if l.r.chance(l.cfg.Loss) {
		l.inBurst = true
		return true
	}
	return false
}

// wire carries packets over both lines into the capture writers, merging
// the records of both lines in time order through a heap. Not safe for
// concurrent use.
type wire struct {
	lines       [2]lineSim
	tie         rng
	allowDouble bool
	noise       float64
	kinds       []capture.Noise
	minLat      int64
	epoch       int64 // ns since the Unix epoch of midnight
	heap        []record
	order       uint64
	pool        [][]byte
	writers     [2]*capture.Writer // per line (the same writer twice for one file)
	iface       [2]int
	doubleLost  []Range
	lostMsgs    int64
}

func (w *wire) buffer(p []byte) []byte {
	var b []byte
	if n := len(w.pool); n > 0 {
		b = w.pool[n-1][:0]
		w.pool = w.pool[:n-1]
	}
	return append(b, p...)
}

func (w *wire) push(r record) {
	r.order = w.order
	w.order++
	w.heap = append(w.heap, r)
	h := w.heap
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !less(&h[i], &h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func less(a, b *record) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.order < b.order
}

func (w *wire) pop() record {
	h := w.heap
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	for i := 0; ; {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && less(&h[c+1], &h[c]) {
			c++
		}
		if !less(&h[c], &h[i]) {
			break
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
	w.heap = h
	return top
}

// drain writes every record captured at or before upto.
func (w *wire) drain(upto int64) error {
	for len(w.heap) > 0 && w.heap[0].at <= upto {
		r := w.pop()
		l := &w.lines[r.line]
		var err error
		if r.noise {
			err = w.writers[r.line].WriteNoiseOn(w.iface[r.line], w.epoch+r.at, r.kind, l.cfg.Group)
		} else {
			err = w.writers[r.line].WriteUDPOn(w.iface[r.line], w.epoch+r.at, l.cfg.Source, l.cfg.Group, r.buf)
			w.pool = append(w.pool, r.buf)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// packet sends one MoldUDP64 packet (sent at t, ns since midnight) on both
// lines. p is copied.
func (w *wire) packet(p []byte, t int64, seq uint64, count uint16) error {
	if err := w.drain(t + w.minLat); err != nil {
		return err
	}
	lostA, lostB := w.lines[0].drop(), w.lines[1].drop()
	if lostA && lostB {
		if !w.allowDouble {
			if w.tie.chance(0.5) {
				lostA = false
			} else {
				lostB = false
			}
		} else if count != moldudp64.Heartbeat && count != moldudp64.EndOfSession {
			last := seq + uint64(count) - 1
			if n := len(w.doubleLost); n > 0 && w.doubleLost[n-1].Last+1 == seq {
				w.doubleLost[n-1].Last = last
			} else {
				w.doubleLost = append(w.doubleLost, Range{seq, last})
			}
			w.lostMsgs += int64(count)
		}
	}
	for i, lost := range [2]bool{lostA, lostB} {
		if lost {
			w.lines[i].stats.Lost++
			continue
		}
		w.deliver(i, p, t)
	}
	return nil
}

func (w *wire) deliver(i int, p []byte, t int64) {
	l := &w.lines[i]
	at := t + l.cfg.Latency
	if l.cfg.Jitter > 0 {
		at += int64(l.r.intn(int(l.cfg.Jitter) + 1))
	}
	at = max(at, l.last+wireTime(l.lastLen))
	if !l.holding && l.r.chance(l.cfg.Reorder) {
		l.held = append(l.held[:0], p...)
		l.heldK = l.r.between(1, 3)
		l.holding = true
		l.stats.Reordered++
		return
	}
	w.feed(i, at, p)
	if l.r.chance(l.cfg.Dup) {
		w.feed(i, l.last+wireTime(l.lastLen)+int64(l.r.intn(2000)), p)
		l.stats.Duplicated++
	}
	if l.holding {
		l.heldK--
		if l.heldK == 0 {
			l.holding = false
			w.feed(i, l.last+wireTime(l.lastLen)+int64(l.r.intn(500)), l.held)
		}
	}
	if l.r.chance(w.noise) && len(w.kinds) > 0 {
		k := w.kinds[l.r.intn(len(w.kinds))]
		w.push(record{at: l.last + 200 + int64(l.r.intn(3000)), line: uint8(i), noise: true, kind: k})
		l.stats.Noise++
	}
}

// feed queues one captured feed packet on line i at time at.
func (w *wire) feed(i int, at int64, p []byte) {
	l := &w.lines[i]
	w.push(record{at: at, line: uint8(i), buf: w.buffer(p)})
	l.last, l.lastLen = at, len(p)
	l.stats.Records++
}

// finish releases held packets and writes every queued record.
func (w *wire) finish() error {
	for i := range w.lines {
		l := &w.lines[i]
		if l.holding {
			l.holding = false
			w.feed(i, l.last+wireTime(l.lastLen)+int64(l.r.intn(500)), l.held)
		}
	}
	return w.drain(math.MaxInt64)
}
