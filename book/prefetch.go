package book

import (
	"encoding/binary"
	"unsafe"

	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/internal/prefetch"
)

// Prefetching. With a large book a message's order lookup is two dependent
// cache misses: the reference's home slot in the order table, then the
// order the slot names in the slab (table.go). A caller that holds the
// messages after the one it applies (a batch read from a file or a
// datagram) can have both misses in flight long before Apply needs them,
// in two stages:
//
//	i + PrefetchAhead       Prefetch: the home slot of each reference
//	i + PrefetchOrderAhead  PrefetchOrder: read that slot (in the cache
//	                        by now) and prefetch the order it names
//	i                       Apply
//
// Prefetching changes nothing in the book: a prefetch is only a hint, and
// the stages only read. An add's home slot is usually empty (the order is
// new), so PrefetchOrder then fetches the sentinel, which costs nothing.
//
// Measured with BenchmarkApplyLive (AMD EPYC VM, 2 vCPUs, 1 MiB L2 per
// core, 32 MiB L3; ns/msg, medians of 5-6 interleaved runs on a machine
// loaded by other work, load 3-5). The distances were chosen over the
// whole stream as one batch:
//
//	                              200k live   2M live
//	no prefetch                   ~85         ~172
//	home slot only, 12 ahead      ~94         ~120
//	slot 16 ahead, order 8        ~70         ~90
//	slot 24 ahead, order 12       ~74         ~86   <- chosen
//	slot 32 ahead, order 16       ~73         ~91
//
// and in batches of 256 as the pipeline's replay reads them (the /prefetch
// rows) 16/8, 24/12 and 32/16 measured the same within the noise, and
// batches of 1,024 no faster. The rows as committed, -count 6: 200k
// ~141 -> ~85, 2M ~162 -> ~99, 50k (no prefetching) ~52 either way.
//
// Prefetching further (an order's level and queue neighbours, a level and
// its tail order for an add, found by a second search of the side array)
// measured slower at both sizes: the level pool is small and mostly cached,
// and the add's search, done twice, costs more than the miss it hides.
// Prefetching also the order of the slot after the home slot (a collision's
// probe, a deletion's backward shift) measured the same within the noise.
//
// Below prefetchMinSlots the table and the slab (44 bytes per order) fit
// the L2 and L3 caches and a prefetch hides little: at 50k live orders
// (250k slots) prefetching anyway measured ~49 -> ~60-75 ns/msg, of which
// the two calls are ~9 ns (CPU profile). So Prefetching is false there, and
// a caller skips both stages.

// PrefetchAhead is how many messages before applying one its caller
// should call Prefetch with it, and PrefetchOrderAhead PrefetchOrder.
const (
	PrefetchAhead      = 24
	PrefetchOrderAhead = 12
)

// prefetchMinSlots is the table size (slots, 4 bytes each: 2 MiB) from
// which Prefetching reports true.
const prefetchMinSlots = 1 << 19

// refOffset is the offset of the (first) Order Reference Number in every
// message that carries one: A, F, E, C, X, D, and U's Original Order
// Reference Number, its New Order Reference Number following at
// refOffset+8.
const refOffset = 11

// hasRef marks the message types whose reference Apply looks up.
var hasRef = [256]bool{
	itch.TypeAddOrder:               true,
	itch.TypeAddOrderMPID:           true,
	itch.TypeOrderExecuted:          true,
	itch.TypeOrderExecutedWithPrice: true,
	itch.TypeOrderCancel:            true,
	itch.TypeOrderDelete:            true,
	itch.TypeOrderReplace:           true,
}

// Prefetching reports whether Prefetch and PrefetchOrder do anything for
// b as it is now: the build has a prefetch instruction (internal/prefetch)
// and the order table is large enough for prefetching to pay. The answer
// changes only when the table grows or Reset is called; a caller may ask
// once per batch of messages.
func (b *Book) Prefetching() bool {
	return prefetch.Enabled && len(b.slots) >= prefetchMinSlots
}

// Prefetch hints that m is to be applied in about PrefetchAhead messages:
// it prefetches the home slot of each order reference m carries (A, F, E,
// C, X, D; both of a U's). It changes nothing, reads nothing but m and
// the table's size, and accepts any m (unchecked, short, of any type:
// those do nothing). It does nothing when Prefetching is false. It does
// not allocate. m is not retained.
func (b *Book) Prefetch(m itch.Message) {
	i, ok := b.prefetchHome(m)
	if !ok {
		return
	}
	slots := b.slots
	prefetch.Line(unsafe.Pointer(&slots[i]))
	if m[0] == itch.TypeOrderReplace && len(m) >= refOffset+16 {
		prefetch.Line(unsafe.Pointer(&slots[home(binary.BigEndian.Uint64(m[refOffset+8:]), uint64(len(slots)))]))
	}
}

// PrefetchOrder hints that m is to be applied in about PrefetchOrderAhead
// messages, after Prefetch(m): it reads the home slot of m's (first)
// reference and prefetches the slab entry it names, which is m's order
// unless the reference is not live or sits further along its probe
// sequence. It changes nothing, accepts any m as Prefetch does, does
// nothing when Prefetching is false and does not allocate. m is not
// retained.
func (b *Book) PrefetchOrder(m itch.Message) {
	i, ok := b.prefetchHome(m)
	if !ok {
		return
	}
	if s, orders := b.slots[i], b.orders; int(s) < len(orders) {
		prefetch.Line(unsafe.Pointer(&orders[s]))
	}
}

// prefetchHome returns the home slot of m's (first) reference, and false
// when m carries none or b does not prefetch.
func (b *Book) prefetchHome(m itch.Message) (uint64, bool) {
	n := uint64(len(b.slots))
	if len(m) < refOffset+8 || !hasRef[m[0]] || n < prefetchMinSlots || !prefetch.Enabled {
		return 0, false
	}
	return home(binary.BigEndian.Uint64(m[refOffset:]), n), true
}
