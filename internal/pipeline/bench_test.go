package pipeline

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"sync"
	"testing"

	"github.com/tickwire/tickwire/internal/gen"
)

// yardstick is the raw ITCH BinaryFILE of a generated session shaped like the
// issue's yardstick (300 instruments), built once per test binary.
var yardstick = sync.OnceValues(func() ([]byte, error) {
	var raw bytes.Buffer
	_, err := gen.Generate(gen.Config{Seed: 42, Messages: 1_000_000, Instruments: 300}, gen.Outputs{ITCH: &raw})
	return raw.Bytes(), err
})

// BenchmarkDecodeBook measures the production per-message path in memory:
// framing, itch.Check, type dispatch and counters, and the order-by-order
// book, over a realistic session. Reported as ns/msg.
func BenchmarkDecodeBook(b *testing.B) {
	raw, err := yardstick()
	if err != nil {
		b.Fatal(err)
	}
	var msgs int
	for off := 0; off+2 <= len(raw); off += 2 + int(binary.BigEndian.Uint16(raw[off:])) {
		msgs++
	}
	p, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	run := func() {
		p.book.Reset() // keeps the capacity the tables grew to
		var seq uint64
		for off := 0; off+2 <= len(raw); {
			n := int(binary.BigEndian.Uint16(raw[off:]))
			seq++
			p.Message(seq, raw[off+2:off+2+n])
			off += 2 + n
		}
	}
	run() // warm: the tables reach the session's peak size once
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mallocs := ms.Mallocs
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		run()
	}
	b.StopTimer()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*msgs), "ns/msg")
	b.ReportMetric(float64(ms.Mallocs-mallocs)/float64(b.N*msgs), "allocs/msg")
	b.ReportMetric(float64(p.Book().LiveOrders()), "live-orders")
}
