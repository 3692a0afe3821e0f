package replay

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"testing"
)

// Test builders: frames, classic pcap and pcapng files written byte by byte
// in either byte order, so every variant real tools produce (and some they
// rarely do) can be exercised without a capture tool.

var (
	srcA = netip.MustParseAddrPort("10.1.2.3:40001")
	grpA = netip.MustParseAddrPort("233.54.12.111:26477")
	src6 = netip.MustParseAddrPort("[2001:db8::1]:40002")
	grp6 = netip.MustParseAddrPort("[ff0e::1:2]:26478")
)

func put16(b []byte, be bool, v uint16) {
	if be {
		binary.BigEndian.PutUint16(b, v)
	} else {
		binary.LittleEndian.PutUint16(b, v)
	}
}

func put32(b []byte, be bool, v uint32) {
	if be {
		binary.BigEndian.PutUint32(b, v)
	} else {
		binary.LittleEndian.PutUint32(b, v)
	}
}

func app16(b []byte, be bool, v uint16) []byte {
	var t [2]byte
	put16(t[:], be, v)
	return append(b, t[:]...)
}

func app32(b []byte, be bool, v uint32) []byte {
	var t [4]byte
	put32(t[:], be, v)
	return append(b, t[:]...)
}

func app64(b []byte, be bool, v uint64) []byte {
	if be {
		return binary.BigEndian.AppendUint64(b, v)
	}
	return binary.LittleEndian.AppendUint64(b, v)
}

// udpHdr returns a UDP header and payload (checksum 0).
func udpHdr(sport, dport uint16, payload []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, sport)
	b = binary.BigEndian.AppendUint16(b, dport)
	b = binary.BigEndian.AppendUint16(b, uint16(8+len(payload)))
	b = append(b, 0, 0)
	return append(b, payload...)
}

// refChecksum is the Internet checksum of the concatenated parts, word by
// word as RFC 1071 describes it (a reference for the reader's).
func refChecksum(parts ...[]byte) uint16 {
	b := bytes.Join(parts, nil)
	var s uint32
	for i := 0; i < len(b); i += 2 {
		w := uint32(b[i]) << 8
		if i+1 < len(b) {
			w |= uint32(b[i+1])
		}
		s += w
		s = s&0xFFFF + s>>16
	}
	return ^uint16(s)
}

// setUDPChecksum fills in the UDP checksum of the IPv4 or IPv6 packet ip
// (no IPv4 options, no IPv6 extension headers), 0 sent as 0xFFFF.
func setUDPChecksum(ip []byte) []byte {
	var pseudo, udp []byte
	if ip[0]>>4 == 4 {
		udp = ip[20:]
		pseudo = append(append([]byte{}, ip[12:20]...), 0, 17)
	} else {
		udp = ip[40:]
		pseudo = append(append([]byte{}, ip[8:40]...), 0, 0, 0, 0, 0, 0, 0, 17)
	}
	pseudo = binary.BigEndian.AppendUint16(pseudo, uint16(len(udp)))
	udp[6], udp[7] = 0, 0
	c := refChecksum(pseudo, udp)
	if c == 0 {
		c = 0xFFFF
	}
	binary.BigEndian.PutUint16(udp[6:], c)
	return ip
}

// ipv4Hdr returns an IPv4 packet with the given options (padded to 4 by
// the caller), flags+fragment-offset field, protocol and body, its header
// checksum filled in.
func ipv4Hdr(src, dst netip.Addr, proto byte, opts []byte, frag uint16, body []byte) []byte {
	ihl := 20 + len(opts)
	b := []byte{0x40 | byte(ihl/4), 0}
	b = binary.BigEndian.AppendUint16(b, uint16(ihl+len(body)))
	b = append(b, 0x12, 0x34)
	b = binary.BigEndian.AppendUint16(b, frag)
	b = append(b, 64, proto, 0, 0)
	s, d := src.As4(), dst.As4()
	b = append(b, s[:]...)
	b = append(b, d[:]...)
	b = append(b, opts...)
	binary.BigEndian.PutUint16(b[10:], refChecksum(b))
	return append(b, body...)
}

// udp4 returns an IPv4/UDP packet from src to dst, checksums filled in.
func udp4(src, dst netip.AddrPort, payload []byte) []byte {
	return setUDPChecksum(ipv4Hdr(src.Addr(), dst.Addr(), 17, nil, 0x4000, udpHdr(src.Port(), dst.Port(), payload)))
}

// ipv6Hdr returns an IPv6 packet whose body starts with next header nh.
func ipv6Hdr(src, dst netip.Addr, nh byte, body []byte) []byte {
	b := []byte{0x60, 0, 0, 0}
	b = binary.BigEndian.AppendUint16(b, uint16(len(body)))
	b = append(b, nh, 64)
	s, d := src.As16(), dst.As16()
	b = append(b, s[:]...)
	b = append(b, d[:]...)
	return append(b, body...)
}

// udp6 returns an IPv6/UDP packet from src to dst, its checksum filled in.
func udp6(src, dst netip.AddrPort, payload []byte) []byte {
	return setUDPChecksum(ipv6Hdr(src.Addr(), dst.Addr(), 17, udpHdr(src.Port(), dst.Port(), payload)))
}

// ether returns an Ethernet II frame with the given VLAN tag protocol IDs
// (outermost first) around EtherType typ.
func ether(typ uint16, tpids []uint16, payload []byte) []byte {
	b := []byte{0x01, 0x00, 0x5e, 0x36, 0x0c, 0x6f, 0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc}
	for i, t := range tpids {
		b = binary.BigEndian.AppendUint16(b, t)
		b = binary.BigEndian.AppendUint16(b, uint16(100+i)) // TCI: VLAN 100, 101, ...
	}
	b = binary.BigEndian.AppendUint16(b, typ)
	return append(b, payload...)
}

// ethUDP4 returns an Ethernet/IPv4/UDP frame, padded to the 60-byte minimum.
func ethUDP4(src, dst netip.AddrPort, payload []byte) []byte {
	f := ether(etherIPv4, nil, udp4(src, dst, payload))
	for len(f) < 60 {
		f = append(f, 0)
	}
	return f
}

// payloadN returns a deterministic payload of n bytes for packet i.
func payloadN(i, n int) []byte {
	p := make([]byte, n)
	for j := range p {
		p[j] = byte(i*131 + j*7 + j>>8)
	}
	return p
}

// rec is one packet record to write.
type rec struct {
	ts   uint64 // pcap: sec<<32|frac; pcapng: count in interface units
	data []byte
	orig uint32 // 0: len(data)
	ifc  int
}

// pcapFile returns a classic pcap file; offs receives the offset of each
// record.
func pcapFile(be, nanos bool, snap, link uint32, recs []rec) (file []byte, offs []int64) {
	magic := uint32(0xA1B2C3D4)
	if nanos {
		magic = 0xA1B23C4D
	}
	b := app32(nil, be, magic)
	b = app16(b, be, 2)
	b = app16(b, be, 4)
	b = app32(b, be, 0)
	b = app32(b, be, 0)
	b = app32(b, be, snap)
	b = app32(b, be, link)
	for _, r := range recs {
		offs = append(offs, int64(len(b)))
		orig := r.orig
		if orig == 0 {
			orig = uint32(len(r.data))
		}
		b = app32(b, be, uint32(r.ts>>32))
		b = app32(b, be, uint32(r.ts))
		b = app32(b, be, uint32(len(r.data)))
		b = app32(b, be, orig)
		b = append(b, r.data...)
	}
	return b, offs
}

// ngFile builds a pcapng file block by block.
type ngFile struct {
	b    []byte
	be   bool    // byte order of the current section
	offs []int64 // offset of each block written
}

// opt returns one option TLV in byte order be, padded to 4.
func opt(be bool, code uint16, val []byte) []byte {
	b := app16(nil, be, code)
	b = app16(b, be, uint16(len(val)))
	b = append(b, val...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// block appends a block of type typ around body (padded to 4).
func (w *ngFile) block(typ uint32, body []byte) {
	w.offs = append(w.offs, int64(len(w.b)))
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	total := uint32(12 + len(body))
	w.b = app32(w.b, w.be, typ)
	w.b = app32(w.b, w.be, total)
	w.b = append(w.b, body...)
	w.b = app32(w.b, w.be, total)
}

// shb starts a section in byte order be.
func (w *ngFile) shb(be bool, opts ...[]byte) {
	w.be = be
	body := app32(nil, be, 0x1A2B3C4D)
	body = app16(body, be, 1)
	body = app16(body, be, 0)
	body = app64(body, be, ^uint64(0))
	for _, o := range opts {
		body = append(body, o...)
	}
	w.block(blockSHB, body)
}

// idb adds an interface; opts are complete TLVs (see opt).
func (w *ngFile) idb(link uint16, snap uint32, opts ...[]byte) {
	body := app16(nil, w.be, link)
	body = app16(body, w.be, 0)
	body = app32(body, w.be, snap)
	for _, o := range opts {
		body = append(body, o...)
	}
	w.block(blockIDB, body)
}

func (w *ngFile) epb(r rec, opts ...[]byte) {
	orig := r.orig
	if orig == 0 {
		orig = uint32(len(r.data))
	}
	body := app32(nil, w.be, uint32(r.ifc))
	body = app32(body, w.be, uint32(r.ts>>32))
	body = app32(body, w.be, uint32(r.ts))
	body = app32(body, w.be, uint32(len(r.data)))
	body = app32(body, w.be, orig)
	body = append(body, r.data...)
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	for _, o := range opts {
		body = append(body, o...)
	}
	w.block(blockEPB, body)
}

func (w *ngFile) pb(r rec) {
	body := app16(nil, w.be, uint16(r.ifc))
	body = app16(body, w.be, 0xFFFF)
	body = app32(body, w.be, uint32(r.ts>>32))
	body = app32(body, w.be, uint32(r.ts))
	body = app32(body, w.be, uint32(len(r.data)))
	body = app32(body, w.be, uint32(len(r.data)))
	body = append(body, r.data...)
	w.block(blockPB, body)
}

func (w *ngFile) spb(orig uint32, data []byte) {
	body := app32(nil, w.be, orig)
	body = append(body, data...)
	w.block(blockSPB, body)
}

// itchFile returns a raw ITCH file of msgs and the offset of each record.
func itchFile(msgs [][]byte) (file []byte, offs []int64) {
	var b []byte
	for _, m := range msgs {
		offs = append(offs, int64(len(b)))
		b = binary.BigEndian.AppendUint16(b, uint16(len(m)))
		b = append(b, m...)
	}
	return b, offs
}

// itchMsg returns a message of type t with its ITCH length (n if unknown).
func itchMsg(t byte, i int) []byte {
	n := int(itchLen[t])
	if n == 0 {
		n = 30
	}
	m := payloadN(i, n)
	m[0] = t
	return m
}

// openBytes opens b as a capture with a read buffer of size bytes.
func openBytes(t testing.TB, b []byte, size int) *File {
	t.Helper()
	f, err := newFile(bytes.NewReader(b), "test.cap", size)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return f
}

// got is one datagram as copied out of a reader.
type got struct {
	Time      int64
	Src, Dst  netip.AddrPort
	Payload   string
	Offset    int64
	Interface int
}

func (g got) String() string {
	return fmt.Sprintf("t=%d %v->%v off=%d if=%d len=%d", g.Time, g.Src, g.Dst, g.Offset, g.Interface, len(g.Payload))
}

// readAll reads every datagram of r; err is the terminating error (nil at
// io.EOF).
func readAll(r *PacketReader) (out []got, err error) {
	var d Datagram
	for {
		if err := r.Next(&d); err != nil {
			if err == io.EOF {
				return out, nil
			}
			return out, err
		}
		out = append(out, got{d.Time, d.Src, d.Dst, string(d.Payload), d.Offset, d.Interface})
	}
}

// diffGot reports the first difference between two datagram lists.
func diffGot(t *testing.T, want, have []got) {
	t.Helper()
	if len(want) != len(have) {
		t.Errorf("got %d datagrams, want %d", len(have), len(want))
	}
	for i := range min(len(want), len(have)) {
		if want[i] != have[i] {
			t.Errorf("datagram %d:\n got %v\nwant %v", i, have[i], want[i])
			return
		}
	}
}

// wantErr checks err is an *Error wrapping sentinel at offset off.
func wantErr(t *testing.T, err, sentinel error, off int64) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *replay.Error", err, err)
	}
	if !errors.Is(err, sentinel) {
		t.Errorf("error %q does not wrap %q", err, sentinel)
	}
	if e.Offset != off {
		t.Errorf("error %q at offset %d, want %d", err, e.Offset, off)
	}
}
