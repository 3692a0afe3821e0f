package book

import (
	"runtime"
	"testing"

	"github.com/tickwire/tickwire/codec/itch"
)

// BenchmarkMemoryAtPeak measures the memory of a full trading day's peak:
// 5 million live orders over 8,000 instruments, each instrument's orders
// spread over ±150 price levels around its mid, starting from the default
// capacity so the tables grow as they would on a day nobody sized for.
// Reported: heap bytes in use per live order and in total (after a GC, so
// the arrays left behind by growth are not counted; growth transiently
// holds the old and the new table).
// The sized case gives the capacity hint up front (replay --orders), as a
// daemon configured for the day would.
func BenchmarkMemoryAtPeak(b *testing.B) {
	const live = 5_000_000
	b.Run("grown", func(b *testing.B) { benchmarkMemory(b, live) })
	b.Run("sized", func(b *testing.B) { benchmarkMemory(b, live, WithOrders(live)) })
}

func benchmarkMemory(b *testing.B, live uint64, opts ...Option) {
	const instruments = 8000
	msg := make([]byte, itch.LenAddOrder)
	for b.Loop() {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		bk := New(opts...)
		x := uint64(0x9E3779B97F4A7C15)
		for ref := uint64(1); ref <= live; ref++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			locate := uint16(1 + x%instruments)
			side := byte(itch.Buy)
			price := uint32(1_000_000 + (x>>20)%150*100)
			if x&(1<<40) != 0 {
				side = itch.Sell
				price += 150 * 100
			}
			m := itch.AddOrderMsg{Header: itch.Header{Locate: locate}, Ref: ref, Side: side, Shares: 100, Stock: itch.Alpha8("X"), Price: price}
			bk.Apply(ref, m.Append(msg[:0]))
		}
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if uint64(bk.LiveOrders()) != live {
			b.Fatalf("%d live orders", bk.LiveOrders())
		}
		used := float64(after.HeapInuse - before.HeapInuse)
		b.ReportMetric(used/float64(live), "B/live-order")
		b.ReportMetric(used/(1<<20), "MiB")
		runtime.KeepAlive(bk)
	}
}
