package capture

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"net/netip"
)

// EtherTypes, IP protocol numbers and header sizes used by the frame builder.
const (
	etherIPv4  = 0x0800
	etherIPv6  = 0x86DD
	etherARP   = 0x0806
	etherDot1Q = 0x8100
	etherQinQ  = 0x88A8

	protoHopByHop = 0
	protoIGMP     = 2
	protoTCP      = 6
	protoUDP      = 17
	protoFragment = 44
	protoICMPv6   = 58

	ethHeaderLen  = 14
	sllHeaderLen  = 16
	sll2HeaderLen = 20
	ipv4HeaderLen = 20
	ipv4OptLen    = 8 // Router Alert (4) + 3 NOP + EOL
	hopByHopLen   = 8 // next header, length 0, Router Alert (4), PadN (2)
	fragExtLen    = 8
	udpHeaderLen  = 8
	tcpHeaderLen  = 20

	ethMinFrame = 60 // minimum Ethernet frame without FCS
	fcsLen      = 4

	// maxUDP bounds the UDP length field (header + payload).
	maxUDP = 0xFFFF
)

// SLL packet types (PROTOCOLS.md §7.3).
const (
	sllToUs     = 0
	sllBcast    = 1
	sllMcast    = 2
	sllOutgoing = 4
)

// fragment describes the IP fragment a header announces; the zero value is
// an unfragmented packet.
type fragment struct {
	on     bool
	offset int // bytes from the start of the L4 datagram, multiple of 8
	more   bool
	id     uint32
}

// framer builds link-layer frames for one Form. Not safe for concurrent use.
type framer struct {
	form  *Form
	ipID  uint16
	extra bool // force IP options / hop-by-hop (Router Alert), for IGMP/MLD
	ttl   byte
}

func isV6(a netip.Addr) bool { return a.Is6() && !a.Is4In6() }

// checkAddrs validates a source/destination pair against the link type.
func (fr *framer) checkAddrs(src, dst netip.Addr) (v6 bool, err error) {
	if !src.IsValid() || !dst.IsValid() {
		return false, fmt.Errorf("%w: invalid address", ErrAddress)
	}
	v6 = isV6(dst)
	if isV6(src) != v6 {
		return false, fmt.Errorf("%w: %v and %v differ in IP version", ErrAddress, src, dst)
	}
	switch {
	case fr.form.Link == LinkIPv4 && v6:
		return false, fmt.Errorf("%w: IPv6 on LINKTYPE_IPV4", ErrAddress)
	case fr.form.Link == LinkIPv6 && !v6:
		return false, fmt.Errorf("%w: IPv4 on LINKTYPE_IPV6", ErrAddress)
	}
	return v6, nil
}

// macFor returns the Ethernet address used for an IP address: the multicast
// mapping for groups (01:00:5E + low 23 bits, 33:33 + low 32 bits), a locally
// administered 02:00 + low 32 bits otherwise.
func macFor(a netip.Addr) [6]byte {
	var m [6]byte
	if isV6(a) {
		b := a.As16()
		if a.IsMulticast() {
			m = [6]byte{0x33, 0x33, b[12], b[13], b[14], b[15]}
		} else {
			m = [6]byte{0x02, 0x00, b[12], b[13], b[14], b[15]}
		}
		return m
	}
	b := a.Unmap().As4()
	if a.IsMulticast() {
		return [6]byte{0x01, 0x00, 0x5E, b[1] & 0x7F, b[2], b[3]}
	}
	return [6]byte{0x02, 0x00, b[0], b[1], b[2], b[3]}
}

var broadcastMAC = [6]byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}

// appendLink appends the link header (and VLAN tags) for a frame of the
// given EtherType. ifindex is the SLL2 interface index.
func (fr *framer) appendLink(b []byte, etherType uint16, srcMAC, dstMAC [6]byte, pktType byte, ifindex uint32) []byte {
	f := fr.form
	switch f.Link {
	case LinkEthernet:
		b = append(b, dstMAC[:]...)
		b = append(b, srcMAC[:]...)
		return fr.appendTags(b, etherType)
	case LinkSLL:
		b = binary.BigEndian.AppendUint16(b, uint16(pktType))
		b = binary.BigEndian.AppendUint16(b, 1) // ARPHRD_ETHER
		b = binary.BigEndian.AppendUint16(b, 6)
		b = append(b, srcMAC[:]...)
		b = append(b, 0, 0)
		return fr.appendTags(b, etherType)
	case LinkSLL2:
		b = binary.BigEndian.AppendUint16(b, etherType)
		b = append(b, 0, 0)
		b = binary.BigEndian.AppendUint32(b, ifindex)
		b = binary.BigEndian.AppendUint16(b, 1) // ARPHRD_ETHER
		b = append(b, pktType, 6)
		b = append(b, srcMAC[:]...)
		return append(b, 0, 0)
	}
	return b // raw IP: no link header
}

// appendTags appends the VLAN tags and the final EtherType.
func (fr *framer) appendTags(b []byte, etherType uint16) []byte {
	switch fr.form.VLAN {
	case Dot1Q:
		b = binary.BigEndian.AppendUint16(b, etherDot1Q)
		b = binary.BigEndian.AppendUint16(b, fr.form.vlanID())
	case QinQ:
		b = binary.BigEndian.AppendUint16(b, etherQinQ)
		b = binary.BigEndian.AppendUint16(b, fr.form.outerVLANID())
		b = binary.BigEndian.AppendUint16(b, etherDot1Q)
		b = binary.BigEndian.AppendUint16(b, fr.form.vlanID())
	}
	return binary.BigEndian.AppendUint16(b, etherType)
}

// linkFor returns the EtherType, MACs and SLL packet type of an IP packet
// from src to dst.
func linkFor(src, dst netip.Addr) (etherType uint16, srcMAC, dstMAC [6]byte, pktType byte) {
	etherType = etherIPv4
	if isV6(dst) {
		etherType = etherIPv6
	}
	pktType = sllToUs
	if dst.IsMulticast() {
		pktType = sllMcast
	}
	return etherType, macFor(src), macFor(dst), pktType
}

// appendIP appends an IP header announcing l4Len bytes of protocol proto
// (for a fragment: this fragment's bytes). The IPv4 header checksum is
// filled in; lengths are final.
func (fr *framer) appendIP(b []byte, proto byte, src, dst netip.Addr, l4Len int, fg fragment) []byte {
	opts := fr.form.IPOptions || fr.extra
	ttl := fr.ttl
	if ttl == 0 {
		ttl = 31
	}
	if isV6(dst) {
		ext := 0
		if opts {
			ext += hopByHopLen
		}
		if fg.on {
			ext += fragExtLen
		}
		next := proto
		if fg.on {
			next = protoFragment
		}
		if opts {
			next = protoHopByHop
		}
		b = append(b, 0x60, 0, 0, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(ext+l4Len))
		b = append(b, next, ttl)
		s, d := src.As16(), dst.As16()
		b = append(b, s[:]...)
		b = append(b, d[:]...)
		if opts {
			hn := proto
			if fg.on {
				hn = protoFragment
			}
			// Router Alert (type 5, length 2, value 0) then PadN of 0 bytes.
			b = append(b, hn, 0, 5, 2, 0, 0, 1, 0)
		}
		if fg.on {
			fo := uint16(fg.offset)
			if fg.more {
				fo |= 1
			}
			b = append(b, proto, 0)
			b = binary.BigEndian.AppendUint16(b, fo)
			b = binary.BigEndian.AppendUint32(b, fg.id)
		}
		return b
	}
	hl := ipv4HeaderLen
	if opts {
		hl += ipv4OptLen
	}
	start := len(b)
	b = append(b, byte(0x40|hl/4), 0)
	b = binary.BigEndian.AppendUint16(b, uint16(hl+l4Len))
	var flags uint16
	id := fr.ipID
	fr.ipID++
	if fg.on {
		id = uint16(fg.id)
		flags = uint16(fg.offset / 8)
		if fg.more {
			flags |= 0x2000
		}
	} else {
		flags = 0x4000 // DF
	}
	b = binary.BigEndian.AppendUint16(b, id)
	b = binary.BigEndian.AppendUint16(b, flags)
	b = append(b, ttl, proto, 0, 0)
	s, d := src.Unmap().As4(), dst.Unmap().As4()
	b = append(b, s[:]...)
	b = append(b, d[:]...)
	if opts {
		b = append(b, 0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00)
	}
	binary.BigEndian.PutUint16(b[start+10:], checksum(0, b[start:start+hl]))
	return b
}

// pseudoSum returns the partial one's-complement sum of the IPv4 or IPv6
// pseudo-header for an upper-layer datagram of l4Len bytes.
func pseudoSum(src, dst netip.Addr, proto byte, l4Len int) uint64 {
	var s uint64
	if isV6(dst) {
		a, c := src.As16(), dst.As16()
		s = sumBytes(s, a[:])
		s = sumBytes(s, c[:])
		s += uint64(l4Len>>16) + uint64(l4Len&0xFFFF) + uint64(proto)
		return s
	}
	a, c := src.Unmap().As4(), dst.Unmap().As4()
	s = sumBytes(s, a[:])
	s = sumBytes(s, c[:])
	return s + uint64(proto) + uint64(l4Len)
}

// sumBytes adds b to the running one's-complement sum s as big-endian 16-bit
// words (32-bit words fold to the same residue modulo 0xFFFF). Only the last
// chunk of a datagram may have an odd length.
func sumBytes(s uint64, b []byte) uint64 {
	for len(b) >= 16 {
		s += uint64(binary.BigEndian.Uint32(b)) + uint64(binary.BigEndian.Uint32(b[4:])) +
			uint64(binary.BigEndian.Uint32(b[8:])) + uint64(binary.BigEndian.Uint32(b[12:]))
		b = b[16:]
	}
	for len(b) >= 4 {
		s += uint64(binary.BigEndian.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		s += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint64(b[0]) << 8
	}
	return s
}

// fold returns the one's complement of the folded sum.
func fold(s uint64) uint16 {
	for s > 0xFFFF {
		s = (s & 0xFFFF) + s>>16
	}
	return ^uint16(s)
}

// checksum returns the Internet checksum of b added to the partial sum s.
func checksum(s uint64, b []byte) uint16 { return fold(sumBytes(s, b)) }

// l4Checksum returns the UDP/TCP/ICMPv6 checksum of the datagram l4
// (checksum field zero), with 0 transmitted as 0xFFFF.
func l4Checksum(src, dst netip.Addr, proto byte, l4 []byte) uint16 {
	c := checksum(pseudoSum(src, dst, proto, len(l4)), l4)
	if c == 0 {
		c = 0xFFFF
	}
	return c
}

// finish pads a frame that started at start (Ethernet: to 60 bytes; SLL
// carrying an Ethernet interface's frame: the network part to 46 bytes) and
// appends the FCS when the Form asks for it.
func (fr *framer) finish(b []byte, start int) []byte {
	switch fr.form.Link {
	case LinkEthernet:
		for len(b)-start < ethMinFrame {
			b = append(b, 0)
		}
		if fr.form.FCS {
			b = binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
		}
	case LinkSLL:
		for len(b)-start < sllHeaderLen+ethMinFrame-ethHeaderLen {
			b = append(b, 0)
		}
	case LinkSLL2:
		for len(b)-start < sll2HeaderLen+ethMinFrame-ethHeaderLen {
			b = append(b, 0)
		}
	}
	return b
}

// appendUDP appends a complete frame carrying one UDP datagram.
func (fr *framer) appendUDP(b []byte, ifindex uint32, src, dst netip.AddrPort, payload []byte) ([]byte, error) {
	if _, err := fr.checkAddrs(src.Addr(), dst.Addr()); err != nil {
		return b, err
	}
	ul := udpHeaderLen + len(payload)
	if ul > maxUDP {
		return b, fmt.Errorf("%w: %d bytes", ErrTooLong, len(payload))
	}
	start := len(b)
	et, sm, dm, pt := linkFor(src.Addr(), dst.Addr())
	b = fr.appendLink(b, et, sm, dm, pt, ifindex)
	b = fr.appendIP(b, protoUDP, src.Addr(), dst.Addr(), ul, fragment{})
	u := len(b)
	b = binary.BigEndian.AppendUint16(b, src.Port())
	b = binary.BigEndian.AppendUint16(b, dst.Port())
	b = binary.BigEndian.AppendUint16(b, uint16(ul))
	b = append(b, 0, 0)
	b = append(b, payload...)
	binary.BigEndian.PutUint16(b[u+6:], l4Checksum(src.Addr(), dst.Addr(), protoUDP, b[u:]))
	return fr.finish(b, start), nil
}

// AppendUDP appends to b one complete link-layer frame of Form f carrying a
// UDP datagram from src to dst (IP version from the addresses, lengths and
// checksums exact, padding and FCS as the Form says), and returns the
// extended slice. id is the IPv4 Identification; the SLL2 interface index is
// 2. It does not need a Writer (fuzz seeds, hand-built records).
func (f *Form) AppendUDP(b []byte, id uint16, src, dst netip.AddrPort, payload []byte) ([]byte, error) {
	if err := f.Validate(); err != nil {
		return b, err
	}
	fr := framer{form: f, ipID: id}
	return fr.appendUDP(b, 2, src, dst, payload)
}
