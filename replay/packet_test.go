package replay

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"testing"
	"testing/iotest"
)

// readers wraps content in the io.Readers a capture may arrive through.
var readers = []struct {
	name string
	wrap func([]byte) io.Reader
}{
	{"bytes", func(b []byte) io.Reader { return bytes.NewReader(b) }},
	{"onebyte", func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) }},
	{"half", func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) }},
	{"dataerr", func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) }},
}

// bufSizes exercise the straddling, compaction and growth paths.
var bufSizes = []int{64, 300, 4096, defaultBufSize}

// mixedTraffic returns frames of a typical capture: feed datagrams among
// other traffic, and the datagrams a reader must yield.
func mixedTraffic(n int) (frames [][]byte, want []got, stats Stats) {
	for i := range n {
		switch i % 7 {
		case 3:
			frames = append(frames, ether(etherARP, nil, make([]byte, 46)))
			stats.ARP++
		case 5:
			frames = append(frames, ether(etherIPv4, nil, ipv4Hdr(srcA.Addr(), grpA.Addr(), 6, nil, 0, make([]byte, 40))))
			stats.TCP++
		case 6:
			frames = append(frames, ether(etherIPv4, nil, ipv4Hdr(srcA.Addr(), grpA.Addr(), 17, nil, 0x2000, udpHdr(1, 2, payloadN(i, 64)))))
			stats.Fragments++
		default:
			p := payloadN(i, 1+(i*37)%1400)
			if i%2 == 0 {
				frames = append(frames, ethUDP4(srcA, grpA, p))
				want = append(want, got{Src: srcA, Dst: grpA, Payload: string(p)})
			} else {
				frames = append(frames, ether(etherIPv6, []uint16{etherVLAN}, udp6(src6, grp6, p)))
				want = append(want, got{Src: src6, Dst: grp6, Payload: string(p)})
			}
			stats.Datagrams++
		}
		stats.Records++
		stats.Bytes += uint64(len(frames[i]))
	}
	return frames, want, stats
}

func TestPcap(t *testing.T) {
	frames, want, stats := mixedTraffic(60)
	for _, be := range []bool{false, true} {
		for _, nanos := range []bool{false, true} {
			var recs []rec
			for i, f := range frames {
				frac := uint32(i * 1013)
				if nanos {
					frac = uint32(999_999_000 + i)
				}
				recs = append(recs, rec{ts: uint64(1_700_000_000+i)<<32 | uint64(frac), data: f})
			}
			file, offs := pcapFile(be, nanos, 65535, 1, recs)
			exp := append([]got(nil), want...)
			j := 0
			for i, r := range recs {
				if j < len(exp) && decodeFrame(linkEthernet, be, r.data, &Datagram{}, &headers{}) == kindUDP {
					frac := int64(uint32(r.ts))
					if !nanos {
						frac *= 1000
					}
					exp[j].Time = int64(r.ts>>32)*1e9 + frac
					exp[j].Offset = offs[i]
					j++
				}
			}
			for _, size := range bufSizes {
				for _, rd := range readers {
					t.Run(fmt.Sprintf("be=%v/nanos=%v/buf=%d/%s", be, nanos, size, rd.name), func(t *testing.T) {
						f, err := newFile(rd.wrap(file), "x.pcap", size)
						if err != nil {
							t.Fatal(err)
						}
						if f.Format() != FormatPcap || f.Gzip() {
							t.Fatalf("format %v gzip %v", f.Format(), f.Gzip())
						}
						r := f.Packets()
						have, err := readAll(r)
						if err != nil {
							t.Fatal(err)
						}
						diffGot(t, exp, have)
						if st := r.Stats(); st != stats {
							t.Errorf("stats %+v\nwant  %+v", st, stats)
						}
						var d Datagram
						if err := r.Next(&d); err != io.EOF {
							t.Errorf("after the end: %v", err)
						}
					})
				}
			}
		}
	}
}

// TestPcapLinkTypes reads one file of each link type.
func TestPcapLinkTypes(t *testing.T) {
	p := payloadN(9, 333)
	for _, tc := range []struct {
		link  uint32
		be    bool
		frame []byte
	}{
		{0, false, family(false, 2, udp4(srcA, grpA, p))},
		{0, true, family(true, 2, udp4(srcA, grpA, p))},
		{1, false, ethUDP4(srcA, grpA, p)},
		{1 | 0x04000000 | 2<<28, true, append(ethUDP4(srcA, grpA, p), 1, 2, 3, 4)}, // FCS length 2 words
		{12, false, udp4(srcA, grpA, p)},
		{14, false, udp4(srcA, grpA, p)},
		{101, true, udp4(srcA, grpA, p)},
		{108, false, family(true, 2, udp4(srcA, grpA, p))},
		{113, false, sll(etherIPv4, udp4(srcA, grpA, p))},
		{228, false, udp4(srcA, grpA, p)},
		{229, false, ipv6Hdr(srcA.Addr(), grpA.Addr(), 17, udpHdr(srcA.Port(), grpA.Port(), p))},
		{276, true, sll2(etherIPv4, udp4(srcA, grpA, p))},
	} {
		t.Run(fmt.Sprint(tc.link&0xFFFF, tc.be), func(t *testing.T) {
			file, _ := pcapFile(tc.be, false, 0, tc.link, []rec{{ts: 5<<32 | 6, data: tc.frame}})
			have, err := readAll(openBytes(t, file, 4096).Packets())
			if err != nil {
				t.Fatal(err)
			}
			src, dst := srcA, grpA
			if tc.link == 229 {
				src = netip.AddrPortFrom(netip.AddrFrom16(srcA.Addr().As16()), srcA.Port())
				dst = netip.AddrPortFrom(netip.AddrFrom16(grpA.Addr().As16()), grpA.Port())
			}
			diffGot(t, []got{{Time: 5_000_006_000, Src: src, Dst: dst, Payload: string(p), Offset: 24}}, have)
		})
	}
}

// TestPcapLargeRecord grows the buffer for a record larger than it.
func TestPcapLargeRecord(t *testing.T) {
	big := payloadN(1, 60000)
	recs := []rec{{data: ethUDP4(srcA, grpA, []byte("a"))}, {data: ethUDP4(srcA, grpA, big)}, {data: ethUDP4(srcA, grpA, []byte("b"))}}
	file, offs := pcapFile(false, false, 65535, 1, recs)
	for _, size := range []int{64, 1000} {
		r := openBytes(t, file, size).Packets()
		have, err := readAll(r)
		if err != nil {
			t.Fatal(err)
		}
		diffGot(t, []got{
			{Src: srcA, Dst: grpA, Payload: "a", Offset: offs[0]},
			{Src: srcA, Dst: grpA, Payload: string(big), Offset: offs[1]},
			{Src: srcA, Dst: grpA, Payload: "b", Offset: offs[2]},
		}, have)
		if len(r.s.buf) > 2*len(recs[1].data) {
			t.Errorf("buffer grew to %d for a record of %d", len(r.s.buf), len(recs[1].data))
		}
	}
}

// ngTestFile returns a pcapng file exercising sections of both byte orders,
// several interfaces and resolutions, every packet block type and skipped
// blocks, with the datagrams it holds.
func ngTestFile() ([]byte, []got, Stats) {
	var w ngFile
	var want []got
	var st Stats
	p := func(i int) []byte { return payloadN(i, 20+i*13) }
	add := func(g got, frame []byte) {
		g.Offset = w.offs[len(w.offs)-1]
		want = append(want, g)
		st.Records++
		st.Datagrams++
		st.Bytes += uint64(len(frame))
	}

	// Section 1, little-endian.
	w.shb(false, opt(false, 4, []byte("tickwire test")), opt(false, 0, nil))
	w.idb(1, 0, opt(false, 2, []byte("eth0")), opt(false, 9, []byte{9}), opt(false, 0, nil)) // ns
	w.idb(101, 65535, opt(false, 9, []byte{0x80 | 20}), opt(false, 14, binary.LittleEndian.AppendUint64(nil, 1_000_000)))
	f0 := ethUDP4(srcA, grpA, p(0))
	w.epb(rec{ts: 1_700_000_000_123_456_789, data: f0, ifc: 0}, opt(false, 2, []byte{1, 0, 0, 0}), opt(false, 0, nil))
	add(got{Time: 1_700_000_000_123_456_789, Src: srcA, Dst: grpA, Payload: string(p(0))}, f0)
	w.block(4, []byte{1, 0, 8, 0, 10, 0, 0, 1, 'h', 'o', 's', 't', 0, 0, 0, 0, 0, 0}) // NRB
	st.Blocks++
	f1 := udp4(srcA, grpA, p(1))
	w.epb(rec{ts: 7<<20 | 1<<19, data: f1, ifc: 1}) // 7.5 s at 2^-20, + 1e6 s offset
	add(got{Time: 1_000_007_500_000_000, Src: srcA, Dst: grpA, Payload: string(p(1)), Interface: 1}, f1)
	w.block(5, make([]byte, 24)) // ISB
	st.Blocks++
	w.block(0x0BAD, make([]byte, 9)) // custom
	st.Blocks++
	w.block(0x80001234, make([]byte, 40)) // local unknown
	st.Blocks++
	arp := ether(etherARP, nil, make([]byte, 28))
	w.epb(rec{ts: 1, data: arp, ifc: 0})
	st.Records++
	st.ARP++
	st.Bytes += uint64(len(arp))
	w.pb(rec{ts: 1_700_000_001_000_000_000, data: f0, ifc: 0})
	add(got{Time: 1_700_000_001_000_000_000, Src: srcA, Dst: grpA, Payload: string(p(0))}, f0)
	w.block(0x0A, make([]byte, 12)) // DSB
	st.Blocks++

	// Section 2, big-endian: the interface table starts again.
	w.shb(true)
	f2 := sll2(etherIPv6, udp6(src6, grp6, p(2)))
	w.idb(276, 0, opt(true, 2, []byte("any"))) // µs by default, no endofopt
	w.epb(rec{ts: 1_700_000_002_000_001, data: f2, ifc: 0})
	add(got{Time: 1_700_000_002_000_001_000, Src: src6, Dst: grp6, Payload: string(p(2))}, f2)
	w.spb(uint32(len(f2)), f2) // no timestamp: the previous one
	add(got{Time: 1_700_000_002_000_001_000, Src: src6, Dst: grp6, Payload: string(p(2))}, f2)
	f3 := ether(etherIPv4, []uint16{etherQinQ, etherVLAN}, udp4(srcA, grpA, p(3)))
	w.idb(1, 200, opt(true, 9, []byte{3}), opt(true, 14, binary.BigEndian.AppendUint64(nil, uint64(1<<64-5)))) // ms, -5 s
	w.epb(rec{ts: 1_700_000_003_250, data: f3, ifc: 1})
	add(got{Time: 1_700_000_003_250_000_000 - 5_000_000_000, Src: srcA, Dst: grpA, Payload: string(p(3)), Interface: 1}, f3)

	// Section 3, little-endian again, SPB cut by the snap length.
	w.shb(false)
	w.idb(1, 100, opt(false, 9, []byte{6}))
	f4 := ethUDP4(srcA, grpA, p(4))
	w.spb(uint32(len(f4)), f4[:100])
	st.Records++
	st.Truncated++
	st.Bytes += 100
	f5 := ethUDP4(srcA, grpA, []byte("x"))
	w.spb(uint32(len(f5)), f5)
	add(got{Time: 1_700_000_003_250_000_000 - 5_000_000_000, Src: srcA, Dst: grpA, Payload: "x"}, f5)
	return w.b, want, st
}

func TestPcapNG(t *testing.T) {
	file, want, stats := ngTestFile()
	for _, size := range bufSizes {
		for _, rd := range readers {
			t.Run(fmt.Sprintf("buf=%d/%s", size, rd.name), func(t *testing.T) {
				f, err := newFile(rd.wrap(file), "x.pcapng", size)
				if err != nil {
					t.Fatal(err)
				}
				if f.Format() != FormatPcapNG {
					t.Fatalf("format %v", f.Format())
				}
				r := f.Packets()
				have, err := readAll(r)
				if err != nil {
					t.Fatal(err)
				}
				diffGot(t, want, have)
				if st := r.Stats(); st != stats {
					t.Errorf("stats %+v\nwant  %+v", st, stats)
				}
			})
		}
	}
}

// TestPcapNGLargeSkippedBlock skips an unknown block larger than MaxRecord
// without buffering it.
func TestPcapNGLargeSkippedBlock(t *testing.T) {
	var w ngFile
	w.shb(false)
	w.idb(1, 0)
	w.block(0x40000BAD, make([]byte, MaxRecord+1000))
	w.epb(rec{ts: 9, data: ethUDP4(srcA, grpA, []byte("after"))})
	r := openBytes(t, w.b, 4096).Packets()
	have, err := readAll(r)
	if err != nil {
		t.Fatal(err)
	}
	diffGot(t, []got{{Time: 9000, Src: srcA, Dst: grpA, Payload: "after", Offset: w.offs[3]}}, have)
	if len(r.s.buf) != 4096 {
		t.Errorf("buffer grew to %d", len(r.s.buf))
	}
}

func TestTSConv(t *testing.T) {
	for _, tc := range []struct {
		resol uint8
		off   int64
		in    uint64
		want  int64
		ok    bool
	}{
		{6, 0, 1_700_000_000_123_456, 1_700_000_000_123_456_000, true},
		{9, 0, 1_700_000_000_123_456_789, 1_700_000_000_123_456_789, true},
		{0, 0, 3, 3_000_000_000, true},
		{12, 0, 1_700_000_123_456_789_123, 1_700_000_123_456_789, true},
		{19, 0, 1 << 63, 922_337_203, true},
		{0x80, 0, 2, 2_000_000_000, true}, // 2^-0
		{0x80 | 10, 0, 3 << 10, 3_000_000_000, true},
		{0x80 | 30, 0, 1 << 29, 500_000_000, true},
		{0x80 | 64, 0, 1 << 63, 500_000_000, true},
		{0x80 | 96, 0, 1 << 63, 0, true},
		{6, 100, 1, 100_000_001_000, true},
		{6, -100, 1, -99_999_999_000, true},
		{9, 0, 1 << 63, 0, false},               // beyond int64
		{6, 0, 1 << 62, 0, false},               // overflow in the multiplication
		{0x80, 0, 1 << 40, 0, false},            // overflow in the multiplication
		{9, 1 << 33, 1<<63 - 1 - 1e9, 0, false}, // overflow adding the offset
	} {
		c, ok := newTSConv(tc.resol, tc.off)
		if !ok {
			t.Fatalf("newTSConv(%#x, %d) refused", tc.resol, tc.off)
		}
		v, ok := c.ns(tc.in)
		if ok != tc.ok || ok && v != tc.want {
			t.Errorf("resol %#x off %d: ns(%d) = %d, %v; want %d, %v", tc.resol, tc.off, tc.in, v, ok, tc.want, tc.ok)
		}
	}
	for _, bad := range []struct {
		resol uint8
		off   int64
	}{{29, 0}, {127, 0}, {6, 1 << 62}, {6, -(1 << 62)}} {
		if _, ok := newTSConv(bad.resol, bad.off); ok {
			t.Errorf("newTSConv(%d, %d) accepted", bad.resol, bad.off)
		}
	}
}

func TestPacketReaderNoAllocs(t *testing.T) {
	frames, _, _ := mixedTraffic(200)
	var recs []rec
	for _, f := range frames {
		recs = append(recs, rec{data: f})
	}
	pc, _ := pcapFile(false, true, 65535, 1, recs)
	var w ngFile
	w.shb(false)
	w.idb(1, 0, opt(false, 9, []byte{9}))
	for _, f := range frames {
		w.epb(rec{data: f})
		w.block(5, make([]byte, 24))
	}
	for name, file := range map[string][]byte{"pcap": pc, "pcapng": w.b} {
		// A 4 KiB buffer so that the runs include refills and compaction.
		r := openBytes(t, bytes.Repeat(file, 1), 4096).Packets()
		var d Datagram
		n := testing.AllocsPerRun(50, func() {
			if err := r.Next(&d); err != nil {
				t.Fatal(err)
			}
		})
		if n != 0 {
			t.Errorf("%s: Next allocates %.1f times per call", name, n)
		}
	}
}

func TestWrongReader(t *testing.T) {
	file, _ := itchFile([][]byte{itchMsg('S', 0)})
	f := openBytes(t, file, 4096)
	var d Datagram
	wantErr(t, f.Packets().Next(&d), ErrWrongReader, 0)
	pc, _ := pcapFile(false, false, 100, 1, nil)
	f = openBytes(t, pc, 4096)
	_, err := f.Messages().Next()
	wantErr(t, err, ErrWrongReader, 0)
}

// TestBogusLengthDoesNotGrow reads records whose length fields claim far
// more than the input holds: the buffer grows only with data that arrives.
func TestBogusLengthDoesNotGrow(t *testing.T) {
	frame := ethUDP4(srcA, grpA, payloadN(1, 100))
	pc, offs := pcapFile(false, false, 0, 1, []rec{{data: frame}, {data: frame}})
	put32(pc[offs[1]+8:], false, MaxRecord) // claims 16 MiB, holds 142 bytes
	var w ngFile
	w.shb(false)
	w.idb(1, 0)
	w.epb(rec{data: frame})
	put32(w.b[w.offs[2]+4:], false, MaxRecord)
	itch := []byte{0, 12, 'S', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'O', 0xFF, 0xFF, 'A'}
	for name, tc := range map[string]struct {
		b   []byte
		off int64
	}{"pcap": {pc, offs[1]}, "pcapng": {w.b, w.offs[2]}, "itch": {itch, 14}} {
		f := openBytes(t, tc.b, 1024)
		var err error
		var buf []byte
		if f.Format() == FormatITCH {
			r := f.Messages()
			for err == nil {
				_, err = r.Next()
			}
			buf = r.s.buf
		} else {
			r := f.Packets()
			err = readUntilErrPackets(r)
			buf = r.s.buf
		}
		wantErr(t, err, ErrTruncated, tc.off)
		if len(buf) > 1024 {
			t.Errorf("%s: buffer grew to %d bytes", name, len(buf))
		}
	}
}
