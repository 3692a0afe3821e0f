package feed

import (
	"math"
	"testing"

	"github.com/tickwire/tickwire/codec/moldudp64"
)

// fuzzEvent encodes one event of FuzzArbiter's input: line and kind in b0,
// sequence in b1, count and time step in b2.
func fuzzEvent(line, kind int, seq byte, b2 byte) []byte {
	return []byte{byte(line&3 | kind<<2), seq, b2}
}

// Event kinds of FuzzArbiter.
const (
	fuzzData      = 0 // 0-3
	fuzzHeartbeat = 4
	fuzzEnd       = 5
	fuzzCorrupt   = 6
	fuzzRaw       = 7
)

// FuzzArbiter interprets its input as a configuration byte and a sequence of
// (line, packet) events, and checks that the Arbiter never panics and that
// the Handler sees every sequence exactly once, in order, as a message or
// inside a gap, each message carrying its own sequence number.
//
// Configuration byte: HoldPackets = bits 0-2; HoldBytes = bits 3-4 (default,
// 100, 400, 1 MiB); HoldTime = bits 5-7 × 40 ns (0 disables it).
//
// Event (3 bytes b0 b1 b2): line = b0&3 (3 means line 9, beyond MaxLines);
// kind = b0>>2&7 (0-3 data, 4 heartbeat, 5 end of session, 6 corrupted data,
// 7 raw bytes); b0&0x80 makes the sequence MaxUint64-b1, else it is b1;
// count = b2%9; the clock advances by (b2>>4)×10 ns before the event. A
// corrupted packet has, by b2>>2&3, its last byte cut, another session, one
// block too few, or a stray byte appended. A raw event takes b2 bytes from
// the rest of the input as a packet body after a header of the session.
func FuzzArbiter(f *testing.F) {
	var seed []byte
	add := func(cfg byte, events ...[]byte) {
		seed = append(seed[:0], cfg)
		for _, e := range events {
			seed = append(seed, e...)
		}
		f.Add(append([]byte(nil), seed...))
	}
	// Lines A and B in step; B lagging; A losing a packet that B fills.
	add(0, fuzzEvent(0, 0, 1, 3), fuzzEvent(1, 0, 1, 3), fuzzEvent(0, 0, 4, 2), fuzzEvent(1, 0, 4, 2))
	add(0, fuzzEvent(0, 0, 1, 2), fuzzEvent(0, 0, 5, 2), fuzzEvent(0, 0, 7, 2), fuzzEvent(1, 0, 1, 2), fuzzEvent(1, 0, 3, 2))
	// Loss on both lines given up by the hold time, then by Close after a heartbeat.
	add(1<<5|4, fuzzEvent(0, 0, 1, 2), fuzzEvent(1, 0, 5, 2), fuzzEvent(0, 0, 7, 0xF1), fuzzEvent(1, 0, 7, 0xF1), fuzzEvent(0, 4, 20, 0))
	// Partial overlaps, reordering, a packet inside a held one.
	add(7, fuzzEvent(0, 0, 1, 2), fuzzEvent(0, 0, 6, 4), fuzzEvent(1, 0, 8, 5), fuzzEvent(1, 0, 4, 4), fuzzEvent(1, 0, 7, 1), fuzzEvent(0, 0, 3, 1))
	// Corrupted and foreign packets, end of session, overflowing sequences.
	add(2, fuzzEvent(0, 6, 1, 0x02), fuzzEvent(1, 6, 1, 0x06), fuzzEvent(1, 0, 1, 2), fuzzEvent(0, 6, 3, 0x0A), fuzzEvent(0, 6, 3, 0x0E),
		fuzzEvent(2, 0, 3, 1), fuzzEvent(3, 5, 4, 0), []byte{0x80, 3, 3})
	// Raw bytes: a well-formed block of a foreign content, then garbage.
	add(3, fuzzEvent(0, 7, 1, 4), []byte{0, 2, 'T', 0}, fuzzEvent(1, 7, 2, 3), []byte{9, 9, 9})
	// Pool pressure by bytes with a single slot.
	add(1|2<<3, fuzzEvent(0, 0, 1, 1), fuzzEvent(0, 0, 3, 8), fuzzEvent(0, 0, 20, 8), fuzzEvent(0, 0, 2, 1))

	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		cfg := data[0]
		data = data[1:]
		opts := []Option{WithHoldPackets(int(cfg & 7)), WithHoldTime(int64(cfg>>5) * 40)}
		if hb := [...]int{0, 100, 400, 1 << 20}[cfg>>3&3]; hb != 0 {
			opts = append(opts, WithHoldBytes(hb))
		}
		rec := &recorder{t: t, expect: 1}
		a := NewArbiter(rec, opts...)
		pad := func(seq uint64) int { return int(seq % 5) }
		var now int64
		var buf []byte
		for len(data) >= 3 {
			b0, b1, b2 := data[0], data[1], data[2]
			data = data[3:]
			line := int(b0 & 3)
			if line == 3 {
				line = 9
			}
			seq := uint64(b1)
			if b0&0x80 != 0 {
				seq = math.MaxUint64 - uint64(b1)
			}
			count := int(b2 % 9)
			now += int64(b2>>4) * 10
			buf = buf[:0]
			switch kind := b0 >> 2 & 7; kind {
			case fuzzHeartbeat:
				buf = moldudp64.AppendHeader(buf, testSession, seq, moldudp64.Heartbeat)
			case fuzzEnd:
				buf = moldudp64.AppendHeader(buf, testSession, seq, moldudp64.EndOfSession)
			case fuzzCorrupt:
				switch b2 >> 2 & 3 {
				case 0:
					buf = appendPacket(buf, testSession, seq, count, pad)
					buf = buf[:len(buf)-1]
				case 1:
					buf = appendPacket(buf, otherSession, seq, count, pad)
				case 2:
					buf = appendPacket(buf, testSession, seq, count+1, pad)
					buf = buf[:len(buf)-(2+9+pad(seq+uint64(count)))]
				case 3:
					buf = append(appendPacket(buf, testSession, seq, count, pad), 0)
				}
			case fuzzRaw:
				n := min(int(b2), len(data))
				buf = moldudp64.AppendHeader(buf, testSession, seq, uint16(count))
				buf = append(buf, data[:n]...)
				data = data[n:]
				if wellFormed(buf) {
					rec.lax = true // foreign content under our sequence numbers
				}
			default:
				buf = appendPacket(buf, testSession, seq, count, pad)
			}
			a.Packet(line, now, buf)
			if b2&0x0F == 0x0F {
				a.Tick(now + 1000)
			}
		}
		a.Close()
		if s := a.Stats(); s.HeldPackets != 0 || s.HeldBytes != 0 {
			t.Errorf("%d packets, %d bytes held after Close", s.HeldPackets, s.HeldBytes)
		}
		if rec.expect != a.Next() {
			t.Errorf("handler expects %d, arbiter next %d", rec.expect, a.Next())
		}
	})
}

// pendingRequester keeps the requests for FuzzRecovery to answer.
type pendingRequester struct {
	t       *testing.T
	pending []moldudp64.Request
}

func (p *pendingRequester) Request(r moldudp64.Request) {
	if r.Count == 0 || r.Seq == 0 || r.Session != testSession {
		p.t.Errorf("request %+v", r)
	}
	p.pending = append(p.pending, r)
}

// FuzzRecovery drives an Arbiter with recovery on. The configuration byte
// sets HoldPackets (bits 0-2), MaxOutstanding (bits 3-4, plus 1), MaxRetries
// (bits 5-6) and a negative FillTime (bit 7). Events are 3 bytes b0 b1 b2:
// line = b0&3; kind = b0>>2&7: 0-3 data packet of sequence b1 (or
// MaxUint64-b1 if b0&0x80) carrying b2%9 messages, 4 heartbeat announcing
// b1, 5 answer to the oldest pending request carrying at most b2%9 messages
// (none: the request is lost), 6 tick, 7 corrupted data; the clock advances
// by (b2>>4)×10 ns before each event. It checks that the Handler sees every
// sequence exactly once, in order, and that nothing stays held or requested
// after Close.
func FuzzRecovery(f *testing.F) {
	f.Add([]byte{0x2A, 0, 1, 3, 0, 6, 2, 6 << 2, 0, 0xF0, 5 << 2, 0, 0x32, 6 << 2, 0, 0xF0})
	f.Add([]byte{0x09, 0, 1, 1, 0, 9, 1, 0, 20, 1, 4 << 2, 30, 0, 6 << 2, 0, 0xF0, 5 << 2, 0, 0x08, 5 << 2, 0, 0x08, 6 << 2, 0, 0xF0, 6 << 2, 0, 0xF0})
	f.Add([]byte{0xE3, 0, 1, 2, 1, 4, 2, 0, 8, 8, 5 << 2, 0, 0x01, 1, 3, 2, 7 << 2, 5, 3, 5 << 2, 0, 0x05})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		cfg := data[0]
		data = data[1:]
		rc := RecoveryConfig{FillTime: 50, MaxOutstanding: int(cfg>>3&3) + 1, MaxCount: 4, Timeout: 100, Backoff: 1.5,
			MaxRetries: int(cfg >> 5 & 3), MaxAge: 1000}
		if cfg&0x80 != 0 {
			rc.FillTime = -1
		}
		req := &pendingRequester{t: t}
		rec := &recorder{t: t, expect: 1}
		// Line 2 is the recovery socket: what arrives there unasked is
		// dropped; a small jump bound and quiet time reach the probes.
		a := NewArbiter(rec, WithHoldPackets(int(cfg&7)), WithRecovery(req, rc), WithRecoveryLine(2), WithMaxJump(64), WithQuiet(500))
		pad := func(seq uint64) int { return int(seq % 5) }
		var now int64
		var buf []byte
		for len(data) >= 3 {
			b0, b1, b2 := data[0], data[1], data[2]
			data = data[3:]
			line := int(b0 & 3)
			seq := uint64(b1)
			if b0&0x80 != 0 {
				seq = math.MaxUint64 - uint64(b1)
			}
			count := int(b2 % 9)
			now += int64(b2>>4) * 10
			buf = buf[:0]
			switch b0 >> 2 & 7 {
			case 4:
				mark := uint16(moldudp64.Heartbeat)
				if count&1 != 0 {
					mark = moldudp64.EndOfSession
				}
				a.Packet(line, now, moldudp64.AppendHeader(buf, testSession, seq, mark))
			case 5:
				if len(req.pending) == 0 {
					continue
				}
				r := req.pending[0]
				req.pending = req.pending[1:]
				if n := min(count, int(r.Count)); n > 0 {
					a.Packet(2, now, appendPacket(buf, testSession, r.Seq, n, pad))
				}
			case 6:
				a.Tick(now)
			case 7:
				buf = appendPacket(buf, testSession, seq, count, pad)
				a.Packet(line, now, buf[:len(buf)-1])
			default:
				a.Packet(line, now, appendPacket(buf, testSession, seq, count, pad))
			}
		}
		a.Close()
		if s := a.Stats(); s.HeldPackets != 0 || s.Outstanding != 0 {
			t.Errorf("%d packets held, %d requests in flight after Close", s.HeldPackets, s.Outstanding)
		}
		if rec.expect != a.Next() {
			t.Errorf("handler expects %d, arbiter next %d", rec.expect, a.Next())
		}
	})
}
