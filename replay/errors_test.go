package replay

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"testing"
	"testing/iotest"
)

func gz(t testing.TB, members ...[]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, m := range members {
		w := gzip.NewWriter(&b)
		if _, err := w.Write(m); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// readUntilErr opens b and reads it to its end with the reader matching its
// format; it returns the first error other than io.EOF (Open's included).
func readUntilErr(b []byte, size int) error {
	f, err := newFile(bytes.NewReader(b), "x.cap", size)
	if err != nil {
		return err
	}
	if f.Format() == FormatITCH || f.Format() == FormatITCHGzip {
		r := f.Messages()
		for {
			if _, err := r.Next(); err != nil {
				if err == io.EOF {
					return nil
				}
				return err
			}
		}
	}
	r := f.Packets()
	var d Datagram
	for {
		if err := r.Next(&d); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

func TestErrors(t *testing.T) {
	frame := ethUDP4(srcA, grpA, payloadN(1, 100))
	two := []rec{{ts: 1 << 32, data: frame}, {ts: 2 << 32, data: frame}}
	pc, pcOffs := pcapFile(false, false, 65535, 1, two)
	pcBE, _ := pcapFile(true, true, 65535, 1, two)

	patch32 := func(b []byte, off int, be bool, v uint32) []byte {
		b = bytes.Clone(b)
		put32(b[off:], be, v)
		return b
	}

	// A pcapng file: SHB, IDB (snap 1000), EPB, EPB.
	var w ngFile
	w.shb(false)
	w.idb(1, 1000)
	w.epb(rec{ts: 1, data: frame})
	w.epb(rec{ts: 2, data: frame})
	ng, shb, idb, epb1, epb2 := w.b, w.offs[0], w.offs[1], w.offs[2], w.offs[3]
	epbLen := int(epb2 - epb1)

	ngWith := func(build func(w *ngFile)) []byte {
		var w ngFile
		w.shb(false)
		build(&w)
		return w.b
	}
	ngIDBOpts := func(opts ...[]byte) []byte {
		return ngWith(func(w *ngFile) { w.idb(1, 0, opts...) })
	}

	itch, itchOffs := itchFile([][]byte{itchMsg('S', 0), itchMsg('A', 1), itchMsg('D', 2)})
	badCRC := gz(t, itch)
	badCRC[len(badCRC)-8] ^= 0xFF

	for _, tc := range []struct {
		name     string
		file     []byte
		sentinel error
		off      int64
	}{
		// Detection.
		{"empty", nil, ErrFormat, 0},
		{"garbage", []byte("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"), ErrFormat, 0},
		{"zeros", make([]byte, 100), ErrFormat, 0},
		{"patched pcap le", patch32(pc, 0, false, 0xA1B2CD34), ErrPatchedPcap, 0},
		{"patched pcap be", patch32(pc, 0, true, 0xA1B2CD34), ErrPatchedPcap, 0},

		// Classic pcap.
		{"truncated file header", pc[:20], ErrTruncated, 0},
		{"pcap version 1", patch32(pc, 4, false, 1|4<<16), ErrHeader, 0},
		{"unknown link type", patch32(pc, 20, false, 147), ErrLinkType, 0},
		{"reserved link type bits", patch32(pc, 20, false, 1|1<<16), ErrHeader, 0},
		{"truncated record header", pc[:pcOffs[1]+7], ErrTruncated, pcOffs[1]},
		{"truncated record", pc[:len(pc)-1], ErrTruncated, pcOffs[1]},
		{"truncated record be", pcBE[:len(pcBE)-1], ErrTruncated, pcOffs[1]},
		{"record over snaplen", patch32(pc, int(pcOffs[1])+8, false, 65536), ErrSnapLen, pcOffs[1]},
		{"record over limit", patch32(patch32(pc, 16, false, 0), int(pcOffs[1])+8, false, MaxRecord+1), ErrTooLarge, pcOffs[1]},
		{"microseconds out of range", patch32(pc, int(pcOffs[1])+4, false, 1_000_000), ErrTimestamp, pcOffs[1]},
		{"nanoseconds out of range", patch32(pcBE, int(pcOffs[0])+4, true, 1_000_000_000), ErrTimestamp, pcOffs[0]},

		// pcapng.
		{"short section header", ng[:20], ErrTruncated, 0},
		{"section header length", patch32(ng, 4, false, 24), ErrBlockLength, 0},
		{"section byte-order magic", patch32(ng, 8, false, 0x12345678), ErrHeader, 0},
		{"pcapng version 2", patch32(ng, 12, false, 2), ErrHeader, 0},
		{"section trailer", patch32(ng, int(idb)-4, false, 32), ErrBlockLength, shb},
		{"block length not multiple of 4", patch32(ng, int(epb1)+4, false, uint32(epbLen+1)), ErrBlockLength, epb1},
		{"block length below 12", patch32(ng, int(epb1)+4, false, 8), ErrBlockLength, epb1},
		{"block trailer differs", patch32(ng, int(epb2)-4, false, uint32(epbLen+4)), ErrBlockLength, epb1},
		{"skipped block trailer differs", ngWith(func(w *ngFile) { w.block(5, make([]byte, 16)); w.b[len(w.b)-1] = 1 }), ErrBlockLength, 28},
		{"truncated block header", ng[:len(ng)-epbLen+6], ErrTruncated, epb2},
		{"truncated block", ng[:len(ng)-4], ErrTruncated, epb2},
		{"truncated skipped block", ngWith(func(w *ngFile) { w.block(0x0BAD, make([]byte, 100)); w.b = w.b[:len(w.b)-50] }), ErrTruncated, 28},
		{"truncated second section", append(bytes.Clone(ng), ng[:20]...), ErrTruncated, int64(len(ng))},
		{"block over limit", patch32(ng, int(epb1)+4, false, maxBufSize+4), ErrTooLarge, epb1},
		{"epb before any idb", ngWith(func(w *ngFile) { w.epb(rec{data: frame}) }), ErrInterface, 28},
		{"epb undefined interface", patch32(ng, int(epb2)+8, false, 1), ErrInterface, epb2},
		{"epb captured beyond block", patch32(ng, int(epb2)+20, false, uint32(epbLen)), ErrBlock, epb2},
		{"epb over snaplen", ngWith(func(w *ngFile) { w.idb(1, 100); w.epb(rec{data: frame}) }), ErrSnapLen, 48},
		{"epb timestamp overflow", ngWith(func(w *ngFile) { w.idb(1, 0, opt(false, 9, []byte{9})); w.epb(rec{ts: 1 << 63, data: frame}) }), ErrTimestamp, 56},
		{"short epb", ngWith(func(w *ngFile) { w.idb(1, 0); w.block(blockEPB, make([]byte, 16)) }), ErrBlock, 48},
		{"short spb", ngWith(func(w *ngFile) { w.idb(1, 0); w.block(blockSPB, nil) }), ErrBlock, 48},
		{"spb beyond block", ngWith(func(w *ngFile) { w.idb(1, 0); w.spb(200, frame[:100]) }), ErrBlock, 48},
		{"short idb", ngWith(func(w *ngFile) { w.block(blockIDB, make([]byte, 4)) }), ErrBlock, 28},
		{"idb unknown link type", ngWith(func(w *ngFile) { w.idb(1, 0); w.idb(147, 0) }), ErrLinkType, 48},
		{"idb option overruns", ngIDBOpts(app32(app16(app16(nil, false, 2), false, 40), false, 0)), ErrBlock, 28},
		{"idb tsresol length", ngIDBOpts(opt(false, 9, []byte{6, 0})), ErrBlock, 28},
		{"idb tsresol range", ngIDBOpts(opt(false, 9, []byte{30})), ErrBlock, 28},
		{"idb tsoffset length", ngIDBOpts(opt(false, 14, []byte{1, 2, 3, 4})), ErrBlock, 28},

		// Raw ITCH and gzip.
		{"itch truncated record", itch[:len(itch)-1], ErrTruncated, itchOffs[2]},
		{"itch truncated length", itch[:itchOffs[2]+1], ErrTruncated, itchOffs[2]},
		{"itch gzip truncated record", gz(t, itch[:len(itch)-3]), ErrTruncated, itchOffs[2]},
		{"gzip bad header", []byte{0x1F, 0x8B, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9}, ErrGzip, 0},
		{"gzip bad data", append([]byte{0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF}, bytes.Repeat([]byte{0xFF}, 40)...), ErrGzip, 0},
		{"gzip bad checksum", badCRC, ErrGzip, int64(len(itch))},
		{"gzip truncated", gz(t, itch)[:12], ErrGzip, 0},
		{"gzip truncated after a record", gz(t, itch[:itchOffs[1]], itch[itchOffs[1]:])[:12+gzLen(t, itch[:itchOffs[1]])], ErrGzip, itchOffs[1]},
		{"gzip garbage after member", append(gz(t, itch), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), ErrGzip, int64(len(itch))},
		{"gzip of garbage", gz(t, []byte("not a capture at all")), ErrFormat, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, size := range []int{64, 4096} {
				err := readUntilErr(tc.file, size)
				if err == nil {
					t.Fatalf("buf=%d: no error", size)
				}
				wantErr(t, err, tc.sentinel, tc.off)
				if !bytes.HasPrefix([]byte(err.Error()), []byte("x.cap: offset ")) {
					t.Errorf("message %q", err)
				}
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	file, offs := pcapFile(false, false, 65535, 1, []rec{{data: make([]byte, 60)}})
	put32(file[offs[0]+8:], false, 99999)
	f, err := newFile(bytes.NewReader(file), "capture.pcap", 4096)
	if err != nil {
		t.Fatal(err)
	}
	var d Datagram
	err = f.Packets().Next(&d)
	const want = "capture.pcap: offset 24: replay: record length 99999 exceeds snapshot length 65535"
	if err == nil || err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if err2 := f.Packets().Next(&d); err2 != err {
		t.Errorf("error not sticky: %v", err2)
	}
	var e *Error
	if !errors.As(err, &e) || e.Path != "capture.pcap" || e.Offset != 24 || !errors.Is(e.Err, ErrSnapLen) {
		t.Errorf("error fields %+v", e)
	}
}

// TestReaderError passes the underlying reader's failure through, with the
// offset of the record being read.
func TestReaderError(t *testing.T) {
	boom := errors.New("disk on fire")
	frame := ethUDP4(srcA, grpA, payloadN(1, 100))
	pc, offs := pcapFile(false, false, 65535, 1, []rec{{data: frame}, {data: frame}})
	r := io.MultiReader(bytes.NewReader(pc[:offs[1]+5]), iotest.ErrReader(boom))
	f, err := newFile(r, "x.pcap", 64)
	if err != nil {
		t.Fatal(err)
	}
	err = readUntilErrPackets(f.Packets())
	wantErr(t, err, boom, offs[1])

	itch, itchOffs := itchFile([][]byte{itchMsg('S', 0), itchMsg('A', 1)})
	f, err = newFile(io.MultiReader(bytes.NewReader(itch[:itchOffs[1]+1]), iotest.ErrReader(boom)), "x.itch", 64)
	if err != nil {
		t.Fatal(err)
	}
	m := f.Messages()
	if _, err := m.Next(); err != nil {
		t.Fatal(err)
	}
	_, err = m.Next()
	wantErr(t, err, boom, itchOffs[1])

	// A reader that never makes progress.
	f, err = newFile(io.MultiReader(bytes.NewReader(itch[:3]), stuck{}), "x.itch", 64)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Messages().Next()
	wantErr(t, err, io.ErrNoProgress, 0)
}

type stuck struct{}

func (stuck) Read([]byte) (int, error) { return 0, nil }

func readUntilErrPackets(r *PacketReader) error {
	var d Datagram
	for {
		if err := r.Next(&d); err != nil {
			return err
		}
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	frame := ethUDP4(srcA, grpA, []byte("hello"))
	pc, _ := pcapFile(false, false, 65535, 1, []rec{{ts: 3 << 32, data: frame}})
	path := dir + "/a.itch" // the name lies: content decides
	if err := writeFile(path, pc); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Format() != FormatPcap || f.Path() != path {
		t.Errorf("format %v path %q", f.Format(), f.Path())
	}
	have, err := readAll(f.Packets())
	if err != nil {
		t.Fatal(err)
	}
	diffGot(t, []got{{Time: 3e9, Src: srcA, Dst: grpA, Payload: "hello", Offset: 24}}, have)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := Open(dir + "/missing"); err == nil {
		t.Error("Open of a missing file succeeded")
	}
	if err := writeFile(dir+"/bad", []byte("nonsense file")); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir + "/bad"); !errors.Is(err, ErrFormat) {
		t.Errorf("Open of garbage: %v", err)
	}
	for f, s := range map[Format]string{FormatPcap: "pcap", FormatPcapNG: "pcapng", FormatITCH: "itch", FormatITCHGzip: "itch.gz", 0: "Format(0)"} {
		if f.String() != s {
			t.Errorf("%d.String() = %q", int(f), f.String())
		}
	}
}

// TestGzipCapture reads a pcap and a pcapng inside gzip.
func TestGzipCapture(t *testing.T) {
	frame := ethUDP4(srcA, grpA, []byte("zipped"))
	pc, _ := pcapFile(true, true, 65535, 1, []rec{{ts: 3<<32 | 5, data: frame}})
	var w ngFile
	w.shb(false)
	w.idb(1, 0, opt(false, 9, []byte{9}))
	w.epb(rec{ts: 3_000_000_005, data: frame})
	for _, tc := range []struct {
		file   []byte
		format Format
		off    int64
	}{{pc, FormatPcap, 24}, {w.b, FormatPcapNG, w.offs[2]}} {
		f := openBytes(t, gz(t, tc.file[:50], tc.file[50:]), 4096) // two members
		if f.Format() != tc.format || !f.Gzip() {
			t.Fatalf("format %v gzip %v", f.Format(), f.Gzip())
		}
		have, err := readAll(f.Packets())
		if err != nil {
			t.Fatal(err)
		}
		diffGot(t, []got{{Time: 3_000_000_005, Src: srcA, Dst: grpA, Payload: "zipped", Offset: tc.off}}, have)
	}
}

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o644) }

// gzLen returns the length of the gzip member of b.
func gzLen(t testing.TB, b []byte) int { return len(gz(t, b)) }
