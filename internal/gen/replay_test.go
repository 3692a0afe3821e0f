package gen_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/tickwire/tickwire/internal/gen"
	"github.com/tickwire/tickwire/internal/pipeline"
)

// TestLiveBooksReplay replays a Config.Live session as `tickwire replay`
// does (a pipeline.Group over the raw ITCH file, one shard and two) and
// requires the books it rebuilds to equal the generator's, byte for byte,
// as tools/tickwire's TestReplayRawITCH does for the default session.
func TestLiveBooksReplay(t *testing.T) {
	dir := t.TempDir()
	raw := filepath.Join(dir, "deep.itch")
	f, err := os.Create(raw)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	cfg := gen.Config{Seed: 11, Messages: 1_000_000, Instruments: 200, Live: 200_000}
	sum, err := gen.Generate(cfg, gen.Outputs{ITCH: f, Books: &want})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if sum.PeakLive < cfg.Live {
		t.Fatalf("peak of %d live orders, want %d", sum.PeakLive, cfg.Live)
	}
	for _, shards := range []int{1, 2} {
		g, err := pipeline.NewGroup(pipeline.Config{Orders: cfg.Live}, shards)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Run([]string{raw}, false, nil); err != nil {
			t.Fatalf("%d shards: %v", shards, err)
		}
		var got bytes.Buffer
		if err := pipeline.WriteBooks(&got, g); err != nil {
			t.Fatal(err)
		}
		if a := g.Anomalies(); a.Total() != 0 {
			t.Errorf("%d shards: anomalies %v", shards, a.Counts)
		}
		if g.LiveOrders() != sum.LiveOrders {
			t.Errorf("%d shards: %d live orders, generator %d", shards, g.LiveOrders(), sum.LiveOrders)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("%d shards: the replayed books differ from the generator's (%d bytes, want %d)", shards, got.Len(), want.Len())
		}
	}
}
