package replay

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// golden is what tshark read from a capture in testdata (see gen.py).
type golden struct {
	records, bytes uint64
	datagrams      []got // Offset not known to tshark: zero
}

func readGolden(t *testing.T, path string) golden {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var g golden
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "records ") {
			if _, err := fmt.Sscanf(line, "records %d bytes %d", &g.records, &g.bytes); err != nil {
				t.Fatalf("%s: %q: %v", path, line, err)
			}
			continue
		}
		fs := strings.Fields(line)
		if len(fs) != 5 {
			t.Fatalf("%s: bad line %q", path, line)
		}
		var d got
		var err error
		if d.Time, err = strconv.ParseInt(fs[0], 10, 64); err != nil {
			t.Fatal(err)
		}
		if d.Interface, err = strconv.Atoi(fs[1]); err != nil {
			t.Fatal(err)
		}
		if d.Src, err = netip.ParseAddrPort(fs[2]); err != nil {
			t.Fatal(err)
		}
		if d.Dst, err = netip.ParseAddrPort(fs[3]); err != nil {
			t.Fatal(err)
		}
		if fs[4] != "-" {
			p, err := hex.DecodeString(fs[4])
			if err != nil {
				t.Fatal(err)
			}
			d.Payload = string(p)
		}
		g.datagrams = append(g.datagrams, d)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return g
}

// TestToolCaptures reads the captures written by Wireshark's tools
// (text2pcap, editcap, mergecap) and compares every datagram with what
// tshark decoded from the same file.
func TestToolCaptures(t *testing.T) {
	goldens, err := filepath.Glob("testdata/*.golden")
	if err != nil || len(goldens) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	formats := map[string]Format{".pcap": FormatPcap, ".pcapng": FormatPcapNG}
	for _, gp := range goldens {
		path := strings.TrimSuffix(gp, ".golden")
		t.Run(filepath.Base(path), func(t *testing.T) {
			want := readGolden(t, gp)
			for _, size := range []int{256, defaultBufSize} {
				content, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				f, err := newFile(bytes.NewReader(content), path, size)
				if err != nil {
					t.Fatal(err)
				}
				if f.Format() != formats[filepath.Ext(path)] {
					t.Errorf("format %v", f.Format())
				}
				r := f.Packets()
				have, err := readAll(r)
				if err != nil {
					t.Fatal(err)
				}
				for i := range have {
					have[i].Offset = 0
				}
				diffGot(t, want.datagrams, have)
				st := r.Stats()
				if st.Records != want.records || st.Bytes != want.bytes {
					t.Errorf("%d records of %d bytes, tshark read %d of %d", st.Records, st.Bytes, want.records, want.bytes)
				}
				if st.Datagrams != uint64(len(want.datagrams)) {
					t.Errorf("stats count %d datagrams, want %d", st.Datagrams, len(want.datagrams))
				}
				if st.BadIPChecksum != 0 {
					t.Errorf("%d IPv4 header checksum failures", st.BadIPChecksum)
				}
				if filepath.Base(path) == "mixed.pcap" {
					exp := Stats{Records: 12, Bytes: want.bytes, Datagrams: 7, ARP: 1, TCP: 1, Fragments: 2, LLC: 1}
					if st != exp {
						t.Errorf("stats %+v\nwant  %+v", st, exp)
					}
				}
			}
		})
	}
}

// TestToolITCH reads the raw ITCH file (and its two-member gzip made by the
// gzip tool) and compares its messages with the MoldUDP64 message blocks of
// the capture made from the same messages.
func TestToolITCH(t *testing.T) {
	f, err := Open("testdata/moldudp64.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks [][]byte
	r := f.Packets()
	var d Datagram
	for {
		if err := r.Next(&d); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		p := d.Payload
		n := int(binary.BigEndian.Uint16(p[18:]))
		p = p[20:]
		for range n {
			l := int(binary.BigEndian.Uint16(p))
			blocks = append(blocks, bytes.Clone(p[2:2+l]))
			p = p[2+l:]
		}
	}
	for _, tc := range []struct {
		path   string
		format Format
	}{{"testdata/itch.bin", FormatITCH}, {"testdata/itch.bin.gz", FormatITCHGzip}} {
		f, err := Open(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if f.Format() != tc.format {
			t.Errorf("%s: format %v", tc.path, f.Format())
		}
		m := f.Messages()
		first, err := m.Next()
		if err != nil || len(first) != 12 || first[0] != 'S' {
			t.Fatalf("%s: first message %q, %v", tc.path, first, err)
		}
		for i, want := range blocks {
			msg, err := m.Next()
			if err != nil {
				t.Fatalf("%s: message %d: %v", tc.path, i+2, err)
			}
			if !bytes.Equal(msg, want) {
				t.Fatalf("%s: message %d: %x, want %x", tc.path, i+2, msg, want)
			}
		}
		if _, err := m.Next(); err != io.EOF {
			t.Errorf("%s: after %d messages: %v", tc.path, m.Seq(), err)
		}
		f.Close()
	}
}
