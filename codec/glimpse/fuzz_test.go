package glimpse_test

import (
	"testing"

	"github.com/tickwire/tickwire/codec/glimpse"
	"github.com/tickwire/tickwire/codec/soupbintcp"
)

// FuzzEndOfSnapshot parses arbitrary bytes: nothing may panic; a message
// accepted is 21 bytes of type 'G' whose Seq re-encodes to a message with
// the same Seq; the error of Parse matches what the view reports. Any seq
// must round-trip through AppendEndOfSnapshot.
func FuzzEndOfSnapshot(f *testing.F) {
	f.Add(glimpse.AppendEndOfSnapshot(nil, 1), uint64(1))
	f.Add(glimpse.AppendEndOfSnapshot(nil, 1<<63), uint64(1<<63))
	f.Add([]byte("G00000000000000000042"), uint64(42))
	f.Add([]byte("G42                  "), uint64(0))
	f.Add(snapshotStream(77), ^uint64(0))
	f.Add([]byte{}, uint64(5))

	f.Fuzz(func(t *testing.T, data []byte, seq uint64) {
		m, err := glimpse.ParseEndOfSnapshot(data)
		_, viewErr := glimpse.EndOfSnapshot(data).Seq()
		switch {
		case err == nil:
			if len(m) != glimpse.LenEndOfSnapshot || m[0] != glimpse.TypeEndOfSnapshot || viewErr != nil {
				t.Fatalf("accepted % x (view error %v)", data, viewErr)
			}
			v, _ := m.Seq()
			back, err := glimpse.ParseEndOfSnapshot(glimpse.AppendEndOfSnapshot(nil, v))
			if err != nil {
				t.Fatal(err)
			}
			if w, _ := back.Seq(); w != v {
				t.Fatalf("Seq %d re-encoded reads %d", v, w)
			}
		case err == glimpse.ErrNumber:
			if viewErr != glimpse.ErrNumber {
				t.Fatalf("Parse: ErrNumber, view: %v", viewErr)
			}
		case err == glimpse.ErrLength:
			if len(data) == glimpse.LenEndOfSnapshot {
				t.Fatal("ErrLength for 21 bytes")
			}
		case err == glimpse.ErrType:
			if len(data) != glimpse.LenEndOfSnapshot || data[0] == glimpse.TypeEndOfSnapshot {
				t.Fatalf("ErrType for % x", data)
			}
		default:
			t.Fatalf("unexpected error %v", err)
		}

		b := glimpse.AppendEndOfSnapshot(nil, seq)
		m, err = glimpse.ParseEndOfSnapshot(b)
		if err != nil {
			t.Fatalf("AppendEndOfSnapshot(%d) = % x: %v", seq, b, err)
		}
		if v, err := m.Seq(); v != seq || err != nil {
			t.Fatalf("round trip %d -> %d, %v", seq, v, err)
		}
		// Framed as SoupBinTCP carries it.
		p, n, err := soupbintcp.Parse(soupbintcp.AppendSequenced(nil, b))
		if err != nil || n != 3+glimpse.LenEndOfSnapshot || string(p.Payload()) != string(b) {
			t.Fatalf("framed: %d, %v", n, err)
		}
	})
}
