package transport

import "testing"

// FuzzFrameReader feeds arbitrary bytes, whole and split at a point the
// fuzzer picks, to a FrameReader and reads every field of whatever frames
// it accepts: nothing may panic, and both feedings must agree.
func FuzzFrameReader(f *testing.F) {
	e := NewEncoder(0)
	good := encodeAll(f, e, 1)
	f.Add(good, uint16(0))
	f.Add(good, uint16(len(good)/2))
	f.Add(append(encodeAll(f, e, 2), good...), uint16(3))
	f.Add([]byte{1, 0, 0x10, 0}, uint16(1))
	f.Fuzz(func(t *testing.T, in []byte, cut uint16) {
		whole := feed(in)
		c := min(int(cut), len(in))
		split := feed(in[:c], in[c:])
		if whole != split {
			t.Fatalf("whole gives %d, split at %d gives %d", whole, c, split)
		}
	})
}

// feed runs pieces through a FrameReader, reading all of every frame, and
// returns a digest of what it read.
func feed(pieces ...[]byte) int {
	r := NewFrameReader(1 << 16)
	sum := 0
	for _, p := range pieces {
		for len(p) > 0 {
			f, n, ok, err := r.Next(p)
			if err != nil {
				return sum*31 - 1
			}
			p = p[n:]
			if ok {
				sum = sum*31 + readAll(f.Bytes()) + 1
			}
		}
	}
	return sum
}
