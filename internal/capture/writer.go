package capture

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"
	"net/netip"
)

// pcap and pcapng constants (PROTOCOLS.md §7.1, §7.2).
const (
	pcapMagicMicro = 0xA1B2C3D4
	pcapMagicNano  = 0xA1B23C4D
	pcapFCSBits    = 0x04000000 | 2<<28 // FCS present, 2 16-bit words

	ngSHB      = 0x0A0D0D0A
	ngIDB      = 1
	ngPB       = 2
	ngSPB      = 3
	ngNRB      = 4
	ngISB      = 5
	ngEPB      = 6
	ngDSB      = 0x0A
	ngCustom   = 0x00000BAD
	ngCustomNC = 0x40000BAD // custom, not to be copied
	ngLocal    = 0x80001234 // a local (top bit) block type
	ngMagic    = 0x1A2B3C4D

	optEnd        = 0
	optComment    = 1
	optCustomStr  = 2988
	optCustomBin  = 2989
	optUnknown    = 0x7F01
	shbHardware   = 2
	shbOS         = 3
	shbUserAppl   = 4
	ifName        = 2
	ifDescription = 3
	ifTSResol     = 9
	ifFCSLen      = 13
	ifTSOffset    = 14
	epbFlags      = 2
	epbDropCount  = 4
	isbIfRecv     = 4

	// examplePEN is the IANA Private Enterprise Number reserved for
	// documentation (RFC 5612), used in custom blocks and options.
	examplePEN = 32473

	flushAt = 1 << 20

	nsPerSec int64 = 1e9
)

// byteOrder is what binary.LittleEndian and binary.BigEndian both implement.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// clock converts nanoseconds since the epoch to one interface's timestamp
// units (if_tsresol, if_tsoffset).
type clock struct {
	offset int64  // if_tsoffset in ns
	div    uint64 // decimal resolution coarser than or equal to 1 ns
	mul    uint64 // decimal resolution finer than 1 ns
	shift  uint   // binary resolution 2^-shift
	binary bool
}

func newClock(in Interface) (clock, error) {
	var c clock
	if in.TSOffset > math.MaxInt64/nsPerSec || in.TSOffset < math.MinInt64/nsPerSec {
		return c, fmt.Errorf("%w: if_tsoffset %d", ErrForm, in.TSOffset)
	}
	c.offset = in.TSOffset * 1e9
	r := in.TSResol
	if r == 0 {
		r = ResolMicro
	}
	if r&0x80 != 0 {
		c.binary = true
		c.shift = uint(r & 0x7F)
		if c.shift > 63 {
			return c, fmt.Errorf("%w: if_tsresol 2^-%d", ErrForm, c.shift)
		}
		return c, nil
	}
	if r > 19 {
		return c, fmt.Errorf("%w: if_tsresol 10^-%d", ErrForm, r)
	}
	p := uint64(1)
	if r <= 9 {
		for i := r; i < 9; i++ {
			p *= 10
		}
		c.div = p
		return c, nil
	}
	for i := byte(9); i < r; i++ {
		p *= 10
	}
	c.mul = p
	return c, nil
}

// units returns the timestamp count for ts (ns since the epoch).
func (c *clock) units(ts int64) (uint64, error) {
	rel := ts - c.offset
	if (c.offset > 0 && rel > ts) || (c.offset < 0 && rel < ts) || rel < 0 {
		return 0, fmt.Errorf("%w: %d ns with if_tsoffset %d s", ErrTimestamp, ts, c.offset/1e9)
	}
	n := uint64(rel)
	switch {
	case c.binary:
		hi, lo := bits.Mul64(n, 1<<c.shift)
		if hi >= 1e9 {
			return 0, fmt.Errorf("%w: %d ns at 2^-%d", ErrTimestamp, ts, c.shift)
		}
		q, r := bits.Div64(hi, lo, 1e9)
		if r != 0 && c.shift >= 30 {
			q++ // finer than 1 ns: round up so that a floor converts back exactly
		}
		return q, nil
	case c.mul != 0:
		hi, lo := bits.Mul64(n, c.mul)
		if hi != 0 {
			return 0, fmt.Errorf("%w: %d ns overflows the resolution", ErrTimestamp, ts)
		}
		return lo, nil
	}
	return n / c.div, nil
}

// Writer writes one capture file of a Form to an io.Writer through its own
// 1 MiB buffer; call Flush at the end. Records are written in call order with
// the timestamps given (the caller keeps them in the order it wants). After a
// write error every method returns that error. Not safe for concurrent use.
type Writer struct {
	out    io.Writer
	form   Form
	ifaces []Interface
	clocks []clock
	fr     framer
	noise  noiseState

	buf     []byte
	scratch []byte
	written int64 // bytes handed to out
	records int64

	// pcapng section state.
	bo             byteOrder
	bigEndian      bool
	declared       int // IDBs written in this section
	sectionPackets int
	sections       int
	junkSeq        int
	sinceJunk      int
	mixedToggle    bool
	err            error
}

// NewWriter validates f and returns a Writer on out with the file header
// (pcap) or the first section header and interfaces (pcapng) buffered.
func NewWriter(out io.Writer, f Form) (*Writer, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	w := &Writer{out: out, form: f, buf: make([]byte, 0, flushAt+64<<10)}
	w.fr = framer{form: &w.form, ipID: 0x1000}
	w.ifaces = w.form.interfaces()
	w.clocks = make([]clock, len(w.ifaces))
	for i, in := range w.ifaces {
		c, err := newClock(in)
		if err != nil {
			return nil, err
		}
		w.clocks[i] = c
	}
	w.bigEndian = f.BigEndian
	w.setOrder()
	if f.File == Pcap {
		w.pcapHeader()
	} else {
		w.section()
	}
	return w, nil
}

func (w *Writer) setOrder() {
	if w.bigEndian {
		w.bo = binary.BigEndian
	} else {
		w.bo = binary.LittleEndian
	}
}

// Form returns the Form the Writer was created with.
func (w *Writer) Form() Form { return w.form }

// Records returns the number of records (packets) written, noise included.
func (w *Writer) Records() int64 { return w.records }

// Bytes returns the file size so far, buffered bytes included.
func (w *Writer) Bytes() int64 { return w.written + int64(len(w.buf)) }

// Flush writes the buffered bytes to the underlying writer. It does not
// close it.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if len(w.buf) > 0 {
		n, err := w.out.Write(w.buf)
		w.written += int64(n)
		w.buf = w.buf[:0]
		if err != nil {
			w.err = err
			return err
		}
	}
	return nil
}

func (w *Writer) maybeFlush() error {
	if len(w.buf) >= flushAt {
		return w.Flush()
	}
	return nil
}

func (w *Writer) u16(v uint16) { w.buf = w.bo.AppendUint16(w.buf, v) }
func (w *Writer) u32(v uint32) { w.buf = w.bo.AppendUint32(w.buf, v) }

func (w *Writer) pcapHeader() {
	magic := uint32(pcapMagicMicro)
	if w.form.Nano {
		magic = pcapMagicNano
	}
	w.u32(magic)
	w.u16(2)
	w.u16(4)
	w.u32(0)
	w.u32(0)
	w.u32(w.form.snapLen())
	lt := uint32(w.form.Link)
	if w.form.FCS {
		lt |= pcapFCSBits
	}
	w.u32(lt)
}

// beginBlock appends a block type and a placeholder length; endBlock pads
// the body, appends the trailing length and fills in the leading one.
func (w *Writer) beginBlock(typ uint32) int {
	start := len(w.buf)
	w.u32(typ)
	w.u32(0)
	return start
}

func (w *Writer) endBlock(start int) {
	w.pad4()
	total := uint32(len(w.buf) - start + 4)
	w.bo.PutUint32(w.buf[start+4:], total)
	w.u32(total)
}

func (w *Writer) pad4() {
	for len(w.buf)%4 != 0 {
		w.buf = append(w.buf, 0)
	}
}

// option appends one TLV option, value padded to 4 bytes. Alignment of the
// body relative to the block start holds because the buffer positions of
// block starts are multiples of 4.
func (w *Writer) option(code uint16, v []byte) {
	w.u16(code)
	w.u16(uint16(len(v)))
	w.buf = append(w.buf, v...)
	w.pad4()
}

func (w *Writer) optU64(code uint16, v uint64) {
	w.u16(code)
	w.u16(8)
	w.buf = w.bo.AppendUint64(w.buf, v)
}

func (w *Writer) optU32(code uint16, v uint32) {
	w.u16(code)
	w.u16(4)
	w.u32(v)
}

// optCustom appends a custom option: Private Enterprise Number, then data.
func (w *Writer) optCustom(code uint16, data string) {
	w.u16(code)
	w.u16(uint16(4 + len(data)))
	w.u32(examplePEN)
	w.buf = append(w.buf, data...)
	w.pad4()
}

// optString appends an option whose value is a string.
func (w *Writer) optString(code uint16, v string) {
	w.u16(code)
	w.u16(uint16(len(v)))
	w.buf = append(w.buf, v...)
	w.pad4()
}

// optEnd appends opt_endofopt, except that with Junk every other list is
// left without it (allowed: the list also ends at the block's end).
func (w *Writer) optEnd() {
	if w.form.Junk {
		w.junkSeq++
		if w.junkSeq%2 == 0 {
			return
		}
	}
	w.u32(0)
}

// section appends a Section Header Block and, unless lazy, every IDB.
func (w *Writer) section() {
	// Block starts must stay 4-aligned in the buffer for option padding.
	start := w.beginBlock(ngSHB)
	w.u32(ngMagic)
	w.u16(1)
	w.u16(0)
	w.buf = w.bo.AppendUint64(w.buf, math.MaxUint64) // section length -1: unknown
	if w.form.Junk {
		w.optString(optComment, fmt.Sprintf("section %d written by tickwire internal/capture", w.sections))
		w.optString(shbHardware, "x86_64")
		w.optString(shbOS, "Linux 6.8")
		w.optCustom(optCustomStr, "tickwire junk")
		w.option(optUnknown, []byte{1, 2, 3})
	}
	w.optString(shbUserAppl, "tickwire")
	w.optEnd()
	w.endBlock(start)
	w.sections++
	w.declared = 0
	w.sectionPackets = 0
	if !w.form.LazyInterfaces {
		for w.declared < len(w.ifaces) {
			w.idb(w.declared)
		}
	}
}

func (w *Writer) idb(i int) {
	in := w.ifaces[i]
	start := w.beginBlock(ngIDB)
	w.u16(uint16(w.form.Link))
	w.u16(0)
	w.u32(w.form.snapLen())
	if in.Name != "" {
		w.optString(ifName, in.Name)
	}
	if w.form.Junk {
		w.optString(ifDescription, "feed capture NIC")
		w.optString(optComment, "interface comment")
		w.optCustom(optCustomBin, "\x00\x01\x02")
		w.option(optUnknown+1, []byte{9, 9, 9, 9, 9})
	}
	if in.TSResol != 0 {
		w.option(ifTSResol, []byte{in.TSResol})
	}
	if in.TSOffset != 0 {
		w.optU64(ifTSOffset, uint64(in.TSOffset))
	}
	if w.form.FCS {
		w.option(ifFCSLen, []byte{fcsLen})
	}
	w.optEnd()
	w.endBlock(start)
	w.declared++
}

// NewSection starts a new pcapng section: a Section Header Block (in the
// other byte order when Form.FlipByteOrder) followed by the interfaces again,
// whose IDs restart at 0. Classic pcap files have one section: it returns
// ErrForm.
func (w *Writer) NewSection() error {
	if w.err != nil {
		return w.err
	}
	if w.form.File != PcapNG {
		return fmt.Errorf("%w: sections in classic pcap", ErrForm)
	}
	if w.form.FlipByteOrder {
		w.bigEndian = !w.bigEndian
		w.setOrder()
	}
	w.section()
	return w.maybeFlush()
}

// junk appends one skippable block, cycling through the kinds.
func (w *Writer) junk() {
	w.junkSeq++
	switch w.junkSeq % 6 {
	case 0: // Name Resolution Block: one IPv4 record, end of records.
		start := w.beginBlock(ngNRB)
		name := "feed-a.example\x00"
		w.u16(1)
		w.u16(uint16(4 + len(name)))
		w.buf = append(w.buf, 233, 54, 12, 111)
		w.buf = append(w.buf, name...)
		w.pad4()
		w.u16(0)
		w.u16(0)
		w.optEnd()
		w.endBlock(start)
	case 1: // Interface Statistics Block for interface 0.
		if w.declared == 0 {
			w.idb(0)
		}
		start := w.beginBlock(ngISB)
		w.u32(0)
		w.u32(0)
		w.u32(0)
		w.optU64(isbIfRecv, uint64(w.records))
		w.optEnd()
		w.endBlock(start)
	case 2: // Decryption Secrets Block (TLS key log).
		start := w.beginBlock(ngDSB)
		secret := "CLIENT_RANDOM 00 00\n"
		w.u32(0x544C534B)
		w.u32(uint32(len(secret)))
		w.buf = append(w.buf, secret...)
		w.pad4()
		w.endBlock(start)
	case 3, 4: // Custom blocks, copyable and not.
		typ := uint32(ngCustom)
		if w.junkSeq%6 == 4 {
			typ = ngCustomNC
		}
		start := w.beginBlock(typ)
		w.u32(examplePEN)
		w.buf = append(w.buf, "custom data, skip me"...)
		w.endBlock(start)
	default: // A local block type nobody knows.
		start := w.beginBlock(ngLocal)
		w.buf = append(w.buf, 1, 2, 3, 4, 5)
		w.endBlock(start)
	}
}

// pending describes the record begun by begin and completed by end.
type pending struct {
	start int    // buffer offset of the record header
	hdr   int    // header length
	kind  uint32 // pcapng block type; 0 for classic pcap
	iface int
	units uint64 // pcapng timestamp units
	sec   uint32 // pcap seconds
	frac  uint32 // pcap fraction
}

// begin checks the interface and timestamp, writes whatever must precede the
// record (section, IDBs, junk) and reserves the record header. The caller
// appends the frame to w.buf and calls end, or restores w.buf[:p.start].
func (w *Writer) begin(iface int, ts int64) (pending, error) {
	var p pending
	if w.err != nil {
		return p, w.err
	}
	if iface < 0 || iface >= len(w.ifaces) {
		return p, fmt.Errorf("%w: %d", ErrInterface, iface)
	}
	p.iface = iface
	if w.form.File == Pcap {
		if ts < 0 || ts/nsPerSec > math.MaxUint32 {
			return p, fmt.Errorf("%w: %d ns in classic pcap", ErrTimestamp, ts)
		}
		p.sec = uint32(ts / nsPerSec)
		p.frac = uint32(ts % nsPerSec)
		if !w.form.Nano {
			p.frac /= 1000
		}
		p.hdr = 16
		p.start = len(w.buf)
		w.buf = append(w.buf, make([]byte, p.hdr)...)
		return p, nil
	}
	if w.form.SectionEvery > 0 && w.sectionPackets >= w.form.SectionEvery {
		if w.form.FlipByteOrder {
			w.bigEndian = !w.bigEndian
			w.setOrder()
		}
		w.section()
	}
	for w.declared <= iface {
		w.idb(w.declared)
	}
	units, err := w.clocks[iface].units(ts)
	if err != nil {
		return p, err
	}
	p.units = units
	if w.form.Junk {
		w.sinceJunk++
		if w.sinceJunk >= 5 {
			w.sinceJunk = 0
			w.junk()
		}
	}
	p.kind = ngEPB
	switch w.form.Blocks {
	case PB:
		p.kind = ngPB
	case SPB:
		if iface == 0 {
			p.kind = ngSPB
		}
	case MixedBlocks:
		w.mixedToggle = !w.mixedToggle
		if !w.mixedToggle {
			p.kind = ngPB
		}
	}
	p.hdr = 28
	if p.kind == ngSPB {
		p.hdr = 12
	}
	p.start = len(w.buf)
	w.buf = append(w.buf, make([]byte, p.hdr)...)
	return p, nil
}

// end completes the record begun by p, whose frame now ends the buffer;
// extra is added to the original length (bytes not captured at all).
func (w *Writer) end(p pending, extra int) error {
	built := len(w.buf) - p.start - p.hdr
	capl := min(built, int(w.form.snapLen()))
	orig := built + extra
	w.buf = w.buf[:p.start+p.hdr+capl]
	w.records++
	if w.form.File == Pcap {
		h := w.buf[p.start:]
		w.bo.PutUint32(h[0:], p.sec)
		w.bo.PutUint32(h[4:], p.frac)
		w.bo.PutUint32(h[8:], uint32(capl))
		w.bo.PutUint32(h[12:], uint32(orig))
		return w.maybeFlush()
	}
	w.pad4()
	h := w.buf[p.start:]
	w.bo.PutUint32(h[0:], p.kind)
	switch p.kind {
	case ngSPB:
		w.bo.PutUint32(h[8:], uint32(orig))
	case ngEPB:
		w.bo.PutUint32(h[8:], uint32(p.iface))
		w.bo.PutUint32(h[12:], uint32(p.units>>32))
		w.bo.PutUint32(h[16:], uint32(p.units))
		w.bo.PutUint32(h[20:], uint32(capl))
		w.bo.PutUint32(h[24:], uint32(orig))
		if w.form.Junk {
			w.optU32(epbFlags, 1|2<<2) // inbound, multicast
			w.optString(optComment, "packet comment")
			w.optU64(epbDropCount, 0)
			w.option(optUnknown+2, []byte{7})
			w.optEnd()
		}
	case ngPB:
		w.bo.PutUint16(h[8:], uint16(p.iface))
		w.bo.PutUint16(h[10:], 0xFFFF)
		w.bo.PutUint32(h[12:], uint32(p.units>>32))
		w.bo.PutUint32(h[16:], uint32(p.units))
		w.bo.PutUint32(h[20:], uint32(capl))
		w.bo.PutUint32(h[24:], uint32(orig))
		if w.form.Junk {
			w.optString(optComment, "obsolete packet block")
			w.optEnd()
		}
	}
	total := uint32(len(w.buf) - p.start + 4)
	w.bo.PutUint32(w.buf[p.start+4:], total)
	w.u32(total)
	w.sectionPackets++
	return w.maybeFlush()
}

// ifindex is the SLL2 interface index written for interface i.
func ifindex(i int) uint32 { return uint32(i) + 2 }

// WriteUDP writes one frame carrying a UDP datagram from src to dst on
// interface 0, at ts nanoseconds since the Unix epoch. payload is copied.
func (w *Writer) WriteUDP(ts int64, src, dst netip.AddrPort, payload []byte) error {
	return w.WriteUDPOn(0, ts, src, dst, payload)
}

// WriteUDPOn is WriteUDP on pcapng interface iface.
func (w *Writer) WriteUDPOn(iface int, ts int64, src, dst netip.AddrPort, payload []byte) error {
	p, err := w.begin(iface, ts)
	if err != nil {
		return err
	}
	b, err := w.fr.appendUDP(w.buf, ifindex(iface), src, dst, payload)
	if err != nil {
		w.buf = w.buf[:p.start]
		return err
	}
	w.buf = b
	return w.end(p, 0)
}

// WriteFrame writes frame, already link-encapsulated for the Form's link
// type, as one record on interface iface; origLen is the length on the wire
// (less than len(frame) means len(frame)). The frame is copied.
func (w *Writer) WriteFrame(iface int, ts int64, frame []byte, origLen int) error {
	p, err := w.begin(iface, ts)
	if err != nil {
		return err
	}
	w.buf = append(w.buf, frame...)
	return w.end(p, max(origLen-len(frame), 0))
}

// WriteNoise writes one noise event of the given kind on interface 0 (two
// records for NoiseFragment, see Noise.Records); near is the feed's group and
// port, around which the noise is built.
func (w *Writer) WriteNoise(ts int64, kind Noise, near netip.AddrPort) error {
	return w.WriteNoiseOn(0, ts, kind, near)
}

// WriteNoiseOn is WriteNoise on pcapng interface iface.
func (w *Writer) WriteNoiseOn(iface int, ts int64, kind Noise, near netip.AddrPort) error {
	if w.err != nil {
		return w.err
	}
	if iface < 0 || iface >= len(w.ifaces) {
		return fmt.Errorf("%w: %d", ErrInterface, iface)
	}
	if !w.form.NoiseSupported(kind) {
		return fmt.Errorf("%w: %v on %v", ErrNoise, kind, w.form.Link)
	}
	var err error
	w.scratch, err = w.fr.noise(&w.noise, ifindex(iface), kind, near, w.scratch, func(frame []byte) error {
		return w.WriteFrame(iface, ts, frame, 0)
	})
	return err
}
