// Package sim is tickwire's exchange simulator: it plays a TotalView-ITCH
// session as NASDAQ would, in MoldUDP64 on two multicast lines (A and B)
// with independent impairments, and answers MoldUDP64 re-requests from its
// history over unicast UDP.
//
// It is a test peer, run as its own process (tickwire sim), not a hot path:
// it favours determinism (every impairment is drawn from a seeded generator
// per line) over speed, though it sends in sendmmsg batches.
//
// A Sim is not safe for concurrent use except where a method says so.
package sim

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"sync/atomic"

	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/codec/moldudp64"
)

// Line configures one multicast line and its impairments. Probabilities are
// per packet.
type Line struct {
	Group   netip.AddrPort // destination group and port
	Loss    float64        // packet not sent
	Dup     float64        // packet sent twice
	Reorder float64        // packet held back behind the next one
	// Lag delays the line by this many packets behind the source (line B
	// typically trails line A).
	Lag int
	// CutFrom and CutTo cut the line for the packets whose first sequence
	// number lies in [CutFrom, CutTo); 0, 0 never cuts.
	CutFrom, CutTo uint64
}

// Config describes a simulated session.
type Config struct {
	Session    string // MoldUDP64 session, at most 10 characters
	Lines      [2]Line
	MaxPayload int     // MoldUDP64 packet size bound in bytes (default 1400)
	Rate       float64 // messages per second; 0 sends as fast as possible
	// Speed, when positive, paces as recorded instead: each packet leaves
	// when its first message's ITCH timestamp, less the session's first,
	// divided by Speed, has elapsed (1 = real time).
	Speed float64
	Seed  uint64
	// EndOfSession is the number of end-of-session packets sent on each line
	// after the last message (default 3).
	EndOfSession int
	// Progress, when set, is updated with the next sequence number to send
	// after each packet: a GLIMPSE server serving snapshots of "now" reads
	// it from another goroutine.
	Progress *atomic.Uint64
}

func (c *Config) validate() error {
	if len(c.Session) == 0 || len(c.Session) > 10 {
		return fmt.Errorf("%w: session %q: 1 to 10 characters", ErrConfig, c.Session)
	}
	if c.MaxPayload == 0 {
		c.MaxPayload = 1400
	}
	if c.MaxPayload < moldudp64.HeaderLen+2+itch.MaxLen || c.MaxPayload > 65507 {
		return fmt.Errorf("%w: max payload %d: %d to 65507 bytes", ErrConfig, c.MaxPayload, moldudp64.HeaderLen+2+itch.MaxLen)
	}
	if c.Rate < 0 || c.Speed < 0 {
		return fmt.Errorf("%w: rate %v or speed %v: negative", ErrConfig, c.Rate, c.Speed)
	}
	if c.EndOfSession == 0 {
		c.EndOfSession = 3
	}
	for i, l := range c.Lines {
		if !l.Group.IsValid() {
			return fmt.Errorf("%w: line %c: no group", ErrConfig, 'A'+i)
		}
		for _, p := range []float64{l.Loss, l.Dup, l.Reorder} {
			if p < 0 || p > 1 {
				return fmt.Errorf("%w: line %c: probability %v outside [0, 1]", ErrConfig, 'A'+i, p)
			}
		}
		if l.Lag < 0 || l.CutTo < l.CutFrom {
			return fmt.Errorf("%w: line %c: bad lag or cut window", ErrConfig, 'A'+i)
		}
	}
	return nil
}

// History is a session's messages, numbered from 1, for packetising and
// for answering re-requests. It is read-only once built: safe for
// concurrent readers. It must not be copied (it holds the model of its
// latest Snapshot).
type History struct {
	data []byte   // raw ITCH framing: 2-byte length, message
	off  []uint32 // offset in data of message seq (index seq-1)
	snap snapCache
}

// ReadHistory reads a raw ITCH BinaryFILE stream (2-byte big-endian length
// before each message) whole.
func ReadHistory(r io.Reader) (*History, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	h := &History{data: data}
	for off := 0; off < len(data); {
		if off+2 > len(data) {
			return nil, fmt.Errorf("%w: truncated length at offset %d", ErrSource, off)
		}
		n := int(binary.BigEndian.Uint16(data[off:]))
		if n == 0 || off+2+n > len(data) {
			return nil, fmt.Errorf("%w: record of %d bytes at offset %d runs past the end", ErrSource, n, off)
		}
		h.off = append(h.off, uint32(off))
		off += 2 + n
	}
	return h, nil
}

// Append adds msg as the next message; it is copied.
func (h *History) Append(msg []byte) {
	h.off = append(h.off, uint32(len(h.data)))
	h.data = append(h.data, byte(len(msg)>>8), byte(len(msg)))
	h.data = append(h.data, msg...)
}

// Len returns the number of messages.
func (h *History) Len() uint64 { return uint64(len(h.off)) }

// Message returns message seq (1-based); it aliases the history.
func (h *History) Message(seq uint64) []byte {
	off := h.off[seq-1]
	n := binary.BigEndian.Uint16(h.data[off:])
	return h.data[off+2 : off+2+uint32(n)]
}

// AppendPacket appends a MoldUDP64 packet carrying messages from seq on,
// as many as fit in maxPayload bytes and at most max, and returns it with
// the number of messages it carries.
func (h *History) AppendPacket(dst []byte, session [10]byte, seq uint64, max, maxPayload int) ([]byte, int) {
	start := len(dst)
	dst = moldudp64.AppendHeader(dst, session, seq, 0)
	n := 0
	for s := seq; s <= h.Len() && n < max; s++ {
		m := h.Message(s)
		if len(dst)-start+2+len(m) > maxPayload {
			break
		}
		dst = moldudp64.AppendBlock(dst, m)
		n++
	}
	moldudp64.SetCount(dst[start:], uint16(n))
	return dst, n
}

// lineState is one line's impairment state.
type lineState struct {
	cfg                         Line
	rng                         *rand.Rand
	lag                         [][]byte // packets waiting out the lag, oldest first
	held                        []byte   // a packet held back for reordering
	out                         [][]byte // the packets to send now
	free                        [][]byte // sent or lost packet buffers, for reuse
	sent, lost, dups, reordered uint64
}

// impair runs one source packet through the line and appends what to send
// now to l.out (copies, so that l.out may gather a batch).
func (l *lineState) impair(pkt []byte) {
	cp := append(l.get(), pkt...)
	l.lag = append(l.lag, cp)
	if len(l.lag) <= l.cfg.Lag {
		return
	}
	p := l.lag[0]
	l.lag = l.lag[1:]
	l.emit(p, moldudp64.Packet(p).Seq())
}

func (l *lineState) emit(p []byte, seq uint64) {
	if seq >= l.cfg.CutFrom && seq < l.cfg.CutTo {
		l.lost++
		l.put(p)
		return
	}
	if l.rng.Float64() < l.cfg.Loss {
		l.lost++
		l.put(p)
		return
	}
	if l.held == nil && l.rng.Float64() < l.cfg.Reorder {
		l.held = p
		l.reordered++
		return
	}
	l.out = append(l.out, p)
	if l.rng.Float64() < l.cfg.Dup {
		l.out = append(l.out, p)
		l.dups++
	}
	if l.held != nil {
		l.out = append(l.out, l.held)
		l.held = nil
	}
}

// Packet buffers are recycled per line: at a few hundred thousand
// datagrams a second, a copy allocated per packet kept the sender's core
// busy collecting garbage.

// get returns an empty packet buffer.
func (l *lineState) get() []byte {
	if k := len(l.free); k > 0 {
		b := l.free[k-1]
		l.free = l.free[:k-1]
		return b[:0]
	}
	return make([]byte, 0, 2048)
}

// put returns a buffer no longer referenced.
func (l *lineState) put(b []byte) { l.free = append(l.free, b) }

// recycle recycles the buffers of l.out once they are sent; a duplicated
// packet appears twice in a row and is recycled once.
func (l *lineState) recycle() {
	for i, b := range l.out {
		if i > 0 && cap(b) > 0 && cap(l.out[i-1]) > 0 && &b[:1][0] == &l.out[i-1][:1][0] {
			continue
		}
		l.put(b)
	}
	l.out = l.out[:0]
}

// flush queues everything still lagging or held.
func (l *lineState) flush() {
	for _, p := range l.lag {
		if moldudp64.Packet(p).Seq() >= l.cfg.CutFrom && moldudp64.Packet(p).Seq() < l.cfg.CutTo {
			l.lost++
			l.put(p)
			continue
		}
		l.out = append(l.out, p)
	}
	l.lag = l.lag[:0]
	if l.held != nil {
		l.out = append(l.out, l.held)
		l.held = nil
	}
}

// Stats counts what a run sent.
type Stats struct {
	Messages, Packets uint64
	Lines             [2]struct{ Sent, Lost, Dups, Reordered uint64 }
}
