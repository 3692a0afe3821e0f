package replay

import (
	"encoding/binary"
	"math/bits"
)

// Internet checksums (RFC 1071) of the datagrams PacketReader returns: the
// IPv4 header checksum (RFC 791) and the UDP checksum over its pseudo-header
// (RFC 768 for IPv4, RFC 8200 §8.1 for IPv6).

// Options configure the PacketReader of a File. The zero value verifies
// the IPv4 header checksum only, counts failures and keeps the datagrams.
type Options struct {
	// VerifyChecksums verifies the UDP checksum too and drops, as a
	// receiving NIC would, every datagram whose IPv4 header or UDP checksum
	// is wrong (counted in Stats.ChecksumDrops). Without it failures are
	// counted and the datagrams returned: a capture taken on the sending
	// host carries the partial checksums of checksum offload, which the NIC
	// completed on the wire.
	//
	// The UDP checksum is a pass over the whole datagram: it doubled the
	// reader's cost per 1400-byte packet (BenchmarkPacketReader, 90 to
	// 185 ns), so it is verified only on request; the IPv4 header is 20
	// bytes and always verified.
	VerifyChecksums bool
}

// Option sets a field of Options.
type Option func(*Options)

// WithVerifyChecksums sets Options.VerifyChecksums.
func WithVerifyChecksums(on bool) Option {
	return func(o *Options) { o.VerifyChecksums = on }
}

// headers locates, for a datagram decodeFrame returned, what its checksums
// cover. ip is nil when the UDP checksum cannot be verified (an IPv6
// routing header: the pseudo-header's address is the final destination's).
type headers struct {
	ip  []byte // IPv4 header with options, or the 40-byte IPv6 header
	udp []byte // UDP header and payload, by the UDP length
	v6  bool
}

// Checksum verdicts.
const (
	checksumOK = iota
	checksumBadIP
	checksumBadUDP
)

// verify returns the verdict for h, the UDP checksum included only if udp
// is set. A bad IPv4 header is not looked past:
// its addresses, and so the UDP pseudo-header, cannot be trusted. A UDP
// checksum of 0 over IPv4 means none was computed; over IPv6 it is an error.
// Cost: one pass over the datagram, 8 bytes per add with carry.
func (h *headers) verify(udp bool) int {
	if h.ip == nil {
		return checksumOK
	}
	var s uint64
	if !h.v6 {
		if fold(sum(0, h.ip)) != 0xFFFF {
			return checksumBadIP
		}
		if !udp || binary.BigEndian.Uint16(h.udp[6:]) == 0 {
			return checksumOK
		}
		s = sum(17+uint64(len(h.udp)), h.ip[12:20]) // source, destination, protocol, UDP length
	} else {
		if !udp {
			return checksumOK
		}
		s = sum(17+uint64(len(h.udp)), h.ip[8:40])
	}
	if fold(sum(s, h.udp)) != 0xFFFF {
		return checksumBadUDP
	}
	return checksumOK
}

// sum adds b, as big-endian 16-bit words (an odd last byte padded with a
// zero), to the one's-complement partial sum s. The words are added 64 bits
// at a time with end-around carry, which fold reduces to 16 bits.
func sum(s uint64, b []byte) uint64 {
	var c uint64
	for len(b) >= 32 {
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b), c)
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b[8:]), c)
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b[16:]), c)
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b[24:]), c)
		b = b[32:]
	}
	for len(b) >= 8 {
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b), c)
		b = b[8:]
	}
	if len(b) >= 4 {
		s, c = bits.Add64(s, uint64(binary.BigEndian.Uint32(b)), c)
		b = b[4:]
	}
	if len(b) >= 2 {
		s, c = bits.Add64(s, uint64(binary.BigEndian.Uint16(b)), c)
		b = b[2:]
	}
	if len(b) == 1 {
		s, c = bits.Add64(s, uint64(b[0])<<8, c)
	}
	s, c = bits.Add64(s, 0, c)
	return s + c
}

// fold reduces a partial sum to 16 bits (0xFFFF for a correct checksum).
func fold(s uint64) uint16 {
	s = s>>32 + s&0xFFFFFFFF
	s = s>>32 + s&0xFFFFFFFF
	s = s>>16 + s&0xFFFF
	s = s>>16 + s&0xFFFF
	return uint16(s)
}
