package book

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"unsafe"

	"github.com/tickwire/tickwire/codec/itch"
)

// Benchmark stream: 300 instruments, ~50k live orders, 1.5M messages.
const (
	benchInstruments = 300
	benchLive        = 50_000
	benchMessages    = 1_500_000
)

var benchStream = sync.OnceValue(func() *stream {
	return genStream(42, benchInstruments, benchLive, benchMessages)
})

// orderBytes returns the bytes held by the order table and the order slab.
func (b *Book) orderBytes() int {
	return len(b.slots)*int(unsafe.Sizeof(b.slots[0])) + cap(b.orders)*int(unsafe.Sizeof(order{}))
}

// applyAll checks and applies every message of buf, numbering from seq.
func applyAll(b *Book, buf []byte, seq uint64) uint64 {
	for off := 0; off < len(buf); {
		var m itch.Message
		m, off = next(buf, off)
		seq++
		if itch.Check(m) == nil {
			b.Apply(seq, m)
		}
	}
	return seq
}

// BenchmarkApply measures framing (itch.Len), itch.Check and Apply per
// message over the synthetic stream (see genStream: 300 instruments, ~50k
// live orders, 1.5M messages): one op is one message. The book is sized to
// the stream's peak and starts from the prefix (the directory and the
// resting orders); when the body is exhausted the book is reset and rebuilt
// with the timer stopped. B/live-order is the order table and slab over the
// live orders at the end.
func BenchmarkApply(b *testing.B) {
	s := benchStream()
	b.Logf("stream: %d messages, %d bytes, mix %s; live orders %d at start, %d at end, peak %d",
		s.nBody, len(s.body), mix(s), benchLive, s.live, s.peak)
	benchApply(b, s, benchInstruments)
}

// BenchmarkApplyLive repeats BenchmarkApply with 2k, 50k, 200k and 2M live
// orders: the cost per message as the book outgrows the caches. Issue 11's
// targets are 25 ns/msg at 50k and 35 ns/msg at 2M; 2M live orders is a
// real NASDAQ day's peak. The /prefetch rows prefetch ahead of Apply as the
// pipeline's replay does (benchApplyPrefetch); at 50k the table is below
// the size from which the book prefetches, so that row measures the same
// work as the plain one.
func BenchmarkApplyLive(b *testing.B) {
	for _, live := range []int{2_000, 50_000, 200_000, 2_000_000} {
		b.Run(fmt.Sprint(live), func(b *testing.B) {
			benchApply(b, liveStream(live), benchInstruments)
		})
		if live < 50_000 {
			continue
		}
		// Right after the plain row, so that a loaded machine's drift
		// shows in both.
		b.Run(fmt.Sprintf("%d/prefetch", live), func(b *testing.B) {
			benchApplyPrefetch(b, liveStream(live), benchInstruments)
		})
	}
}

// liveStreams caches the streams of BenchmarkApplyLive: the benchmark
// function runs once per b.N it tries, and the 2M-live stream takes seconds
// to generate.
var liveStreams sync.Map // live orders -> *stream

func liveStream(live int) *stream {
	if s, ok := liveStreams.Load(live); ok {
		return s.(*stream)
	}
	s := genStream(42, benchInstruments, live, 1_000_000)
	liveStreams.Store(live, s)
	return s
}

// BenchmarkApplyListener repeats BenchmarkApply with a listener: one that
// does nothing (the cost of finding out what changed) and one that reads
// every change into a checksum, as an encoder would.
func BenchmarkApplyListener(b *testing.B) {
	s := benchStream()
	b.Run("noop", func(b *testing.B) {
		benchApply(b, s, benchInstruments, WithListener(ListenerFunc(func(*Change) {})))
	})
	b.Run("accumulate", func(b *testing.B) {
		l := &countListener{}
		benchApply(b, s, benchInstruments, WithListener(l))
		decodeSink = l.sum
	})
}

func benchApply(b *testing.B, s *stream, instruments int, opts ...Option) {
	bk := New(append([]Option{WithOrders(s.peak), WithInstruments(instruments + 1)}, opts...)...)
	seq := applyAll(bk, s.prefix, 0)
	b.SetBytes(int64(len(s.body) / s.nBody))
	b.ReportAllocs()
	runtime.GC() // no collection of the generator's garbage while timing
	b.ResetTimer()
	off := 0
	for range b.N {
		if off == len(s.body) {
			seq, off = rebuild(b, bk, s), 0
		}
		var m itch.Message
		m, off = next(s.body, off)
		seq++
		if itch.Check(m) == nil {
			bk.Apply(seq, m)
		}
	}
	b.StopTimer()
	benchReport(b, bk)
}

// benchApplyPrefetch is benchApply as the pipeline's replay does it: the
// body is framed in batches of 256 messages, and within a batch each
// message is prefetched with Book.Prefetch PrefetchAhead messages before it
// is applied and with Book.PrefetchOrder PrefetchOrderAhead before, when
// the book says that pays (Book.Prefetching).
func benchApplyPrefetch(b *testing.B, s *stream, instruments int) {
	bk := New(WithOrders(s.peak), WithInstruments(instruments+1))
	seq := applyAll(bk, s.prefix, 0)
	pf := bk.Prefetching()
	b.Logf("prefetching: %v (%d table slots)", pf, len(bk.slots))
	b.SetBytes(int64(len(s.body) / s.nBody))
	b.ReportAllocs()
	runtime.GC()
	b.ResetTimer()
	var batch [256]itch.Message
	off := 0
	for done := 0; done < b.N; {
		if off == len(s.body) {
			seq, off = rebuild(b, bk, s), 0
		}
		n := 0
		for n < len(batch) && off < len(s.body) && done+n < b.N {
			batch[n], off = next(s.body, off)
			n++
		}
		msgs := batch[:n]
		if pf {
			for _, m := range msgs[:min(n, PrefetchAhead)] {
				bk.Prefetch(m)
			}
		}
		for i, m := range msgs {
			if pf {
				if j := i + PrefetchAhead; j < n {
					bk.Prefetch(msgs[j])
				}
				if j := i + PrefetchOrderAhead; j < n {
					bk.PrefetchOrder(msgs[j])
				}
			}
			seq++
			if itch.Check(m) == nil {
				bk.Apply(seq, m)
			}
		}
		done += n
	}
	b.StopTimer()
	benchReport(b, bk)
}

// rebuild resets bk and applies the stream's prefix again, with the timer
// stopped, and returns the prefix's last sequence number.
func rebuild(b *testing.B, bk *Book, s *stream) uint64 {
	b.StopTimer()
	bk.Reset()
	seq := applyAll(bk, s.prefix, 0)
	b.StartTimer()
	return seq
}

// benchReport reports the ns/msg and B/live-order of a benchmark of Apply
// and fails it if the synthetic stream produced anomalies.
func benchReport(b *testing.B, bk *Book) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/msg")
	b.ReportMetric(float64(bk.orderBytes())/float64(bk.LiveOrders()), "B/live-order")
	if a := bk.Anomalies(); a.Total() != 0 {
		b.Fatalf("anomalies on the synthetic stream: %v", a.Counts)
	}
}

var decodeSink uint64

// BenchmarkDecodeOnly is the baseline of BenchmarkApply without the book:
// framing, itch.Check, the dispatch on the type and the field reads Apply
// does, over the same stream.
func BenchmarkDecodeOnly(b *testing.B) {
	s := benchStream()
	b.SetBytes(int64(len(s.body) / s.nBody))
	b.ReportAllocs()
	b.ResetTimer()
	off := 0
	var acc uint64
	for range b.N {
		if off == len(s.body) {
			off = 0
		}
		var m itch.Message
		m, off = next(s.body, off)
		if itch.Check(m) != nil {
			continue
		}
		switch m.Type() {
		case itch.TypeAddOrder:
			v := itch.AddOrder(m)
			acc += v.Ref() ^ uint64(v.Shares()) ^ uint64(v.Price()) ^ uint64(v.Side()) ^ uint64(v.Locate())
		case itch.TypeOrderDelete:
			acc += itch.OrderDelete(m).Ref()
		case itch.TypeOrderReplace:
			v := itch.OrderReplace(m)
			acc += v.OrigRef() ^ v.NewRef() ^ uint64(v.Shares()) ^ uint64(v.Price())
		case itch.TypeOrderExecuted:
			v := itch.OrderExecuted(m)
			acc += v.Ref() ^ uint64(v.Shares())
		case itch.TypeOrderCancel:
			v := itch.OrderCancel(m)
			acc += v.Ref() ^ uint64(v.Shares())
		case itch.TypeOrderExecutedWithPrice:
			v := itch.OrderExecutedWithPrice(m)
			acc += v.Ref() ^ uint64(v.Shares())
		case itch.TypeAddOrderMPID:
			v := itch.AddOrderMPID(m)
			acc += v.Ref() ^ uint64(v.Shares()) ^ uint64(v.Price()) ^ uint64(v.Side())
		}
	}
	decodeSink = acc
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/msg")
}

// mix formats the share of each message type in the stream body.
func mix(s *stream) string {
	out := ""
	for _, t := range []byte("AFDECXUPINH") {
		out += fmt.Sprintf("%c %.1f%% ", t, 100*float64(s.counts[t])/float64(s.nBody))
	}
	return out
}
