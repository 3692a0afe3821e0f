package itch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// FuzzMessage feeds arbitrary bytes to Check and, when Check accepts them, to
// every accessor of the matching view. Nothing may panic, Check's verdict
// must agree with Len, and decoding then re-encoding an accepted message must
// give back exactly its bytes (every byte of every layout belongs to a field).
func FuzzMessage(f *testing.F) {
	for _, tc := range roundTrips {
		m := tc.msg.Append(nil)
		f.Add(m)
		f.Add(m[:len(m)-1])                 // one byte short
		f.Add(append(m[:len(m):len(m)], 0)) // one byte long
	}
	// One message of each type from a generated session, as a feed sends them.
	var seen [256]bool
	for p := sessionStream(f); len(p) >= 2; {
		l := int(binary.BigEndian.Uint16(p))
		if m := p[2 : 2+l]; l > 0 && !seen[m[0]] {
			seen[m[0]] = true
			f.Add(m)
		}
		p = p[2+l:]
	}
	f.Add([]byte{})
	f.Add([]byte{'h'})
	f.Add([]byte("G00000000000000000042")) // GLIMPSE end of snapshot: not ITCH

	f.Fuzz(func(t *testing.T, data []byte) {
		err := Check(data)
		switch {
		case len(data) == 0:
			if err != ErrEmpty {
				t.Fatalf("empty: %v", err)
			}
			return
		case Len(data[0]) == 0:
			if err != ErrUnknownType || TypeName(data[0]) != "Unknown" {
				t.Fatalf("type %#x: %v, TypeName %q", data[0], err, TypeName(data[0]))
			}
			return
		case Len(data[0]) != len(data):
			if !errors.Is(err, ErrLength) {
				t.Fatalf("type %q len %d: %v", data[0], len(data), err)
			}
			return
		}
		if err != nil {
			t.Fatalf("type %q len %d: %v, want nil", data[0], len(data), err)
		}
		_ = sumFields(data)
		dec := decode(data)
		if dec == nil {
			t.Fatalf("no view for known type %q", data[0])
		}
		if got := dec.Append(nil); !bytes.Equal(got, data) {
			t.Fatalf("re-encoding differs:\n got % x\nwant % x", got, data)
		}
	})
}
