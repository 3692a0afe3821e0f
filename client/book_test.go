package client

import (
	"bytes"
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/tickwire/tickwire/book"
	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/internal/pipeline"
	"github.com/tickwire/tickwire/transport"
	"github.com/tickwire/tickwire/transport/tw"
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

// TestOrdersMirror applies random order-by-order updates, as an Orders
// subscription receives them, and checks after each that every level of
// the mirror is the sum of its orders.
func TestOrdersMirror(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	c := &Client{o: Options{Depth: DepthOrders}, book: NewBook()}
	c.book.Reset(13, itch.Alpha8("TEST"), 'T', false, 0).depth = DepthOrders
	var refs []uint64
	next := uint64(1)
	for i := range 5000 {
		seq := uint64(i + 1)
		ref := uint64(rng.IntN(1 << 20)) // mostly unknown
		if len(refs) > 0 && rng.IntN(10) != 0 {
			ref = refs[rng.IntN(len(refs))]
		}
		side := byte(itch.Buy)
		if rng.IntN(2) == 1 {
			side = itch.Sell
		}
		price, shares := uint32(1000+rng.IntN(30)), uint32(rng.IntN(400))
		switch r := rng.IntN(10); {
		case r < 4 || len(refs) == 0:
			c.add(13, next, side, price, shares, seq)
			refs = append(refs, next)
			next++
		case r < 6:
			c.reduce(ref, ^uint32(0), seq)
		case r < 8:
			c.reduce(ref, uint32(rng.IntN(300)), seq)
		default:
			c.reduce(ref, ^uint32(0), seq)
			c.add(13, next, side, price, shares, seq)
			refs = append(refs, next)
			next++
		}
		if len(refs) > 500 {
			refs = refs[len(refs)-500:]
		}
		checkLevels(t, i, c, c.book.Instrument(13))
	}
}

// checkLevels fails t unless the sides of in are the sums of c's orders,
// best first.
func checkLevels(t *testing.T, i int, c *Client, in *Instrument) {
	t.Helper()
	sum := map[[2]uint32]book.Level{}
	for _, o := range c.orders.all() {
		k := [2]uint32{uint32(o.side), o.price}
		l := sum[k]
		l.Price, l.Shares, l.Orders = o.price, l.Shares+uint64(o.shares), l.Orders+1
		sum[k] = l
	}
	var bids, asks []book.Level
	for k, l := range sum {
		if k[0] == itch.Buy {
			bids = append(bids, l)
		} else {
			asks = append(asks, l)
		}
	}
	slices.SortFunc(bids, func(a, b book.Level) int { return cmp.Compare(b.Price, a.Price) })
	slices.SortFunc(asks, func(a, b book.Level) int { return cmp.Compare(a.Price, b.Price) })
	if !slices.Equal(in.Bids, bids) || !slices.Equal(in.Asks, asks) {
		t.Fatalf("update %d:\nbids %v\nwant %v\nasks %v\nwant %v", i, in.Bids, bids, in.Asks, asks)
	}
}

// TestOrderFrameSteady checks BenchmarkMirrorApply's orders frame: it
// leaves the resting book as it found it, so the benchmark repeats it in
// a steady state, and holds the mix it says.
func TestOrderFrameSteady(t *testing.T) {
	c := ordersClient(t)
	in := c.book.Instrument(13)
	bids, asks, n := slices.Clone(in.Bids), slices.Clone(in.Asks), c.orders.len()
	frame := orderFrame(benchUpdates)
	kinds := map[tw.Body]int{}
	for _, u := range decodeOrders(frame) {
		kinds[u.kind]++
	}
	t.Logf("mix of %d updates: %d adds, %d deletes, %d replaces, %d executions, %d cancels", benchUpdates,
		kinds[tw.BodyOrderAdded], kinds[tw.BodyOrderDeleted], kinds[tw.BodyOrderReplaced], kinds[tw.BodyOrderExecuted], kinds[tw.BodyOrderCancelled])
	for range 3 {
		applyFrame(t, c, transport.NewFrameReader(0), frame)
		if !slices.Equal(in.Bids, bids) || !slices.Equal(in.Asks, asks) || c.orders.len() != n {
			t.Fatalf("the frame changed the book: %d orders, want %d\nbids %v\nasks %v", c.orders.len(), n, in.Bids, in.Asks)
		}
		checkLevels(t, 0, c, in)
	}
}
