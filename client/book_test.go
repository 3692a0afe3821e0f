package client

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/tickwire/tickwire/book"
	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/internal/pipeline"
)

// TestMirrorWritesTheReplaysBooks replays the bundled capture, then builds a
// mirror of its final books level by level in a random order, with levels
// that come and go on the way, and checks that the mirror writes the very
// bytes the replay writes.
func TestMirrorWritesTheReplaysBooks(t *testing.T) {
	g, err := pipeline.NewGroup(pipeline.Config{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Run([]string{"../pcaps/sample.pcap"}, false, nil); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := pipeline.WriteBooks(&want, g); err != nil {
		t.Fatal(err)
	}
	type set struct {
		locate uint16
		side   byte
		lv     book.Level
	}
	var sets []set
	m := NewBook()
	for _, l := range g.Locates() {
		b := g.Book(l)
		var sym [8]byte
		copy(sym[:], "        ")
		copy(sym[:], b.Symbol(l))
		m.Reset(l, sym, 0, b.Faults(l) > 0, 0)
		for _, side := range []byte{itch.Buy, itch.Sell} {
			for _, lv := range b.AppendLevels(nil, l, side) {
				sets = append(sets, set{l, side, lv})
			}
		}
	}
	final := map[set]bool{}
	for _, s := range sets {
		final[set{s.locate, s.side, book.Level{Price: s.lv.Price}}] = true
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(sets), func(i, j int) { sets[i], sets[j] = sets[j], sets[i] })
	for i, s := range sets {
		// A level that is not in the final book appears and goes away.
		ghost := s.lv.Price + 1 + uint32(rng.IntN(1000))
		for final[set{s.locate, s.side, book.Level{Price: ghost}}] {
			ghost++
		}
		m.SetLevel(s.locate, s.side, ghost, 5, 1, uint64(i))
		m.SetLevel(s.locate, s.side, s.lv.Price, s.lv.Shares+7, s.lv.Orders+1, uint64(i))
		m.SetLevel(s.locate, s.side, s.lv.Price, s.lv.Shares, s.lv.Orders, uint64(i))
		m.SetLevel(s.locate, s.side, ghost, 0, 0, uint64(i))
	}
	var got bytes.Buffer
	if err := m.WriteBooks(&got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Errorf("mirror's books differ from the replay's:\n%.600s\nwant:\n%.600s", got.String(), want.String())
	}
	if len(sets) < 100 {
		t.Errorf("only %d levels: the sample did not replay", len(sets))
	}
}

func TestSetLevelBadSide(t *testing.T) {
	m := NewBook()
	if m.SetLevel(1, 'X', 100, 1, 1, 1) {
		t.Error("side X accepted")
	}
}

func TestSetLevelNoAllocs(t *testing.T) {
	m := NewBook()
	for p := uint32(0); p < 20; p++ {
		m.SetLevel(3, itch.Buy, 1000+p, 100, 1, 0)
	}
	n := testing.AllocsPerRun(1000, func() {
		m.SetLevel(3, itch.Buy, 1010, 0, 0, 1)
		m.SetLevel(3, itch.Buy, 1010, 300, 2, 2)
	})
	if n != 0 {
		t.Errorf("%v allocations per update", n)
	}
}

// BenchmarkSetLevel applies level updates near the top of a 20-level side,
// as a feed mostly does: a change of size, a level gone, one back.
func BenchmarkSetLevel(b *testing.B) {
	m := NewBook()
	for p := uint32(0); p < 20; p++ {
		m.SetLevel(3, itch.Sell, 1000+p, 100, 1, 0)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := 1000 + uint32(i%4)
		switch i % 3 {
		case 0:
			m.SetLevel(3, itch.Sell, p, uint64(i), 2, 1)
		case 1:
			m.SetLevel(3, itch.Sell, p, 0, 0, 1)
		default:
			m.SetLevel(3, itch.Sell, p, 100, 1, 1)
		}
	}
}

// TestMirrorFromTheBooksChanges replays the bundled capture with a listener
// on the replay's book that feeds the mirror only what the book says
// changed (directory entries and levels), as the server will: at the end
// the mirror writes the very bytes the replay writes.
func TestMirrorFromTheBooksChanges(t *testing.T) {
	g, err := pipeline.NewGroup(pipeline.Config{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := NewBook()
	levels := 0
	g.P[0].Book().SetListener(book.ListenerFunc(func(c *book.Change) {
		switch c.Kind {
		case book.ChangeDirectory:
			var sym [8]byte
			copy(sym[:], itch.StockDirectory(c.Msg).Stock())
			m.Reset(c.Locate, sym, 0, false, c.Seq)
		case book.ChangeLevel:
			levels++
			m.SetLevel(c.Locate, c.Side, c.Price, c.LevelShares, c.LevelOrders, c.Seq)
		}
	}))
	if err := g.Run([]string{"../pcaps/sample.pcap"}, false, nil); err != nil {
		t.Fatal(err)
	}
	var want, got bytes.Buffer
	if err := pipeline.WriteBooks(&want, g); err != nil {
		t.Fatal(err)
	}
	if err := m.WriteBooks(&got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Errorf("mirror from %d level changes differs from the replay's books:\n%.600s\nwant:\n%.600s", levels, got.String(), want.String())
	}
}
