// Cross-checks against gopacket's pcapgo readers and writers: files pcapgo
// writes are read exactly, and every capture both can read yields the same
// records.

package replay

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// pcapgoRecord is one record as pcapgo reads it.
type pcapgoRecord struct {
	time  int64
	iface int
	data  string
}

func readPcapgo(t *testing.T, b []byte) []pcapgoRecord {
	t.Helper()
	type source interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var src source
	if bytes.HasPrefix(b, []byte{0x0A, 0x0D, 0x0D, 0x0A}) {
		r, err := pcapgo.NewNgReader(bytes.NewReader(b), pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			t.Fatal(err)
		}
		src = r
	} else {
		r, err := pcapgo.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		src = r
	}
	var out []pcapgoRecord
	for {
		data, ci, err := src.ReadPacketData()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pcapgoRecord{ci.Timestamp.UnixNano(), ci.InterfaceIndex, string(data)})
	}
}

// compareRecords checks that our record walk matches pcapgo's: count,
// timestamps, interfaces and raw frame bytes.
func compareRecords(t *testing.T, b []byte, size int) {
	t.Helper()
	want := readPcapgo(t, b)
	r := openBytes(t, b, size).Packets()
	for i, w := range want {
		var rec record
		if err := r.next(&rec); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if rec.time != w.time || rec.iface != w.iface || string(rec.frame) != w.data {
			t.Fatalf("record %d: time %d iface %d len %d; pcapgo %d %d %d", i, rec.time, rec.iface, len(rec.frame), w.time, w.iface, len(w.data))
		}
	}
	var rec record
	if err := r.next(&rec); err != io.EOF {
		t.Fatalf("after %d records: %v", len(want), err)
	}
}

func TestPcapgoWriters(t *testing.T) {
	frames, want, _ := mixedTraffic(80)
	base := time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		w    func(*bytes.Buffer) func(gopacket.CaptureInfo, []byte) error
		res  time.Duration
	}{
		{"pcap", func(b *bytes.Buffer) func(gopacket.CaptureInfo, []byte) error {
			w := pcapgo.NewWriter(b)
			w.WriteFileHeader(65535, layers.LinkTypeEthernet)
			return w.WritePacket
		}, time.Microsecond},
		{"pcap nanos", func(b *bytes.Buffer) func(gopacket.CaptureInfo, []byte) error {
			w := pcapgo.NewWriterNanos(b)
			w.WriteFileHeader(65535, layers.LinkTypeEthernet)
			return w.WritePacket
		}, time.Nanosecond},
		{"pcapng", func(b *bytes.Buffer) func(gopacket.CaptureInfo, []byte) error {
			w, err := pcapgo.NewNgWriter(b, layers.LinkTypeEthernet)
			if err != nil {
				t.Fatal(err)
			}
			return func(ci gopacket.CaptureInfo, d []byte) error {
				if err := w.WritePacket(ci, d); err != nil {
					return err
				}
				return w.Flush()
			}
		}, time.Nanosecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			write := tc.w(&b)
			exp := append([]got(nil), want...)
			j := 0
			for i, f := range frames {
				ts := base.Add(time.Duration(i)*1234567*time.Nanosecond + 89)
				if err := write(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(f), Length: len(f)}, f); err != nil {
					t.Fatal(err)
				}
				if decodeFrame(linkEthernet, false, f, &Datagram{}, &headers{}) == kindUDP {
					exp[j].Time = ts.Truncate(tc.res).UnixNano()
					j++
				}
			}
			for _, size := range []int{64, 4096} {
				compareRecords(t, b.Bytes(), size)
				have, err := readAll(openBytes(t, b.Bytes(), size).Packets())
				if err != nil {
					t.Fatal(err)
				}
				for i := range have {
					have[i].Offset = 0
				}
				diffGot(t, exp, have)
			}
		})
	}
}

// TestPcapgoNgInterfaces writes several interfaces of different link types,
// with a timestamp offset, through pcapgo's NgWriter.
func TestPcapgoNgInterfaces(t *testing.T) {
	var b bytes.Buffer
	w, err := pcapgo.NewNgWriter(&b, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := w.AddInterface(pcapgo.NgInterface{Name: "raw0", LinkType: layers.LinkTypeRaw, TimestampOffset: 3600})
	if err != nil {
		t.Fatal(err)
	}
	sllID, err := w.AddInterface(pcapgo.NgInterface{Name: "any", LinkType: layers.LinkTypeLinuxSLL, SnapLength: 9000})
	if err != nil {
		t.Fatal(err)
	}
	p := payloadN(3, 500)
	base := time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)
	for i, fr := range []struct {
		ifc  int
		data []byte
	}{{0, ethUDP4(srcA, grpA, p)}, {raw, udp4(srcA, grpA, p)}, {sllID, sll(etherIPv4, udp4(srcA, grpA, p))}, {raw, udp6(src6, grp6, p)}} {
		ci := gopacket.CaptureInfo{Timestamp: base.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(fr.data), Length: len(fr.data), InterfaceIndex: fr.ifc}
		if err := w.WritePacket(ci, fr.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	compareRecords(t, b.Bytes(), 128)
	have, err := readAll(openBytes(t, b.Bytes(), 128).Packets())
	if err != nil {
		t.Fatal(err)
	}
	if len(have) != 4 || have[1].Interface != raw || have[2].Interface != sllID || have[3].Src != src6 {
		t.Errorf("datagrams %v", have)
	}
}

// TestPcapgoReadsOurFiles compares the record walk over the hand-built and
// tool-written files against pcapgo's readers.
func TestPcapgoReadsOurFiles(t *testing.T) {
	frames, _, _ := mixedTraffic(30)
	var recs []rec
	for i, f := range frames {
		recs = append(recs, rec{ts: uint64(1_700_000_000+i)<<32 | uint64(i*1000), data: f})
	}
	files := map[string][]byte{}
	for _, be := range []bool{false, true} {
		for _, nanos := range []bool{false, true} {
			files[fmt.Sprintf("pcap be=%v nanos=%v", be, nanos)], _ = pcapFile(be, nanos, 65535, 1, recs)
		}
	}
	// pcapng without SPBs (pcapgo gives them time zero, we the previous
	// record's): sections of both byte orders, binary and decimal
	// resolutions, timestamp offsets, obsolete Packet Blocks, skipped blocks.
	var w ngFile
	for s, be := range []bool{false, true, false} {
		w.shb(be)
		w.idb(1, 0, opt(be, 9, []byte{0x80 | 20}), opt(be, 14, app64(nil, be, 1_000_000)))
		w.block(5, make([]byte, 20))
		w.idb(101, 0, opt(be, 9, []byte{9}))
		w.idb(1, 0, opt(be, 9, []byte{3}), opt(be, 0, nil))
		for i, f := range frames {
			ifc := (i + s) % 3
			sec := uint64(1_700_000_000 + i)
			// pcapgo scales binary fractions by the truncated 1e9>>20 = 953 ns
			// per tick: give it whole seconds there (TestTSConv and TestPcapNG
			// check exact binary fractions).
			ts := [3]uint64{sec << 20, sec*1e9 + uint64(i), sec*1e3 + uint64(i)}[ifc]
			r := rec{ts: ts, data: f, ifc: ifc}
			if ifc == 1 {
				r.data = udp4(srcA, grpA, payloadN(i, 99))
			}
			if i%4 == 0 {
				w.pb(r)
			} else {
				w.epb(r)
			}
		}
	}
	files["pcapng sections"] = w.b
	paths, _ := filepath.Glob("testdata/*.pcap*")
	for _, p := range paths {
		if filepath.Ext(p) == ".golden" {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[p] = b
	}
	for name, b := range files {
		t.Run(name, func(t *testing.T) { compareRecords(t, b, 200) })
	}
}
