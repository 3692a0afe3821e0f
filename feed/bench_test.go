package feed

import (
	"encoding/binary"
	"testing"

	"github.com/tickwire/tickwire/codec/moldudp64"
)

// setSeq rewrites the sequence number of a packet in place, so that tests and
// benchmarks can replay a few buffers as an endless session.
func setSeq(p moldudp64.Packet, seq uint64) moldudp64.Packet {
	binary.BigEndian.PutUint64(p[10:18], seq)
	return p
}

// TestArbiterNoAllocs proves that steady-state arbitration allocates nothing:
// deliveries, duplicates, holds (including a partial overlap), releases when a
// hole fills, a heartbeat revealing a tail, and gaps given up by the hold time.
func TestArbiterNoAllocs(t *testing.T) {
	const n = 5 // messages per packet
	var h countingHandler
	a := NewArbiter(&h, WithHoldTime(1000))
	pk := make([]moldudp64.Packet, 7)
	for i := range pk {
		pk[i] = appendPacket(nil, testSession, 1, n, pad3)
	}
	hb := heartbeat(testSession, 1, moldudp64.Heartbeat)
	base := uint64(1)
	var now int64
	cycle := func() {
		s := func(i int) uint64 { return base + uint64(i*n) }
		for i := range 6 {
			setSeq(pk[i], s(i))
		}
		a.Packet(0, now, pk[0])                 // A delivers
		a.Packet(0, now, pk[2])                 // A lost packet 1: hold 2
		a.Packet(0, now, pk[3])                 // hold 3
		a.Packet(1, now, setSeq(pk[6], s(1)+2)) // B: overlaps 1 and 2: held
		a.Packet(1, now, pk[0])                 // B duplicate
		a.Packet(1, now, pk[1])                 // B fills the hole: releases all
		a.Packet(1, now, pk[2])                 // duplicates
		a.Packet(1, now, pk[3])                 //
		a.Packet(0, now, pk[5])                 // 4 lost on both lines: hold 5
		a.Packet(1, now, pk[5])                 // duplicate of a held packet
		a.Packet(1, now, setSeq(hb, s(7)))      // tail [s(6), s(7)) revealed
		a.Packet(0, now+1, setSeq(hb, s(7)))    //
		now += 2000                             //
		a.Tick(now)                             // gap 4, deliver 5, gap 6
		base = s(7)
	}
	if allocs := testing.AllocsPerRun(200, cycle); allocs != 0 {
		t.Errorf("%v allocations per cycle, want 0", allocs)
	}
	s := a.Stats()
	if s.Held == 0 || s.Gaps == 0 || s.Trimmed == 0 || s.Duplicates == 0 || s.HeldPackets != 0 {
		t.Errorf("cycle did not exercise the arbiter: %+v", s)
	}
	if h.msgs != s.Messages || h.last+1 != a.Next()-n {
		t.Errorf("handler saw %d messages up to %d, stats %d, next %d", h.msgs, h.last, s.Messages, a.Next())
	}
}

// BenchmarkArbiter feeds lines A and B interleaved, packets of 20 messages
// of 34 bytes (about the mix of a Nasdaq feed), each packet on both lines.
// "lag" makes B trail A by 4 packets and A lose 1 packet in 100, so that B's
// copies fill holes and A's packets are held and released.
func BenchmarkArbiter(b *testing.B) {
	for _, bc := range []struct {
		name string
		lag  int
		loss int // A loses one packet in loss; 0 none
	}{
		{"AB", 0, 0},
		{"lag4-loss1pct", 4, 100},
	} {
		b.Run(bc.name, func(b *testing.B) {
			const msgs = 20
			var h countingHandler
			a := NewArbiter(&h)
			pad := func(uint64) int { return 34 - 9 }
			const ring = 16
			var pk [ring]moldudp64.Packet
			for i := range pk {
				pk[i] = appendPacket(nil, testSession, 1, msgs, pad)
			}
			b.SetBytes(int64(len(pk[0])))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				p := setSeq(pk[i%ring], 1+uint64(i)*msgs)
				if bc.loss == 0 || i%bc.loss != 1 {
					a.Packet(0, int64(i)*1000, p)
				}
				if j := i - bc.lag; j >= 0 {
					a.Packet(1, int64(i)*1000+1, pk[j%ring])
				}
				i++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i), "ns/packet")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i*msgs), "ns/msg")
			if s := a.Stats(); s.Gaps != 0 {
				b.Fatalf("%d gaps", s.Gaps)
			}
		})
	}
}
