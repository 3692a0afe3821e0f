package replay

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"net/netip"

	"github.com/tickwire/tickwire/internal/invariants"
)

// Datagram is one UDP datagram read from a capture. It is a plain value;
// its Payload shares the reader's buffer (see below), so a Datagram must not
// be used concurrently with its reader's Next.
type Datagram struct {
	// Time is the capture timestamp in nanoseconds since the Unix epoch.
	// A pcapng Simple Packet Block has none: it gets the time of the
	// previous timestamped record of the file (0 if there is none).
	Time int64
	// Src and Dst are the IP addresses (IPv4 or IPv6, no zone) and UDP ports.
	Src, Dst netip.AddrPort
	// Payload is the UDP payload, bounded by the IP and UDP lengths (never by
	// the captured length, which may include padding, FCS or trailers). It
	// aliases the reader's buffer and is valid until the next call to Next
	// on the reader that returned it; its capacity is cut to its length.
	Payload []byte
	// Offset is the file offset of the packet record (pcap) or block
	// (pcapng) holding the datagram.
	Offset int64
	// Interface is the pcapng interface index within its section (0 for
	// classic pcap).
	Interface int
}

// Stats counts the packet records a PacketReader has read, by what became of
// them: Records = Datagrams + the sum of the skipped kinds (ARP through
// ChecksumDrops). A Stats is a plain value, a snapshot taken by Stats().
//
// Checksums are verified for every UDP datagram the capture holds whole (a
// record cut short of its IP datagram is counted in Truncated and never
// verified): the IPv4 header's always, the UDP checksum with
// Options.VerifyChecksums only. BadIPChecksum and BadUDPChecksum count
// failures, whether the datagrams were kept (the default) or dropped
// (Options.VerifyChecksums).
type Stats struct {
	Records   uint64 // packet records read (pcap records; pcapng EPB, SPB, PB)
	Bytes     uint64 // captured bytes of those records
	Datagrams uint64 // UDP datagrams returned by Next
	ARP       uint64 // ARP frames
	LLC       uint64 // IEEE 802.3 frames (length field instead of EtherType)
	OtherLink uint64 // other EtherTypes, SLL protocols, NULL/LOOP families
	TCP       uint64 // TCP segments
	ICMP      uint64 // ICMP and ICMPv6
	IGMP      uint64 // IGMP
	OtherIP   uint64 // other IP protocols, ESP, No Next Header
	Fragments uint64 // IPv4/IPv6 fragments, skipped (never reassembled)
	Truncated uint64 // records cut before the end of their IP or UDP datagram
	Malformed uint64 // records whose IP or UDP header fields are inconsistent
	Blocks    uint64 // pcapng blocks skipped (NRB, ISB, DSB, custom, unknown)

	ChecksumDrops          uint64 // datagrams dropped for a bad checksum (Options.VerifyChecksums)
	BadIPChecksum          uint64 // UDP datagrams with a wrong IPv4 header checksum (UDP then not checked)
	BadUDPChecksum         uint64 // UDP datagrams with a wrong UDP checksum (0 over IPv6 included)
	FirstBadChecksumOffset int64  // file offset of the first record counted in the two above; 0 if none
}

// Block types of pcapng (§7.2 of PROTOCOLS.md).
const (
	blockSHB = 0x0A0D0D0A
	blockIDB = 1
	blockPB  = 2
	blockSPB = 3
	blockEPB = 6
)

// maxInterfaces bounds the interface table of one pcapng section.
const maxInterfaces = 1 << 16

// iface is one pcapng interface (or the single link of a classic pcap).
type iface struct {
	link linkType
	snap uint32 // 0 = no limit
	ts   tsconv
}

// tsconv converts a timestamp count in interface units to ns since the epoch.
type tsconv struct {
	mul   uint64 // decimal resolution 10^-n, n <= 9: ns = count * mul
	div   uint64 // decimal resolution 10^-n, n > 9: ns = count / div
	shift uint8  // binary resolution 2^-shift: ns = count * 1e9 >> shift
	bin   bool
	off   int64 // if_tsoffset in ns
}

var pow10 = [...]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// newTSConv returns the converter for an if_tsresol value and an if_tsoffset
// in seconds; ok is false if either cannot be represented.
func newTSConv(resol uint8, offSec int64) (tsconv, bool) {
	var c tsconv
	if resol&0x80 != 0 {
		c.bin, c.shift = true, resol&0x7F
	} else {
		switch n := int(resol); {
		case n <= 9:
			c.mul = pow10[9-n]
		case n < len(pow10)+9:
			c.div = pow10[n-9]
		default:
			return c, false
		}
	}
	const maxSec = 1<<63/1_000_000_000 - 1
	if offSec > maxSec || offSec < -maxSec {
		return c, false
	}
	c.off = offSec * 1_000_000_000
	return c, true
}

// ns converts a timestamp count; ok is false if the result overflows int64.
func (c *tsconv) ns(t uint64) (int64, bool) {
	var v uint64
	switch {
	case c.bin:
		hi, lo := bits.Mul64(t, 1_000_000_000)
		switch s := c.shift; {
		case s == 0:
			if hi != 0 {
				return 0, false
			}
			v = lo
		case s < 64:
			if hi>>s != 0 {
				return 0, false
			}
			v = hi<<(64-s) | lo>>s
		default:
			v = hi >> (s - 64)
		}
	case c.div != 0:
		v = t / c.div
	default:
		hi, lo := bits.Mul64(t, c.mul)
		if hi != 0 {
			return 0, false
		}
		v = lo
	}
	if v > 1<<63-1 {
		return 0, false
	}
	r := int64(v) + c.off
	if c.off < 0 && r > int64(v) || c.off > 0 && r < int64(v) {
		return 0, false
	}
	return r, true
}

// PacketReader reads the UDP datagrams of a classic pcap or pcapng capture,
// streamed through one reused buffer. Other traffic is skipped and counted
// in Stats. Link types: ETHERNET 1, NULL 0, LOOP 108, RAW 101 (and the
// legacy 12, 14), IPV4 228, IPV6 229, LINUX_SLL 113, LINUX_SLL2 276; any
// other is an ErrLinkType error at the offset of the file header or of the
// Interface Description Block declaring it. Obtain a PacketReader from
// File.Packets. A PacketReader is not safe for concurrent use.
type PacketReader struct {
	s    stream
	path string
	err  error // sticky: io.EOF or *Error
	ng   bool  // pcapng, else classic pcap
	be   bool  // byte order of the file (pcap) or current section (pcapng)

	// classic pcap
	nanos bool   // fraction is ns, else µs
	ifc   iface  // the file's link
	frac  uint32 // 1e6 or 1e9

	// pcapng
	ifaces   []iface // interfaces of the current section
	lastTime int64   // time of the previous timestamped record, for SPB

	stats  [numKinds]uint64
	bytes  uint64
	blocks uint64

	opts         Options
	badIP        uint64
	badUDP       uint64
	firstBadCsum int64
}

// record is one packet record before link-layer decoding.
type record struct {
	frame []byte
	time  int64
	off   int64
	iface int
	link  linkType
}

// Path returns the path the reader reports in its errors.
func (r *PacketReader) Path() string { return r.path }

// Stats returns the counts so far.
func (r *PacketReader) Stats() Stats {
	st := Stats{
		Bytes:     r.bytes,
		Datagrams: r.stats[kindUDP],
		ARP:       r.stats[kindARP],
		LLC:       r.stats[kindLLC],
		OtherLink: r.stats[kindOtherLink],
		TCP:       r.stats[kindTCP],
		ICMP:      r.stats[kindICMP],
		IGMP:      r.stats[kindIGMP],
		OtherIP:   r.stats[kindOtherIP],
		Fragments: r.stats[kindFragment],
		Truncated: r.stats[kindTruncated],
		Malformed: r.stats[kindMalformed],
		Blocks:    r.blocks,

		ChecksumDrops:          r.stats[kindBadChecksum],
		BadIPChecksum:          r.badIP,
		BadUDPChecksum:         r.badUDP,
		FirstBadChecksumOffset: r.firstBadCsum,
	}
	for _, n := range r.stats {
		st.Records += n
	}
	return st
}

// Next stores the next UDP datagram in d, skipping and counting other
// records. It returns io.EOF after the last record, or an *Error naming the
// offset of a header, record or block that cannot be read; errors are
// sticky. d.Payload aliases the reader's buffer until the next call.
// Checksums are verified as Stats says; with Options.VerifyChecksums a
// datagram failing them is skipped, and d may then hold its addresses.
func (r *PacketReader) Next(d *Datagram) error {
	for {
		var rec record
		if err := r.next(&rec); err != nil {
			return err
		}
		var h headers
		k := decodeFrame(rec.link, r.be, rec.frame, d, &h)
		if k == kindUDP && r.badChecksum(&h, rec.off) && r.opts.VerifyChecksums {
			k = kindBadChecksum
		}
		r.stats[k]++
		r.bytes += uint64(len(rec.frame))
		if k == kindUDP {
			if invariants.Enabled && (len(d.Payload) > len(rec.frame) || cap(d.Payload) != len(d.Payload)) {
				panic(fmt.Sprintf("replay: payload of %d bytes from a %d-byte frame", len(d.Payload), len(rec.frame)))
			}
			d.Time = rec.time
			d.Offset = rec.off
			d.Interface = rec.iface
			return nil
		}
	}
}

// badChecksum verifies the checksums of a datagram of the record at off,
// counting a failure.
func (r *PacketReader) badChecksum(h *headers, off int64) bool {
	switch h.verify(r.opts.VerifyChecksums) {
	case checksumOK:
		return false
	case checksumBadIP:
		r.badIP++
	default:
		r.badUDP++
	}
	if r.badIP+r.badUDP == 1 {
		r.firstBadCsum = off
	}
	return true
}

// next reads the next packet record of either format, without decoding it.
func (r *PacketReader) next(rec *record) error {
	if r.err != nil {
		return r.err
	}
	var err error
	if r.ng {
		err = r.nextBlock(rec)
	} else {
		err = r.nextRecord(rec)
	}
	if err != nil {
		r.err = err
	}
	return err
}

func (r *PacketReader) u16(b []byte) uint16 {
	if r.be {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (r *PacketReader) u32(b []byte) uint32 {
	if r.be {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// readErr converts an error of stream.ensure or skip at offset off into the
// reader's error: what is the end of a well-formed file becomes io.EOF
// (only when atBoundary), a short read becomes ErrTruncated naming what.
func (r *PacketReader) readErr(err error, off int64, atBoundary bool, what string) error {
	switch err {
	case io.EOF:
		if atBoundary {
			return io.EOF
		}
		fallthrough
	case io.ErrUnexpectedEOF:
		return errorf(r.path, off, ErrTruncated, "replay: %s runs past end of file", what)
	}
	return &Error{Path: r.path, Offset: off, Err: err}
}

// Classic pcap magic numbers as read little-endian from the first 4 bytes.
const (
	magicLEMicro = 0xA1B2C3D4 // D4 C3 B2 A1
	magicBEMicro = 0xD4C3B2A1 // A1 B2 C3 D4
	magicLENano  = 0xA1B23C4D // 4D 3C B2 A1
	magicBENano  = 0x4D3CB2A1 // A1 B2 3C 4D
	magicPatchLE = 0xA1B2CD34 // 34 CD B2 A1
	magicPatchBE = 0x34CDB2A1 // A1 B2 CD 34
	magicNG      = blockSHB   // 0A 0D 0D 0A
)

// readPcapHeader reads the 24-byte classic pcap file header.
func (r *PacketReader) readPcapHeader() error {
	s := &r.s
	if err := s.ensure(24); err != nil {
		return r.readErr(err, 0, false, "pcap file header")
	}
	h := s.buf[s.pos : s.pos+24]
	switch binary.LittleEndian.Uint32(h) {
	case magicLEMicro:
	case magicBEMicro:
		r.be = true
	case magicLENano:
		r.nanos = true
	case magicBENano:
		r.be, r.nanos = true, true
	default:
		return errorf(r.path, 0, ErrFormat, "replay: bad pcap magic % x", h[:4])
	}
	r.frac = 1_000_000
	if r.nanos {
		r.frac = 1_000_000_000
	}
	major, minor := r.u16(h[4:]), r.u16(h[6:])
	if major != 2 {
		return errorf(r.path, 0, ErrHeader, "replay: unsupported pcap version %d.%d", major, minor)
	}
	r.ifc.snap = r.u32(h[16:])
	lt := r.u32(h[20:])
	if lt&0x03FF0000 != 0 {
		return errorf(r.path, 0, ErrHeader, "replay: reserved bits set in pcap link type field %#08x", lt)
	}
	link, ok := linkFor(lt & 0xFFFF)
	if !ok {
		return errorf(r.path, 0, ErrLinkType, "replay: unsupported link type %d", lt&0xFFFF)
	}
	r.ifc.link = link
	s.pos += 24
	return nil
}

// nextRecord reads one classic pcap packet record.
func (r *PacketReader) nextRecord(rec *record) error {
	s := &r.s
	off := s.offset()
	if s.end-s.pos < 16 {
		if err := s.fill(16); err != nil {
			return r.readErr(err, off, true, "record header")
		}
	}
	h := s.buf[s.pos : s.pos+16]
	sec, frac, caplen := r.u32(h), r.u32(h[4:]), r.u32(h[8:])
	if frac >= r.frac {
		return errorf(r.path, off, ErrTimestamp, "replay: timestamp fraction %d out of range (must be below %d)", frac, r.frac)
	}
	if r.ifc.snap != 0 && caplen > r.ifc.snap {
		return errorf(r.path, off, ErrSnapLen, "replay: record length %d exceeds snapshot length %d", caplen, r.ifc.snap)
	}
	if caplen > MaxRecord {
		return errorf(r.path, off, ErrTooLarge, "replay: record length %d exceeds limit %d", caplen, MaxRecord)
	}
	n := 16 + int(caplen)
	if s.end-s.pos < n {
		if err := s.fill(n); err != nil {
			return r.readErr(err, off, false, fmt.Sprintf("record of %d bytes", caplen))
		}
	}
	t := int64(sec) * 1_000_000_000
	if r.nanos {
		t += int64(frac)
	} else {
		t += int64(frac) * 1000
	}
	rec.frame = s.buf[s.pos+16 : s.pos+n : s.pos+n]
	rec.time = t
	rec.off = off
	rec.iface = 0
	rec.link = r.ifc.link
	s.pos += n
	return nil
}

// readSHB reads a Section Header Block at the current position: it sets the
// section's byte order and clears its interface table.
func (r *PacketReader) readSHB() error {
	s := &r.s
	off := s.offset()
	if err := s.ensure(16); err != nil {
		return r.readErr(err, off, false, "section header block")
	}
	h := s.buf[s.pos : s.pos+16]
	switch binary.BigEndian.Uint32(h[8:]) {
	case 0x1A2B3C4D:
		r.be = true
	case 0x4D3C2B1A:
		r.be = false
	default:
		return errorf(r.path, off, ErrHeader, "replay: bad pcapng byte-order magic % x", h[8:12])
	}
	total := r.u32(h[4:])
	if total < 28 || total%4 != 0 {
		return errorf(r.path, off, ErrBlockLength, "replay: section header block length %d (must be a multiple of 4, at least 28)", total)
	}
	major, minor := r.u16(h[12:]), r.u16(h[14:])
	if major != 1 || minor != 0 && minor != 2 {
		return errorf(r.path, off, ErrHeader, "replay: unsupported pcapng version %d.%d", major, minor)
	}
	// The options (hardware, OS, application) are not needed: skip them.
	if err := s.skip(int64(total) - 4); err != nil {
		return r.readErr(err, off, false, "section header block")
	}
	if err := r.trailer(off, total); err != nil {
		return err
	}
	r.ifaces = r.ifaces[:0]
	return nil
}

// trailer consumes and checks the trailing Block Total Length of a block
// whose other bytes were consumed.
func (r *PacketReader) trailer(off int64, total uint32) error {
	s := &r.s
	if err := s.ensure(4); err != nil {
		return r.readErr(err, off, false, "block")
	}
	if t := r.u32(s.buf[s.pos:]); t != total {
		return errorf(r.path, off, ErrBlockLength, "replay: trailing block length %d differs from leading %d", t, total)
	}
	s.pos += 4
	return nil
}

// nextBlock reads pcapng blocks up to and including the next packet block.
func (r *PacketReader) nextBlock(rec *record) error {
	s := &r.s
	for {
		off := s.offset()
		if s.end-s.pos < 8 {
			if err := s.fill(8); err != nil {
				return r.readErr(err, off, true, "block header")
			}
		}
		typ := r.u32(s.buf[s.pos:])
		if typ == blockSHB {
			if err := r.readSHB(); err != nil {
				return err
			}
			continue
		}
		total := r.u32(s.buf[s.pos+4:])
		if total < 12 || total%4 != 0 {
			return errorf(r.path, off, ErrBlockLength, "replay: block type %#x length %d (must be a multiple of 4, at least 12)", typ, total)
		}
		switch typ {
		case blockEPB, blockSPB, blockPB, blockIDB:
		default:
			r.blocks++
			if err := s.skip(int64(total) - 4); err != nil {
				return r.readErr(err, off, false, fmt.Sprintf("block type %#x of %d bytes", typ, total))
			}
			if err := r.trailer(off, total); err != nil {
				return err
			}
			continue
		}
		if total > maxBufSize {
			return errorf(r.path, off, ErrTooLarge, "replay: block type %#x length %d exceeds limit %d", typ, total, maxBufSize)
		}
		n := int(total)
		if s.end-s.pos < n {
			if err := s.fill(n); err != nil {
				return r.readErr(err, off, false, fmt.Sprintf("block type %#x of %d bytes", typ, total))
			}
		}
		b := s.buf[s.pos : s.pos+n : s.pos+n]
		if t := r.u32(b[n-4:]); t != total {
			return errorf(r.path, off, ErrBlockLength, "replay: trailing block length %d differs from leading %d", t, total)
		}
		s.pos += n
		if typ == blockIDB {
			if err := r.addInterface(b, off); err != nil {
				return err
			}
			continue
		}
		return r.packetBlock(typ, b, off, rec)
	}
}

// addInterface parses an Interface Description Block b at offset off.
func (r *PacketReader) addInterface(b []byte, off int64) error {
	if len(b) < 20 {
		return errorf(r.path, off, ErrBlock, "replay: interface description block of %d bytes (minimum 20)", len(b))
	}
	if len(r.ifaces) >= maxInterfaces {
		return errorf(r.path, off, ErrBlock, "replay: more than %d interfaces in one section", maxInterfaces)
	}
	lt := r.u16(b[8:])
	link, ok := linkFor(uint32(lt))
	if !ok {
		return errorf(r.path, off, ErrLinkType, "replay: unsupported link type %d (interface %d)", lt, len(r.ifaces))
	}
	resol, tsoff := uint8(6), int64(0)
	opts := b[16 : len(b)-4]
	for len(opts) >= 4 {
		code, n := r.u16(opts), int(r.u16(opts[2:]))
		if code == 0 { // opt_endofopt
			break
		}
		if 4+n > len(opts) {
			return errorf(r.path, off, ErrBlock, "replay: interface option %d of %d bytes runs past the block", code, n)
		}
		v := opts[4 : 4+n]
		switch code {
		case 9: // if_tsresol
			if n != 1 {
				return errorf(r.path, off, ErrBlock, "replay: if_tsresol of %d bytes", n)
			}
			resol = v[0]
		case 14: // if_tsoffset
			if n != 8 {
				return errorf(r.path, off, ErrBlock, "replay: if_tsoffset of %d bytes", n)
			}
			if r.be {
				tsoff = int64(binary.BigEndian.Uint64(v))
			} else {
				tsoff = int64(binary.LittleEndian.Uint64(v))
			}
		}
		opts = opts[min(len(opts), 4+(n+3)&^3):]
	}
	ts, ok := newTSConv(resol, tsoff)
	if !ok {
		return errorf(r.path, off, ErrBlock, "replay: unsupported if_tsresol %#x or if_tsoffset %d", resol, tsoff)
	}
	r.ifaces = append(r.ifaces, iface{link: link, snap: r.u32(b[12:]), ts: ts})
	return nil
}

// packetBlock decodes an EPB, SPB or PB b of type typ at offset off.
func (r *PacketReader) packetBlock(typ uint32, b []byte, off int64, rec *record) error {
	var id int
	var caplen uint32
	var data int // offset of packet data in b
	var ts uint64
	switch typ {
	case blockEPB, blockPB:
		if len(b) < 32 {
			return errorf(r.path, off, ErrBlock, "replay: packet block of %d bytes (minimum 32)", len(b))
		}
		if typ == blockEPB {
			id = int(r.u32(b[8:]))
		} else {
			id = int(r.u16(b[8:]))
		}
		ts = uint64(r.u32(b[12:]))<<32 | uint64(r.u32(b[16:]))
		caplen = r.u32(b[20:])
		data = 28
	case blockSPB:
		if len(b) < 16 {
			return errorf(r.path, off, ErrBlock, "replay: simple packet block of %d bytes (minimum 16)", len(b))
		}
		caplen = r.u32(b[8:])
		if len(r.ifaces) > 0 && r.ifaces[0].snap != 0 {
			caplen = min(caplen, r.ifaces[0].snap)
		}
		data = 12
	}
	if id < 0 || id >= len(r.ifaces) {
		return errorf(r.path, off, ErrInterface, "replay: packet on interface %d, section defines %d", uint32(id), len(r.ifaces))
	}
	ifc := &r.ifaces[id]
	if uint64(caplen) > uint64(len(b)-data-4) {
		return errorf(r.path, off, ErrBlock, "replay: captured length %d exceeds block of %d bytes", caplen, len(b))
	}
	if ifc.snap != 0 && caplen > ifc.snap {
		return errorf(r.path, off, ErrSnapLen, "replay: record length %d exceeds snapshot length %d", caplen, ifc.snap)
	}
	if typ == blockSPB {
		rec.time = r.lastTime
	} else {
		t, ok := ifc.ts.ns(ts)
		if !ok {
			return errorf(r.path, off, ErrTimestamp, "replay: timestamp %d of interface %d is not representable in ns", ts, id)
		}
		rec.time = t
		r.lastTime = t
	}
	end := data + int(caplen)
	rec.frame = b[data:end:end]
	rec.off = off
	rec.iface = id
	rec.link = ifc.link
	return nil
}
