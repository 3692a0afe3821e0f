package natsjs

import (
	"testing"

	"github.com/tickwire/tickwire/transport"
	"github.com/tickwire/tickwire/transport/tw"
)

// TestUpdatesAllocateNothing: an update the publisher relays, applied to
// its mirror book and added to its instrument's batch, allocates nothing
// once the batch's buffer has grown: what a NATS message costs (its
// headers, nats.go's publish) is paid per message of a batch, not per
// update (BenchmarkPublish measures both).
func TestUpdatesAllocateNothing(t *testing.T) {
	cfg := Config{URL: "nats://127.0.0.1:4222", BatchSeqs: 1 << 40}
	if err := cfg.resolve(); err != nil {
		t.Fatal(err)
	}
	p := &Publisher{cfg: cfg, mr: newMirror(), batches: make([]batch, 1<<16)}
	// Adds and deletes of 64 orders on 8 instruments, pre-encoded.
	e := transport.NewEncoder(1 << 10)
	var frames [][]byte
	var locs []uint16
	seq := uint64(0)
	for round := range 2 {
		for i := range 64 {
			seq++
			loc := uint16(1 + i%8)
			s := transport.Stamp{FeedSeq: seq, Timestamp: seq * 1000, Locate: loc}
			e.Begin(0)
			if round == 0 {
				e.OrderAdded(s, uint64(1000+i), tw.SideBuy, uint32(100+i), 100, nil)
			} else {
				e.OrderDeleted(s, uint64(1000+i))
			}
			f, err := e.Finish()
			if err != nil {
				t.Fatal(err)
			}
			frames = append(frames, append([]byte(nil), f...))
			locs = append(locs, loc)
		}
	}
	run := func() {
		for i, f := range frames {
			p.updates(locs[i], f)
		}
		// As a flush leaves the batches: emptied, their buffers kept.
		for _, loc := range p.pendingLocs {
			p.batches[loc].buf = p.batches[loc].buf[:0]
		}
		p.pendingLocs = p.pendingLocs[:0]
	}
	run() // the buffers grow
	if n := testing.AllocsPerRun(200, run); n != 0 {
		t.Errorf("%v allocations per %d updates, want 0", n, len(frames))
	}
	if live := p.mr.bk.LiveOrders(); live != 0 {
		t.Errorf("the mirror holds %d orders after every add was deleted", live)
	}
}
