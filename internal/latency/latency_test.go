package latency

import (
	"sync"
	"testing"
)

// TestRecordPublish: what is recorded is seen by readers once published,
// recording allocates nothing, and readers may read while the owner
// records (the race detector watches).
func TestRecordPublish(t *testing.T) {
	h := New()
	for i := int64(1); i <= 1000; i++ {
		h.Record(i * 1000)
	}
	if n := h.Snapshot().TotalCount(); n != 0 {
		t.Fatalf("%d values seen before Publish", n)
	}
	h.Publish()
	q := QuantilesOf(h.Snapshot())
	if q.Count != 1000 || q.P50 < 499_000 || q.P50 > 501_000 || q.MaxNs < 999_000 {
		t.Fatalf("quantiles %+v", q)
	}
	if a := testing.AllocsPerRun(1000, func() { h.Record(12345) }); a != 0 {
		t.Fatalf("Record allocates %.1f times", a)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 100 {
			h.Snapshot()
		}
	}()
	for range 100 {
		h.Record(5)
		h.Publish()
	}
	wg.Wait()
	h.Record(-3)
	h.Record(2 * Max)
	h.Publish()
	if s := h.Snapshot(); s.Min() != 1 || s.Max() < Max {
		t.Fatalf("clamping: min %d max %d", s.Min(), s.Max())
	}
}
