package soupbintcp

import (
	"encoding/binary"
	"slices"

	"github.com/tickwire/tickwire/internal/invariants"
)

// Packet types (the byte after the Packet Length).
const (
	TypeDebug           = '+' // both directions: free text, to be ignored
	TypeLoginAccepted   = 'A' // server: login accepted, session and next sequence
	TypeLoginRejected   = 'J' // server: login rejected, reason code
	TypeSequencedData   = 'S' // server: one sequenced message
	TypeServerHeartbeat = 'H' // server: idle for 1 s
	TypeEndOfSession    = 'Z' // server: the session has ended
	TypeLoginRequest    = 'L' // client: log in
	TypeUnsequencedData = 'U' // client (4.x: also server): one unsequenced message
	TypeClientHeartbeat = 'R' // client: idle for 1 s
	TypeLogoutRequest   = 'O' // client: log out
)

const (
	// LengthLen is the size of the Packet Length field that starts every
	// packet.
	LengthLen = 2
	// HeaderLen is the size of a packet without payload: length and type.
	HeaderLen = 3
	// MaxLength is the largest Packet Length: 1 type byte + 65534 payload
	// bytes.
	MaxLength = 0xFFFF
	// MaxPacket is the size of the largest whole packet, length field
	// included: the bound on what a Framer buffers.
	MaxPacket = LengthLen + MaxLength
	// MaxPayload is the largest payload a packet can carry.
	MaxPayload = MaxLength - 1
)

// TypeName returns the name of packet type t ("SequencedData", ...), or
// "Unknown". For summaries and logs; it does not allocate.
func TypeName(t byte) string {
	switch t {
	case TypeDebug:
		return "Debug"
	case TypeLoginAccepted:
		return "LoginAccepted"
	case TypeLoginRejected:
		return "LoginRejected"
	case TypeSequencedData:
		return "SequencedData"
	case TypeServerHeartbeat:
		return "ServerHeartbeat"
	case TypeEndOfSession:
		return "EndOfSession"
	case TypeLoginRequest:
		return "LoginRequest"
	case TypeUnsequencedData:
		return "UnsequencedData"
	case TypeClientHeartbeat:
		return "ClientHeartbeat"
	case TypeLogoutRequest:
		return "LogoutRequest"
	}
	return "Unknown"
}

// Packet is one whole logical packet, Packet Length field included, as
// returned by Parse or handed over by a Framer. It aliases the bytes it was
// framed from and is valid as long as they are (for a Framer callback: until
// the callback returns). Its accessors need at least HeaderLen bytes, which
// Parse guarantees; on a shorter slice they panic. Safe for concurrent reads.
type Packet []byte

// Length returns the Packet Length field (offset 0, u16): the number of
// bytes after it, type byte included.
func (p Packet) Length() uint16 { return binary.BigEndian.Uint16(p) }

// Type returns the packet type byte (offset 2).
func (p Packet) Type() byte { return p[2] }

// Payload returns the bytes after the type byte (offset 3), possibly none.
// It aliases p and is valid as long as p is.
func (p Packet) Payload() []byte { return p[HeaderLen:] }

// Parse reads one packet from the front of b and returns it with the number
// of bytes it occupies (2 + Packet Length). It returns ErrIncomplete, and 0,
// when b holds only part of a packet (read more and call again), and
// ErrZeroLength for a Packet Length of 0. The Packet aliases b, with its
// capacity ending at the packet.
func Parse(b []byte) (Packet, int, error) {
	if len(b) < LengthLen {
		return nil, 0, ErrIncomplete
	}
	n := LengthLen + int(binary.BigEndian.Uint16(b))
	switch {
	case n == LengthLen:
		return nil, 0, ErrZeroLength
	case n > len(b):
		return nil, 0, ErrIncomplete
	}
	return Packet(b[:n:n]), n, nil
}

// Framer cuts a TCP byte stream into packets. Feed it the bytes of each read
// in order: it hands every complete packet to a callback, in place in the
// read buffer when the packet lies entirely inside it (no copy), and
// assembles a packet split across reads in a fixed MaxPacket-byte scratch
// array, copying only that packet's bytes. Nothing allocates.
//
// The zero value is ready for a new stream. A Framer is large (about 64
// KiB): allocate one per connection and keep it; do not copy it while a
// packet is pending. Not safe for concurrent use.
type Framer struct {
	n       int   // bytes of a split packet held in scratch
	err     error // sticky: ErrZeroLength or ErrStopped
	scratch [MaxPacket]byte
}

// Feed frames data, the next bytes of the stream, and calls fn for each
// packet completed by them, in stream order. The Packet passed to fn aliases
// data or the Framer's scratch array and is valid only during the call.
// Bytes of a trailing partial packet are kept (see Buffered) and completed by
// later calls; data itself is not retained and may be reused when Feed
// returns.
//
// If fn returns an error, Feed stops and returns it; the rest of data is not
// framed. If the stream holds a Packet Length of 0, Feed returns
// ErrZeroLength after delivering the packets before it. After either error
// the stream position is lost: every later Feed returns ErrZeroLength (for a
// corrupt stream) or ErrStopped until Reset.
func (f *Framer) Feed(data []byte, fn func(Packet) error) error {
	if f.err != nil {
		return f.err
	}
	if f.n > 0 {
		rest, done := f.fill(data)
		if !done {
			return f.err
		}
		data = rest
		n := f.n
		f.n = 0
		if err := fn(Packet(f.scratch[:n:n])); err != nil {
			f.err = ErrStopped
			return err
		}
	}
	for len(data) >= LengthLen {
		n := LengthLen + int(binary.BigEndian.Uint16(data))
		if n == LengthLen {
			f.err = ErrZeroLength
			return f.err
		}
		if n > len(data) {
			break
		}
		if err := fn(Packet(data[:n:n])); err != nil {
			f.err = ErrStopped
			return err
		}
		data = data[n:]
	}
	// len(data) < the packet's size <= MaxPacket: it fits.
	f.n = copy(f.scratch[:], data)
	if invariants.Enabled && f.n != len(data) {
		panic("soupbintcp: partial packet larger than the scratch array")
	}
	return nil
}

// fill appends to the split packet in scratch the bytes of data it still
// needs, and returns the rest of data and whether the packet is complete.
// On a zero Packet Length it sets f.err and returns false.
func (f *Framer) fill(data []byte) ([]byte, bool) {
	if f.n < LengthLen {
		k := copy(f.scratch[f.n:LengthLen], data)
		f.n += k
		data = data[k:]
		if f.n < LengthLen {
			return data, false
		}
	}
	n := LengthLen + int(binary.BigEndian.Uint16(f.scratch[:]))
	if n == LengthLen {
		f.err = ErrZeroLength
		return nil, false
	}
	if invariants.Enabled && f.n >= n {
		panic("soupbintcp: scratch holds a complete packet that was not delivered")
	}
	k := copy(f.scratch[f.n:n], data)
	f.n += k
	return data[k:], f.n == n
}

// Buffered returns the number of bytes of a pending partial packet held
// since the last Feed: 0 when the stream so far ended on a packet boundary.
// A connection closing with Buffered() > 0 ended mid-packet.
func (f *Framer) Buffered() int { return f.n }

// Reset discards a pending partial packet and any sticky error, readying the
// Framer for a new stream.
func (f *Framer) Reset() {
	f.n = 0
	f.err = nil
}

// AppendPacket appends one packet of type typ carrying payload to dst and
// returns the extended slice. It panics if payload is longer than
// MaxPayload, which the format cannot express.
func AppendPacket(dst []byte, typ byte, payload []byte) []byte {
	if len(payload) > MaxPayload {
		panic("soupbintcp: payload longer than 65534 bytes")
	}
	dst = slices.Grow(dst, HeaderLen+len(payload))
	dst = binary.BigEndian.AppendUint16(dst, uint16(1+len(payload)))
	dst = append(dst, typ)
	return append(dst, payload...)
}

// AppendSequenced appends a Sequenced Data packet ('S') carrying msg to dst.
// It panics if msg is longer than MaxPayload.
func AppendSequenced(dst []byte, msg []byte) []byte {
	return AppendPacket(dst, TypeSequencedData, msg)
}

// AppendUnsequenced appends an Unsequenced Data packet ('U') carrying msg to
// dst. It panics if msg is longer than MaxPayload.
func AppendUnsequenced(dst []byte, msg []byte) []byte {
	return AppendPacket(dst, TypeUnsequencedData, msg)
}

// AppendDebug appends a Debug packet ('+') carrying text to dst. It panics
// if text is longer than MaxPayload.
func AppendDebug(dst []byte, text string) []byte {
	if len(text) > MaxPayload {
		panic("soupbintcp: payload longer than 65534 bytes")
	}
	dst = slices.Grow(dst, HeaderLen+len(text))
	dst = binary.BigEndian.AppendUint16(dst, uint16(1+len(text)))
	dst = append(dst, TypeDebug)
	return append(dst, text...)
}

// AppendEmpty appends a packet of type typ with no payload (Packet Length
// 1) to dst: TypeServerHeartbeat, TypeEndOfSession, TypeClientHeartbeat or
// TypeLogoutRequest (an empty Debug, Sequenced or Unsequenced packet is
// legal too). It panics for the login types, whose payload is fixed and
// never empty.
func AppendEmpty(dst []byte, typ byte) []byte {
	switch typ {
	case TypeLoginAccepted, TypeLoginRejected, TypeLoginRequest:
		panic("soupbintcp: AppendEmpty of a login packet type")
	}
	return append(dst, 0, 1, typ)
}
