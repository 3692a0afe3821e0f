package capture

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var (
	srcA  = netip.MustParseAddrPort("10.1.2.3:40001")
	grpA  = netip.MustParseAddrPort("233.54.12.111:26477")
	src6  = netip.MustParseAddrPort("[fd00::a]:40001")
	grp6  = netip.MustParseAddrPort("[ff15::e936:c6f]:26477")
	hello = []byte("hello")
)

// Expected frames computed by hand (an independent Python script following
// RFC 791/768/8200 and PROTOCOLS.md §7.3–7.6), IPv4 Identification 0x1000.
const (
	goldenRaw4    = "45000021100040001f114a230a010203e9360c6f9c41676d000db6a968656c6c6f"
	goldenRaw4Opt = "47000029100040001f11b2150a010203e9360c6f94040000010101009c41676d000db6a968656c6c6f"
	goldenVLAN    = "01005e360c6f02000a01020381000065080045000021100040001f114a230a010203e9360c6f9c41676d000db6a968656c6c6f000000000000000000"
	goldenVLANFCS = goldenVLAN + "29ea38bf"
	goldenQinQ    = "01005e360c6f02000a01020388a80bb981000065080045000021100040001f114a230a010203e9360c6f9c41676d000db6a968656c6c6f0000000000"
	goldenSLL     = "00020001000602000a0102030000080045000021100040001f114a230a010203e9360c6f9c41676d000db6a968656c6c6f00000000000000000000000000"
	goldenSLL2    = "08000000000000020001020602000a010203000045000021100040001f114a230a010203e9360c6f9c41676d000db6a968656c6c6f00000000000000000000000000"
	goldenRaw6HBH = "600000000015001ffd00000000000000000000000000000aff1500000000000000000000e9360c6f11000502000001009c41676d000dc68c68656c6c6f"
	goldenEth6    = "3333e9360c6f02000000000a86dd60000000000d111ffd00000000000000000000000000000aff1500000000000000000000e9360c6f9c41676d000dc68c68656c6c6f"
)

func TestGoldenFrames(t *testing.T) {
	tests := []struct {
		name     string
		form     Form
		src, dst netip.AddrPort
		want     string
	}{
		{"raw-ipv4", Form{File: Pcap, Link: LinkRaw}, srcA, grpA, goldenRaw4},
		{"linktype-ipv4", Form{File: Pcap, Link: LinkIPv4}, srcA, grpA, goldenRaw4},
		{"raw-ipv4-options", Form{File: Pcap, Link: LinkRaw, IPOptions: true}, srcA, grpA, goldenRaw4Opt},
		{"ether-vlan", Form{File: Pcap, Link: LinkEthernet, VLAN: Dot1Q}, srcA, grpA, goldenVLAN},
		{"ether-vlan-fcs", Form{File: Pcap, Link: LinkEthernet, VLAN: Dot1Q, FCS: true}, srcA, grpA, goldenVLANFCS},
		{"ether-qinq", Form{File: Pcap, Link: LinkEthernet, VLAN: QinQ}, srcA, grpA, goldenQinQ},
		{"sll", Form{File: Pcap, Link: LinkSLL}, srcA, grpA, goldenSLL},
		{"sll2", Form{File: Pcap, Link: LinkSLL2}, srcA, grpA, goldenSLL2},
		{"raw-ipv6-hop-by-hop", Form{File: Pcap, Link: LinkRaw, IPOptions: true}, src6, grp6, goldenRaw6HBH},
		{"linktype-ipv6-hop-by-hop", Form{File: Pcap, Link: LinkIPv6, IPOptions: true}, src6, grp6, goldenRaw6HBH},
		{"ether-ipv6", Form{File: Pcap, Link: LinkEthernet}, src6, grp6, goldenEth6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.form.AppendUDP(nil, 0x1000, tt.src, tt.dst, hello)
			if err != nil {
				t.Fatal(err)
			}
			if h := hex.EncodeToString(got); h != tt.want {
				t.Fatalf("frame\n got %s\nwant %s", h, tt.want)
			}
		})
	}
}

func TestPcapHeaderBytes(t *testing.T) {
	tests := []struct {
		name string
		form Form
		want string
	}{
		{"le-micro", Form{File: Pcap, Link: LinkEthernet}, "d4c3b2a1" + "0200" + "0400" + "00000000" + "00000000" + "00000400" + "01000000"},
		{"le-nano", Form{File: Pcap, Link: LinkEthernet, Nano: true}, "4d3cb2a1" + "0200" + "0400" + "00000000" + "00000000" + "00000400" + "01000000"},
		{"be-micro", Form{File: Pcap, Link: LinkEthernet, BigEndian: true}, "a1b2c3d4" + "0002" + "0004" + "00000000" + "00000000" + "00040000" + "00000001"},
		{"be-nano-sll2", Form{File: Pcap, Link: LinkSLL2, BigEndian: true, Nano: true}, "a1b23c4d" + "0002" + "0004" + "00000000" + "00000000" + "00040000" + "00000114"},
		{"le-fcs-snaplen", Form{File: Pcap, Link: LinkEthernet, FCS: true, SnapLen: 1514}, "d4c3b2a1" + "0200" + "0400" + "00000000" + "00000000" + "ea050000" + "01000024"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewWriter(&buf, tt.form)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(buf.Bytes()); got != tt.want {
				t.Fatalf("header\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestPcapRecordBytes(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Form{File: Pcap, Link: LinkRaw, Nano: true, BigEndian: true})
	if err != nil {
		t.Fatal(err)
	}
	w.fr.ipID = 0x1000
	ts := int64(1_772_460_000_123_456_789)
	if err := w.WriteUDP(ts, srcA, grpA, hello); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	rec := buf.Bytes()[24:]
	want := "69a597e0" + "075bcd15" + "00000021" + "00000021" + goldenRaw4
	if got := hex.EncodeToString(rec); got != want {
		t.Fatalf("record\n got %s\nwant %s", got, want)
	}
}

// TestPcapNGBytes spells a whole little-endian pcapng file by hand.
func TestPcapNGBytes(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Form{File: PcapNG, Link: LinkRaw})
	if err != nil {
		t.Fatal(err)
	}
	w.fr.ipID = 0x1000
	ts := int64(1_772_460_000_123_456_789) // 0x18990AFA_ADF28D15 ns
	if err := w.WriteUDP(ts, srcA, grpA, hello); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "" +
		// SHB: type, length 44, magic, 1.0, section length -1, shb_userappl "tickwire", end, length.
		"0a0d0d0a" + "2c000000" + "4d3c2b1a" + "0100" + "0000" + "ffffffffffffffff" +
		"0400" + "0800" + hex.EncodeToString([]byte("tickwire")) + "00000000" + "2c000000" +
		// IDB: type 1, length 40, link 101, reserved, snaplen 262144, if_name "eth0", if_tsresol 9, end.
		"01000000" + "28000000" + "6500" + "0000" + "00000400" +
		"0200" + "0400" + hex.EncodeToString([]byte("eth0")) + "0900" + "0100" + "09000000" + "00000000" + "28000000" +
		// EPB: type 6, length 32+36, iface 0, ts high, ts low, caplen 33, origlen 33, data + 3 pad, length.
		"06000000" + "44000000" + "00000000" + "fa0a9918" + "158df2ad" + "21000000" + "21000000" +
		goldenRaw4 + "000000" + "44000000"
	if got := hex.EncodeToString(buf.Bytes()); got != want {
		t.Fatalf("file\n got %s\nwant %s", got, want)
	}
}

// onesSum verifies an Internet checksum the slow, obvious way: the sum of
// all 16-bit words including the checksum field folds to 0xFFFF.
func onesSum(parts ...[]byte) uint16 {
	var all []byte
	for _, p := range parts {
		all = append(all, p...)
	}
	if len(all)%2 == 1 {
		all = append(all, 0)
	}
	var s uint32
	for i := 0; i < len(all); i += 2 {
		s += uint32(all[i])<<8 | uint32(all[i+1])
		s = (s & 0xFFFF) + s>>16
	}
	return uint16(s)
}

func pseudo(src, dst []byte, proto byte, n int) []byte {
	if len(src) == 16 {
		p := append(append([]byte{}, src...), dst...)
		p = binary.BigEndian.AppendUint32(p, uint32(n))
		return append(p, 0, 0, 0, proto)
	}
	p := append(append([]byte{}, src...), dst...)
	p = append(p, 0, proto)
	return binary.BigEndian.AppendUint16(p, uint16(n))
}

type decoded struct {
	src, dst netip.AddrPort
	payload  []byte
	vlans    []uint16
}

// decodeUDP decodes a frame with gopacket and checks IP and UDP lengths and
// checksums independently.
func decodeUDP(t *testing.T, link LinkType, frame []byte) decoded {
	t.Helper()
	var first gopacket.Decoder = layers.LinkType(link)
	switch link {
	case LinkIPv4:
		first = layers.LayerTypeIPv4
	case LinkIPv6:
		first = layers.LayerTypeIPv6
	}
	p := gopacket.NewPacket(frame, first, gopacket.DecodeOptions{})
	if el := p.ErrorLayer(); el != nil {
		t.Fatalf("gopacket: %v", el.Error())
	}
	var d decoded
	for _, l := range p.Layers() {
		if v, ok := l.(*layers.Dot1Q); ok {
			d.vlans = append(d.vlans, v.VLANIdentifier)
		}
	}
	u, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
	if !ok {
		t.Fatalf("no UDP layer in %v", p)
	}
	var srcIP, dstIP []byte
	if ip4, ok := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
		if s := onesSum(ip4.Contents); s != 0xFFFF {
			t.Fatalf("IPv4 header checksum does not verify: sum %#x", s)
		}
		if int(ip4.Length) != len(ip4.Contents)+len(ip4.Payload) {
			t.Fatalf("IPv4 total length %d, header+payload %d", ip4.Length, len(ip4.Contents)+len(ip4.Payload))
		}
		srcIP, dstIP = ip4.SrcIP.To4(), ip4.DstIP.To4()
	} else if ip6, ok := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6); ok {
		srcIP, dstIP = ip6.SrcIP.To16(), ip6.DstIP.To16()
		ext := 0
		if ip6.HopByHop != nil {
			ext = len(ip6.HopByHop.Contents)
		}
		if int(ip6.Length) != ext+len(ip6.Payload) {
			t.Fatalf("IPv6 payload length %d, have %d", ip6.Length, len(ip6.Payload))
		}
	} else {
		t.Fatal("no IP layer")
	}
	if int(u.Length) != 8+len(u.Payload) {
		t.Fatalf("UDP length %d, payload %d", u.Length, len(u.Payload))
	}
	if s := onesSum(pseudo(srcIP, dstIP, 17, int(u.Length)), u.Contents, u.Payload); s != 0xFFFF {
		t.Fatalf("UDP checksum does not verify: sum %#x", s)
	}
	sa, _ := netip.AddrFromSlice(srcIP)
	da, _ := netip.AddrFromSlice(dstIP)
	d.src = netip.AddrPortFrom(sa, uint16(u.SrcPort))
	d.dst = netip.AddrPortFrom(da, uint16(u.DstPort))
	d.payload = u.Payload
	return d
}

// linkCases enumerates every encapsulation with the addresses it carries.
type linkCase struct {
	name      string
	link      LinkType
	vlan      VLAN
	v6, opts  bool
	fcs       bool
	wantVLANs []uint16
}

func linkCases() []linkCase {
	var cs []linkCase
	for _, v6 := range []bool{false, true} {
		for _, opts := range []bool{false, true} {
			sfx := fmt.Sprintf("-v6=%v-opts=%v", v6, opts)
			cs = append(cs,
				linkCase{name: "ether" + sfx, link: LinkEthernet, v6: v6, opts: opts},
				linkCase{name: "ether-fcs" + sfx, link: LinkEthernet, v6: v6, opts: opts, fcs: true},
				linkCase{name: "vlan" + sfx, link: LinkEthernet, vlan: Dot1Q, v6: v6, opts: opts, wantVLANs: []uint16{101}},
				linkCase{name: "qinq" + sfx, link: LinkEthernet, vlan: QinQ, v6: v6, opts: opts, wantVLANs: []uint16{3001, 101}},
				linkCase{name: "sll" + sfx, link: LinkSLL, v6: v6, opts: opts},
				linkCase{name: "sll-vlan" + sfx, link: LinkSLL, vlan: Dot1Q, v6: v6, opts: opts, wantVLANs: []uint16{101}},
				linkCase{name: "sll2" + sfx, link: LinkSLL2, v6: v6, opts: opts},
				linkCase{name: "raw" + sfx, link: LinkRaw, v6: v6, opts: opts},
			)
			if v6 {
				cs = append(cs, linkCase{name: "ipv6" + sfx, link: LinkIPv6, v6: v6, opts: opts})
			} else {
				cs = append(cs, linkCase{name: "ipv4" + sfx, link: LinkIPv4, v6: v6, opts: opts})
			}
		}
	}
	return cs
}

func (c linkCase) addrs() (src, dst netip.AddrPort) {
	if c.v6 {
		return src6, grp6
	}
	return srcA, grpA
}

// payloads returns datagram payloads of various sizes, including ones whose
// frames need padding and odd lengths.
// pcapVariants are the four classic pcap headers: byte order and resolution.
var pcapVariants = []struct {
	name      string
	nano, big bool
}{{"le-us", false, false}, {"le-ns", true, false}, {"be-us", false, true}, {"be-ns", true, true}}

// roundTripBase is the capture time of the first test packet.
const roundTripBase = int64(1_772_460_000_000_000_000)

// writePayloads writes payloads() as UDP datagrams of link case c in form,
// 1.234567 ms apart from roundTripBase, and returns the file, the writer and
// the payloads.
func writePayloads(t *testing.T, form Form, c linkCase) (*bytes.Buffer, *Writer, [][]byte) {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, form)
	if err != nil {
		t.Fatal(err)
	}
	src, dst := c.addrs()
	ps := payloads()
	for i, p := range ps {
		if err := w.WriteUDP(roundTripBase+int64(i)*1_234_567, src, dst, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return &buf, w, ps
}

func payloads() [][]byte {
	sizes := []int{0, 1, 5, 20, 21, 63, 1399, 1400, 8972}
	out := make([][]byte, len(sizes))
	for i, n := range sizes {
		p := make([]byte, n)
		for j := range p {
			p[j] = byte(j*7 + i)
		}
		out[i] = p
	}
	return out
}

func checkFrame(t *testing.T, c linkCase, frame []byte, wantPayload []byte) {
	t.Helper()
	if c.link == LinkEthernet && len(frame) < 60 {
		t.Fatalf("Ethernet frame of %d bytes, want >= 60", len(frame))
	}
	if c.fcs {
		n := len(frame) - 4
		if got, want := binary.LittleEndian.Uint32(frame[n:]), crc32.ChecksumIEEE(frame[:n]); got != want {
			t.Fatalf("FCS %08x, want %08x", got, want)
		}
		frame = frame[:n]
	}
	d := decodeUDP(t, c.link, frame)
	src, dst := c.addrs()
	if d.src != src || d.dst != dst {
		t.Fatalf("addresses %v -> %v, want %v -> %v", d.src, d.dst, src, dst)
	}
	if !bytes.Equal(d.payload, wantPayload) {
		t.Fatalf("payload of %d bytes differs from the %d written", len(d.payload), len(wantPayload))
	}
	if fmt.Sprint(d.vlans) != fmt.Sprint(c.wantVLANs) && !(len(d.vlans) == 0 && len(c.wantVLANs) == 0) {
		t.Fatalf("VLANs %v, want %v", d.vlans, c.wantVLANs)
	}
}

func TestPcapRoundTrip(t *testing.T) {
	for _, fl := range pcapVariants {
		for _, c := range linkCases() {
			t.Run(fl.name+"/"+c.name, func(t *testing.T) {
				form := Form{File: Pcap, Nano: fl.nano, BigEndian: fl.big, Link: c.link, VLAN: c.vlan, IPOptions: c.opts, FCS: c.fcs}
				buf, w, ps := writePayloads(t, form, c)
				if w.Records() != int64(len(ps)) || w.Bytes() != int64(buf.Len()) {
					t.Fatalf("Records %d Bytes %d, file %d bytes", w.Records(), w.Bytes(), buf.Len())
				}
				link, recs := walk(t, buf.Bytes())
				if link != c.link {
					t.Fatalf("link type %v, want %v", link, c.link)
				}
				if len(recs) != len(ps) {
					t.Fatalf("%d records, want %d", len(recs), len(ps))
				}
				for i, p := range ps {
					want := roundTripBase + int64(i)*1_234_567
					if !fl.nano {
						want -= want % 1000
					}
					if recs[i].ts != want {
						t.Fatalf("record %d time %d, want %d", i, recs[i].ts, want)
					}
					if recs[i].orig != len(recs[i].data) {
						t.Fatalf("record %d lengths %d/%d", i, len(recs[i].data), recs[i].orig)
					}
					checkFrame(t, c, recs[i].data, p)
				}
			})
		}
	}
}

func TestPcapFCSLinkField(t *testing.T) {
	for _, big := range []bool{false, true} {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, Form{File: Pcap, Link: LinkEthernet, FCS: true, BigEndian: big})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		var bo binary.ByteOrder = binary.LittleEndian
		if big {
			bo = binary.BigEndian
		}
		if v := bo.Uint32(buf.Bytes()[20:]); v != 0x24000001 {
			t.Fatalf("big=%v: link-type field %#x, want 0x24000001 (FCS present, 2 words, Ethernet)", big, v)
		}
	}
}

func TestSnapLenTruncates(t *testing.T) {
	for _, file := range []FileFormat{Pcap, PcapNG} {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, Form{File: file, Link: LinkEthernet, SnapLen: 64})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteUDP(1e18, srcA, grpA, make([]byte, 100)); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteFrame(0, 1e18+1, []byte{1, 2, 3, 4}, 1500); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		_, recs := walk(t, buf.Bytes())
		if len(recs) != 2 {
			t.Fatalf("%v: %d records", file, len(recs))
		}
		if len(recs[0].data) != 64 || recs[0].orig != 14+20+8+100 {
			t.Fatalf("%v: lengths %d/%d, want 64/142", file, len(recs[0].data), recs[0].orig)
		}
		if recs[1].orig != 1500 || !bytes.Equal(recs[1].data, []byte{1, 2, 3, 4}) {
			t.Fatalf("%v: WriteFrame record %d/%d %x", file, len(recs[1].data), recs[1].orig, recs[1].data)
		}
	}
}

// ngCase is one pcapng variation.
type ngCase struct {
	name string
	form Form
}

func ngCases() []ngCase {
	two := []Interface{{Name: "lineA", TSResol: ResolNano}, {Name: "lineB", TSResol: ResolMicro, TSOffset: 1_700_000_000}}
	return []ngCase{
		{"default", Form{File: PcapNG, Link: LinkEthernet}},
		{"big-endian", Form{File: PcapNG, Link: LinkEthernet, BigEndian: true}},
		{"no-tsresol", Form{File: PcapNG, Link: LinkRaw, Interfaces: []Interface{{}}}},
		{"two-interfaces", Form{File: PcapNG, Link: LinkEthernet, VLAN: Dot1Q, Interfaces: two}},
		{"lazy-interfaces", Form{File: PcapNG, Link: LinkSLL, Interfaces: two, LazyInterfaces: true}},
		{"sections-flip", Form{File: PcapNG, Link: LinkSLL2, Interfaces: two, SectionEvery: 3, FlipByteOrder: true}},
		{"junk", Form{File: PcapNG, Link: LinkEthernet, FCS: true, Interfaces: two, Junk: true}},
		{"junk-sections-lazy", Form{File: PcapNG, Link: LinkEthernet, VLAN: QinQ, Interfaces: two, Junk: true, SectionEvery: 4, FlipByteOrder: true, LazyInterfaces: true}},
		{"packet-blocks", Form{File: PcapNG, Link: LinkRaw, Interfaces: two, Blocks: PB, Junk: true}},
		{"mixed-blocks", Form{File: PcapNG, Link: LinkIPv4, Interfaces: two, Blocks: MixedBlocks, BigEndian: true}},
		{"simple-blocks", Form{File: PcapNG, Link: LinkEthernet, Blocks: SPB, Junk: true}},
		{"tsoffset-negative", Form{File: PcapNG, Link: LinkEthernet, Interfaces: []Interface{{TSResol: ResolNano, TSOffset: -3600}}}},
		{"tsresol-1e-12-offset", Form{File: PcapNG, Link: LinkEthernet, Interfaces: []Interface{{TSResol: 12, TSOffset: 1_772_000_000}}}},
		{"tsresol-ms", Form{File: PcapNG, Link: LinkEthernet, Interfaces: []Interface{{TSResol: 3}}}},
	}
}

// wantTime returns the nanosecond time a floor-converting reader recovers for
// ts on interface in.
func wantTime(in Interface, ts int64) int64 {
	r := in.TSResol
	if r == 0 {
		r = 6
	}
	if r&0x80 != 0 || r >= 9 {
		return ts
	}
	unit := int64(1)
	for i := r; i < 9; i++ {
		unit *= 10
	}
	rel := ts - in.TSOffset*1e9
	return rel - rel%unit + in.TSOffset*1e9
}

// ngRec is one datagram written by writeNGCase.
type ngRec struct {
	iface int
	ts    int64
	p     []byte
}

// writeNGCase writes payloads() three times over the interfaces of a pcapng
// form, starting a new section after the second round, and returns the
// file, the link case to check frames against, the interfaces and what was
// written. SPB carries interface 0 only; otherwise interfaces alternate,
// starting with the last so that lazily written IDBs must catch up.
func writeNGCase(t *testing.T, form Form) ([]byte, linkCase, []Interface, []ngRec) {
	t.Helper()
	c := linkCase{link: form.Link, vlan: form.VLAN, fcs: form.FCS}
	switch form.VLAN {
	case Dot1Q:
		c.wantVLANs = []uint16{101}
	case QinQ:
		c.wantVLANs = []uint16{3001, 101}
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, form)
	if err != nil {
		t.Fatal(err)
	}
	ifaces := form.interfaces()
	src, dst := c.addrs()
	ps := payloads()
	var recs []ngRec
	for round := 0; round < 3; round++ {
		for i, p := range ps {
			iface := (len(ifaces) - 1 + i) % len(ifaces)
			ts := roundTripBase + int64(round*len(ps)+i)*1_000_003
			if err := w.WriteUDPOn(iface, ts, src, dst, p); err != nil {
				t.Fatal(err)
			}
			recs = append(recs, ngRec{iface, ts, p})
		}
		if round == 1 {
			if err := w.NewSection(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), c, ifaces, recs
}

func TestPcapNGRoundTrip(t *testing.T) {
	for _, nc := range ngCases() {
		t.Run(nc.name, func(t *testing.T) {
			form := nc.form
			raw, c, ifaces, recs := writeNGCase(t, form)
			// The independent walker checks the structure and every timestamp.
			walked := walkNG(t, raw)
			if len(walked) != len(recs) {
				t.Fatalf("walker found %d packets, want %d", len(walked), len(recs))
			}
			for i, p := range walked {
				if form.Blocks == SPB && recs[i].iface == 0 {
					continue
				}
				if p.iface != recs[i].iface || p.ts != wantTime(ifaces[recs[i].iface], recs[i].ts) {
					t.Fatalf("walker packet %d: iface %d ts %d, want %d %d", i, p.iface, p.ts, recs[i].iface, wantTime(ifaces[recs[i].iface], recs[i].ts))
				}
				if p.orig != len(p.data) {
					t.Fatalf("walker packet %d: %d of %d bytes", i, len(p.data), p.orig)
				}
				checkFrame(t, c, p.data, recs[i].p)
			}
		})
	}
}

type walkedPacket struct {
	iface int
	ts    int64
	data  []byte
	orig  int
}

// walk reads a whole capture with the independent walkers below and returns
// the link type (of the first interface for pcapng) and every packet.
func walk(t *testing.T, b []byte) (LinkType, []walkedPacket) {
	t.Helper()
	if len(b) >= 4 && binary.LittleEndian.Uint32(b) == ngSHB {
		ps := walkNG(t, b)
		bo := binary.ByteOrder(binary.LittleEndian)
		if binary.LittleEndian.Uint32(b[8:]) != ngMagic {
			bo = binary.BigEndian
		}
		shbLen := int(bo.Uint32(b[4:]))
		if bo.Uint32(b[shbLen:]) != ngIDB {
			t.Fatalf("block after the first SHB is %#x, not an IDB", bo.Uint32(b[shbLen:]))
		}
		return LinkType(bo.Uint16(b[shbLen+8:])), ps
	}
	return walkPcap(t, b)
}

// walkPcap is a minimal, independent classic pcap reader (PROTOCOLS.md §7.1).
func walkPcap(t *testing.T, b []byte) (LinkType, []walkedPacket) {
	t.Helper()
	if len(b) < 24 {
		t.Fatalf("file of %d bytes", len(b))
	}
	var bo binary.ByteOrder
	var nano bool
	switch hex.EncodeToString(b[:4]) {
	case "d4c3b2a1":
		bo = binary.LittleEndian
	case "a1b2c3d4":
		bo = binary.BigEndian
	case "4d3cb2a1":
		bo, nano = binary.LittleEndian, true
	case "a1b23c4d":
		bo, nano = binary.BigEndian, true
	default:
		t.Fatalf("magic %x", b[:4])
	}
	if bo.Uint16(b[4:]) != 2 || bo.Uint16(b[6:]) != 4 {
		t.Fatalf("version %d.%d", bo.Uint16(b[4:]), bo.Uint16(b[6:]))
	}
	snap := int(bo.Uint32(b[16:]))
	lt := bo.Uint32(b[20:])
	if lt&0x04000000 != 0 && lt>>28 != 2 || lt&0x0BFF0000 != 0 {
		t.Fatalf("link-type field %#x", lt)
	}
	var out []walkedPacket
	for off := 24; off < len(b); {
		if len(b)-off < 16 {
			t.Fatalf("truncated record header at %d", off)
		}
		sec, frac := int64(bo.Uint32(b[off:])), int64(bo.Uint32(b[off+4:]))
		capl, orig := int(bo.Uint32(b[off+8:])), int(bo.Uint32(b[off+12:]))
		if capl > snap || capl > orig || off+16+capl > len(b) {
			t.Fatalf("record at %d: caplen %d origlen %d snaplen %d", off, capl, orig, snap)
		}
		ts := sec * 1e9
		if nano {
			if frac >= 1e9 {
				t.Fatalf("fraction %d", frac)
			}
			ts += frac
		} else {
			if frac >= 1e6 {
				t.Fatalf("fraction %d", frac)
			}
			ts += frac * 1000
		}
		out = append(out, walkedPacket{ts: ts, data: b[off+16 : off+16+capl], orig: orig})
		off += 16 + capl
	}
	return LinkType(lt & 0xFFFF), out
}

// walkNG is a minimal, independent pcapng reader used to check what gopacket
// does not: block framing, both length fields, 4-byte alignment, option
// TLVs, binary resolutions and offsets. Timestamps are converted with a
// floor, in big integers.
func walkNG(t *testing.T, b []byte) []walkedPacket {
	t.Helper()
	type ifc struct {
		resol  byte
		offset int64
	}
	var (
		bo     binary.ByteOrder
		ifaces []ifc
		out    []walkedPacket
	)
	opts := func(o []byte) map[uint16][]byte {
		m := map[uint16][]byte{}
		for len(o) >= 4 {
			code, n := bo.Uint16(o), int(bo.Uint16(o[2:]))
			if code == 0 {
				if n != 0 || len(o) != 4 {
					t.Fatalf("opt_endofopt with length %d and %d bytes after", n, len(o)-4)
				}
				break
			}
			if 4+n > len(o) {
				t.Fatalf("option %d runs past its block", code)
			}
			m[code] = o[4 : 4+n]
			o = o[4+(n+3)&^3:]
		}
		return m
	}
	toNS := func(i int, units uint64) int64 {
		in := ifaces[i]
		r := in.resol
		if r == 0 {
			r = 6
		}
		var num, den uint64 // ns = units * num / den
		if r&0x80 != 0 {
			num, den = 1e9, 1<<(r&0x7F)
		} else {
			num, den = 1e9, 1
			for j := byte(0); j < r; j++ {
				den *= 10
			}
		}
		hi, lo := mul64(units, num)
		q := div128(hi, lo, den)
		return int64(q) + in.offset*1e9
	}
	for off := 0; off < len(b); {
		if len(b)-off < 12 {
			t.Fatalf("trailing %d bytes at %d", len(b)-off, off)
		}
		if binary.LittleEndian.Uint32(b[off:]) == ngSHB {
			switch binary.LittleEndian.Uint32(b[off+8:]) {
			case ngMagic:
				bo = binary.LittleEndian
			case 0x4D3C2B1A:
				bo = binary.BigEndian
			default:
				t.Fatalf("bad byte-order magic at %d", off)
			}
			ifaces = nil
		}
		typ, n := bo.Uint32(b[off:]), int(bo.Uint32(b[off+4:]))
		if n%4 != 0 || n < 12 || off+n > len(b) {
			t.Fatalf("block type %#x at %d: length %d", typ, off, n)
		}
		if trail := int(bo.Uint32(b[off+n-4:])); trail != n {
			t.Fatalf("block type %#x at %d: trailing length %d, leading %d", typ, off, trail, n)
		}
		body := b[off+8 : off+n-4]
		switch typ {
		case ngSHB:
			if bo.Uint16(body[4:]) != 1 || bo.Uint16(body[6:]) != 0 {
				t.Fatalf("SHB version %d.%d", bo.Uint16(body[4:]), bo.Uint16(body[6:]))
			}
			opts(body[16:])
		case ngIDB:
			o := opts(body[8:])
			in := ifc{}
			if v, ok := o[ifTSResol]; ok {
				in.resol = v[0]
			}
			if v, ok := o[ifTSOffset]; ok {
				in.offset = int64(bo.Uint64(v))
			}
			ifaces = append(ifaces, in)
		case ngEPB, ngPB:
			var i int
			if typ == ngEPB {
				i = int(bo.Uint32(body))
			} else {
				i = int(bo.Uint16(body))
			}
			if i >= len(ifaces) {
				t.Fatalf("packet for undeclared interface %d", i)
			}
			units := uint64(bo.Uint32(body[4:]))<<32 | uint64(bo.Uint32(body[8:]))
			capl, orig := int(bo.Uint32(body[12:])), int(bo.Uint32(body[16:]))
			data := body[20 : 20+capl]
			opts(body[20+(capl+3)&^3:])
			out = append(out, walkedPacket{iface: i, ts: toNS(i, units), data: data, orig: orig})
		case ngSPB:
			if len(ifaces) == 0 {
				t.Fatal("SPB before any IDB")
			}
			orig := int(bo.Uint32(body))
			out = append(out, walkedPacket{data: body[4 : 4+orig], orig: orig})
		case ngISB:
			if int(bo.Uint32(body)) >= len(ifaces) {
				t.Fatal("ISB for undeclared interface")
			}
		}
		off += n
	}
	return out
}

func mul64(a, b uint64) (hi, lo uint64) {
	const mask32 = 1<<32 - 1
	a0, a1 := a&mask32, a>>32
	b0, b1 := b&mask32, b>>32
	w0 := a0 * b0
	t := a1*b0 + w0>>32
	w1, w2 := t&mask32, t>>32
	w1 += a0 * b1
	return a1*b1 + w2 + w1>>32, a * b
}

// div128 divides hi:lo by d bit by bit (slow, obviously correct).
func div128(hi, lo, d uint64) uint64 {
	var q, r uint64
	for i := 127; i >= 0; i-- {
		var bit uint64
		if i >= 64 {
			bit = hi >> (i - 64) & 1
		} else {
			bit = lo >> i & 1
		}
		carry := r >> 63
		r = r<<1 | bit
		if carry == 1 || r >= d {
			r -= d
			if i < 64 {
				q |= 1 << i
			}
		}
	}
	return q
}

func TestPcapNGBinaryResolution(t *testing.T) {
	for _, resol := range []byte{ResolBinary, 0x80 | 20, 0x80 | 32, 0x80 /* 2^-0: whole seconds */} {
		t.Run(fmt.Sprintf("2^-%d", resol&0x7F), func(t *testing.T) {
			in := Interface{TSResol: resol, TSOffset: 1_000_000_000}
			var buf bytes.Buffer
			w, err := NewWriter(&buf, Form{File: PcapNG, Link: LinkRaw, Interfaces: []Interface{in}, Junk: true})
			if err != nil {
				t.Fatal(err)
			}
			times := []int64{1_772_460_000_000_000_000, 1_772_460_000_000_000_001, 1_772_460_000_999_999_999, 1_772_460_001_123_456_789}
			for _, ts := range times {
				if err := w.WriteUDP(ts, srcA, grpA, hello); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			got := walkNG(t, buf.Bytes())
			shift := uint(resol & 0x7F)
			for i, ts := range times {
				want := ts
				if shift < 30 { // coarser than 1 ns: floor to the unit
					rel := uint64(ts - in.TSOffset*1e9)
					hi, lo := mul64(rel, 1<<shift)
					units := div128(hi, lo, 1e9)
					hi, lo = mul64(units, 1e9)
					want = int64(div128(hi, lo, 1<<shift)) + in.TSOffset*1e9
				}
				if got[i].ts != want {
					t.Fatalf("packet %d: %d, want %d", i, got[i].ts, want)
				}
			}
		})
	}
}

func TestNoise(t *testing.T) {
	for _, c := range linkCases() {
		if c.opts {
			continue
		}
		for _, file := range []FileFormat{Pcap, PcapNG} {
			t.Run(fmt.Sprintf("%v/%s", file, c.name), func(t *testing.T) {
				form := Form{File: file, Link: c.link, VLAN: c.vlan, FCS: c.fcs}
				var buf bytes.Buffer
				w, err := NewWriter(&buf, form)
				if err != nil {
					t.Fatal(err)
				}
				_, near := c.addrs()
				var kinds []Noise
				records := 0
				for k := Noise(0); k < NumNoise; k++ {
					err := w.WriteNoise(1e18+int64(k), k, near)
					if !form.NoiseSupported(k) {
						if !errors.Is(err, ErrNoise) {
							t.Fatalf("%v: %v, want ErrNoise", k, err)
						}
						continue
					}
					if err != nil {
						t.Fatalf("%v: %v", k, err)
					}
					kinds = append(kinds, k)
					records += k.Records()
				}
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
				var frames [][]byte
				_, recs := walk(t, buf.Bytes())
				for _, p := range recs {
					frames = append(frames, p.data)
				}
				if len(frames) != records {
					t.Fatalf("%d records, want %d", len(frames), records)
				}
				fi := 0
				for _, k := range kinds {
					for r := 0; r < k.Records(); r++ {
						checkNoise(t, c, k, r, frames[fi], near)
						fi++
					}
				}
			})
		}
	}
}

func checkNoise(t *testing.T, c linkCase, k Noise, part int, frame []byte, near netip.AddrPort) {
	t.Helper()
	if c.fcs {
		n := len(frame) - 4
		if binary.LittleEndian.Uint32(frame[n:]) != crc32.ChecksumIEEE(frame[:n]) {
			t.Fatalf("%v: bad FCS", k)
		}
		frame = frame[:n]
	}
	var first gopacket.Decoder = layers.LinkType(c.link)
	switch c.link {
	case LinkIPv4:
		first = layers.LayerTypeIPv4
	case LinkIPv6:
		first = layers.LayerTypeIPv6
	}
	p := gopacket.NewPacket(frame, first, gopacket.DecodeOptions{})
	if el := p.ErrorLayer(); el != nil && k != NoiseIGMP {
		t.Fatalf("%v: gopacket: %v", k, el.Error())
	}
	switch k {
	case NoiseARP:
		a, ok := p.Layer(layers.LayerTypeARP).(*layers.ARP)
		if !ok || a.Operation != layers.ARPRequest {
			t.Fatalf("ARP: %v", p)
		}
	case NoiseTCP:
		tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if !ok || !tcp.PSH || !tcp.ACK || string(tcp.Payload) != "\x00\x01H" || uint16(tcp.DstPort) != near.Port() {
			t.Fatalf("TCP: %v", p)
		}
		nl := p.NetworkLayer()
		src, dst := nl.NetworkFlow().Endpoints()
		if s := onesSum(pseudo(src.Raw(), dst.Raw(), 6, len(tcp.Contents)+len(tcp.Payload)), tcp.Contents, tcp.Payload); s != 0xFFFF {
			t.Fatalf("TCP checksum does not verify")
		}
	case NoiseUDP:
		d := decodeUDP(t, c.link, frame)
		if d.dst.Port() != near.Port()+1 || d.dst.Addr().IsMulticast() {
			t.Fatalf("unrelated UDP to %v", d.dst)
		}
	case NoiseGroup:
		d := decodeUDP(t, c.link, frame)
		if d.dst.Port() != near.Port() || d.dst.Addr() == near.Addr() || !d.dst.Addr().IsMulticast() {
			t.Fatalf("other group datagram to %v", d.dst)
		}
		if string(d.payload[:10]) != "OTHERFEED1" || len(d.payload) != 20 {
			t.Fatalf("other group payload %q", d.payload)
		}
	case NoiseFragment:
		if c.v6 {
			f, ok := p.Layer(layers.LayerTypeIPv6Fragment).(*layers.IPv6Fragment)
			if !ok || f.MoreFragments != (part == 0) || (part == 0) != (f.FragmentOffset == 0) {
				t.Fatalf("IPv6 fragment %d: %v", part, p)
			}
		} else {
			ip4, ok := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
			if !ok || (ip4.Flags&layers.IPv4MoreFragments != 0) != (part == 0) || (ip4.FragOffset == 0) != (part == 0) {
				t.Fatalf("IPv4 fragment %d: %v", part, p)
			}
			if onesSum(ip4.Contents) != 0xFFFF {
				t.Fatal("fragment header checksum does not verify")
			}
		}
		if p.Layer(layers.LayerTypeUDP) != nil {
			t.Fatalf("fragment %d decoded as a whole UDP datagram", part)
		}
	case NoiseIGMP:
		if c.v6 {
			if p.Layer(layers.LayerTypeIPv6HopByHop) == nil || p.Layer(layers.LayerTypeICMPv6) == nil {
				t.Fatalf("MLD: %v", p)
			}
			return
		}
		ig, ok := p.Layer(layers.LayerTypeIGMP).(*layers.IGMPv1or2)
		if !ok || ig.Type != layers.IGMPMembershipReportV2 || !ig.GroupAddress.Equal(near.Addr().AsSlice()) {
			t.Fatalf("IGMP: %v", p)
		}
	}
}

// TestFragmentReassembles checks that the two fragments of NoiseFragment
// carry exactly one valid UDP datagram.
func TestFragmentReassembles(t *testing.T) {
	for _, near := range []netip.AddrPort{grpA, grp6} {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, Form{File: Pcap, Link: LinkRaw})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteNoise(1e18, NoiseFragment, near); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		_, recs := walk(t, buf.Bytes())
		var whole []byte
		var src, dst []byte
		if len(recs) != 2 {
			t.Fatalf("%d records, want 2", len(recs))
		}
		for _, rec := range recs {
			d := rec.data
			p := gopacket.NewPacket(d, layers.LayerTypeIPv4, gopacket.DecodeOptions{})
			if near.Addr().Is6() {
				p = gopacket.NewPacket(d, layers.LayerTypeIPv6, gopacket.DecodeOptions{})
				f := p.Layer(layers.LayerTypeIPv6Fragment).(*layers.IPv6Fragment)
				if int(f.FragmentOffset)*8 != len(whole) {
					t.Fatalf("fragment offset %d, have %d bytes", f.FragmentOffset, len(whole))
				}
				whole = append(whole, f.Payload...)
				ip6 := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
				src, dst = ip6.SrcIP, ip6.DstIP
				continue
			}
			ip4 := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
			if int(ip4.FragOffset)*8 != len(whole) {
				t.Fatalf("fragment offset %d, have %d bytes", ip4.FragOffset, len(whole))
			}
			whole = append(whole, ip4.Payload...)
			src, dst = ip4.SrcIP.To4(), ip4.DstIP.To4()
		}
		if int(binary.BigEndian.Uint16(whole[4:])) != len(whole) || binary.BigEndian.Uint16(whole[2:]) != near.Port() {
			t.Fatalf("reassembled UDP header %x for %d bytes", whole[:8], len(whole))
		}
		if onesSum(pseudo(src, dst, 17, len(whole)), whole) != 0xFFFF {
			t.Fatal("reassembled UDP checksum does not verify")
		}
		if string(whole[8:18]) != "FRAGMENTED" {
			t.Fatalf("payload starts %q", whole[8:18])
		}
	}
}

func TestErrors(t *testing.T) {
	bad := []Form{
		{},
		{File: Pcap},
		{File: Pcap, Link: 999},
		{File: Pcap, Link: LinkRaw, VLAN: Dot1Q},
		{File: Pcap, Link: LinkSLL2, VLAN: QinQ},
		{File: Pcap, Link: LinkSLL, FCS: true},
		{File: Pcap, Link: LinkEthernet, Junk: true},
		{File: Pcap, Link: LinkEthernet, Interfaces: []Interface{{}, {}}},
		{File: PcapNG, Link: LinkEthernet, Nano: true},
		{File: PcapNG, Link: LinkEthernet, Interfaces: []Interface{{TSResol: 20}}},
		{File: PcapNG, Link: LinkEthernet, Interfaces: []Interface{{TSResol: 0x80 | 64}}},
	}
	for i, f := range bad {
		if _, err := NewWriter(io.Discard, f); !errors.Is(err, ErrForm) {
			t.Errorf("form %d %+v: %v, want ErrForm", i, f, err)
		}
	}
	w, err := NewWriter(io.Discard, Form{File: Pcap, Link: LinkIPv4})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteUDP(1e18, src6, grp6, hello); !errors.Is(err, ErrAddress) {
		t.Errorf("IPv6 on LINKTYPE_IPV4: %v", err)
	}
	if err := w.WriteUDP(1e18, srcA, grp6, hello); !errors.Is(err, ErrAddress) {
		t.Errorf("mixed families: %v", err)
	}
	if err := w.WriteUDP(1e18, srcA, grpA, make([]byte, 65528)); !errors.Is(err, ErrTooLong) {
		t.Errorf("oversized datagram: %v", err)
	}
	if err := w.WriteUDPOn(1, 1e18, srcA, grpA, hello); !errors.Is(err, ErrInterface) {
		t.Errorf("interface 1 in pcap: %v", err)
	}
	if err := w.WriteUDP(-1, srcA, grpA, hello); !errors.Is(err, ErrTimestamp) {
		t.Errorf("negative time: %v", err)
	}
	if err := w.WriteUDP(1<<32*1e9, srcA, grpA, hello); !errors.Is(err, ErrTimestamp) {
		t.Errorf("time beyond 2106: %v", err)
	}
	if err := w.NewSection(); !errors.Is(err, ErrForm) {
		t.Errorf("NewSection on pcap: %v", err)
	}
	if w.Records() != 0 {
		t.Fatalf("%d records after only failed writes", w.Records())
	}
	ng, err := NewWriter(io.Discard, Form{File: PcapNG, Link: LinkEthernet, Interfaces: []Interface{{TSOffset: 2_000_000_000}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ng.WriteUDP(1e18, srcA, grpA, hello); !errors.Is(err, ErrTimestamp) {
		t.Errorf("time before if_tsoffset: %v", err)
	}
	fw := &failWriter{}
	w, err = NewWriter(fw, Form{File: Pcap, Link: LinkRaw})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); !errors.Is(err, errFail) {
		t.Fatalf("Flush: %v", err)
	}
	if err := w.WriteUDP(1e18, srcA, grpA, hello); !errors.Is(err, errFail) {
		t.Fatalf("write after failure: %v", err)
	}
}

var errFail = errors.New("disk full")

type failWriter struct{}

func (*failWriter) Write([]byte) (int, error) { return 0, errFail }

func TestWriteUDPNoAllocs(t *testing.T) {
	payload := make([]byte, 1400)
	for _, f := range []Form{
		{File: Pcap, Link: LinkEthernet, VLAN: Dot1Q, FCS: true},
		{File: PcapNG, Link: LinkSLL2, Junk: true, SectionEvery: 100},
	} {
		w, err := NewWriter(io.Discard, f)
		if err != nil {
			t.Fatal(err)
		}
		ts := int64(1e18)
		allocs := testing.AllocsPerRun(2000, func() {
			ts += 1000
			if err := w.WriteUDP(ts, srcA, grpA, payload); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%v/%v: %v allocations per WriteUDP", f.File, f.Link, allocs)
		}
	}
}

func BenchmarkWriteUDP(b *testing.B) {
	payload := make([]byte, 1400)
	for _, f := range []struct {
		name string
		form Form
	}{
		{"pcap-ether", Form{File: Pcap, Link: LinkEthernet}},
		{"pcap-ether-fcs", Form{File: Pcap, Link: LinkEthernet, FCS: true}},
		{"pcapng-ether", Form{File: PcapNG, Link: LinkEthernet}},
		{"pcap-ipv6-hbh", Form{File: Pcap, Link: LinkRaw, IPOptions: true}},
	} {
		b.Run(f.name, func(b *testing.B) {
			w, err := NewWriter(io.Discard, f.form)
			if err != nil {
				b.Fatal(err)
			}
			src, dst := srcA, grpA
			if f.form.IPOptions {
				src, dst = src6, grp6
			}
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			ts := int64(1e18)
			for b.Loop() {
				ts += 1000
				if err := w.WriteUDP(ts, src, dst, payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
