package feed

import (
	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/codec/moldudp64"
)

// SessionChooser keeps the packets of one MoldUDP64 session out of all the
// traffic a socket or a capture carries. The session is either named at the
// start (NewSessionChooser with a name) or chosen from the traffic: the first
// session that two packets carrying ITCH confirm, from two sources or from
// one source continuing itself, so that one stray packet cannot choose it.
// The first of the two is held meanwhile and handed back when the second
// confirms it, to be applied first.
//
// A source is whatever the caller tells lines apart by (a socket's line, or
// a capture's input file and destination address): any comparable value.
// SessionChooser is not safe for concurrent use and allocates only to keep
// the one held packet, once, at its largest size.
type SessionChooser[K comparable] struct {
	session [10]byte
	set     bool

	cand struct {
		set     bool
		session [10]byte
		src     K
		at      int64
		end     uint64 // sequence after its last message
	}
	held []byte

	// BeforeSession counts the packets seen before the session was
	// chosen and not kept as the candidate; OtherSession the packets of
	// another session once it was.
	BeforeSession, OtherSession uint64
}

// Held is a packet held while the session was chosen, handed back on
// confirmation: Payload aliases the chooser's buffer until the next call.
type Held[K comparable] struct {
	Src     K
	At      int64
	Payload []byte
}

// NewSessionChooser returns a chooser of the session named session (10
// characters at most, space padded), or of the first confirmed when session
// is empty.
func NewSessionChooser[K comparable](session string) *SessionChooser[K] {
	s := &SessionChooser[K]{}
	if session != "" {
		s.session, s.set = Alpha10(session), true
	}
	return s
}

// Alpha10 pads s with spaces to a MoldUDP64 session name (s is cut at 10
// characters).
func Alpha10(s string) [10]byte {
	var a [10]byte
	for i := range a {
		a[i] = ' '
	}
	copy(a[:], s)
	return a
}

// Session returns the session chosen, space padded, and whether one is.
func (s *SessionChooser[K]) Session() ([10]byte, bool) { return s.session, s.set }

// Accept parses one MoldUDP64 payload from src at time now (ns) and returns
// the packet and Accepted when it belongs to the session; Malformed for a
// payload that is not MoldUDP64; OtherSession for another session's; and
// Duplicate while the session is not chosen yet (the packet is then held
// or dropped). When a packet confirms the session, held is the candidate
// packet that came before it, to be applied first; else held.Payload is nil.
func (s *SessionChooser[K]) Accept(src K, now int64, payload []byte) (pkt moldudp64.Packet, v Verdict, held Held[K]) {
	pkt, err := moldudp64.Parse(payload)
	if err != nil {
		return nil, Malformed, held
	}
	if s.set {
		if string(pkt.Session()) != string(s.session[:]) {
			s.OtherSession++
			return nil, OtherSession, held
		}
		return pkt, Accepted, held
	}
	if !carriesITCH(pkt) {
		s.BeforeSession++
		return nil, Duplicate, held
	}
	c := &s.cand
	end := pkt.Seq() + uint64(pkt.Count())
	if !c.set || string(c.session[:]) != string(pkt.Session()) || (c.src == src && pkt.Seq() != c.end) {
		if c.set {
			s.BeforeSession++
		}
		c.set, c.src, c.at, c.end = true, src, now, end
		copy(c.session[:], pkt.Session())
		s.held = append(s.held[:0], payload...)
		return nil, Duplicate, held
	}
	s.session, s.set = c.session, true
	c.set = false
	return pkt, Accepted, Held[K]{c.src, c.at, s.held}
}

// Close takes, at the end of a capture, the session of a candidate no second
// packet came to confirm (a record has nothing else to go on) and returns
// it, or a Held with a nil Payload.
func (s *SessionChooser[K]) Close() Held[K] {
	c := &s.cand
	if s.set || !c.set {
		return Held[K]{}
	}
	s.session, s.set = c.session, true
	c.set = false
	return Held[K]{c.src, c.at, s.held}
}

// carriesITCH reports whether a data packet's blocks are all well-formed and
// its first block is a known ITCH message: the test that picks the feed's
// session out of other UDP traffic.
func carriesITCH(pkt moldudp64.Packet) bool {
	if pkt.Count() == 0 || pkt.IsEndOfSession() {
		return false
	}
	it := pkt.Blocks()
	first := true
	for {
		b, ok := it.Next()
		if !ok {
			break
		}
		if first && itch.Check(b) != nil {
			return false
		}
		first = false
	}
	return it.Err() == nil && !first
}
