package prefetch

import (
	"testing"
	"unsafe"
)

// TestLine prefetches ordinary, odd and invalid addresses: a prefetch must
// never fault nor change memory.
func TestLine(t *testing.T) {
	buf := make([]byte, 4096)
	for i := range buf {
		buf[i] = byte(i)
	}
	for i := range buf {
		Line(unsafe.Pointer(&buf[i]))
	}
	Line(nil)
	Line(unsafe.Add(nil, 8192)) // below mmap_min_addr: never mapped
	Line(unsafe.Add(nil, -64))  // the top of the address space (the kernel's)
	for i := range buf {
		if buf[i] != byte(i) {
			t.Fatalf("byte %d changed: %d", i, buf[i])
		}
	}
}

func TestNoAllocs(t *testing.T) {
	x := new([64]byte)
	if n := testing.AllocsPerRun(100, func() { Line(unsafe.Pointer(x)) }); n != 0 {
		t.Errorf("Line: %v allocations, want 0", n)
	}
}

var sink uint64

// BenchmarkLine measures the cost of the call and the instruction on a line
// already in the cache; BenchmarkLoop is the loop alone, for comparison.
func BenchmarkLine(b *testing.B) {
	buf := make([]uint64, 512)
	for i := range b.N {
		Line(unsafe.Pointer(&buf[i&511]))
	}
}

func BenchmarkLoop(b *testing.B) {
	buf := make([]uint64, 512)
	var s uint64
	for i := range b.N {
		s += buf[i&511]
	}
	sink = s
}
