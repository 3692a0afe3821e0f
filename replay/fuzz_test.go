package replay

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

// seedFiles adds the tool-written captures in testdata matching pattern.
func seedFiles(f *testing.F, pattern string) {
	paths, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		if filepath.Ext(p) == ".golden" || filepath.Ext(p) == ".py" {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		if len(b) > 600 {
			f.Add(b[:600]) // a short prefix mutates faster
		}
	}
}

// outcome is everything a reader yielded from one input.
type outcome struct {
	items []string
	err   string
}

// checkErr fails unless err is io.EOF or an *Error with an offset in
// [0, limit] (limit < 0: no upper bound).
func checkErr(t *testing.T, err error, limit int64) {
	t.Helper()
	if err == io.EOF {
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *replay.Error", err, err)
	}
	if e.Offset < 0 || limit >= 0 && e.Offset > limit {
		t.Fatalf("error %q: offset outside the input of %d bytes", err, limit)
	}
}

// fuzzPackets reads data as a capture through reader rd with a buffer of
// size bytes, checking every datagram against the input.
func fuzzPackets(t *testing.T, data []byte, rd io.Reader, size int) outcome {
	var o outcome
	f, err := newFile(rd, "fuzz", size)
	if err != nil {
		checkErr(t, err, int64(len(data)))
		o.err = err.Error()
		return o
	}
	limit := int64(len(data))
	if f.Gzip() {
		limit = -1
	}
	r := f.Packets()
	var d Datagram
	last := int64(-1)
	for {
		err := r.Next(&d)
		if err != nil {
			checkErr(t, err, limit)
			o.err = err.Error()
			if err2 := r.Next(&d); err2 != err {
				t.Fatalf("error not sticky: %v then %v", err, err2)
			}
			break
		}
		if d.Offset <= last || limit >= 0 && d.Offset >= limit {
			t.Fatalf("datagram offset %d after %d in %d bytes", d.Offset, last, limit)
		}
		last = d.Offset
		if cap(d.Payload) != len(d.Payload) || !d.Src.IsValid() || !d.Dst.IsValid() {
			t.Fatalf("datagram %+v", d)
		}
		if limit >= 0 && !bytes.Contains(data[d.Offset:], d.Payload) {
			t.Fatalf("payload not found in the input after offset %d", d.Offset)
		}
		o.items = append(o.items, got{d.Time, d.Src, d.Dst, string(d.Payload), d.Offset, d.Interface}.String()+string(d.Payload))
	}
	st := r.Stats()
	if st.Datagrams != uint64(len(o.items)) {
		t.Fatalf("stats count %d datagrams, %d returned", st.Datagrams, len(o.items))
	}
	sum := st.Datagrams + st.ARP + st.LLC + st.OtherLink + st.TCP + st.ICMP + st.IGMP + st.OtherIP + st.Fragments + st.Truncated + st.Malformed
	if sum != st.Records {
		t.Fatalf("stats kinds sum to %d, records %d", sum, st.Records)
	}
	return o
}

// sameOutcome fails unless a and b, read from the same input whole and
// split, agree. A corrupt gzip stream may surface at different points
// (flate flushes its output in windows that depend on how its input
// arrives): then one list must be a prefix of the other and one error must
// be the gzip error.
func sameOutcome(t *testing.T, data []byte, a, b outcome) {
	t.Helper()
	n := min(len(a.items), len(b.items))
	for i := range n {
		if a.items[i] != b.items[i] {
			t.Fatalf("item %d differs when the input is split", i)
		}
	}
	if len(a.items) == len(b.items) && a.err == b.err {
		return
	}
	gzipErr := strings.Contains(a.err, ErrGzip.Error()) || strings.Contains(b.err, ErrGzip.Error())
	if !bytes.HasPrefix(data, []byte{0x1F, 0x8B}) || !gzipErr {
		t.Fatalf("whole input: %d items, %q; split input: %d, %q", len(a.items), a.err, len(b.items), b.err)
	}
}

// fuzzCapture reads data whole and split into small reads with a small
// buffer: both must yield the same datagrams and the same error.
func fuzzCapture(t *testing.T, data []byte) {
	a := fuzzPackets(t, data, bytes.NewReader(data), 4096)
	b := fuzzPackets(t, data, iotest.HalfReader(bytes.NewReader(data)), 64)
	sameOutcome(t, data, a, b)
}

func FuzzPcap(f *testing.F) {
	seedFiles(f, "*.pcap")
	frames, _, _ := mixedTraffic(20)
	var recs []rec
	for i, fr := range frames {
		recs = append(recs, rec{ts: uint64(i)<<32 | uint64(i), data: fr})
	}
	for _, be := range []bool{false, true} {
		for _, nanos := range []bool{false, true} {
			b, _ := pcapFile(be, nanos, 65535, 1, recs)
			f.Add(b)
		}
	}
	for _, lt := range []uint32{0, 101, 108, 113, 228, 229, 276} {
		b, _ := pcapFile(false, false, 200, lt, []rec{{data: udp4(srcA, grpA, []byte("seed"))}})
		f.Add(b)
	}
	f.Fuzz(fuzzCapture)
}

func FuzzPcapNG(f *testing.F) {
	seedFiles(f, "*.pcapng")
	b, _, _ := ngTestFile()
	f.Add(b)
	var w ngFile
	w.shb(true)
	w.idb(1, 0, opt(true, 9, []byte{0x80 | 30}), opt(true, 14, app64(nil, true, 5)))
	w.epb(rec{ts: 1 << 40, data: ethUDP4(srcA, grpA, []byte("seed"))})
	w.pb(rec{ts: 1 << 41, data: ethUDP4(srcA, grpA, []byte("seed"))})
	w.spb(70, ethUDP4(srcA, grpA, []byte("seed")))
	f.Add(w.b)
	f.Fuzz(fuzzCapture)
}

func FuzzITCHFile(f *testing.F) {
	seedFiles(f, "itch.bin*")
	plain, _ := itchFile(itchDay(60))
	f.Add(plain)
	f.Add(gz(f, plain[:300], plain[300:]))
	f.Fuzz(func(t *testing.T, data []byte) {
		var outs [2]outcome
		for i, rd := range []io.Reader{bytes.NewReader(data), iotest.OneByteReader(bytes.NewReader(data))} {
			file, err := newFile(rd, "fuzz", 64<<(i*6))
			if err != nil {
				checkErr(t, err, int64(len(data)))
				outs[i].err = err.Error()
				continue
			}
			if file.Format() != FormatITCH && file.Format() != FormatITCHGzip {
				return // a capture: FuzzPcap's business
			}
			r := file.Messages()
			off := int64(0)
			for {
				m, err := r.Next()
				if err != nil {
					if file.Gzip() {
						checkErr(t, err, -1)
					} else {
						checkErr(t, err, int64(len(data)))
					}
					outs[i].err = err.Error()
					break
				}
				if r.Offset() != off || r.Seq() != uint64(len(outs[i].items)+1) || cap(m) != len(m) {
					t.Fatalf("message at offset %d seq %d, want %d %d", r.Offset(), r.Seq(), off, len(outs[i].items)+1)
				}
				if !file.Gzip() && !bytes.Equal(m, data[off+2:off+2+int64(len(m))]) {
					t.Fatalf("message at %d is not the input's bytes", off)
				}
				off += 2 + int64(len(m))
				outs[i].items = append(outs[i].items, string(m))
			}
		}
		sameOutcome(t, data, outs[0], outs[1])
	})
}

// linkOrder lists the link types FuzzLink picks from.
var linkOrder = []linkType{linkEthernet, linkNull, linkLoop, linkRaw, linkIPv4, linkIPv6, linkSLL, linkSLL2}

func FuzzLink(f *testing.F) {
	for _, tc := range linkCases() {
		for i, lt := range linkOrder {
			if lt == tc.link {
				f.Add(uint8(i), tc.be, tc.frame)
			}
		}
	}
	f.Fuzz(func(t *testing.T, sel uint8, be bool, frame []byte) {
		lt := linkOrder[int(sel)%len(linkOrder)]
		var d Datagram
		var h headers
		k := decodeFrame(lt, be, frame, &d, &h)
		if k >= numKinds {
			t.Fatalf("kind %d", k)
		}
		if got, want := ^fold(sum(0, frame)), refChecksum(frame); got != want {
			t.Fatalf("checksum %#04x, want %#04x", got, want)
		}
		if k != kindUDP {
			return
		}
		if len(h.udp) != len(d.Payload)+8 || h.ip != nil && len(h.ip) < 20 {
			t.Fatalf("headers of %d and %d bytes for a payload of %d", len(h.ip), len(h.udp), len(d.Payload))
		}
		h.verify(false)
		h.verify(true)
		if !d.Src.Addr().IsValid() || !d.Dst.Addr().IsValid() || d.Src.Addr().Is4() != d.Dst.Addr().Is4() {
			t.Fatalf("addresses %v -> %v", d.Src, d.Dst)
		}
		if cap(d.Payload) != len(d.Payload) || len(d.Payload)+8+20 > len(frame) || !bytes.Contains(frame, d.Payload) {
			t.Fatalf("payload of %d bytes from a %d-byte frame", len(d.Payload), len(frame))
		}
	})
}
