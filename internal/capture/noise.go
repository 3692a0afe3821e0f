package capture

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// Noise is a kind of unrelated traffic a feed capture contains and a reader
// must skip or let its caller filter. Noise frames are deterministic: the
// same sequence of calls writes the same bytes.
type Noise uint8

const (
	// NoiseARP is an ARP request (Ethernet and SLL links only).
	NoiseARP Noise = iota
	// NoiseTCP is a TCP segment with data (a SoupBinTCP heartbeat) between
	// two unicast hosts, to the feed's port number.
	NoiseTCP
	// NoiseUDP is a unicast UDP datagram to an unrelated port.
	NoiseUDP
	// NoiseGroup is a UDP datagram to another multicast group on the feed's
	// port: a MoldUDP64 heartbeat of another session ("OTHERFEED1").
	NoiseGroup
	// NoiseFragment is a UDP datagram to the feed's own group and port,
	// fragmented in two IP fragments (two records). Its 1,208-byte payload
	// is a valid MoldUDP64 packet of session "FRAGMENTED" (one 1,186-byte
	// block), so a reader that reassembles it yields a datagram of another
	// session, and one that takes the first fragment for a whole datagram
	// finds the UDP length longer than the data.
	NoiseFragment
	// NoiseIGMP is an IGMPv2 membership report for the feed's group (IPv4,
	// with the Router Alert option) or an MLDv1 report (IPv6, hop-by-hop
	// Router Alert, ICMPv6).
	NoiseIGMP

	// NumNoise is the number of noise kinds.
	NumNoise
)

// String names the noise kind.
func (n Noise) String() string {
	switch n {
	case NoiseARP:
		return "arp"
	case NoiseTCP:
		return "tcp"
	case NoiseUDP:
		return "udp"
	case NoiseGroup:
		return "group"
	case NoiseFragment:
		return "fragment"
	case NoiseIGMP:
		return "igmp"
	}
	return fmt.Sprintf("Noise(%d)", uint8(n))
}

// Records returns how many capture records one noise event of kind n writes.
func (n Noise) Records() int {
	if n == NoiseFragment {
		return 2
	}
	return 1
}

// NoiseSupported reports whether the Form's link type can carry noise kind n.
func (f *Form) NoiseSupported(n Noise) bool {
	switch n {
	case NoiseARP:
		return f.Link == LinkEthernet || f.Link == LinkSLL || f.Link == LinkSLL2
	case NoiseTCP, NoiseUDP, NoiseGroup, NoiseFragment, NoiseIGMP:
		return true
	}
	return false
}

// Fixed hosts of the noise traffic (documentation ranges).
var (
	noiseHostA4 = netip.MustParseAddr("192.0.2.10")
	noiseHostB4 = netip.MustParseAddr("192.0.2.20")
	noiseHostA6 = netip.MustParseAddr("2001:db8::10")
	noiseHostB6 = netip.MustParseAddr("2001:db8::20")
	noiseLL6    = netip.MustParseAddr("fe80::10")
)

// noiseState holds what makes successive noise events differ.
type noiseState struct {
	tcpSeq  uint32
	fragID  uint32
	counter uint32
}

// otherGroup returns a multicast group near g (g + 9 in the last byte).
func otherGroup(g netip.Addr) netip.Addr {
	if isV6(g) {
		b := g.As16()
		b[15] += 9
		return netip.AddrFrom16(b)
	}
	b := g.Unmap().As4()
	if !g.IsMulticast() {
		b = [4]byte{233, 54, 12, 200}
	}
	b[3] += 9
	return netip.AddrFrom4(b)
}

// noise builds the frame(s) of one noise event in scratch (returned for
// reuse); each frame is passed to emit, which writes it as one record.
func (fr *framer) noise(st *noiseState, ifindex uint32, kind Noise, near netip.AddrPort, scratch []byte, emit func(frame []byte) error) ([]byte, error) {
	v6 := isV6(near.Addr())
	hostA, hostB := noiseHostA4, noiseHostB4
	if v6 {
		hostA, hostB = noiseHostA6, noiseHostB6
	}
	if fr.form.Link == LinkIPv4 && v6 || fr.form.Link == LinkIPv6 && !v6 {
		return scratch, fmt.Errorf("%w: %v on %v", ErrAddress, near.Addr(), fr.form.Link)
	}
	st.counter++
	b := scratch[:0]
	switch kind {
	case NoiseARP:
		if !fr.form.NoiseSupported(kind) {
			return b, fmt.Errorf("%w: %v on %v", ErrNoise, kind, fr.form.Link)
		}
		src := macFor(noiseHostA4)
		b = fr.appendLink(b, etherARP, src, broadcastMAC, sllBcast, ifindex)
		b = append(b, 0, 1, 0x08, 0x00, 6, 4, 0, 1) // Ethernet/IPv4, request
		b = append(b, src[:]...)
		b = append(b, noiseHostA4.AsSlice()...)
		b = append(b, 0, 0, 0, 0, 0, 0)
		b = append(b, noiseHostB4.AsSlice()...)
		return b, emit(fr.finish(b, 0))
	case NoiseTCP:
		payload := []byte{0x00, 0x01, 'H'} // SoupBinTCP server heartbeat
		sp, dp := uint16(40000), near.Port()
		et, sm, dm, _ := linkFor(hostA, hostB)
		b = fr.appendLink(b, et, sm, dm, sllOutgoing, ifindex)
		b = fr.appendIP(b, protoTCP, hostA, hostB, tcpHeaderLen+len(payload), fragment{})
		t := len(b)
		b = binary.BigEndian.AppendUint16(b, sp)
		b = binary.BigEndian.AppendUint16(b, dp)
		b = binary.BigEndian.AppendUint32(b, 0x10000000+st.tcpSeq)
		b = binary.BigEndian.AppendUint32(b, 0x20000000)
		b = append(b, 5<<4, 0x18) // data offset 5, PSH|ACK
		b = binary.BigEndian.AppendUint16(b, 502)
		b = append(b, 0, 0, 0, 0)
		b = append(b, payload...)
		st.tcpSeq += uint32(len(payload))
		binary.BigEndian.PutUint16(b[t+16:], l4Checksum(hostA, hostB, protoTCP, b[t:]))
		return b, emit(fr.finish(b, 0))
	case NoiseUDP:
		payload := make([]byte, 0, 48)
		payload = binary.BigEndian.AppendUint16(payload, uint16(st.counter))
		payload = append(payload, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0)
		payload = append(payload, "\x07example\x03com\x00\x00\x01\x00\x01"...)
		b, err := fr.appendUDP(b, ifindex, netip.AddrPortFrom(hostA, 5353), netip.AddrPortFrom(hostB, near.Port()+1), payload)
		if err != nil {
			return b, err
		}
		return b, emit(b)
	case NoiseGroup:
		payload := make([]byte, 20)
		copy(payload, "OTHERFEED1")
		binary.BigEndian.PutUint64(payload[10:], uint64(st.counter))
		src := netip.AddrPortFrom(hostA, 40100)
		b, err := fr.appendUDP(b, ifindex, src, netip.AddrPortFrom(otherGroup(near.Addr()), near.Port()), payload)
		if err != nil {
			return b, err
		}
		return b, emit(b)
	case NoiseFragment:
		return fr.fragmented(st, b, ifindex, hostA, near, emit)
	case NoiseIGMP:
		group := near.Addr()
		fr.extra = true
		fr.ttl = 1
		defer func() { fr.extra, fr.ttl = false, 0 }()
		et, sm, dm, pt := linkFor(hostA, group)
		if v6 {
			b = fr.appendLink(b, et, macFor(noiseLL6), dm, pt, ifindex)
			b = fr.appendIP(b, protoICMPv6, noiseLL6, group, 24, fragment{})
			t := len(b)
			b = append(b, 131, 0, 0, 0, 0, 0, 0, 0) // MLDv1 report
			b = append(b, group.AsSlice()...)
			binary.BigEndian.PutUint16(b[t+2:], l4Checksum(noiseLL6, group, protoICMPv6, b[t:]))
			return b, emit(fr.finish(b, 0))
		}
		b = fr.appendLink(b, et, sm, dm, pt, ifindex)
		b = fr.appendIP(b, protoIGMP, hostA, group, 8, fragment{})
		t := len(b)
		b = append(b, 0x16, 0, 0, 0) // IGMPv2 membership report
		b = append(b, group.Unmap().AsSlice()...)
		binary.BigEndian.PutUint16(b[t+2:], checksum(0, b[t:]))
		return b, emit(fr.finish(b, 0))
	}
	return b, fmt.Errorf("%w: kind %d", ErrNoise, kind)
}

// noiseFragPayload is the UDP payload length of NoiseFragment.
const noiseFragPayload = 1208

// fragmented writes a UDP datagram to near in two fragments.
func (fr *framer) fragmented(st *noiseState, b []byte, ifindex uint32, host netip.Addr, near netip.AddrPort, emit func([]byte) error) ([]byte, error) {
	// Whole datagram first, to compute the UDP checksum.
	dg := make([]byte, udpHeaderLen+noiseFragPayload)
	src := netip.AddrPortFrom(host, 40200)
	binary.BigEndian.PutUint16(dg[0:], src.Port())
	binary.BigEndian.PutUint16(dg[2:], near.Port())
	binary.BigEndian.PutUint16(dg[4:], uint16(len(dg)))
	p := dg[udpHeaderLen:]
	copy(p, "FRAGMENTED")
	binary.BigEndian.PutUint64(p[10:], uint64(st.counter))
	binary.BigEndian.PutUint16(p[18:], 1)                 // one message block
	binary.BigEndian.PutUint16(p[20:], uint16(len(p)-22)) // filling the datagram
	for i := 22; i < len(p); i++ {
		p[i] = byte(i)
	}
	binary.BigEndian.PutUint16(dg[6:], l4Checksum(host, near.Addr(), protoUDP, dg))
	st.fragID++
	id := 0x7A00 + st.fragID
	split := 808 // multiple of 8
	et, sm, dm, pt := linkFor(host, near.Addr())
	for i, part := range [][]byte{dg[:split], dg[split:]} {
		b = b[:0]
		b = fr.appendLink(b, et, sm, dm, pt, ifindex)
		b = fr.appendIP(b, protoUDP, host, near.Addr(), len(part), fragment{on: true, offset: i * split, more: i == 0, id: id})
		b = append(b, part...)
		if err := emit(fr.finish(b, 0)); err != nil {
			return b, err
		}
	}
	return b, nil
}
