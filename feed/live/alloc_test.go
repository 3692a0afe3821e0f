package live

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/tickwire/tickwire/book"
	"github.com/tickwire/tickwire/codec/moldudp64"
	"github.com/tickwire/tickwire/feed/mcast"
	"github.com/tickwire/tickwire/internal/gen"
	"github.com/tickwire/tickwire/internal/sim"
)

type countListener struct{ n int }

func (l *countListener) Change(*book.Change) { l.n++ }

// TestStepNoAllocs: one round of the receive loop that receives a datagram
// on each line over loopback multicast and applies it, with a Listener and
// Flush set, allocates nothing once warm: with one book, and with two
// shards (the rings, the writers' collectors, the merge at Flush).
func TestStepNoAllocs(t *testing.T) {
	for _, shards := range []int{1, 2} {
		t.Run(fmt.Sprintf("shards=%d", shards), func(t *testing.T) { stepNoAllocs(t, shards) })
	}
}

func stepNoAllocs(t *testing.T, shards int) {
	var raw bytes.Buffer
	if _, err := gen.Generate(gen.Config{Seed: 3, Messages: 20_000, Instruments: 20}, gen.Outputs{ITCH: &raw}); err != nil {
		t.Fatal(err)
	}
	hist, err := sim.ReadHistory(&raw)
	if err != nil {
		t.Fatal(err)
	}
	port := uint16(20000 + rand.IntN(20000))
	cfg := Default()
	cfg.Feed.Interface = "lo"
	cfg.Book.Shards = shards
	cfg.Feed.LineA.GroupAddr = netip.AddrPortFrom(netip.AddrFrom4([4]byte{239, 92, byte(rand.IntN(250)), 1}), port)
	cfg.Feed.LineB.GroupAddr = netip.AddrPortFrom(netip.AddrFrom4([4]byte{239, 92, byte(rand.IntN(250)), 2}), port)
	l := &countListener{}
	flushes := 0
	h, err := New(cfg, &bytes.Buffer{}, Hooks{Listener: l, Flush: func() { flushes++ }})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	sender, err := mcast.NewSender("lo", 1, true)
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close()

	var pkts [][]byte
	sess := moldudp64.MakeSession("TICKWIRE01")
	for seq := uint64(1); seq <= hist.Len(); {
		p, n := hist.AppendPacket(nil, sess, seq, 32, 1400)
		pkts = append(pkts, p)
		seq += uint64(n)
	}
	m := h.mc
	i := 0
	round := func() {
		p := pkts[i%len(pkts)]
		i++
		if err := sender.Send(m.cfg.Feed.LineA.GroupAddr, p); err != nil {
			t.Fatal(err)
		}
		if err := sender.Send(m.cfg.Feed.LineB.GroupAddr, p); err != nil {
			t.Fatal(err)
		}
		if _, _, err := m.step(); err != nil {
			t.Fatal(err)
		}
	}
	for range 200 { // warm up: the session chosen, tables grown
		round()
	}
	if a := testing.AllocsPerRun(300, round); a != 0 {
		t.Errorf("%v allocations per round", a)
	}
	if i >= len(pkts) {
		t.Fatalf("ran past the session (%d packets)", len(pkts))
	}
	if got := h.p.Stats().Messages; got == 0 || l.n == 0 || flushes == 0 {
		t.Fatalf("%d messages applied, %d changes, %d flushes", got, l.n, flushes)
	}
}
