package replay

import (
	"bytes"
	"path/filepath"
	"testing"
)

// TestChecksums reads a capture of good and bad datagrams: by default only
// IPv4 header failures are counted, all kept; WithVerifyChecksums counts
// UDP failures too and drops them all.
func TestChecksums(t *testing.T) {
	p := payloadN(1, 37) // odd length: the last byte is padded
	good4 := ethUDP4(srcA, grpA, p)
	good6 := ether(etherIPv6, nil, udp6(src6, grp6, p))
	badIP := bytes.Clone(good4)
	badIP[14+10] ^= 0x01 // IPv4 header checksum
	badUDP := bytes.Clone(good4)
	badUDP[14+20+8] ^= 0x80 // first payload byte
	none4 := bytes.Clone(good4)
	none4[14+20+6], none4[14+20+7] = 0, 0 // no UDP checksum over IPv4
	none4[14+20+8] ^= 0x80                // so a changed payload passes
	none6 := bytes.Clone(good6)
	none6[14+40+6], none6[14+40+7] = 0, 0 // mandatory over IPv6
	bad6 := bytes.Clone(good6)
	bad6[14+40+8] ^= 0x01
	cut := bytes.Clone(good4[:len(good4)-3]) // snaplen-truncated: Truncated, never verified
	cut[14+10] ^= 0x01
	recs := []rec{{data: good4}, {data: good6}, {data: badIP}, {data: badUDP}, {data: none4}, {data: none6}, {data: bad6}, {data: cut, orig: uint32(len(good4))}}
	file, offs := pcapFile(false, true, 0, 1, recs)

	for _, tc := range []struct {
		name   string
		opts   []Option
		keep   int // datagrams returned
		drops  uint64
		badUDP uint64
		offset []int64
	}{
		{name: "default", keep: 7, offset: offs[:7]},
		{name: "verify", opts: []Option{WithVerifyChecksums(true)}, keep: 3, drops: 4, badUDP: 3, offset: []int64{offs[0], offs[1], offs[4]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := newFile(bytes.NewReader(file), "x.pcap", 256, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			r := f.Packets()
			have, err := readAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if len(have) != tc.keep {
				t.Fatalf("%d datagrams, want %d", len(have), tc.keep)
			}
			for i, g := range have {
				if g.Offset != tc.offset[i] {
					t.Errorf("datagram %d at offset %d, want %d", i, g.Offset, tc.offset[i])
				}
			}
			exp := Stats{Records: 8, Bytes: r.Stats().Bytes, Datagrams: uint64(tc.keep), Truncated: 1,
				ChecksumDrops: tc.drops, BadIPChecksum: 1, BadUDPChecksum: tc.badUDP, FirstBadChecksumOffset: offs[2]}
			if st := r.Stats(); st != exp {
				t.Errorf("stats %+v\nwant  %+v", st, exp)
			}
		})
	}
}

// TestSum checks sum and fold against the word-by-word reference for every
// length and alignment up to 80 bytes, and with carries (all 0xFF).
func TestSum(t *testing.T) {
	for _, fill := range []func(int) byte{func(i int) byte { return byte(i*37 + 11) }, func(int) byte { return 0xFF }} {
		b := make([]byte, 96)
		for i := range b {
			b[i] = fill(i)
		}
		for start := range 8 {
			for n := range 81 {
				x := b[start : start+n]
				if got, want := ^fold(sum(0, x)), refChecksum(x); got != want {
					t.Fatalf("checksum of %d bytes at %d: %#04x, want %#04x", n, start, got, want)
				}
			}
		}
	}
}

// TestChecksumNoAllocs: verification allocates nothing.
func TestChecksumNoAllocs(t *testing.T) {
	f := ether(etherIPv6, nil, udp6(src6, grp6, payloadN(0, 1400)))
	var d Datagram
	var h headers
	if n := testing.AllocsPerRun(100, func() {
		decodeFrame(linkEthernet, false, f, &d, &h)
		if h.verify(true) != checksumOK {
			t.Fatal("bad checksum")
		}
	}); n != 0 {
		t.Errorf("verify allocates %.1f times per run", n)
	}
}

// TestToolCaptureChecksums verifies the UDP checksums of the tool-written
// captures: text2pcap's are real; gen.py's own UDP headers carry 0, which
// is none over IPv4 and a failure over IPv6.
func TestToolCaptureChecksums(t *testing.T) {
	bad := map[string]uint64{"mixed.pcap": 1, "raw.pcap": 4, "sll2.pcap": 4, "merged.pcapng": 8}
	for _, name := range []string{"mixed.pcap", "moldudp64.pcap", "moldudp64-ns.pcap", "moldudp64.pcapng", "moldudp64-v6.pcapng",
		"raw.pcap", "sll.pcap", "sll2.pcap", "merged.pcapng", "two-sections.pcapng"} {
		f, err := Open(filepath.Join("testdata", name), WithVerifyChecksums(true))
		if err != nil {
			t.Fatal(err)
		}
		r := f.Packets()
		if _, err := readAll(r); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if st := r.Stats(); st.BadIPChecksum != 0 || st.BadUDPChecksum != bad[name] || st.ChecksumDrops != bad[name] {
			t.Errorf("%s: %d IPv4 header, %d UDP failures, %d dropped; want 0, %d, %d", name, st.BadIPChecksum, st.BadUDPChecksum, st.ChecksumDrops, bad[name], bad[name])
		}
	}
}
