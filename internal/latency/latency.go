// Package latency keeps the latency of a pipeline stage in an HdrHistogram
// recorded by one goroutine without locks, and published for readers.
//
// The goroutine that owns a Histogram records into it with Record (no
// lock, no allocation) and, now and then (the daemon: once a second, and
// at the end), calls Publish, which copies what it recorded into the
// published copy under a mutex; readers (metrics, `tickwire stats`, the
// summary) take that copy with Snapshot or MergeInto, never touching the
// histogram being recorded. Values are nanoseconds, from 1 ns to a minute,
// to 3 significant digits.
package latency

import (
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Max is the largest value recorded; longer ones are recorded as Max.
const Max = int64(time.Minute)

// Histogram is one stage's latency. Record and Publish belong to the
// goroutine that owns it; Snapshot and MergeInto are safe from any
// goroutine.
type Histogram struct {
	live *hdrhistogram.Histogram

	mu  sync.Mutex
	pub *hdrhistogram.Histogram
}

// New returns an empty histogram.
func New() *Histogram {
	return &Histogram{live: newHist(), pub: newHist()}
}

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, Max, 3) }

// Record records a latency of ns nanoseconds (clamped to 1 ns .. Max).
func (h *Histogram) Record(ns int64) {
	h.live.RecordValue(min(max(ns, 1), Max))
}

// Publish makes what was recorded so far visible to readers.
func (h *Histogram) Publish() {
	h.mu.Lock()
	h.pub.Reset()
	h.pub.Merge(h.live)
	h.mu.Unlock()
}

// NewEmpty returns an empty histogram of the same range and precision, for
// a reader to merge into (MergeInto).
func NewEmpty() *hdrhistogram.Histogram { return newHist() }

// Snapshot returns a copy of what was last published.
func (h *Histogram) Snapshot() *hdrhistogram.Histogram {
	s := newHist()
	h.MergeInto(s)
	return s
}

// MergeInto adds what was last published into dst.
func (h *Histogram) MergeInto(dst *hdrhistogram.Histogram) {
	h.mu.Lock()
	dst.Merge(h.pub)
	h.mu.Unlock()
}

// Quantiles are the percentiles the daemon reports, in nanoseconds.
type Quantiles struct {
	Count                             int64
	P50, P90, P99, P999, P9999, MaxNs int64
}

// QuantilesOf reads the reported percentiles of s.
func QuantilesOf(s *hdrhistogram.Histogram) Quantiles {
	return Quantiles{Count: s.TotalCount(), P50: s.ValueAtQuantile(50), P90: s.ValueAtQuantile(90),
		P99: s.ValueAtQuantile(99), P999: s.ValueAtQuantile(99.9), P9999: s.ValueAtQuantile(99.99), MaxNs: s.Max()}
}
