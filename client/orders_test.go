package client

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestOrders checks the orders table against a map under random puts,
// removes, in-place changes, removals by locate and resets, with
// references dense (as ITCH numbers them), sparse, and differing only in
// their high bits.
func TestOrders(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	for _, kind := range []string{"dense", "sparse", "high bits"} {
		t.Run(kind, func(t *testing.T) {
			var tab orders
			want := map[uint64]order{}
			ref := func() uint64 {
				r := uint64(rng.IntN(3000))
				switch kind {
				case "sparse":
					return r * 0x9E3779B97F4A7C15
				case "high bits":
					return r << 52
				}
				return r
			}
			for i := range 100_000 {
				switch r := rng.IntN(100); {
				case r < 50:
					k, o := ref(), order{locate: uint16(rng.IntN(4)), side: 'B', price: rng.Uint32(), shares: rng.Uint32()}
					tab.put(k, o)
					want[k] = o
				case r < 90:
					k := ref()
					tab.remove(k)
					delete(want, k)
				case r < 98:
					k := ref()
					if j := tab.find(k); j >= 0 {
						tab.slots[j].o.shares++
						o := want[k]
						o.shares++
						want[k] = o
					}
				case r < 99:
					loc := uint16(rng.IntN(4))
					tab.removeLocate(loc)
					for k, o := range want {
						if o.locate == loc {
							delete(want, k)
						}
					}
				default:
					if rng.IntN(20) == 0 {
						tab.reset()
						clear(want)
					}
				}
				if i%997 == 0 || i > 99_000 {
					checkOrders(t, i, &tab, want)
				}
			}
		})
	}
}

func checkOrders(t *testing.T, i int, tab *orders, want map[uint64]order) {
	t.Helper()
	if tab.len() != len(want) {
		t.Fatalf("op %d: %d orders, want %d", i, tab.len(), len(want))
	}
	for k, o := range want {
		if got, ok := tab.get(k); !ok || got != o {
			t.Fatalf("op %d: order %d is %+v %v, want %+v", i, k, got, ok, o)
		}
	}
	n := 0
	for k, o := range tab.all() {
		if want[k] != o {
			t.Fatalf("op %d: order %d is %+v, want %+v", i, k, o, want[k])
		}
		n++
	}
	if n != len(want) {
		t.Fatalf("op %d: all yields %d orders, want %d", i, n, len(want))
	}
}

// TestOrdersNoAllocs: once grown, adds and deletes allocate nothing.
func TestOrdersNoAllocs(t *testing.T) {
	var tab orders
	for r := range uint64(1000) {
		tab.put(r, order{})
	}
	for r := range uint64(1000) {
		tab.remove(r)
	}
	next := uint64(1000)
	if n := testing.AllocsPerRun(1000, func() {
		for range 500 {
			tab.put(next, order{shares: 1})
			next++
		}
		for r := next - 500; r < next; r++ {
			tab.remove(r)
		}
	}); n != 0 {
		t.Errorf("%v allocations per 500 adds and deletes", n)
	}
}
