package replay

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// itchDay returns n messages cycling through every known type, with an
// unknown type, a zero-length and a long record among them.
func itchDay(n int) [][]byte {
	types := []byte("SRHYLVWKJhAFECXDUPQBINO")
	msgs := [][]byte{itchMsg('S', 0)}
	for i := 1; i < n; i++ {
		switch i % 50 {
		case 17:
			msgs = append(msgs, itchMsg('z', i)) // unknown type, framed by length
		case 33:
			msgs = append(msgs, []byte{})
		case 41:
			m := payloadN(i, 4000)
			m[0] = 'Z'
			msgs = append(msgs, m)
		default:
			msgs = append(msgs, itchMsg(types[i%len(types)], i))
		}
	}
	return msgs
}

func TestITCHReader(t *testing.T) {
	msgs := itchDay(500)
	plain, offs := itchFile(msgs)
	for _, tc := range []struct {
		name   string
		file   []byte
		format Format
	}{
		{"plain", plain, FormatITCH},
		{"gzip", gz(t, plain), FormatITCHGzip},
		{"gzip multi-member", gz(t, plain[:1000], plain[1000:3001], plain[3001:]), FormatITCHGzip},
	} {
		for _, size := range bufSizes {
			for _, rd := range readers {
				t.Run(fmt.Sprintf("%s/buf=%d/%s", tc.name, size, rd.name), func(t *testing.T) {
					f, err := newFile(rd.wrap(tc.file), "x.itch", size)
					if err != nil {
						t.Fatal(err)
					}
					if f.Format() != tc.format {
						t.Fatalf("format %v, want %v", f.Format(), tc.format)
					}
					r := f.Messages()
					for i, want := range msgs {
						m, err := r.Next()
						if err != nil {
							t.Fatalf("message %d: %v", i, err)
						}
						if !bytes.Equal(m, want) {
							t.Fatalf("message %d: %x, want %x", i, m, want)
						}
						if cap(m) != len(m) {
							t.Fatalf("message %d: capacity %d", i, cap(m))
						}
						if r.Seq() != uint64(i+1) || r.Offset() != offs[i] {
							t.Fatalf("message %d: seq %d offset %d, want %d %d", i, r.Seq(), r.Offset(), i+1, offs[i])
						}
					}
					for range 2 {
						if m, err := r.Next(); err != io.EOF || m != nil {
							t.Fatalf("after the end: %x, %v", m, err)
						}
					}
				})
			}
		}
	}
}

func TestLooksLikeITCH(t *testing.T) {
	rec := func(t byte, n int) []byte {
		m := make([]byte, n)
		if n > 0 {
			m[0] = t
		}
		b, _ := itchFile([][]byte{m})
		return b
	}
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	for _, tc := range []struct {
		name string
		b    []byte
		want bool
	}{
		{"system event", rec('S', 12), true},
		{"four known", cat(rec('S', 12), rec('R', 39), rec('A', 36), rec('D', 19)), true},
		{"known then unknown letter", cat(rec('S', 12), rec('G', 21)), true},
		{"unknown letter only", rec('G', 21), false},
		{"wrong length", rec('S', 13), false},
		{"second record wrong length", cat(rec('S', 12), rec('A', 35)), false},
		{"non-letter type", cat(rec('S', 12), rec('#', 20)), false},
		{"unknown too short", cat(rec('S', 12), rec('G', 5)), false},
		{"zero length first", cat(rec(0, 0), rec('S', 12)), false},
		{"truncated first known", rec('S', 12)[:8], true},
		{"truncated first wrong", rec('S', 13)[:8], false},
		{"two bytes", []byte{0, 12}, false},
		{"text", []byte("hello, world\n"), false},
		{"pcap magic", []byte{0xD4, 0xC3, 0xB2, 0xA1, 2, 0, 4, 0}, false},
		{"later records only checked up to 4", cat(rec('S', 12), rec('S', 12), rec('S', 12), rec('S', 12), []byte{9, 9, 9}), true},
	} {
		if got := looksLikeITCH(tc.b); got != tc.want {
			t.Errorf("%s: looksLikeITCH = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestITCHReaderNoAllocs(t *testing.T) {
	plain, _ := itchFile(itchDay(2000))
	for name, file := range map[string][]byte{"plain": plain, "gzip": gz(t, plain)} {
		r := openBytes(t, file, 4096).Messages()
		n := testing.AllocsPerRun(1000, func() {
			if _, err := r.Next(); err != nil {
				t.Fatal(err)
			}
		})
		if n != 0 {
			t.Errorf("%s: Next allocates %.1f times per call", name, n)
		}
	}
}
