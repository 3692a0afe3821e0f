package soupbintcp

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"
)

// Packet Length values of the packets with a fixed payload (a whole packet
// is LengthLen bytes more).
const (
	LenLoginRequest   = 47 // 3.00 and 4.0
	LenLoginRequest41 = 52 // 4.1: adds the 5-byte Heartbeat Timeout (4.x)
	LenLoginAccepted  = 31
	LenLoginRejected  = 2
)

// Field sizes.
const (
	UsernameLen         = 6  // Alpha(6)
	PasswordLen         = 10 // Alpha(10)
	SessionLen          = 10 // 10 ASCII bytes, names left-padded with spaces
	SeqLen              = 20 // Num(20) sequence numbers
	HeartbeatTimeoutLen = 5  // Num(5) milliseconds (4.1)
	// MaxHeartbeatTimeout is the largest Heartbeat Timeout Num(5) holds.
	MaxHeartbeatTimeout = 99999
)

// Login Rejected reason codes.
const (
	RejectNotAuthorized      = 'A' // bad username or password
	RejectSessionUnavailable = 'S' // the requested session is not available
)

// RejectReason names a Login Rejected reason code: "not authorized",
// "session not available", or "unknown reason" for any other byte. It does
// not allocate.
func RejectReason(b byte) string {
	switch b {
	case RejectNotAuthorized:
		return "not authorized"
	case RejectSessionUnavailable:
		return "session not available"
	}
	return "unknown reason"
}

// LoginRequest is a Login Request packet ('L'). A plain value: safe to copy,
// not for concurrent modification. Build the Alpha fields with Username,
// Password and Session; a NUL byte in them (as in the zero value) is sent as
// a space, so an unset Session requests the current session.
type LoginRequest struct {
	Username [UsernameLen]byte // Alpha(6), right-padded with spaces
	Password [PasswordLen]byte // Alpha(10), right-padded with spaces
	// Session to join, as sent: all spaces = the currently active session.
	// Re-log in with the name Login Accepted returned so that a reconnect
	// cannot land in a new session.
	Session [SessionLen]byte
	// Seq is the Requested Sequence Number: the next Sequenced Data message
	// wanted; 1 = from the start of the session, 0 = only new messages.
	Seq uint64
	// HeartbeatTimeout is the time in milliseconds the server waits without
	// client traffic before dropping the client (4.1 only; sent when V41,
	// at most MaxHeartbeatTimeout).
	HeartbeatTimeout uint32
	// V41 selects the SoupBinTCP 4.1 layout (Packet Length 52, with
	// HeartbeatTimeout) instead of the 3.00/4.0 one (47).
	V41 bool
}

// Append appends the Login Request packet to dst and returns the extended
// slice: 49 bytes, or 54 with V41. Seq is written as a right-justified,
// space-padded Num(20). It panics if V41 is set and HeartbeatTimeout exceeds
// MaxHeartbeatTimeout, which Num(5) cannot express.
func (r LoginRequest) Append(dst []byte) []byte {
	n := LenLoginRequest
	if r.V41 {
		if r.HeartbeatTimeout > MaxHeartbeatTimeout {
			panic("soupbintcp: heartbeat timeout does not fit in Num(5)")
		}
		n = LenLoginRequest41
	}
	dst = slices.Grow(dst, LengthLen+n)
	dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	dst = append(dst, TypeLoginRequest)
	dst = appendAlpha(dst, r.Username[:])
	dst = appendAlpha(dst, r.Password[:])
	dst = appendAlpha(dst, r.Session[:])
	dst = AppendNum(dst, r.Seq, SeqLen)
	if r.V41 {
		dst = AppendNum(dst, uint64(r.HeartbeatTimeout), HeartbeatTimeoutLen)
	}
	return dst
}

// ParseLoginRequest decodes a Login Request packet of either layout: Packet
// Length 47 (3.00/4.0) or 52 (4.1, V41 set). Fields are copied as sent
// (compare the Session with TrimSession). It returns ErrType for another
// packet type, ErrLength for another length, ErrNumber for a malformed
// number.
func ParseLoginRequest(p Packet) (LoginRequest, error) {
	if err := checkPacket(p, TypeLoginRequest); err != nil {
		return LoginRequest{}, err
	}
	var r LoginRequest
	switch len(p) - LengthLen {
	case LenLoginRequest:
	case LenLoginRequest41:
		r.V41 = true
	default:
		return LoginRequest{}, ErrLength
	}
	r.Username = [UsernameLen]byte(p[3:9])
	r.Password = [PasswordLen]byte(p[9:19])
	r.Session = [SessionLen]byte(p[19:29])
	seq, err := ParseNum(p[29:49])
	if err != nil {
		return LoginRequest{}, err
	}
	r.Seq = seq
	if r.V41 {
		hb, err := ParseNum(p[49:54])
		if err != nil {
			return LoginRequest{}, err
		}
		r.HeartbeatTimeout = uint32(hb) // at most 99999: five digits
	}
	return r, nil
}

// LoginAccepted is a Login Accepted packet ('A'). A plain value: safe to
// copy, not for concurrent modification.
type LoginAccepted struct {
	// Session joined, as sent (Nasdaq left-pads it with spaces; compare with
	// TrimSession). A NUL byte is sent as a space.
	Session [SessionLen]byte
	// Seq is the sequence number of the NEXT Sequenced Data packet: the
	// first 'S' after this packet is message Seq.
	Seq uint64
}

// Append appends the 33-byte Login Accepted packet to dst and returns the
// extended slice.
func (a LoginAccepted) Append(dst []byte) []byte {
	dst = slices.Grow(dst, LengthLen+LenLoginAccepted)
	dst = binary.BigEndian.AppendUint16(dst, LenLoginAccepted)
	dst = append(dst, TypeLoginAccepted)
	dst = appendAlpha(dst, a.Session[:])
	return AppendNum(dst, a.Seq, SeqLen)
}

// ParseLoginAccepted decodes a Login Accepted packet (Packet Length 31). It
// returns ErrType for another packet type, ErrLength for another length,
// ErrNumber for a malformed Sequence Number.
func ParseLoginAccepted(p Packet) (LoginAccepted, error) {
	if err := checkPacket(p, TypeLoginAccepted); err != nil {
		return LoginAccepted{}, err
	}
	if len(p) != LengthLen+LenLoginAccepted {
		return LoginAccepted{}, ErrLength
	}
	seq, err := ParseNum(p[13:33])
	if err != nil {
		return LoginAccepted{}, err
	}
	return LoginAccepted{Session: [SessionLen]byte(p[3:13]), Seq: seq}, nil
}

// AppendLoginRejected appends the 4-byte Login Rejected packet with the
// given reason code (RejectNotAuthorized, RejectSessionUnavailable) to dst.
func AppendLoginRejected(dst []byte, reason byte) []byte {
	return append(dst, 0, LenLoginRejected, TypeLoginRejected, reason)
}

// ParseLoginRejected returns the reason code of a Login Rejected packet
// (Packet Length 2), as sent: codes other than the two known ones are not an
// error (name them with RejectReason). It returns ErrType for another packet
// type and ErrLength for another length.
func ParseLoginRejected(p Packet) (byte, error) {
	if err := checkPacket(p, TypeLoginRejected); err != nil {
		return 0, err
	}
	if len(p) != LengthLen+LenLoginRejected {
		return 0, ErrLength
	}
	return p[3], nil
}

// checkPacket checks that p is one whole packet (its Packet Length agrees
// with its size) of type typ.
func checkPacket(p Packet, typ byte) error {
	if len(p) < HeaderLen || LengthLen+int(p.Length()) != len(p) {
		return ErrLength
	}
	if p[2] != typ {
		return ErrType
	}
	return nil
}

// appendAlpha appends b with every NUL byte written as a space.
func appendAlpha(dst, b []byte) []byte {
	for _, c := range b {
		if c == 0 {
			c = ' '
		}
		dst = append(dst, c)
	}
	return dst
}

// Username returns s as an Alpha(6) Username: left-justified, right-padded
// with spaces; bytes beyond 6 are dropped.
func Username(s string) [UsernameLen]byte {
	a := [UsernameLen]byte{' ', ' ', ' ', ' ', ' ', ' '}
	copy(a[:], s)
	return a
}

// Password returns s as an Alpha(10) Password: left-justified, right-padded
// with spaces; bytes beyond 10 are dropped.
func Password(s string) [PasswordLen]byte {
	a := blank10
	copy(a[:], s)
	return a
}

var blank10 = [10]byte{' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '}

// Session returns a session name as the 10-byte field Nasdaq sends:
// surrounding spaces removed, then right-justified and left-padded with
// spaces ("42" -> "        42"). A name longer than 10 bytes keeps its first
// 10. Session("") is all spaces: the currently active session.
func Session(name string) [SessionLen]byte {
	a := blank10
	t := strings.Trim(name, " ")
	if len(t) > SessionLen {
		t = t[:SessionLen]
	}
	copy(a[SessionLen-len(t):], t)
	return a
}

// TrimSession returns b without leading and trailing spaces: the session
// name whatever padding the writer used. Compare names with it. The result
// aliases b.
func TrimSession(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && b[i] == ' ' {
		i++
	}
	for j > i && b[j-1] == ' ' {
		j--
	}
	return b[i:j]
}

// ParseNum decodes a Num field: ASCII digits with any number of spaces on
// either side; leading zeros are accepted. It returns ErrNumber if nothing
// but spaces is left, for any other byte (sign, inner space, NUL), or for a
// value beyond math.MaxUint64. It does not allocate.
func ParseNum(b []byte) (uint64, error) {
	d := TrimSession(b)
	if len(d) == 0 {
		return 0, ErrNumber
	}
	var v uint64
	for _, c := range d {
		c -= '0'
		if c > 9 {
			return 0, ErrNumber
		}
		if v > (math.MaxUint64-uint64(c))/10 {
			return 0, ErrNumber
		}
		v = v*10 + uint64(c)
	}
	return v, nil
}

// AppendNum appends v as a Num(width) field to dst: decimal digits,
// right-justified, left-padded with spaces, without leading zeros. It panics
// if v has more than width digits. A Num(20) holds any uint64.
func AppendNum(dst []byte, v uint64, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	digits := len(buf) - i
	if digits > width {
		panic("soupbintcp: number does not fit in its Num field")
	}
	for range width - digits {
		dst = append(dst, ' ')
	}
	return append(dst, buf[i:]...)
}
