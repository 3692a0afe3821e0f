package sim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/tickwire/tickwire/book"
	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/internal/gen"
)

// genBook is one line of internal/gen's expected books (JSON Lines).
type genBook struct {
	Locate uint16      `json:"locate"`
	Symbol string      `json:"symbol"`
	Bids   [][3]uint64 `json:"bids"`
	Asks   [][3]uint64 `json:"asks"`
}

// snapLevels aggregates a snapshot's Add Orders into levels [price, shares,
// orders] by locate, in the order the snapshot lists them (bids best first,
// then asks best first), as internal/gen writes its expected books.
func snapLevels(msgs [][]byte) map[uint16]*genBook {
	books := map[uint16]*genBook{}
	for _, m := range msgs {
		if m[0] != itch.TypeAddOrder && m[0] != itch.TypeAddOrderMPID {
			continue
		}
		v := itch.AddOrder(m) // 'F' extends 'A': the same offsets
		b := books[v.Locate()]
		if b == nil {
			b = &genBook{Locate: v.Locate(), Bids: [][3]uint64{}, Asks: [][3]uint64{}}
			books[v.Locate()] = b
		}
		side := &b.Bids
		if v.Side() == itch.Sell {
			side = &b.Asks
		}
		if n := len(*side); n > 0 && (*side)[n-1][0] == uint64(v.Price()) {
			(*side)[n-1][1] += uint64(v.Shares())
			(*side)[n-1][2]++
		} else {
			*side = append(*side, [3]uint64{uint64(v.Price()), uint64(v.Shares()), 1})
		}
	}
	return books
}

// TestSnapshotMatchesGenModel checks the snapshot at the end of generated
// sessions against the expected books of internal/gen's own model, which
// shares no code with the simulator's order model or with package book.
func TestSnapshotMatchesGenModel(t *testing.T) {
	for _, seed := range []uint64{5, 11, 2026} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			var raw, books bytes.Buffer
			if _, err := gen.Generate(gen.Config{Seed: seed, Messages: 40000, Instruments: 30}, gen.Outputs{ITCH: &raw, Books: &books}); err != nil {
				t.Fatal(err)
			}
			h, err := ReadHistory(&raw)
			if err != nil {
				t.Fatal(err)
			}
			msgs, err := h.Snapshot(h.Len() + 1)
			if err != nil {
				t.Fatal(err)
			}
			got := snapLevels(msgs)
			sc := bufio.NewScanner(&books)
			withOrders := 0
			for sc.Scan() {
				var want genBook
				if err := json.Unmarshal(sc.Bytes(), &want); err != nil {
					t.Fatal(err)
				}
				if len(want.Bids)+len(want.Asks) == 0 {
					if got[want.Locate] != nil {
						t.Fatalf("locate %d: orders in the snapshot, none expected", want.Locate)
					}
					continue
				}
				withOrders++
				g := got[want.Locate]
				if g == nil || !slices.Equal(g.Bids, want.Bids) || !slices.Equal(g.Asks, want.Asks) {
					t.Fatalf("locate %d: snapshot %+v, want %+v", want.Locate, g, want)
				}
			}
			if withOrders == 0 || withOrders != len(got) {
				t.Fatalf("%d instruments with orders expected, %d in the snapshot", withOrders, len(got))
			}
		})
	}
}

// hostileHistory returns a random history of order messages full of faults
// a raw ITCH file may carry: duplicate adds, zero shares, bad sides, unknown
// references, over-executions, replaces onto live references, onto
// themselves and to zero shares, messages naming another locate than the
// order's.
func hostileHistory(rng *rand.Rand, n int) *History {
	h := &History{}
	h.Append((&itch.SystemEventMsg{EventCode: 'O'}).Append(nil))
	for loc := uint16(1); loc <= 3; loc++ {
		h.Append((&itch.StockDirectoryMsg{Header: itch.Header{Locate: loc}, Stock: itch.Alpha8(fmt.Sprint("S", loc))}).Append(nil))
	}
	var refs []uint64
	ref := func() uint64 {
		if len(refs) == 0 || rng.IntN(8) == 0 {
			return uint64(rng.IntN(1000)) + 1 // often unknown
		}
		return refs[rng.IntN(len(refs))]
	}
	for i := 0; h.Len() < uint64(n); i++ {
		hdr := itch.Header{Locate: uint16(rng.IntN(3)) + 1, Timestamp: uint64(i)}
		shares := uint32(rng.IntN(5)) * 100 // sometimes 0
		price := uint32(rng.IntN(6)) + 100
		var m []byte
		switch rng.IntN(9) {
		case 0, 1, 2:
			side := [...]byte{itch.Buy, itch.Sell, itch.Buy, itch.Sell, 'X'}[rng.IntN(5)]
			r := ref()
			if rng.IntN(3) > 0 {
				r = uint64(len(refs)) + 1001
				refs = append(refs, r)
			}
			if rng.IntN(2) == 0 {
				m = (&itch.AddOrderMsg{Header: hdr, Ref: r, Side: side, Shares: shares, Stock: itch.Alpha8("X"), Price: price}).Append(nil)
			} else {
				m = (&itch.AddOrderMPIDMsg{Header: hdr, Ref: r, Side: side, Shares: shares, Stock: itch.Alpha8("X"), Price: price,
					Attribution: itch.Alpha4(fmt.Sprint("M", rng.IntN(9)))}).Append(nil)
			}
		case 3:
			m = (&itch.OrderExecutedMsg{Header: hdr, Ref: ref(), Shares: shares / 2}).Append(nil)
		case 4:
			m = (&itch.OrderCancelMsg{Header: hdr, Ref: ref(), Shares: shares}).Append(nil)
		case 5:
			m = (&itch.OrderExecutedWithPriceMsg{Header: hdr, Ref: ref(), Shares: shares, Printable: 'Y', ExecPrice: 1}).Append(nil)
		case 6:
			m = (&itch.OrderDeleteMsg{Header: hdr, Ref: ref()}).Append(nil)
		default:
			orig, nref := ref(), ref()
			switch rng.IntN(3) {
			case 0:
				nref = orig
			case 1:
				nref = uint64(len(refs)) + 1001
				refs = append(refs, nref)
			}
			m = (&itch.OrderReplaceMsg{Header: hdr, OrigRef: orig, NewRef: nref, Shares: shares, Price: price}).Append(nil)
		}
		h.Append(m)
	}
	return h
}

// TestSnapshotHostileHistory: on histories full of faults the snapshot
// still equals, level by level and in queue order, the book tickwire's
// book.Book builds, at random points, taken in random order (so that the
// kept model is advanced and rebuilt).
func TestSnapshotHostileHistory(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	for range 5 {
		h := hostileHistory(rng, 3000)
		full := book.New()
		replayInto(t, full, h, 1, h.Len()+1)
		a := full.Anomalies()
		for _, k := range []book.AnomalyKind{book.AnomalyDuplicateRef, book.AnomalyUnknownRef, book.AnomalyZeroShares,
			book.AnomalyBadSide, book.AnomalyOverExecution} {
			if a.Counts[k] == 0 {
				t.Fatalf("seed %d: the history has no %v anomaly: it proves less than it claims", seed, k)
			}
		}
		for range 8 {
			n := uint64(rng.IntN(int(h.Len())+1)) + 1
			msgs, err := h.Snapshot(n)
			if err != nil {
				t.Fatal(err)
			}
			b, next := loadSnapshot(t, msgs)
			want := book.New()
			replayInto(t, want, h, 1, n)
			if d := diffSnapBooks(b, want); d != "" || next != n {
				t.Fatalf("seed %d: snapshot at %d (G %d): %s", seed, n, next, d)
			}
		}
	}
}

// TestSnapshotIncremental: snapshots taken at increasing points (the model
// kept and advanced) and then at an earlier one (rebuilt) equal those of a
// fresh History of the same messages.
func TestSnapshotIncremental(t *testing.T) {
	h := snapshotSession(t)
	points := append(snapshotPoints(h), 1000, 1)
	for _, n := range points {
		got, err := h.Snapshot(n)
		if err != nil {
			t.Fatal(err)
		}
		fresh := &History{data: h.data, off: h.off}
		want, err := fresh.Snapshot(n)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(got, want, bytes.Equal) {
			t.Fatalf("snapshot at %d after earlier ones differs from a fresh one", n)
		}
	}
}
