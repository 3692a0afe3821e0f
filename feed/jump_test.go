package feed

import (
	"testing"

	"github.com/tickwire/tickwire/codec/moldudp64"
)

// TestMaxJump: a well-formed packet far ahead of everything known is
// dropped unless another line, or the same line continuing it, corroborates
// the jump.
func TestMaxJump(t *testing.T) {
	const wild = 1_000_000_000
	type ev struct {
		line int
		p    moldudp64.Packet
	}
	cases := []struct {
		name        string
		events      []ev
		want        string
		implausible uint64
	}{
		{"wild packet dropped, feed goes on",
			[]ev{{0, buildPacket(1, 3)}, {0, buildPacket(wild, 2)}, {0, buildPacket(4, 3)}, {1, buildPacket(4, 3)}},
			"1-6", 1},
		{"wild heartbeat dropped",
			[]ev{{0, buildPacket(1, 3)}, {0, heartbeat(testSession, wild, 0)}, {0, buildPacket(4, 1)}},
			"1-4", 1},
		{"the same wild packet repeated is still dropped",
			[]ev{{0, buildPacket(1, 3)}, {0, buildPacket(wild, 2)}, {0, buildPacket(wild, 2)}, {0, buildPacket(4, 1)}},
			"1-4", 2},
		{"another line corroborates a jump: a hole up to it",
			[]ev{{0, buildPacket(1, 3)}, {0, buildPacket(2000, 2)}, {1, buildPacket(2001, 3)}},
			"1-3", 1},
		{"the same line continuing contiguously corroborates",
			[]ev{{0, buildPacket(1, 3)}, {0, buildPacket(2000, 2)}, {0, buildPacket(2002, 2)}},
			"1-3", 1},
		{"within the bound: an ordinary hole",
			[]ev{{0, buildPacket(1, 3)}, {0, buildPacket(900, 2)}},
			"1-3", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &recorder{t: t}
			a := NewArbiter(r, WithMaxJump(1000), WithHoldTime(0))
			for i, e := range c.events {
				a.Packet(e.line, int64(i), e.p)
			}
			if got := r.String(); got != c.want {
				t.Errorf("delivered %q, want %q", got, c.want)
			}
			if got := a.Stats().Implausible; got != c.implausible {
				t.Errorf("implausible %d, want %d", got, c.implausible)
			}
			if a.Stats().Gaps != 0 {
				t.Errorf("gaps %d before Close", a.Stats().Gaps)
			}
		})
	}
	// Without the guard, the wild packet opens a hole up to it.
	r := &recorder{t: t}
	a := NewArbiter(r, WithHoldTime(0))
	a.Packet(0, 0, buildPacket(1, 3))
	a.Packet(0, 1, buildPacket(wild, 2))
	a.Close()
	if a.Stats().GapMessages != wild-4 {
		t.Errorf("unguarded: gap of %d messages, want %d", a.Stats().GapMessages, wild-4)
	}
}
