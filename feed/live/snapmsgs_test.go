package live

import (
	"bytes"
	"testing"
)

// TestSnapshotMsgs stores messages of every length across chunk boundaries
// and reads them back in order, unchanged.
func TestSnapshotMsgs(t *testing.T) {
	var s snapshotMsgs
	var want [][]byte
	for i := 0; i < 3*snapshotChunk/100; i++ {
		m := bytes.Repeat([]byte{byte(i)}, 1+i%200)
		want = append(want, m)
		s.add(m)
	}
	big := bytes.Repeat([]byte{7}, 0xFFFF)
	want = append(want, big)
	s.add(big)
	if s.n != len(want) || len(s.chunks) < 3 {
		t.Fatalf("%d messages in %d chunks, want %d in 3 or more", s.n, len(s.chunks), len(want))
	}
	i := 0
	for m := range s.all() {
		if !bytes.Equal(m, want[i]) {
			t.Fatalf("message %d: %d bytes, want %d", i, len(m), len(want[i]))
		}
		i++
	}
	if i != len(want) {
		t.Fatalf("read %d messages, want %d", i, len(want))
	}
}
