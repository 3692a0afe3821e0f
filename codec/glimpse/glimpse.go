package glimpse

import (
	"github.com/tickwire/tickwire/codec/soupbintcp"
)

const (
	// TypeEndOfSnapshot is the message type of the end-of-snapshot message.
	TypeEndOfSnapshot = 'G'
	// LenEndOfSnapshot is its exact length: the type byte and Num(20).
	LenEndOfSnapshot = 21
	// SeqLen is the length of the Sequence Number field (offset 1).
	SeqLen = 20
)

// EndOfSnapshot is an end-of-snapshot message, type byte first, as carried
// by one SoupBinTCP Sequenced Data packet. It aliases the bytes it was
// converted from and is valid as long as they are (for a packet handed over
// by a soupbintcp.Framer: during the callback). Seq needs LenEndOfSnapshot
// bytes; ParseEndOfSnapshot checks them. Safe for concurrent reads.
type EndOfSnapshot []byte

// ParseEndOfSnapshot returns b as an EndOfSnapshot after checking its
// length (ErrLength), type byte (ErrType) and Sequence Number (ErrNumber):
// Seq of the result never fails. The result aliases b.
func ParseEndOfSnapshot(b []byte) (EndOfSnapshot, error) {
	if len(b) != LenEndOfSnapshot {
		return nil, ErrLength
	}
	if b[0] != TypeEndOfSnapshot {
		return nil, ErrType
	}
	m := EndOfSnapshot(b)
	if _, err := m.Seq(); err != nil {
		return nil, err
	}
	return m, nil
}

// Seq returns the Sequence Number (offset 1, Num(20)): in tickwire's reading
// (see the package documentation) the sequence number of the first
// TotalView-ITCH real-time message to apply after the snapshot; N-1 is the
// last one the snapshot reflects. Spaces on either side and leading zeros
// are accepted; anything else is ErrNumber. On a slice shorter than
// LenEndOfSnapshot it returns ErrLength.
func (m EndOfSnapshot) Seq() (uint64, error) {
	if len(m) < LenEndOfSnapshot {
		return 0, ErrLength
	}
	v, err := soupbintcp.ParseNum(m[1:LenEndOfSnapshot])
	if err != nil {
		return 0, ErrNumber
	}
	return v, nil
}

// AppendEndOfSnapshot appends the 21-byte end-of-snapshot message for
// sequence number seq (right-justified, space-padded) to dst and returns the
// extended slice. Wrap it in a SoupBinTCP Sequenced Data packet to send it
// (soupbintcp.AppendSequenced).
func AppendEndOfSnapshot(dst []byte, seq uint64) []byte {
	dst = append(dst, TypeEndOfSnapshot)
	return soupbintcp.AppendNum(dst, seq, SeqLen)
}
