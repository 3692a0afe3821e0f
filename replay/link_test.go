package replay

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// sll returns a LINUX_SLL (v1) header around protocol proto.
func sll(proto uint16, payload []byte) []byte {
	b := []byte{0, 2, 0, 1, 0, 6, 0, 0x1b, 0x21, 0xaa, 0xbb, 0xcc, 0, 0}
	b = binary.BigEndian.AppendUint16(b, proto)
	return append(b, payload...)
}

// sll2 returns a LINUX_SLL2 header around protocol proto.
func sll2(proto uint16, payload []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, proto)
	b = append(b, 0, 0, 0, 0, 0, 3, 0, 1, 2, 6, 0, 0x1b, 0x21, 0xaa, 0xbb, 0xcc, 0, 0)
	return append(b, payload...)
}

// family returns a NULL/LOOP header with address family fam in order be.
func family(be bool, fam uint32, payload []byte) []byte {
	return append(app32(nil, be, fam), payload...)
}

// ext returns an IPv6 extension header of type-specific layout: next header
// nh, then body padded to the header's length unit.
func ext(nh byte, lenField byte, total int) []byte {
	b := make([]byte, total)
	b[0], b[1] = nh, lenField
	return b
}

type linkCase struct {
	name  string
	link  linkType
	be    bool
	frame []byte
	kind  kind
	src   netip.AddrPort // for kindUDP
	dst   netip.AddrPort
	payld []byte
	gopkt gopacket.Decoder // cross-check with gopacket when non-nil
}

func linkCases() []linkCase {
	p := payloadN(1, 100)
	small := []byte("hi")
	v4 := udp4(srcA, grpA, p)
	v6 := udp6(src6, grp6, p)
	opts := []byte{0x94, 0x04, 0, 0, 0x01, 0x01, 0x01, 0x00} // router alert + NOPs + EOL
	v4opts := ipv4Hdr(srcA.Addr(), grpA.Addr(), 17, opts, 0, udpHdr(srcA.Port(), grpA.Port(), p))
	frag := func(ff uint16) []byte { return ipv4Hdr(srcA.Addr(), grpA.Addr(), 17, nil, ff, udpHdr(1, 2, p)) }

	// IPv6 with hop-by-hop (8), routing (24), destination options (16),
	// an atomic fragment header (8) and AH (16) before UDP.
	chain := append(ext(43, 0, 8), ext(60, 2, 24)...)
	chain = append(chain, ext(44, 1, 16)...)
	chain = append(chain, []byte{51, 0, 0, 0, 0, 0, 0x12, 0x34}...) // atomic fragment: offset 0, M 0
	chain = append(chain, ext(17, 2, 16)...)                        // AH: (2+2)*4 = 16
	chain = append(chain, udpHdr(src6.Port(), grp6.Port(), p)...)
	v6ext := ipv6Hdr(src6.Addr(), grp6.Addr(), 0, chain)
	v6frag := ipv6Hdr(src6.Addr(), grp6.Addr(), 44, append([]byte{17, 0, 0, 1, 0, 0, 0x12, 0x34}, udpHdr(1, 2, p)...))
	v6frag2 := ipv6Hdr(src6.Addr(), grp6.Addr(), 44, append([]byte{17, 0, 0x05, 0x00, 0, 0, 0x12, 0x34}, p...))

	padded := ether(etherIPv4, nil, udp4(srcA, grpA, small))
	padded = append(padded, make([]byte, 60-len(padded))...)
	padded = append(padded, 0xde, 0xad, 0xbe, 0xef) // FCS

	short := udp4(srcA, grpA, p)
	binary.BigEndian.PutUint16(short[20+4:], 8+200) // UDP length past IP total

	tcp := ipv4Hdr(srcA.Addr(), grpA.Addr(), 6, nil, 0, make([]byte, 20))
	igmp := ipv4Hdr(srcA.Addr(), netip.MustParseAddr("224.0.0.22"), 2, nil, 0, make([]byte, 8))
	icmp := ipv4Hdr(srcA.Addr(), grpA.Addr(), 1, nil, 0, make([]byte, 8))
	gre := ipv4Hdr(srcA.Addr(), grpA.Addr(), 47, nil, 0, make([]byte, 8))
	icmp6 := ipv6Hdr(src6.Addr(), grp6.Addr(), 58, make([]byte, 8))
	esp6 := ipv6Hdr(src6.Addr(), grp6.Addr(), 0, append(ext(50, 0, 8), make([]byte, 16)...))
	nonext := ipv6Hdr(src6.Addr(), grp6.Addr(), 59, nil)

	badIHL := udp4(srcA, grpA, p)
	badIHL[0] = 0x44
	badTotal := udp4(srcA, grpA, p)
	binary.BigEndian.PutUint16(badTotal[2:], 10)
	badUDPLen := udp4(srcA, grpA, p)
	binary.BigEndian.PutUint16(badUDPLen[20+4:], 7)
	v6short := ipv6Hdr(src6.Addr(), grp6.Addr(), 0, ext(17, 0, 8)) // payload ends before UDP

	cut := ether(etherIPv4, nil, udp4(srcA, grpA, p))
	cut = cut[:len(cut)-10] // snap length cut

	return []linkCase{
		{name: "ethernet", link: linkEthernet, frame: ether(etherIPv4, nil, v4), kind: kindUDP, src: srcA, dst: grpA, payld: p, gopkt: layers.LinkTypeEthernet},
		{name: "ethernet ipv6", link: linkEthernet, frame: ether(etherIPv6, nil, v6), kind: kindUDP, src: src6, dst: grp6, payld: p, gopkt: layers.LinkTypeEthernet},
		{name: "ethernet padding and FCS", link: linkEthernet, frame: padded, kind: kindUDP, src: srcA, dst: grpA, payld: small, gopkt: layers.LinkTypeEthernet},
		{name: "vlan", link: linkEthernet, frame: ether(etherIPv4, []uint16{etherVLAN}, v4), kind: kindUDP, src: srcA, dst: grpA, payld: p, gopkt: layers.LinkTypeEthernet},
		{name: "qinq 88a8", link: linkEthernet, frame: ether(etherIPv4, []uint16{etherQinQ, etherVLAN}, v4), kind: kindUDP, src: srcA, dst: grpA, payld: p, gopkt: layers.LinkTypeEthernet},
		{name: "qinq 9100 triple", link: linkEthernet, frame: ether(etherIPv6, []uint16{etherQinQ1, etherQinQ, etherVLAN}, v6), kind: kindUDP, src: src6, dst: grp6, payld: p},
		{name: "vlan cut in tag", link: linkEthernet, frame: ether(etherIPv4, []uint16{etherVLAN}, nil)[:16], kind: kindTruncated},
		{name: "ipv4 options", link: linkEthernet, frame: ether(etherIPv4, nil, v4opts), kind: kindUDP, src: srcA, dst: grpA, payld: p, gopkt: layers.LinkTypeEthernet},
		{name: "ipv6 extension headers", link: linkEthernet, frame: ether(etherIPv6, nil, v6ext), kind: kindUDP, src: src6, dst: grp6, payld: p},
		{name: "ipv4 first fragment", link: linkEthernet, frame: ether(etherIPv4, nil, frag(0x2000)), kind: kindFragment},
		{name: "ipv4 later fragment", link: linkEthernet, frame: ether(etherIPv4, nil, frag(0x00B9)), kind: kindFragment},
		{name: "ipv4 last fragment", link: linkEthernet, frame: ether(etherIPv4, nil, frag(0x0001)), kind: kindFragment},
		{name: "ipv6 first fragment", link: linkEthernet, frame: ether(etherIPv6, nil, v6frag), kind: kindFragment},
		{name: "ipv6 later fragment", link: linkEthernet, frame: ether(etherIPv6, nil, v6frag2), kind: kindFragment},
		{name: "arp", link: linkEthernet, frame: ether(etherARP, nil, make([]byte, 28)), kind: kindARP},
		{name: "802.3 llc", link: linkEthernet, frame: ether(46, nil, make([]byte, 46)), kind: kindLLC},
		{name: "lldp", link: linkEthernet, frame: ether(0x88CC, nil, make([]byte, 46)), kind: kindOtherLink},
		{name: "tcp", link: linkEthernet, frame: ether(etherIPv4, nil, tcp), kind: kindTCP},
		{name: "igmp", link: linkEthernet, frame: ether(etherIPv4, nil, igmp), kind: kindIGMP},
		{name: "icmp", link: linkEthernet, frame: ether(etherIPv4, nil, icmp), kind: kindICMP},
		{name: "gre", link: linkEthernet, frame: ether(etherIPv4, nil, gre), kind: kindOtherIP},
		{name: "icmpv6", link: linkEthernet, frame: ether(etherIPv6, nil, icmp6), kind: kindICMP},
		{name: "esp after hop-by-hop", link: linkEthernet, frame: ether(etherIPv6, nil, esp6), kind: kindOtherIP},
		{name: "no next header", link: linkEthernet, frame: ether(etherIPv6, nil, nonext), kind: kindOtherIP},
		{name: "snap length cut", link: linkEthernet, frame: cut, kind: kindTruncated},
		{name: "short ethernet", link: linkEthernet, frame: make([]byte, 13), kind: kindTruncated},
		{name: "short ipv4", link: linkEthernet, frame: ether(etherIPv4, nil, make([]byte, 19)), kind: kindTruncated},
		{name: "ipv4 version 6", link: linkEthernet, frame: ether(etherIPv4, nil, v6), kind: kindMalformed},
		{name: "ipv4 ihl past total", link: linkEthernet, frame: ether(etherIPv4, nil, badTotal), kind: kindMalformed},
		{name: "ipv4 ihl past data", link: linkIPv4, frame: badIHL, kind: kindMalformed},
		{name: "udp length past ip", link: linkIPv4, frame: short, kind: kindMalformed},
		{name: "udp length below 8", link: linkIPv4, frame: badUDPLen, kind: kindMalformed},
		{name: "ipv6 payload ends in ext", link: linkIPv6, frame: v6short, kind: kindMalformed},
		{name: "ipv6 cut", link: linkIPv6, frame: v6[:60], kind: kindTruncated},
		{name: "ipv6 cut in ext", link: linkIPv6, frame: v6ext[:41], kind: kindTruncated},
		{name: "null le ipv4", link: linkNull, frame: family(false, 2, v4), kind: kindUDP, src: srcA, dst: grpA, payld: p, gopkt: layers.LinkTypeNull},
		{name: "null be ipv6 darwin", link: linkNull, be: true, frame: family(true, 30, v6), kind: kindUDP, src: src6, dst: grp6, payld: p},
		{name: "null other-endian host", link: linkNull, be: true, frame: family(false, 2, v4), kind: kindUDP, src: srcA, dst: grpA, payld: p},
		{name: "null freebsd ipv6", link: linkNull, frame: family(false, 28, v6), kind: kindUDP, src: src6, dst: grp6, payld: p},
		{name: "null netbsd ipv6", link: linkNull, frame: family(false, 24, v6), kind: kindUDP, src: src6, dst: grp6, payld: p},
		{name: "null unknown family", link: linkNull, frame: family(false, 7, v4), kind: kindOtherLink},
		{name: "null short", link: linkNull, frame: []byte{2, 0}, kind: kindTruncated},
		{name: "loop", link: linkLoop, frame: family(true, 2, v4), kind: kindUDP, src: srcA, dst: grpA, payld: p, gopkt: layers.LinkTypeLoop},
		{name: "raw ipv4", link: linkRaw, frame: v4, kind: kindUDP, src: srcA, dst: grpA, payld: p, gopkt: layers.LinkTypeRaw},
		{name: "raw ipv6", link: linkRaw, frame: v6, kind: kindUDP, src: src6, dst: grp6, payld: p, gopkt: layers.LinkTypeRaw},
		{name: "raw bad version", link: linkRaw, frame: append([]byte{0x50}, v4[1:]...), kind: kindMalformed},
		{name: "raw empty", link: linkRaw, frame: nil, kind: kindTruncated},
		{name: "ipv4 linktype", link: linkIPv4, frame: v4, kind: kindUDP, src: srcA, dst: grpA, payld: p, gopkt: layers.LayerTypeIPv4},
		{name: "ipv6 linktype", link: linkIPv6, frame: v6, kind: kindUDP, src: src6, dst: grp6, payld: p, gopkt: layers.LayerTypeIPv6},
		{name: "sll", link: linkSLL, frame: sll(etherIPv4, v4), kind: kindUDP, src: srcA, dst: grpA, payld: p, gopkt: layers.LinkTypeLinuxSLL},
		{name: "sll vlan reinserted", link: linkSLL, frame: sll(etherVLAN, append([]byte{0, 100, 0x08, 0x00}, v4...)), kind: kindUDP, src: srcA, dst: grpA, payld: p},
		{name: "sll ipv6", link: linkSLL, frame: sll(etherIPv6, v6), kind: kindUDP, src: src6, dst: grp6, payld: p},
		{name: "sll llc", link: linkSLL, frame: sll(4, make([]byte, 20)), kind: kindLLC},
		{name: "sll short", link: linkSLL, frame: make([]byte, 15), kind: kindTruncated},
		{name: "sll2", link: linkSLL2, frame: sll2(etherIPv4, v4), kind: kindUDP, src: srcA, dst: grpA, payld: p},
		{name: "sll2 ipv6", link: linkSLL2, frame: sll2(etherIPv6, v6), kind: kindUDP, src: src6, dst: grp6, payld: p},
		{name: "sll2 arp", link: linkSLL2, frame: sll2(etherARP, make([]byte, 28)), kind: kindARP},
		{name: "sll2 short", link: linkSLL2, frame: make([]byte, 19), kind: kindTruncated},
	}
}

func TestDecodeFrame(t *testing.T) {
	for _, tc := range linkCases() {
		t.Run(tc.name, func(t *testing.T) {
			var d Datagram
			k := decodeFrame(tc.link, tc.be, tc.frame, &d, &headers{})
			if k != tc.kind {
				t.Fatalf("kind %d, want %d", k, tc.kind)
			}
			if k != kindUDP {
				return
			}
			if d.Src != tc.src || d.Dst != tc.dst {
				t.Errorf("%v -> %v, want %v -> %v", d.Src, d.Dst, tc.src, tc.dst)
			}
			if !bytes.Equal(d.Payload, tc.payld) {
				t.Errorf("payload %x, want %x", d.Payload, tc.payld)
			}
			if cap(d.Payload) != len(d.Payload) {
				t.Errorf("payload capacity %d, want %d", cap(d.Payload), len(d.Payload))
			}
			if tc.gopkt != nil {
				// Independent decoder: gopacket's layers.
				pkt := gopacket.NewPacket(tc.frame, tc.gopkt, gopacket.Default)
				u, _ := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
				if u == nil {
					t.Fatalf("gopacket finds no UDP layer: %v", pkt)
				}
				if !bytes.Equal(u.Payload, d.Payload) {
					t.Errorf("gopacket payload %x, ours %x", u.Payload, d.Payload)
				}
				if uint16(u.SrcPort) != d.Src.Port() || uint16(u.DstPort) != d.Dst.Port() {
					t.Errorf("gopacket ports %d -> %d", u.SrcPort, u.DstPort)
				}
				var src, dst []byte
				if ip4, ok := pkt.NetworkLayer().(*layers.IPv4); ok {
					src, dst = ip4.SrcIP.To4(), ip4.DstIP.To4()
				} else if ip6, ok := pkt.NetworkLayer().(*layers.IPv6); ok {
					src, dst = ip6.SrcIP, ip6.DstIP
				}
				if !bytes.Equal(src, d.Src.Addr().AsSlice()) || !bytes.Equal(dst, d.Dst.Addr().AsSlice()) {
					t.Errorf("gopacket addresses %v -> %v", net(src), net(dst))
				}
			}
		})
	}
}

func net(b []byte) netip.Addr { a, _ := netip.AddrFromSlice(b); return a }

func TestLinkFor(t *testing.T) {
	for v, want := range map[uint32]linkType{0: linkNull, 1: linkEthernet, 12: linkRaw, 14: linkRaw, 101: linkRaw,
		108: linkLoop, 113: linkSLL, 228: linkIPv4, 229: linkIPv6, 276: linkSLL2} {
		if got, ok := linkFor(v); !ok || got != want {
			t.Errorf("linkFor(%d) = %d, %v; want %d", v, got, ok, want)
		}
	}
	for _, v := range []uint32{2, 6, 9, 105, 127, 147, 192, 65535} {
		if _, ok := linkFor(v); ok {
			t.Errorf("linkFor(%d) accepted", v)
		}
	}
}

func TestDecodeFrameNoAllocs(t *testing.T) {
	f6 := ether(etherIPv6, []uint16{etherVLAN}, udp6(src6, grp6, payloadN(2, 200)))
	f4 := ethUDP4(srcA, grpA, payloadN(3, 200))
	var d Datagram
	if n := testing.AllocsPerRun(1000, func() {
		decodeFrame(linkEthernet, false, f6, &d, &headers{})
		decodeFrame(linkEthernet, false, f4, &d, &headers{})
	}); n != 0 {
		t.Errorf("decodeFrame allocates %.1f times per run", n)
	}
}
