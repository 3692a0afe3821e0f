package feed_test

import (
	"fmt"

	"github.com/tickwire/tickwire/codec/moldudp64"
	"github.com/tickwire/tickwire/feed"
)

type printer struct{}

func (printer) Message(seq uint64, msg []byte) { fmt.Printf("message %d: %s\n", seq, msg) }
func (printer) Gap(first, count uint64)        { fmt.Printf("gap %d+%d\n", first, count) }

func packet(seq uint64, msgs ...string) moldudp64.Packet {
	p := moldudp64.AppendHeader(nil, [10]byte([]byte("20260312A ")), seq, uint16(len(msgs)))
	for _, m := range msgs {
		p = moldudp64.AppendBlock(p, []byte(m))
	}
	return p
}

// Line A loses the packet carrying 3 and 4; line B, lagging, fills the hole,
// and the packet A had held is released behind it. Messages 7 and 8 are lost
// on both lines: Close reports them as a gap.
func ExampleArbiter() {
	const a, b = 0, 1
	arb := feed.NewArbiter(printer{})
	arb.Packet(a, 1000, packet(1, "one", "two"))
	arb.Packet(a, 3000, packet(5, "five", "six"))
	arb.Packet(b, 3500, packet(1, "one", "two"))
	arb.Packet(b, 4000, packet(3, "three", "four"))
	arb.Packet(b, 4500, packet(5, "five", "six"))
	arb.Packet(a, 6000, packet(9, "nine"))
	arb.Close()
	s := arb.Stats()
	fmt.Printf("held %d, duplicates %d, gaps %d (%d messages)\n", s.Held, s.Duplicates, s.Gaps, s.GapMessages)
	// Output:
	// message 1: one
	// message 2: two
	// message 3: three
	// message 4: four
	// message 5: five
	// message 6: six
	// gap 7+2
	// message 9: nine
	// held 2, duplicates 2, gaps 1 (2 messages)
}
