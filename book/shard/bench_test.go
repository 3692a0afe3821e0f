package shard

import (
	"fmt"
	"sync"
	"testing"

	"github.com/tickwire/tickwire/book"
	"github.com/tickwire/tickwire/codec/itch"
)

// benchSession is the benchmark's input: 1M messages over 1,000
// instruments, as the feed delivers them.
var benchSession = sync.OnceValues(func() ([]itch.Message, []uint64) {
	var msgs []itch.Message
	var seqs []uint64
	each(session(11, 1_000_000, 1_000), func(seq uint64, m itch.Message) {
		msgs, seqs = append(msgs, m), append(seqs, seq)
	})
	return msgs, seqs
})

// BenchmarkShards measures the throughput of the books against the number
// of shards: one op is one message handed to Set.Apply by the producer,
// with Commit every 16 messages (a datagram's worth) and Sync every 1,024
// (a batch of datagrams), as the live handler does; "listener" adds a
// listener, so that the shards collect their changes and Sync merges and
// delivers them. msgs/s is the rate the producer sustained. With one shard
// the producer applies each message itself. The shards' CPUs are left to
// the scheduler: on a machine with fewer cores than shards plus one, the
// writers share cores with the producer.
func BenchmarkShards(b *testing.B) {
	msgs, seqs := benchSession()
	for _, lis := range []bool{false, true} {
		for _, shards := range []int{1, 2, 3, 4} {
			name := fmt.Sprintf("shards=%d", shards)
			if lis {
				name += "/listener"
			}
			b.Run(name, func(b *testing.B) {
				s, err := New(Config{Shards: shards, Book: book.Options{Orders: 1 << 18, Instruments: 1 << 11}})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				changes := 0
				if lis {
					s.SetListener(book.ListenerFunc(func(*book.Change) { changes++ }))
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i, j := 0, 0; i < b.N; i++ {
					if j == len(msgs) {
						b.StopTimer()
						s.Sync()
						s.Reset()
						j = 0
						b.StartTimer()
					}
					s.Apply(seqs[j], msgs[j])
					j++
					if j%16 == 0 {
						s.Commit()
					}
					if j%1024 == 0 {
						s.Sync()
					}
				}
				s.Sync()
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			})
		}
	}
}
