package replay

import (
	"testing"

	"github.com/tickwire/tickwire/codec/itch"
)

// TestITCHLengthsMatchCodec keeps the copy of the ITCH length table used to
// recognise raw files in step with codec/itch, the table of record.
func TestITCHLengthsMatchCodec(t *testing.T) {
	for c := 0; c < 256; c++ {
		if got, want := int(itchLen[c]), itch.Len(byte(c)); got != want {
			t.Errorf("type %q: replay recognises length %d, codec/itch says %d", byte(c), got, want)
		}
	}
}
