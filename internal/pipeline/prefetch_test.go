package pipeline

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/internal/capture"
	"github.com/tickwire/tickwire/internal/gen"
	"github.com/tickwire/tickwire/internal/prefetch"
	"github.com/tickwire/tickwire/replay"
)

// TestReplayMessagesPrefetchExact replays a raw ITCH session with about
// 120k live orders at its peak, on one shard and on two, with books sized
// so that they prefetch from the start (ReplayMessages), replays its A/B
// capture (the arbiter hints each packet's messages ahead: Prefetcher),
// and feeds the same messages one by one to pipelines that never prefetch
// (Message): the books must be the same level by level and order by
// order, and equal the generator's.
func TestReplayMessagesPrefetchExact(t *testing.T) {
	var raw, pcap, want bytes.Buffer
	cfg := gen.Config{Seed: 9, Messages: 400_000, Instruments: 200, Live: 120_000, Form: capture.Form{File: capture.Pcap, Link: capture.LinkEthernet}}
	sum, err := gen.Generate(cfg, gen.Outputs{ITCH: &raw, Capture: &pcap, Books: &want})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seed %d: %d messages, peak %d live orders", cfg.Seed, sum.Messages, sum.PeakLive)
	for _, shards := range []int{1, 2} {
		pc := Config{Orders: 120_000, Instruments: 256}
		batched, err := NewGroup(pc, shards)
		if err != nil {
			t.Fatal(err)
		}
		single, err := NewGroup(pc, shards)
		if err != nil {
			t.Fatal(err)
		}
		packets, err := NewGroup(pc, shards)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range batched.P {
			if !p.Book().Prefetching() && prefetch.Enabled {
				t.Fatalf("%d shards: a book sized for %d orders does not prefetch", shards, pc.Orders)
			}
			f, err := replay.NewFile(bytes.NewReader(raw.Bytes()), "session.itch")
			if err != nil {
				t.Fatal(err)
			}
			if err := p.ReplayMessages(f.Messages(), nil); err != nil {
				t.Fatal(err)
			}
			pf, err := replay.NewFile(bytes.NewReader(pcap.Bytes()), "session.pcap")
			if err != nil {
				t.Fatal(err)
			}
			if err := packets.P[i].ReplayPackets(replay.Merge(pf.Packets()), nil); err != nil {
				t.Fatal(err)
			}
			q := single.P[i]
			var seq uint64
			for b := raw.Bytes(); len(b) >= 2; {
				n := int(binary.BigEndian.Uint16(b))
				seq++
				q.Message(seq, b[2:2+n])
				b = b[2+n:]
			}
		}
		var got, plain bytes.Buffer
		if err := WriteBooks(&got, batched); err != nil {
			t.Fatal(err)
		}
		if err := WriteBooks(&plain, single); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), plain.Bytes()) {
			t.Fatalf("%d shards: books replayed with prefetching differ from those applied one by one", shards)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("%d shards: books differ from the generator's", shards)
		}
		var fromPackets bytes.Buffer
		if err := WriteBooks(&fromPackets, packets); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fromPackets.Bytes(), want.Bytes()) {
			t.Fatalf("%d shards: books replayed from the capture differ from the generator's", shards)
		}
		if a, b := queues(packets), queues(single); a != b {
			t.Fatalf("%d shards: the queues replayed from the capture differ from those applied one by one", shards)
		}
		if a, b := queues(batched), queues(single); a != b {
			t.Fatalf("%d shards: the queues replayed with prefetching differ from those applied one by one", shards)
		}
		for i := range batched.P {
			if a, b := batched.P[i].Anomalies(), single.P[i].Anomalies(); a.Counts != b.Counts {
				t.Fatalf("%d shards: shard %d anomalies %v, one by one %v", shards, i, a.Counts, b.Counts)
			}
			if a, b := batched.P[i].Stats().Messages, single.P[i].Stats().Messages; a != b {
				t.Fatalf("%d shards: shard %d applied %d messages, one by one %d", shards, i, a, b)
			}
		}
	}
}

// queues renders every order of g's books, level by level in queue order.
func queues(g *Group) string {
	var out bytes.Buffer
	for _, l := range g.Locates() {
		b := g.Book(l)
		for _, side := range []byte{itch.Buy, itch.Sell} {
			for _, lv := range b.AppendLevels(nil, l, side) {
				fmt.Fprintf(&out, "%d %c %d:", l, side, lv.Price)
				b.Orders(l, side, lv.Price, func(ref uint64, shares uint32) bool {
					fmt.Fprintf(&out, " %d/%d", ref, shares)
					return true
				})
				out.WriteByte('\n')
			}
		}
	}
	return out.String()
}
