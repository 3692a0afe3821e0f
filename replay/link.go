package replay

import (
	"encoding/binary"
	"net/netip"
)

// linkType is a link-layer header type the frame decoder understands,
// resolved once per file header or Interface Description Block.
type linkType uint8

const (
	linkEthernet linkType = iota + 1 // LINKTYPE_ETHERNET 1
	linkNull                         // LINKTYPE_NULL 0: family in the capturing host's order
	linkLoop                         // LINKTYPE_LOOP 108: family big-endian
	linkRaw                          // LINKTYPE_RAW 101 (and legacy 12, 14): IPv4 or IPv6 by version
	linkIPv4                         // LINKTYPE_IPV4 228
	linkIPv6                         // LINKTYPE_IPV6 229
	linkSLL                          // LINKTYPE_LINUX_SLL 113
	linkSLL2                         // LINKTYPE_LINUX_SLL2 276
)

// linkFor maps a LINKTYPE_ value from a capture file to the decoder's type.
func linkFor(v uint32) (linkType, bool) {
	switch v {
	case 1:
		return linkEthernet, true
	case 0:
		return linkNull, true
	case 108:
		return linkLoop, true
	case 101, 12, 14:
		return linkRaw, true
	case 228:
		return linkIPv4, true
	case 229:
		return linkIPv6, true
	case 113:
		return linkSLL, true
	case 276:
		return linkSLL2, true
	}
	return 0, false
}

// kind classifies one packet record; every record read is counted under
// exactly one kind.
type kind uint8

const (
	kindUDP         kind = iota // a UDP datagram, returned by Next
	kindARP                     // EtherType 0x0806
	kindLLC                     // IEEE 802.3 frame: length field instead of an EtherType
	kindOtherLink               // other EtherTypes, SLL protocols, NULL/LOOP families
	kindTCP                     // IP protocol 6
	kindICMP                    // IP protocol 1 or IPv6 next header 58
	kindIGMP                    // IP protocol 2
	kindOtherIP                 // any other IP protocol, ESP, No Next Header
	kindFragment                // IPv4 or IPv6 fragment (not reassembled)
	kindTruncated               // record ends before its headers or datagram do
	kindMalformed               // inconsistent header fields
	kindBadChecksum             // a UDP datagram dropped for its checksum (Options.VerifyChecksums)
	numKinds
)

// EtherTypes the decoder dispatches on.
const (
	etherIPv4  = 0x0800
	etherARP   = 0x0806
	etherIPv6  = 0x86DD
	etherVLAN  = 0x8100 // 802.1Q C-tag
	etherQinQ  = 0x88A8 // 802.1ad S-tag
	etherQinQ1 = 0x9100 // pre-standard QinQ
	etherMin   = 0x0600 // smaller values are 802.3 length fields
)

// decodeFrame decodes one captured frame of link type lt. hostBE is the byte
// order of the capturing host (the file's or section's), needed by
// LINKTYPE_NULL only. For kindUDP it sets d.Src, d.Dst and d.Payload (a
// subslice of frame bounded by the IP and UDP lengths, its capacity cut to
// its length) and h to what its checksums cover; otherwise d and h are left
// untouched.
func decodeFrame(lt linkType, hostBE bool, f []byte, d *Datagram, h *headers) kind {
	switch lt {
	case linkEthernet:
		if len(f) < 14 {
			return kindTruncated
		}
		return decodeEther(f, binary.BigEndian.Uint16(f[12:]), 14, d, h)
	case linkSLL:
		if len(f) < 16 {
			return kindTruncated
		}
		return decodeEther(f, binary.BigEndian.Uint16(f[14:]), 16, d, h)
	case linkSLL2:
		if len(f) < 20 {
			return kindTruncated
		}
		return decodeEther(f, binary.BigEndian.Uint16(f[0:]), 20, d, h)
	case linkNull, linkLoop:
		if len(f) < 4 {
			return kindTruncated
		}
		var fam uint32
		if lt == linkLoop || hostBE {
			fam = binary.BigEndian.Uint32(f)
		} else {
			fam = binary.LittleEndian.Uint32(f)
		}
		if lt == linkNull && fam&0xFFFF0000 != 0 && fam&0xFFFF == 0 {
			// Written on a host of the other byte order than the file's
			// (libpcap applies the same heuristic).
			fam = fam>>24 | fam>>8&0xFF00
		}
		switch fam {
		case 2: // AF_INET everywhere
			return decodeIPv4(f[4:], d, h)
		case 24, 28, 30: // AF_INET6 on NetBSD/OpenBSD, FreeBSD, Darwin
			return decodeIPv6(f[4:], d, h)
		}
		return kindOtherLink
	case linkRaw:
		if len(f) < 1 {
			return kindTruncated
		}
		switch f[0] >> 4 {
		case 4:
			return decodeIPv4(f, d, h)
		case 6:
			return decodeIPv6(f, d, h)
		}
		return kindMalformed
	case linkIPv4:
		return decodeIPv4(f, d, h)
	case linkIPv6:
		return decodeIPv6(f, d, h)
	}
	return kindOtherLink
}

// decodeEther dispatches on EtherType typ, whose payload starts at f[p:],
// after skipping any stacked VLAN tags (each a TCI then the next type).
func decodeEther(f []byte, typ uint16, p int, d *Datagram, h *headers) kind {
	for typ == etherVLAN || typ == etherQinQ || typ == etherQinQ1 {
		if len(f) < p+4 {
			return kindTruncated
		}
		typ = binary.BigEndian.Uint16(f[p+2:])
		p += 4
	}
	switch {
	case typ == etherIPv4:
		return decodeIPv4(f[p:], d, h)
	case typ == etherIPv6:
		return decodeIPv6(f[p:], d, h)
	case typ == etherARP:
		return kindARP
	case typ < etherMin:
		return kindLLC
	}
	return kindOtherLink
}

// decodeIPv4 decodes an IPv4 packet that starts at b[0]; the frame may carry
// padding or trailers after Total Length.
func decodeIPv4(b []byte, d *Datagram, h *headers) kind {
	if len(b) < 20 {
		return kindTruncated
	}
	if b[0]>>4 != 4 {
		return kindMalformed
	}
	ihl := int(b[0]&0x0F) * 4
	total := int(binary.BigEndian.Uint16(b[2:]))
	if ihl < 20 || total < ihl {
		return kindMalformed
	}
	if binary.BigEndian.Uint16(b[6:])&0x3FFF != 0 { // MF set or offset != 0
		return kindFragment
	}
	switch b[9] {
	case 17:
	case 6:
		return kindTCP
	case 1:
		return kindICMP
	case 2:
		return kindIGMP
	default:
		return kindOtherIP
	}
	if total > len(b) {
		return kindTruncated
	}
	k := decodeUDP(b[ihl:total], netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20])), d, h)
	if k == kindUDP {
		h.ip, h.v6 = b[:ihl], false
	}
	return k
}

// decodeIPv6 decodes an IPv6 packet that starts at b[0], walking extension
// headers up to the upper-layer header.
func decodeIPv6(b []byte, d *Datagram, h *headers) kind {
	if len(b) < 40 {
		return kindTruncated
	}
	if b[0]>>4 != 6 {
		return kindMalformed
	}
	end := 40 + int(binary.BigEndian.Uint16(b[4:]))
	nh := b[6]
	p := 40
	routed := false
	for {
		var need int
		switch nh {
		case 17:
			if p+8 > end {
				return kindMalformed
			}
			if end > len(b) {
				return kindTruncated
			}
			k := decodeUDP(b[p:end], netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40])), d, h)
			if k == kindUDP {
				h.ip, h.v6 = b[:40], true
				if routed {
					h.ip = nil // the pseudo-header holds the route's last address
				}
			}
			return k
		case 6:
			return kindTCP
		case 58:
			return kindICMP
		case 0, 43, 60: // hop-by-hop, routing, destination options
			need = 2
		case 44: // fragment
			need = 8
		case 51: // authentication header
			need = 2
		default: // 50 ESP, 59 no next header, other protocols
			return kindOtherIP
		}
		if p+need > end {
			return kindMalformed
		}
		if p+need > len(b) {
			return kindTruncated
		}
		x := b[p:]
		switch nh {
		case 44:
			if binary.BigEndian.Uint16(x[2:])&0xFFF9 != 0 { // offset != 0 or M set
				return kindFragment
			}
			p += 8
		case 51:
			p += (int(x[1]) + 2) * 4
		default:
			p += (int(x[1]) + 1) * 8
		}
		routed = routed || nh == 43
		nh = x[0]
	}
}

// decodeUDP decodes the UDP datagram b, bounded by the IP header's length
// and fully captured, sent from src to dst. It sets d.Src, d.Dst, d.Payload
// and h.udp; the caller sets h.ip.
func decodeUDP(b []byte, src, dst netip.Addr, d *Datagram, h *headers) kind {
	if len(b) < 8 {
		return kindMalformed
	}
	n := int(binary.BigEndian.Uint16(b[4:]))
	if n < 8 || n > len(b) {
		return kindMalformed
	}
	d.Src = netip.AddrPortFrom(src, binary.BigEndian.Uint16(b[0:]))
	d.Dst = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(b[2:]))
	d.Payload = b[8:n:n]
	h.udp = b[:n]
	return kindUDP
}
