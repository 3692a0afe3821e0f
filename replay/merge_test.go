package replay

import (
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// mergeEntry identifies one datagram of one reader.
type mergeEntry struct {
	time   int64
	reader int
	seq    int
}

// mergeFiles returns k pcap files with n datagrams each at non-decreasing
// random times (many ties), and every datagram in the expected merged order.
func mergeFiles(t *testing.T, rng *rand.Rand, k, n int) ([][]byte, []mergeEntry) {
	var files [][]byte
	var all []mergeEntry
	for r := range k {
		var recs []rec
		tm := uint64(0)
		for i := range n {
			tm += uint64(rng.IntN(3)) // 0 gives ties within and across readers
			payload := fmt.Sprintf("r%d-s%d", r, i)
			recs = append(recs, rec{ts: tm, data: ethUDP4(srcA, grpA, []byte(payload))})
			all = append(all, mergeEntry{int64(tm) * 1000, r, i})
		}
		f, _ := pcapFile(r%2 == 1, false, 65535, 1, recs)
		files = append(files, f)
	}
	slices.SortStableFunc(all, func(a, b mergeEntry) int {
		if a.time != b.time {
			return int(a.time - b.time)
		}
		return a.reader - b.reader
	})
	return files, all
}

func TestMerge(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	for _, k := range []int{1, 2, 3, 8, 9, 12} {
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			files, want := mergeFiles(t, rng, k, 50+rng.IntN(50))
			var rs []*PacketReader
			for _, f := range files {
				rs = append(rs, openBytes(t, f, 128).Packets()) // small buffers: payloads move
			}
			m := Merge(rs...)
			var d Datagram
			for i, w := range want {
				r, err := m.Next(&d)
				if err != nil {
					t.Fatalf("datagram %d: %v", i, err)
				}
				if r != w.reader || d.Time != w.time || string(d.Payload) != fmt.Sprintf("r%d-s%d", w.reader, w.seq) {
					t.Fatalf("datagram %d: reader %d time %d payload %q; want %+v", i, r, d.Time, d.Payload, w)
				}
			}
			for range 2 {
				if r, err := m.Next(&d); err != io.EOF || r != -1 {
					t.Fatalf("after the end: %d, %v", r, err)
				}
			}
		})
	}
}

func TestMergeEmptyAndError(t *testing.T) {
	empty, _ := pcapFile(false, false, 65535, 1, nil)
	one, _ := pcapFile(false, false, 65535, 1, []rec{{ts: 1 << 32, data: ethUDP4(srcA, grpA, []byte("x"))}})
	bad := append([]byte(nil), one...)
	bad = bad[:len(bad)-3]
	m := Merge(openBytes(t, empty, 4096).Packets(), openBytes(t, one, 4096).Packets())
	var d Datagram
	if r, err := m.Next(&d); err != nil || r != 1 || string(d.Payload) != "x" {
		t.Fatalf("got %d, %v, %q", r, err, d.Payload)
	}
	if _, err := m.Next(&d); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
	if _, err := Merge().Next(&d); err != io.EOF {
		t.Fatalf("no readers: %v", err)
	}

	m = Merge(openBytes(t, one, 4096).Packets(), openBytes(t, bad, 4096).Packets())
	r, err := m.Next(&d)
	if r != 1 {
		t.Errorf("error from reader %d, want 1", r)
	}
	wantErr(t, err, ErrTruncated, 24)
	if r2, err2 := m.Next(&d); r2 != r || err2 != err {
		t.Errorf("error not sticky: %d, %v", r2, err2)
	}
}

func TestMergeNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, k := range []int{2, 10} {
		files, _ := mergeFiles(t, rng, k, 300)
		var rs []*PacketReader
		for _, f := range files {
			rs = append(rs, openBytes(t, f, 4096).Packets())
		}
		m := Merge(rs...)
		var d Datagram
		n := testing.AllocsPerRun(200, func() {
			if _, err := m.Next(&d); err != nil {
				t.Fatal(err)
			}
		})
		if n != 0 {
			t.Errorf("k=%d: Merger.Next allocates %.1f times per call", k, n)
		}
	}
}
