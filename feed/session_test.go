package feed

import (
	"testing"

	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/codec/moldudp64"
)

// itchPacket is a packet of session carrying count Add Order messages from
// seq on.
func itchPacket(session [10]byte, seq uint64, count int) []byte {
	b := moldudp64.AppendHeader(nil, session, seq, uint16(count))
	for i := range count {
		add := itch.AddOrderMsg{Header: itch.Header{Locate: 1}, Ref: seq + uint64(i), Side: itch.Buy, Shares: 1, Stock: itch.Alpha8("X"), Price: 1}
		b = moldudp64.AppendBlock(b, add.Append(nil))
	}
	return b
}

func TestSessionChooser(t *testing.T) {
	t.Run("confirmed by a second source", func(t *testing.T) {
		c := NewSessionChooser[int]("")
		if _, v, _ := c.Accept(0, 1, []byte("not a packet")); v != Malformed {
			t.Errorf("garbage: %v", v)
		}
		if _, v, _ := c.Accept(0, 1, heartbeat(testSession, 1, 0)); v != Duplicate {
			t.Errorf("heartbeat before the choice: %v", v)
		}
		rogue := itchPacket(otherSession, 1<<40, 1)
		if _, v, h := c.Accept(0, 2, rogue); v != Duplicate || h.Payload != nil {
			t.Errorf("first packet: %v %v", v, h)
		}
		first := itchPacket(testSession, 1, 2)
		c.Accept(1, 3, first) // replaces the rogue candidate
		if _, ok := c.Session(); ok {
			t.Fatal("chosen by one packet")
		}
		pkt, v, h := c.Accept(0, 4, first)
		if v != Accepted || pkt.Seq() != 1 || h.Src != 1 || h.At != 3 || string(h.Payload) != string(first) {
			t.Fatalf("confirmation: %v, held %+v", v, h)
		}
		if s, ok := c.Session(); !ok || s != testSession {
			t.Errorf("session %q %v", s, ok)
		}
		if _, v, _ := c.Accept(0, 5, rogue); v != OtherSession || c.OtherSession != 1 {
			t.Errorf("rogue after the choice: %v, %d", v, c.OtherSession)
		}
		if c.BeforeSession != 2 {
			t.Errorf("%d before the session, want 2 (the heartbeat, the replaced candidate)", c.BeforeSession)
		}
	})
	t.Run("one source continuing itself", func(t *testing.T) {
		c := NewSessionChooser[int]("")
		c.Accept(0, 1, itchPacket(testSession, 1, 2))
		if _, v, _ := c.Accept(0, 2, itchPacket(testSession, 5, 1)); v != Duplicate {
			t.Errorf("a packet not continuing the candidate confirmed it: %v", v)
		}
		if _, v, h := c.Accept(0, 3, itchPacket(testSession, 6, 1)); v != Accepted || h.At != 2 {
			t.Errorf("continuation: %v %+v", v, h)
		}
	})
	t.Run("named", func(t *testing.T) {
		c := NewSessionChooser[int]("20260312A")
		if _, v, _ := c.Accept(0, 1, itchPacket(otherSession, 1, 1)); v != OtherSession {
			t.Errorf("other session: %v", v)
		}
		if _, v, h := c.Accept(0, 1, heartbeat(testSession, 1, 0)); v != Accepted || h.Payload != nil {
			t.Errorf("named session's heartbeat: %v", v)
		}
	})
	t.Run("closed with a lone candidate", func(t *testing.T) {
		c := NewSessionChooser[int]("")
		p := itchPacket(testSession, 1, 1)
		c.Accept(1, 7, p)
		if h := c.Close(); h.Src != 1 || string(h.Payload) != string(p) {
			t.Errorf("close: %+v", h)
		}
		if h := c.Close(); h.Payload != nil {
			t.Errorf("second close: %+v", h)
		}
	})
}

func TestSessionChooserNoAllocs(t *testing.T) {
	c := NewSessionChooser[int]("")
	p := itchPacket(testSession, 1, 3)
	c.Accept(0, 0, p)
	c.Accept(1, 0, p)
	if n := testing.AllocsPerRun(1000, func() { c.Accept(0, 1, p) }); n != 0 {
		t.Errorf("%v allocations per packet", n)
	}
}
