package moldudp64

import (
	"encoding/binary"
	"slices"

	"github.com/tickwire/tickwire/internal/invariants"
)

const (
	// HeaderLen is the length of the downstream packet header.
	HeaderLen = 20
	// SessionLen is the length of the Session field.
	SessionLen = 10
	// RequestLen is the exact length of a request packet.
	RequestLen = 20
	// MaxBlockLen is the longest message a block's 2-byte length can frame.
	MaxBlockLen = 0xFFFF
)

// Message Count values with a special meaning. Neither packet carries
// message blocks; both carry the next sequence number in the header.
const (
	Heartbeat    = 0      // server idle, the session goes on
	EndOfSession = 0xFFFF // the session has ended; re-requests still work
)

// Packet is one downstream packet: a 20-byte header and message blocks. It
// aliases the datagram it was parsed from and is valid as long as those bytes
// are (for a socket or capture buffer: until the next read). The header
// accessors need HeaderLen bytes: use Parse first (on a shorter slice they
// panic). Safe for concurrent reads.
type Packet []byte

// Parse returns b as a Packet after checking that it holds the 20-byte
// header; it returns ErrShortPacket otherwise. The message blocks are checked
// during iteration (Blocks) or by Validate. The Packet aliases b.
func Parse(b []byte) (Packet, error) {
	if len(b) < HeaderLen {
		return nil, ErrShortPacket
	}
	return Packet(b), nil
}

// Session returns the 10-byte Session field (offset 0). It aliases p, with
// its capacity ending at the field, and is valid as long as p is.
func (p Packet) Session() []byte { return p[0:SessionLen:SessionLen] }

// Seq returns the Sequence Number (offset 10): the sequence of the first
// message of the packet, or for a heartbeat or end of session the next
// sequence number the server will use.
func (p Packet) Seq() uint64 {
	_ = p[17]
	return binary.BigEndian.Uint64(p[10:])
}

// Count returns the Message Count field (offset 18) as sent: the number of
// blocks, or Heartbeat (0), or EndOfSession (0xFFFF).
func (p Packet) Count() uint16 {
	_ = p[19]
	return binary.BigEndian.Uint16(p[18:])
}

// IsHeartbeat reports whether p is a heartbeat (Message Count 0).
func (p Packet) IsHeartbeat() bool { return p.Count() == Heartbeat }

// IsEndOfSession reports whether p announces the end of the session
// (Message Count 0xFFFF).
func (p Packet) IsEndOfSession() bool { return p.Count() == EndOfSession }

// Messages returns the number of message blocks p announces: Count, or 0
// for an end-of-session packet.
func (p Packet) Messages() int {
	c := p.Count()
	if c == EndOfSession {
		return 0
	}
	return int(c)
}

// NextSeq returns the sequence number that follows p: Seq + Count for a
// packet with messages, Seq for a heartbeat or end of session (which carry
// the next sequence number).
func (p Packet) NextSeq() uint64 { return p.Seq() + uint64(p.Messages()) }

// Blocks returns an iterator over the message blocks of p. On a Packet
// shorter than HeaderLen the iterator yields nothing and reports
// ErrShortPacket.
func (p Packet) Blocks() Blocks {
	if len(p) < HeaderLen {
		return Blocks{p: p, off: len(p)} // Err reports ErrShortPacket
	}
	return Blocks{p: p, off: HeaderLen, left: p.Messages()}
}

// Validate walks every message block of p and returns what the Blocks
// iterator's Err would return after a full iteration: nil for a well-formed
// packet. It does not allocate.
func (p Packet) Validate() error {
	it := p.Blocks()
	for _, ok := it.Next(); ok; _, ok = it.Next() {
	}
	return it.Err()
}

// Blocks iterates over the message blocks of a Packet in order, without
// copying or allocating. It is a small value: make it with Packet.Blocks,
// call Next until it returns false, then Err. Each length is checked against
// the end of the packet and the number of blocks against the packet's
// Message Count; bytes left after the announced blocks are an error.
// Iteration stops at the first error. Not safe for concurrent use.
type Blocks struct {
	p    Packet
	off  int // offset in p of the next block
	left int // blocks announced and not yet returned
	n    int // blocks returned
}

// Next returns the data of the next message block (without its length
// field) and true, or nil and false when the announced blocks are exhausted
// or the next block is malformed (see Err). The data may be empty (a
// 0-length block is legal). It aliases the packet, with its capacity ending
// at the block, and is valid as long as the packet is. Small enough to be
// inlined: three comparisons per block.
func (it *Blocks) Next() ([]byte, bool) {
	off := it.off
	if it.left > 0 && off+2 <= len(it.p) {
		start := off + 2
		end := start + int(binary.BigEndian.Uint16(it.p[off:]))
		if end <= len(it.p) {
			it.off = end
			it.left--
			it.n++
			return it.p[start:end:end], true
		}
	}
	return nil, false
}

// Err describes the packet from where iteration stopped: nil if every block
// returned so far was well formed and, once Next has returned false, the
// packet held exactly the announced blocks and nothing more. Otherwise it
// returns ErrShortPacket, ErrTruncatedBlock, ErrCountMismatch (fewer blocks
// than Count, or more whole blocks after them) or ErrTrailingBytes. Called
// before Next returned false, it reports a problem with the next block, if
// any. It does not allocate.
func (it *Blocks) Err() error {
	if len(it.p) < HeaderLen {
		return ErrShortPacket
	}
	if invariants.Enabled && (it.off > len(it.p) || it.n > it.p.Messages()) {
		panic("moldudp64: block iterator ran past its packet")
	}
	rest := it.p[it.off:]
	if it.left == 0 {
		if len(rest) == 0 {
			return nil
		}
		return classifyTrailing(rest)
	}
	switch {
	case len(rest) == 0:
		return ErrCountMismatch // fewer blocks than announced
	case len(rest) < 2:
		return ErrTruncatedBlock // half a length field
	case 2+int(binary.BigEndian.Uint16(rest)) > len(rest):
		return ErrTruncatedBlock // data past the end of the packet
	}
	return nil // the caller stopped before the end; the next block is sound
}

// N returns the number of blocks returned so far by Next. The last block
// returned carries message number Packet.Seq() + N() - 1.
func (it *Blocks) N() int { return it.n }

// Offset returns the offset in the packet where iteration stopped: after the
// last block returned, or at the block found malformed.
func (it *Blocks) Offset() int { return it.off }

// classifyTrailing tells extra whole blocks (a Count too small) from garbage.
func classifyTrailing(b []byte) error {
	for len(b) >= 2 {
		n := 2 + int(binary.BigEndian.Uint16(b))
		if n > len(b) {
			return ErrTrailingBytes
		}
		b = b[n:]
	}
	if len(b) != 0 {
		return ErrTrailingBytes
	}
	return ErrCountMismatch
}

// MakeSession returns s as a Session field: left-justified and padded with
// spaces to 10 bytes; bytes beyond 10 are dropped.
func MakeSession(s string) [SessionLen]byte {
	a := [SessionLen]byte{' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '}
	copy(a[:], s)
	return a
}

// AppendHeader appends a 20-byte downstream packet header to dst and returns
// the extended slice. For a packet with messages, count is the number of
// blocks that will follow (AppendBlock), or is patched later with SetCount.
func AppendHeader(dst []byte, session [SessionLen]byte, seq uint64, count uint16) []byte {
	dst = append(dst, session[:]...)
	dst = binary.BigEndian.AppendUint64(dst, seq)
	return binary.BigEndian.AppendUint16(dst, count)
}

// AppendHeartbeat appends a heartbeat packet (header only, Message Count 0)
// announcing next as the next sequence number.
func AppendHeartbeat(dst []byte, session [SessionLen]byte, next uint64) []byte {
	return AppendHeader(dst, session, next, Heartbeat)
}

// AppendEndOfSession appends an end-of-session packet (header only, Message
// Count 0xFFFF) announcing next as the next sequence number.
func AppendEndOfSession(dst []byte, session [SessionLen]byte, next uint64) []byte {
	return AppendHeader(dst, session, next, EndOfSession)
}

// AppendBlock appends one message block (2-byte length, then msg) to dst and
// returns the extended slice. It panics if msg is longer than MaxBlockLen,
// which the format cannot express.
func AppendBlock(dst []byte, msg []byte) []byte {
	if len(msg) > MaxBlockLen {
		panic("moldudp64: message longer than 65535 bytes")
	}
	dst = slices.Grow(dst, 2+len(msg))
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(msg)))
	return append(dst, msg...)
}

// SetCount overwrites the Message Count of the packet being built in p (p
// starts with its header), for encoders that learn the count after appending
// the blocks. It panics if p is shorter than HeaderLen.
func SetCount(p []byte, count uint16) {
	binary.BigEndian.PutUint16(p[18:HeaderLen], count)
}

// Request is a re-request packet: ask the server for Count messages of
// Session from sequence Seq on. The server answers with ordinary downstream
// packets, possibly with fewer messages than asked. A plain value; safe to
// copy, not for concurrent modification.
type Request struct {
	Session [SessionLen]byte // session being recovered
	Seq     uint64           // first message wanted
	Count   uint16           // number of messages wanted
}

// Append appends the 20-byte request packet to dst and returns the extended
// slice.
func (r Request) Append(dst []byte) []byte {
	return AppendHeader(dst, r.Session, r.Seq, r.Count)
}

// ParseRequest decodes a request packet, which must be exactly RequestLen
// bytes (ErrRequestLength otherwise). The result copies the bytes it needs.
func ParseRequest(b []byte) (Request, error) {
	if len(b) != RequestLen {
		return Request{}, ErrRequestLength
	}
	p := Packet(b)
	return Request{Session: [SessionLen]byte(b[:SessionLen]), Seq: p.Seq(), Count: p.Count()}, nil
}
