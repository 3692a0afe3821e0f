package replay

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// benchPcap returns a classic pcap of n Ethernet/IPv4/UDP frames with
// payloads of size bytes (nanosecond timestamps, as feed captures use).
func benchPcap(n, size int) []byte {
	frame := ethUDP4(srcA, grpA, payloadN(0, size))
	hdr, _ := pcapFile(false, true, 262144, 1, nil)
	b := make([]byte, 0, len(hdr)+n*(16+len(frame)))
	b = append(b, hdr...)
	var h [16]byte
	for i := range n {
		t := uint64(1_704_205_800_000_000_000) + uint64(i)*1234
		binary.LittleEndian.PutUint32(h[0:], uint32(t/1e9))
		binary.LittleEndian.PutUint32(h[4:], uint32(t%1e9))
		binary.LittleEndian.PutUint32(h[8:], uint32(len(frame)))
		binary.LittleEndian.PutUint32(h[12:], uint32(len(frame)))
		b = append(b, h[:]...)
		b = append(b, frame...)
	}
	return b
}

var benchFiles = map[string]func() []byte{
	"1400B": sync.OnceValue(func() []byte { return benchPcap(100_000, 1400) }),
	"100B":  sync.OnceValue(func() []byte { return benchPcap(100_000, 100) }),
}

// BenchmarkPacketReader reads 100k UDP datagrams per iteration from memory
// and from a file (the temp dir, tmpfs on most CI machines), and from
// memory with WithVerifyChecksums (verify).
func BenchmarkPacketReader(b *testing.B) {
	for _, name := range []string{"1400B", "100B"} {
		data := benchFiles[name]()
		path := filepath.Join(b.TempDir(), "bench.pcap")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			b.Fatal(err)
		}
		for _, src := range []string{"mem", "file", "verify"} {
			b.Run(name+"/"+src, func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				var d Datagram
				packets := 0
				for b.Loop() {
					var f *File
					var err error
					switch src {
					case "mem":
						f, err = NewFile(bytes.NewReader(data), "bench.pcap")
					case "verify":
						f, err = NewFile(bytes.NewReader(data), "bench.pcap", WithVerifyChecksums(true))
					default:
						f, err = Open(path)
					}
					if err != nil {
						b.Fatal(err)
					}
					r := f.Packets()
					for {
						if err := r.Next(&d); err != nil {
							if err != io.EOF {
								b.Fatal(err)
							}
							break
						}
						packets++
					}
					f.Close()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(packets), "ns/packet")
			})
		}
	}
}

// BenchmarkITCHReader reads a raw ITCH file of 1M messages of mixed types
// per iteration, plain and gzip-compressed.
func BenchmarkITCHReader(b *testing.B) {
	types := []byte("AAAAFEECXDDDUPS")
	var msgs [][]byte
	for i := range 1_000_000 {
		msgs = append(msgs, itchMsg(types[i%len(types)], i))
	}
	plain, _ := itchFile(msgs)
	for _, tc := range []struct {
		name string
		data []byte
	}{{"plain", plain}, {"gzip", gz(b, plain)}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(plain)))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				f, err := NewFile(bytes.NewReader(tc.data), "bench.itch")
				if err != nil {
					b.Fatal(err)
				}
				r := f.Messages()
				for {
					if _, err := r.Next(); err != nil {
						if err != io.EOF {
							b.Fatal(err)
						}
						break
					}
					n++
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/msg")
		})
	}
}

// BenchmarkMerge merges two captures (lines A and B) of 100k datagrams.
func BenchmarkMerge(b *testing.B) {
	data := benchFiles["100B"]()
	b.SetBytes(2 * int64(len(data)))
	b.ReportAllocs()
	n := 0
	var d Datagram
	for b.Loop() {
		fa, _ := NewFile(bytes.NewReader(data), "a.pcap")
		fb, _ := NewFile(bytes.NewReader(data), "b.pcap")
		m := Merge(fa.Packets(), fb.Packets())
		for {
			if _, err := m.Next(&d); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
			n++
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/packet")
}
