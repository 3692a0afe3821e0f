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
	const quiet = 1000 // Options.Quiet in the tests' ns
	type ev struct {
		line int
		at   int64
		p    moldudp64.Packet
	}
	cases := []struct {
		name        string
		events      []ev
		want        string
		implausible uint64
		jumps       uint64
	}{
		{"wild packet dropped, feed goes on",
			[]ev{{0, 0, buildPacket(1, 3)}, {0, 1, buildPacket(wild, 2)}, {0, 2, buildPacket(4, 3)}, {1, 3, buildPacket(4, 3)}},
			"1-6", 1, 0},
		{"wild heartbeat dropped",
			[]ev{{0, 0, buildPacket(1, 3)}, {0, 1, heartbeat(testSession, wild, 0)}, {0, 2, buildPacket(4, 1)}},
			"1-4", 1, 0},
		{"the same wild packet repeated is still dropped",
			[]ev{{0, 0, buildPacket(1, 3)}, {0, 1, buildPacket(wild, 2)}, {0, 2, buildPacket(wild, 2)}, {0, 3, buildPacket(4, 1)}},
			"1-4", 2, 0},
		{"on both lines while the old sequence goes on: dropped",
			[]ev{{0, 0, buildPacket(1, 3)}, {0, 1, buildPacket(wild, 2)}, {1, 2, buildPacket(wild, 2)}, {0, 3, buildPacket(4, 1)}, {1, 4, buildPacket(4, 2)}},
			"1-5", 2, 0},
		{"continued on one line while the old sequence goes on: dropped",
			[]ev{{0, 0, buildPacket(1, 3)}, {0, 1, buildPacket(wild, 2)}, {0, 2, buildPacket(wild+2, 2)}, {1, 3, buildPacket(4, 1)}},
			"1-4", 2, 0},
		{"another line corroborates once the old sequence is quiet: taken, a gap up to it",
			[]ev{{0, 0, buildPacket(1, 3)}, {0, quiet + 1, buildPacket(2000, 2)}, {1, quiet + 2, buildPacket(2001, 3)}},
			"1-3 gap 4+1997 2001-2003", 1, 1},
		{"the same line continuing contiguously once quiet: taken",
			[]ev{{0, 0, buildPacket(1, 3)}, {0, quiet + 1, buildPacket(2000, 2)}, {0, quiet + 2, buildPacket(2002, 2)}},
			"1-3 gap 4+1998 2002-2003", 1, 1},
		{"quiet but uncorroborated: dropped",
			[]ev{{0, 0, buildPacket(1, 3)}, {0, quiet + 1, buildPacket(2000, 2)}, {0, quiet + 2, buildPacket(4, 1)}},
			"1-4", 1, 0},
		{"within the bound: an ordinary hole",
			[]ev{{0, 0, buildPacket(1, 3)}, {0, 1, buildPacket(900, 2)}},
			"1-3", 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &recorder{t: t}
			a := NewArbiter(r, WithMaxJump(1000), WithHoldTime(0), WithQuiet(quiet))
			for _, e := range c.events {
				a.Packet(e.line, e.at, e.p)
			}
			if got := r.String(); got != c.want {
				t.Errorf("delivered %q, want %q", got, c.want)
			}
			if got := a.Stats().Implausible; got != c.implausible {
				t.Errorf("implausible %d, want %d", got, c.implausible)
			}
			if got := a.Stats().Jumps; got != c.jumps {
				t.Errorf("jumps %d, want %d", got, c.jumps)
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
