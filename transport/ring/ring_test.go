package ring

import (
	"encoding/binary"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// record is the payload of record number i: its number, then i%50 bytes
// derived from it, so that a torn or misplaced record is seen.
func record(buf []byte, i uint64) []byte {
	buf = binary.LittleEndian.AppendUint64(buf[:0], i)
	for k := range i % 50 {
		buf = append(buf, byte(i+k))
	}
	return buf
}

func check(t testing.TB, tag uint32, p []byte) uint64 {
	t.Helper()
	if len(p) < 8 {
		t.Fatalf("record of %d bytes", len(p))
	}
	i := binary.LittleEndian.Uint64(p)
	if tag != uint32(i%7) || uint64(len(p)) != 8+i%50 {
		t.Fatalf("record %d: tag %d, %d bytes", i, tag, len(p))
	}
	for k := range i % 50 {
		if p[8+k] != byte(i+k) {
			t.Fatalf("record %d: byte %d is %d", i, k, p[8+k])
		}
	}
	return i
}

func TestInOrderAcrossTheEnd(t *testing.T) {
	r := New(4 << 10)
	rd := r.NewReader()
	var buf []byte
	next := uint64(0)
	for i := uint64(0); i < 10000; i++ {
		r.Append(uint32(i%7), record(buf, i))
		if i%20 == 19 { // read every 20 records: well within the ring
			n, err := rd.Next(func(tag uint32, p []byte) bool {
				if got := check(t, tag, p); got != next {
					t.Fatalf("record %d, want %d", got, next)
				}
				next++
				return true
			})
			if err != nil || n != 20 {
				t.Fatalf("after %d: %d records, %v", i, n, err)
			}
		}
	}
	if next != 10000 {
		t.Errorf("read %d records", next)
	}
}

func TestStopAndResume(t *testing.T) {
	r := New(4 << 10)
	rd := r.NewReader()
	for i := uint64(0); i < 5; i++ {
		r.Append(uint32(i%7), record(nil, i))
	}
	var seen []uint64
	take := 2
	for len(seen) < 5 {
		n, err := rd.Next(func(tag uint32, p []byte) bool {
			if take == 0 {
				return false
			}
			take--
			seen = append(seen, check(t, tag, p))
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("took %d", n)
		take = 2
	}
	for i, s := range seen {
		if s != uint64(i) {
			t.Fatalf("seen %v", seen)
		}
	}
}

func TestLateReaderSeesOnlyWhatFollows(t *testing.T) {
	r := New(4 << 10)
	r.Append(1, []byte("before"))
	rd := r.NewReader()
	r.Append(2, []byte("after"))
	var got []string
	rd.Next(func(tag uint32, p []byte) bool { got = append(got, string(p)); return true })
	if len(got) != 1 || got[0] != "after" {
		t.Errorf("got %q", got)
	}
}

func TestLapped(t *testing.T) {
	r := New(4 << 10)
	slow := r.NewReader()
	fast := r.NewReader()
	for i := uint64(0); i < 1000; i++ {
		r.Append(uint32(i%7), record(nil, i))
		fast.Next(func(tag uint32, p []byte) bool { check(t, tag, p); return true })
	}
	if slow.Behind() <= uint64(r.Size()) {
		t.Fatalf("slow reader only %d behind", slow.Behind())
	}
	if _, err := slow.Next(func(uint32, []byte) bool { t.Fatal("a lapped reader was given a record"); return true }); !errors.Is(err, ErrLapped) {
		t.Fatalf("lapped reader: %v", err)
	}
	slow.Skip()
	r.Append(1003%7, record(nil, 1003))
	n, err := slow.Next(func(tag uint32, p []byte) bool { return check(t, tag, p) == 1003 })
	if n != 1 || err != nil {
		t.Errorf("after Skip: %d, %v", n, err)
	}
}

// TestConcurrentReaders runs the writer against readers on goroutines of
// their own, one of them slow: every record a reader takes is intact and in
// order, and the slow one is lapped without holding anyone back.
func TestConcurrentReaders(t *testing.T) {
	const total = 200000
	r := New(64 << 10)
	var wg sync.WaitGroup
	var readers []*Reader
	for range 4 {
		readers = append(readers, r.NewReader())
	}
	laps := make([]int, len(readers))
	var finished atomic.Bool
	for k, rd := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := int64(-1)
			// A record is known intact once Next goes on past it: the one
			// given to fn just before ErrLapped may be torn.
			var pending []byte
			var ptag uint32
			confirm := func() {
				if pending == nil {
					return
				}
				i := int64(check(t, ptag, pending))
				if i <= last {
					t.Errorf("reader %d: record %d after %d", k, i, last)
				}
				last = i
				pending = nil
			}
			var keep []byte
			for {
				_, err := rd.Next(func(tag uint32, p []byte) bool {
					confirm()
					keep = append(keep[:0], p...)
					pending, ptag = keep, tag
					if k == 0 && binary.LittleEndian.Uint64(p)%1000 == 0 {
						for range 20000 { // slow: lapped now and then
							_ = r.End()
						}
					}
					return true
				})
				if errors.Is(err, ErrLapped) {
					laps[k]++
					pending = nil
					rd.Skip()
				} else {
					confirm()
				}
				if last == total-1 || finished.Load() && rd.Behind() == 0 {
					return
				}
			}
		}()
	}
	var buf []byte
	for i := uint64(0); i < total; i++ {
		r.Append(uint32(i%7), record(buf, i))
	}
	finished.Store(true)
	wg.Wait()
	t.Logf("laps per reader: %v", laps)
}

func TestNoAllocs(t *testing.T) {
	r := New(64 << 10)
	rd := r.NewReader()
	p := record(nil, 49)
	fn := func(uint32, []byte) bool { return true }
	if n := testing.AllocsPerRun(1000, func() { r.Append(0, p); rd.Next(fn) }); n != 0 {
		t.Errorf("%v allocations per record", n)
	}
}

// BenchmarkFanout appends records of 64 bytes and has 64 readers take each.
func BenchmarkFanout(b *testing.B) {
	r := New(1 << 20)
	readers := make([]*Reader, 64)
	for i := range readers {
		readers[i] = r.NewReader()
	}
	p := make([]byte, 64)
	var sink int
	fn := func(_ uint32, q []byte) bool { sink += len(q); return true }
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.Append(1, p)
		if i%64 == 63 {
			for _, rd := range readers {
				if _, err := rd.Next(fn); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/64, "ns/delivery")
}

// TestPrefault: after Prefault every page of the ring is resident, so the
// writer's first lap takes no page fault.
func TestPrefault(t *testing.T) {
	r := New(8 << 20)
	r.Prefault()
	page := os.Getpagesize()
	// mincore wants a page-aligned start: from the page holding buf[0].
	off := int(uintptr(unsafe.Pointer(&r.buf[0])) & uintptr(page-1))
	mem := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(&r.buf[0]), -off)), off+len(r.buf))
	vec := make([]byte, (len(mem)+page-1)/page)
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&mem[0])), uintptr(len(mem)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Skipf("mincore: %v", errno)
	}
	for i, v := range vec {
		if v&1 == 0 {
			t.Fatalf("page %d of %d not resident after Prefault", i, len(vec))
		}
	}
}

// TestNextCopyNeverTorn reads with NextCopy, slowly, against the writer on
// another goroutine: every copy it returns is intact and in order (no
// record is checked later, as Next's must be), and the reader is lapped
// now and then.
func TestNextCopyNeverTorn(t *testing.T) {
	const total = 200000
	r := New(16 << 10)
	rd := r.NewReader()
	done := make(chan struct{})
	var written atomic.Bool
	laps, read := 0, 0
	go func() {
		defer close(done)
		last := int64(-1)
		var buf []byte
		// Until the last record, or past it: lapped, the reader skips to
		// the writer's end.
		for last != total-1 && !(written.Load() && rd.Behind() == 0) {
			tag, rec, ok, err := rd.NextCopy(buf[:0])
			if errors.Is(err, ErrLapped) {
				laps++
				rd.Skip()
				continue
			}
			if !ok {
				continue
			}
			buf = rec[:0]
			i := int64(check(t, tag, rec))
			if i <= last {
				t.Errorf("record %d after %d", i, last)
			}
			last = i
			if read++; read%100 == 0 {
				for range 5000 { // slow
					_ = r.End()
				}
			}
		}
	}()
	var buf []byte
	for i := uint64(0); i < total; i++ {
		buf = record(buf, i)
		r.Append(uint32(i%7), buf)
	}
	written.Store(true)
	<-done
	t.Logf("%d records read, lapped %d times", read, laps)
	if laps == 0 {
		t.Log("never lapped: the writer did not outrun the reader this time")
	}
}

func TestNextCopy(t *testing.T) {
	r := New(4 << 10)
	rd := r.NewReader()
	if _, _, ok, err := rd.NextCopy(nil); ok || err != nil {
		t.Fatalf("empty ring: %v, %v", ok, err)
	}
	var buf []byte
	for i := uint64(0); i < 300; i++ { // past the buffer's end: padding
		r.Append(uint32(i%7), record(buf, i))
		tag, rec, ok, err := rd.NextCopy([]byte("kept"))
		if !ok || err != nil || check(t, tag, rec) != i {
			t.Fatalf("record %d: %v, %v", i, ok, err)
		}
	}
	for i := uint64(0); i < 200; i++ {
		r.Append(uint32(i%7), record(buf, i))
	}
	if _, _, _, err := rd.NextCopy(nil); !errors.Is(err, ErrLapped) {
		t.Fatalf("lapped reader: %v", err)
	}
}
