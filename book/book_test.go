package book

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/tickwire/tickwire/codec/itch"
)

// TestMemoryPerOrder checks the memory arithmetic of the package
// documentation: a book filled to its WithOrders capacity holds its orders in
// at most 48 bytes each, table slots included (24 + 5 × 4 = 44), whatever the
// range of the reference numbers.
func TestMemoryPerOrder(t *testing.T) {
	if s := unsafe.Sizeof(order{}); s != 24 {
		t.Fatalf("order is %d bytes, want 24", s)
	}
	if s := unsafe.Sizeof(uint32(0)); s*slotsPerOrder != 20 {
		t.Fatalf("table share is %d bytes per order, want 20", s*slotsPerOrder)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name string
		n    int
		ref  func(i int) uint64
	}{
		{"sequential-1k", 1_000, func(i int) uint64 { return uint64(i) + 1 }},
		{"sequential-100k", 100_000, func(i int) uint64 { return uint64(i) + 1 }},
		{"strided-100k", 100_000, func(i int) uint64 { return uint64(i)*4096 + 7 }},
		{"random-64bit-300k", 300_000, func(int) uint64 { return rng.Uint64() | 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := New(WithOrders(tc.n), WithInstruments(64))
			slots0, cap0 := len(b.slots), cap(b.orders)
			for i := range tc.n {
				side := byte("BS"[i%2])
				b.add(uint64(i), uint16(1+i%50), tc.ref(i), side, 100, uint32(10_000+100*(i%37)))
			}
			if a := b.Anomalies(); a.Total() != 0 || b.LiveOrders() != tc.n {
				t.Fatalf("%d live, anomalies %v", b.LiveOrders(), a.Counts)
			}
			if len(b.slots) != slots0 || cap(b.orders) != cap0 {
				t.Fatalf("grew before exceeding its capacity: slots %d -> %d, slab %d -> %d",
					slots0, len(b.slots), cap0, cap(b.orders))
			}
			per := float64(b.orderBytes()) / float64(b.LiveOrders())
			t.Logf("%d live orders: %d table + slab bytes, %.2f bytes per order", tc.n, b.orderBytes(), per)
			if per > 48 {
				t.Errorf("%.2f bytes per live order, budget 48", per)
			}
			if err := b.CheckInvariants(); err != nil {
				t.Fatal(err)
			}
			// One more order doubles both arrays: amortised growth.
			b.add(0, 1, 1<<63, 'B', 1, 1)
			if len(b.slots) != 2*slots0 || cap(b.orders) != 2*cap0 {
				t.Errorf("after exceeding capacity: slots %d -> %d, slab %d -> %d, want doubled",
					slots0, len(b.slots), cap0, cap(b.orders))
			}
			if err := b.CheckInvariants(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestApplyAllocs proves that Apply allocates nothing in steady state: a warm
// book replays a whole synthetic stream (adds, deletes, executions, cancels,
// replaces, trades, status messages; levels created and emptied; 20
// instruments) and a fixed cycle of messages on fresh references.
func TestApplyAllocs(t *testing.T) {
	s := genStream(3, 20, 5_000, 100_000)
	b := New(WithOrders(s.peak), WithInstruments(32))
	replay := func() {
		b.Reset()
		seq := applyAll(b, s.prefix, 0)
		applyAll(b, s.body, seq)
	}
	replay() // warm: side arrays and the level pool reach their peak
	if n := testing.AllocsPerRun(3, replay); n != 0 {
		t.Errorf("replaying %d messages allocates %.0f times", s.nBody, n)
	}
	if a := b.Anomalies(); a.Total() != 0 {
		t.Fatalf("anomalies %v", a.Counts)
	}

	// Fresh references every run: the table and slab reuse freed entries,
	// levels are created and emptied.
	buf := make([]byte, 0, itch.MaxLen)
	var ref uint64 = 1 << 40
	var seq uint64
	apply := func(msg []byte) {
		seq++
		b.Apply(seq, msg)
	}
	hdr := itch.Header{Locate: 7}
	cycle := func() {
		ref += 2
		add := itch.AddOrderMsg{Header: hdr, Ref: ref, Side: itch.Sell, Shares: 300, Price: 123_400}
		apply(add.Append(buf[:0]))
		exe := itch.OrderExecutedMsg{Header: hdr, Ref: ref, Shares: 100, Match: ref}
		apply(exe.Append(buf[:0]))
		cxl := itch.OrderCancelMsg{Header: hdr, Ref: ref, Shares: 50}
		apply(cxl.Append(buf[:0]))
		exp := itch.OrderExecutedWithPriceMsg{Header: hdr, Ref: ref, Shares: 50, Printable: 'N', ExecPrice: 1}
		apply(exp.Append(buf[:0]))
		rep := itch.OrderReplaceMsg{Header: hdr, OrigRef: ref, NewRef: ref + 1, Shares: 500, Price: 123_500}
		apply(rep.Append(buf[:0]))
		del := itch.OrderDeleteMsg{Header: hdr, Ref: ref + 1}
		apply(del.Append(buf[:0]))
	}
	cycle()
	if n := testing.AllocsPerRun(1000, cycle); n != 0 {
		t.Errorf("a cycle of A E X C U D allocates %.0f times", n)
	}
	if a := b.Anomalies(); a.Total() != 0 {
		t.Fatalf("anomalies %v", a.Counts)
	}
}

// TestAnomalyRecords checks that counting goes on past the first
// MaxAnomalyRecords records and that Records is the caller's copy.
func TestAnomalyRecords(t *testing.T) {
	b := New()
	if a := b.Anomalies(); a.Total() != 0 || a.Records != nil {
		t.Fatalf("fresh book: %+v", a)
	}
	for i := range 100 {
		b.del(uint64(i+1), 3, uint64(1000+i))
	}
	a := b.Anomalies()
	if a.Counts[AnomalyUnknownRef] != 100 || a.Total() != 100 || len(a.Records) != MaxAnomalyRecords {
		t.Fatalf("counts %v, %d records", a.Counts, len(a.Records))
	}
	for i, r := range a.Records {
		want := Anomaly{Seq: uint64(i + 1), Kind: AnomalyUnknownRef, Ref: uint64(1000 + i), Locate: 3}
		if r != want {
			t.Fatalf("record %d = %+v, want %+v", i, r, want)
		}
	}
	a.Records[0].Seq = 999
	if b.Anomalies().Records[0].Seq != 1 {
		t.Fatal("Records aliases the book")
	}
	if b.Faults(3) != 100 || b.Faults(4) != 0 || b.Faults(65535) != 0 {
		t.Fatalf("faults %d %d %d", b.Faults(3), b.Faults(4), b.Faults(65535))
	}
	for k := range NumAnomalyKinds + 1 {
		if k.String() == "" {
			t.Errorf("kind %d has no name", k)
		}
	}
}

// TestQueries covers the read side on edge inputs.
func TestQueries(t *testing.T) {
	b := New(WithOrders(1), WithInstruments(1))
	if _, _, ok := b.Best(9); ok || b.Crossed(9) || b.Symbol(9) != nil || b.Faults(9) != 0 {
		t.Fatal("unknown locate reports something")
	}
	if got := b.Locates(nil); len(got) != 0 {
		t.Fatalf("Locates of an empty book: %v", got)
	}
	// Locate 65535 (the highest) and locate 0 work like any other.
	b.add(1, 65535, 10, 'B', 5, 100)
	b.add(2, 65535, 11, 'S', 6, 200)
	b.add(3, 0, 12, 'S', 7, 300)
	b.directory(40, []byte("ABC     "))
	if got, want := b.Locates([]uint16{7}), []uint16{7, 0, 40, 65535}; !slices.Equal(got, want) {
		t.Fatalf("Locates = %v, want %v", got, want)
	}
	if s := b.Symbol(40); string(s) != "ABC" || cap(s) != 3 {
		t.Fatalf("Symbol = %q (cap %d)", s, cap(s))
	}
	if b.Symbol(65535) != nil {
		t.Fatal("symbol for a locate without directory entry")
	}
	bid, ask, ok := b.Best(65535)
	if !ok || bid != (Level{Price: 100, Shares: 5, Orders: 1}) || ask != (Level{Price: 200, Shares: 6, Orders: 1}) {
		t.Fatalf("Best = %+v %+v %v", bid, ask, ok)
	}
	if bid, ask, ok := b.Best(0); !ok || bid.Orders != 0 || ask.Price != 300 || b.Crossed(0) {
		t.Fatalf("one-sided Best = %+v %+v %v", bid, ask, ok)
	}
	dst := []Level{{Price: 1}}
	if got := b.AppendLevels(dst, 65535, 'X'); len(got) != 1 {
		t.Fatal("AppendLevels with a bad side appended")
	}
	if got := b.AppendLevels(dst, 65535, itch.Sell); len(got) != 2 || got[0].Price != 1 || got[1].Price != 200 {
		t.Fatalf("AppendLevels = %+v", got)
	}
	if got := b.AppendLevels(nil, 12345, itch.Buy); got != nil {
		t.Fatal("AppendLevels of an unknown locate appended")
	}
	// Orders: stops when fn says so; nothing for a missing level or side.
	for i := range 5 {
		b.add(uint64(10+i), 65535, uint64(20+i), 'B', uint32(i+1), 100)
	}
	var refs []uint64
	b.Orders(65535, itch.Buy, 100, func(ref uint64, _ uint32) bool {
		refs = append(refs, ref)
		return len(refs) < 3
	})
	if !slices.Equal(refs, []uint64{10, 20, 21}) {
		t.Fatalf("Orders visited %v", refs)
	}
	calls := 0
	b.Orders(65535, itch.Buy, 101, func(uint64, uint32) bool { calls++; return true })
	b.Orders(65535, 'Z', 100, func(uint64, uint32) bool { calls++; return true })
	b.Orders(3, itch.Buy, 100, func(uint64, uint32) bool { calls++; return true })
	if calls != 0 {
		t.Fatalf("Orders called fn %d times for missing levels", calls)
	}
	if b.LiveOrders() != 8 {
		t.Fatalf("LiveOrders = %d", b.LiveOrders())
	}
	if err := b.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

// TestOptions checks defaults and clamping.
func TestOptions(t *testing.T) {
	for _, b := range []*Book{New(), New(WithOrders(0), WithInstruments(-1))} {
		if len(b.slots) != tableSize(DefaultOrders) || cap(b.orders) != DefaultOrders+1 || len(b.inst) != DefaultInstruments {
			t.Fatalf("defaults: %d slots, slab %d, %d instruments", len(b.slots), cap(b.orders), len(b.inst))
		}
	}
	b := New(WithOrders(3), WithInstruments(1<<20))
	if len(b.inst) != maxLocates || cap(b.orders) != 4 {
		t.Fatalf("%d instruments, slab %d", len(b.inst), cap(b.orders))
	}
}

// TestCheckGuardsApply pins the contract of Apply, which does not check
// lengths: itch.Check rejects the empty message and every book message of a
// wrong length, and Apply takes any message of the right length whatever
// its bytes, leaving the book consistent.
func TestCheckGuardsApply(t *testing.T) {
	if itch.Check(nil) == nil {
		t.Error("Check accepts the empty message")
	}
	b := New()
	b.add(1, 1, 77, 'B', 10, 100)
	for _, typ := range []byte("AFECXDUR") {
		n := itch.Len(typ)
		for l := 1; l <= n+2; l++ {
			m := make([]byte, l)
			m[0] = typ
			for i := 1; i < l; i++ {
				m[i] = byte(i * 37)
			}
			if err := itch.Check(m); (err == nil) != (l == n) {
				t.Fatalf("%c of %d bytes (length %d): Check says %v", typ, l, n, err)
			}
			if l == n {
				b.Apply(1, m)
			}
		}
	}
	if err := b.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

// TestCheckInvariantsDetects corrupts a consistent book in several ways and
// expects CheckInvariants to notice each.
func TestCheckInvariantsDetects(t *testing.T) {
	build := func() *Book {
		b := New(WithOrders(8))
		b.add(1, 1, 10, 'B', 100, 1000)
		b.add(2, 1, 11, 'B', 200, 1000)
		b.add(3, 1, 12, 'S', 300, 1100)
		b.add(4, 2, 13, 'S', 400, 1100)
		if err := b.CheckInvariants(); err != nil {
			t.Fatal(err)
		}
		return b
	}
	_, o10 := build().lookup(10)
	for name, corrupt := range map[string]func(b *Book){
		"level shares":   func(b *Book) { b.levels[b.orders[o10].level].shares++ },
		"level count":    func(b *Book) { b.levels[b.orders[o10].level].count++ },
		"order shares 0": func(b *Book) { b.orders[o10].shares = 0 },
		"broken prev":    func(b *Book) { b.orders[b.orders[o10].next].prev = 0 },
		"order level":    func(b *Book) { b.orders[o10].level = b.inst[1].sides[ask][0].idx },
		"empty level": func(b *Book) {
			li := b.allocLevel()
			b.levels[li] = level{price: 5, locate: 3, side: bid}
			b.inst[3].sides[bid] = append(b.inst[3].sides[bid], levelRef{key: 5, idx: li})
		},
		"leaked level": func(b *Book) { b.allocLevel() },
		"unsorted side": func(b *Book) {
			b.add(5, 1, 14, 'B', 1, 999)
			s := b.inst[1].sides[bid]
			s[0], s[1] = s[1], s[0]
		},
		"slot to free order": func(b *Book) {
			pos, _ := b.lookup(10)
			b.slots[pos] = uint32(b.allocOrder())
		},
		"lost slot": func(b *Book) {
			pos, _ := b.lookup(12)
			b.slots[pos] = 0
		},
		"displaced slot": func(b *Book) {
			pos, oi := b.lookup(13)
			b.slots[pos] = 0
			b.slots[(pos+uint64(len(b.slots))-1)%uint64(len(b.slots))] = oi
		},
		"live count":      func(b *Book) { b.live++ },
		"sentinel":        func(b *Book) { b.orders[0].level = 1 },
		"free list cycle": func(b *Book) { b.del(9, 1, 13); b.orders[b.freeOrder].next = b.freeOrder },
		"internal error":  func(b *Book) { b.bugs, b.bugMsg = 1, "test" },
	} {
		b := build()
		corrupt(b)
		if err := b.CheckInvariants(); !errors.Is(err, ErrInvariant) {
			t.Errorf("%s: CheckInvariants = %v", name, err)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// FuzzApply decodes the input as a sequence of operations on a handful of
// references, prices and locates (so that duplicates, unknown references,
// overfills and shared levels are frequent), applies them through Apply and
// the reference model, and compares the whole book after each operation.
func FuzzApply(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 1, 1, 2, 3, 4, 1, 5, 6, 7, 8})
	f.Add([]byte{0, 0, 0, 9, 0, 1, 0, 9, 5, 0, 1, 2, 3, 6, 0, 0, 0})
	f.Add([]byte("add, execute, cancel, delete, replace: all of them"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b := New(WithOrders(2), WithInstruments(1))
		m := newModel()
		mr := newMirror(t)
		b.SetListener(mr)
		var buf []byte
		for i := 0; i+4 <= len(data) && i < 4*200; i += 4 {
			op, x, y, z := data[i]%8, data[i+1], data[i+2], data[i+3]
			seq := uint64(i/4 + 1)
			loc := uint16(x>>6) + 1
			hdr := itch.Header{Locate: loc}
			ref := uint64(x&15) + 1
			shares := uint32(y % 5)
			price := 1000 + uint32(z%6)*100
			side := "BSBSBSBX"[z>>5]
			buf = buf[:0]
			switch op {
			case 0, 1:
				msg := itch.AddOrderMsg{Header: hdr, Ref: ref, Side: side, Shares: shares, Price: price}
				buf = msg.Append(buf)
				m.add(loc, ref, side, shares, price)
			case 2:
				msg := itch.OrderExecutedMsg{Header: hdr, Ref: ref, Shares: shares}
				buf = msg.Append(buf)
				m.reduce(loc, ref, shares, AnomalyOverExecution)
			case 3:
				msg := itch.OrderExecutedWithPriceMsg{Header: hdr, Ref: ref, Shares: shares, ExecPrice: price}
				buf = msg.Append(buf)
				m.reduce(loc, ref, shares, AnomalyOverExecution)
			case 4:
				msg := itch.OrderCancelMsg{Header: hdr, Ref: ref, Shares: shares}
				buf = msg.Append(buf)
				m.reduce(loc, ref, shares, AnomalyOverCancel)
			case 5:
				msg := itch.OrderDeleteMsg{Header: hdr, Ref: ref}
				buf = msg.Append(buf)
				m.del(loc, ref)
			case 6:
				newRef := uint64(y&15) + 1
				msg := itch.OrderReplaceMsg{Header: hdr, OrigRef: ref, NewRef: newRef, Shares: uint32(y >> 4 % 4), Price: price}
				buf = msg.Append(buf)
				m.replace(loc, ref, newRef, uint32(y>>4%4), price)
			case 7:
				msg := itch.StockDirectoryMsg{Header: hdr, Stock: itch.Alpha8(string(rune('A' + z%26)))}
				buf = msg.Append(buf)
				m.listed[loc] = string(rune('A' + z%26))
			}
			mr.seq = seq
			b.Apply(seq, buf)
			m.compare(t, b, "fuzz")
			mr.compare(t, b, "fuzz: mirror")
		}
	})
}

// TestSizes pins the per-level and per-instrument costs the package
// documentation states.
func TestSizes(t *testing.T) {
	if s := unsafe.Sizeof(level{}); s != 32 {
		t.Errorf("level is %d bytes, documented 32", s)
	}
	if s := unsafe.Sizeof(levelRef{}); s != 8 {
		t.Errorf("levelRef is %d bytes, documented 8", s)
	}
	if s := unsafe.Sizeof(instrument{}); s != 72 {
		t.Errorf("instrument is %d bytes, documented 72", s)
	}
}
