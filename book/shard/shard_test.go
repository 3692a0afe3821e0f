package shard

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tickwire/tickwire/book"
	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/internal/gen"
)

// session returns a generated session's messages, raw ITCH framing (a
// 2-byte length before each).
func session(seed uint64, messages, instruments int) []byte {
	var raw bytes.Buffer
	if _, err := gen.Generate(gen.Config{Seed: seed, Messages: messages, Instruments: instruments}, gen.Outputs{ITCH: &raw}); err != nil {
		panic(err)
	}
	return raw.Bytes()
}

// each calls fn with every message of raw that itch.Check accepts,
// numbered from 1.
func each(raw []byte, fn func(seq uint64, m itch.Message)) {
	seq := uint64(0)
	for off := 0; off+2 <= len(raw); {
		n := int(binary.BigEndian.Uint16(raw[off:]))
		m := itch.Message(raw[off+2 : off+2+n])
		off += 2 + n
		seq++
		if itch.Check(m) == nil {
			fn(seq, m)
		}
	}
}

// books renders every instrument's book as JSON Lines, in locate order.
func books(locates []uint16, of func(uint16) *book.Book) string {
	var out []byte
	for _, l := range locates {
		b := of(l)
		out = book.AppendBooksLine(out, l, b.Symbol(l), b.AppendLevels(nil, l, itch.Buy), b.AppendLevels(nil, l, itch.Sell), b.Faults(l) > 0)
	}
	return string(out)
}

// recorder keeps every change it is given, with a copy of its message.
type recorder struct {
	changes []book.Change
	msgs    [][]byte
}

func (r *recorder) Change(c *book.Change) {
	cp := *c
	cp.Msg = nil
	r.changes = append(r.changes, cp)
	r.msgs = append(r.msgs, bytes.Clone(c.Msg))
}

// same reports the first change where r and o differ, or -1.
func (r *recorder) same(o *recorder) int {
	for i := range max(len(r.changes), len(o.changes)) {
		if i >= len(r.changes) || i >= len(o.changes) || !reflect.DeepEqual(r.changes[i], o.changes[i]) || !bytes.Equal(r.msgs[i], o.msgs[i]) {
			return i
		}
	}
	return -1
}

// TestShardsEqualOneBook applies a generated session to one book and to
// sets of 1, 2, 3 and 5 shards (rings small enough to wrap many times, syncs at
// odd points): the books, the live orders, the anomalies and the
// listener's changes, in order, are the same.
func TestShardsEqualOneBook(t *testing.T) {
	raw := session(3, 30_000, 70)
	one := book.New()
	var want recorder
	one.SetListener(&want)
	each(raw, one.Apply)
	var locs []uint16
	locs = one.Locates(locs)
	wantBooks := books(locs, func(uint16) *book.Book { return one })

	for _, shards := range []int{1, 2, 3, 5} {
		t.Run(fmt.Sprint(shards), func(t *testing.T) {
			var got recorder
			s, err := New(Config{Shards: shards, RingBytes: 4 << 10, CPUs: []int{-1, -1}, Book: book.Options{Orders: 1 << 10}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			s.SetListener(&got)
			n := 0
			each(raw, func(seq uint64, m itch.Message) {
				s.Apply(seq, m)
				if n++; n%97 == 0 {
					s.Commit()
				}
				if n%1013 == 0 {
					s.Sync()
				}
			})
			s.Sync()
			if got := s.Locates(nil); fmt.Sprint(got) != fmt.Sprint(locs) {
				t.Fatalf("locates %v, want %v", got, locs)
			}
			if g := books(locs, s.Book); g != wantBooks {
				t.Error("the books differ from one book's")
			}
			if s.LiveOrders() != one.LiveOrders() {
				t.Errorf("%d live orders, want %d", s.LiveOrders(), one.LiveOrders())
			}
			if a, b := s.Anomalies(), one.Anomalies(); a.Counts != b.Counts || len(a.Records) != len(b.Records) {
				t.Errorf("anomalies %v, want %v", a.Counts, b.Counts)
			}
			if i := got.same(&want); i >= 0 {
				t.Errorf("the listener's changes differ from one book's at change %d (%d changes, want %d)", i, len(got.changes), len(want.changes))
			}
			if shards > 1 {
				used := map[int]bool{}
				for _, l := range locs {
					used[s.ShardOf(l)] = true
				}
				if len(used) != shards {
					t.Errorf("instruments on %d of %d shards", len(used), shards)
				}
			}
		})
	}
}

// TestRoute checks that a directory's symbol decides its shard (the map,
// else the hash, whatever the locate), that an instrument stays where its
// first message put it, and that market-wide messages go to shard 0.
func TestRoute(t *testing.T) {
	s, err := New(Config{Shards: 4, Map: map[string]int{"AAPL": 3}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dir := func(locate uint16, stock string) itch.Message {
		m := make([]byte, itch.Len(itch.TypeStockDirectory))
		m[0] = itch.TypeStockDirectory
		binary.BigEndian.PutUint16(m[1:], locate)
		copy(m[11:19], fmt.Sprintf("%-8s", stock))
		return m
	}
	s.Apply(1, dir(7, "AAPL"))
	s.Apply(2, dir(8, "MSFT"))
	s.Apply(3, dir(9000, "MSFT")) // the same symbol at another locate
	s.Sync()
	if s.ShardOf(7) != 3 {
		t.Errorf("AAPL on shard %d, want the map's 3", s.ShardOf(7))
	}
	if s.ShardOf(8) != s.ShardOf(9000) {
		t.Errorf("MSFT at locates 8 and 9000 on shards %d and %d: the symbol decides", s.ShardOf(8), s.ShardOf(9000))
	}
	if s.ShardOf(0) != 0 {
		t.Errorf("market-wide messages on shard %d", s.ShardOf(0))
	}
	if string(s.Book(7).Symbol(7)) != "AAPL" || string(s.Book(9000).Symbol(9000)) != "MSFT" {
		t.Error("the directories are not in their shards' books")
	}
	s.Apply(4, dir(7, "ZZZZ")) // a repeated directory does not move the instrument
	s.Sync()
	if s.ShardOf(7) != 3 {
		t.Errorf("a repeated directory moved locate 7 to shard %d", s.ShardOf(7))
	}
	s.Reset()
	if s.ShardOf(7) != 7%4 {
		t.Errorf("after Reset locate 7 still routed to shard %d", s.ShardOf(7))
	}

	for _, cfg := range []Config{{Shards: MaxShards + 1}, {Shards: 2, Map: map[string]int{"AAPL": 2}}} {
		if _, err := New(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v) = %v, want ErrConfig", cfg, err)
		}
	}
}

// TestRingWraps pushes records of every length through a small ring with
// a consumer on another goroutine: each arrives once, whole, in order.
func TestRingWraps(t *testing.T) {
	r := newRing(0) // the smallest ring: 4 records of the largest size
	var stop atomic.Bool
	var got []uint64
	var wg sync.WaitGroup
	wg.Add(1)
	bad := 0
	go func() {
		defer wg.Done()
		r.consume(&stop, func(seq uint64, msg []byte) {
			got = append(got, seq)
			for i, c := range msg {
				if c != byte(seq+uint64(i)) {
					bad++
					break
				}
			}
			if len(msg) != int(seq*7919%65000) {
				bad++
			}
		})
	}()
	msg := make([]byte, 65000)
	const n = 3000
	for seq := uint64(1); seq <= n; seq++ {
		m := msg[:seq*7919%65000]
		for i := range m {
			m[i] = byte(seq + uint64(i))
		}
		r.push(seq, m)
		if seq%3 == 0 {
			r.publish()
		}
	}
	r.drained()
	stop.Store(true)
	r.stopConsumer()
	wg.Wait()
	if len(got) != n || bad != 0 {
		t.Fatalf("%d records arrived (want %d), %d damaged", len(got), n, bad)
	}
	for i, seq := range got {
		if seq != uint64(i+1) {
			t.Fatalf("record %d has sequence %d", i, seq)
		}
	}
}

// TestSteadyStateAllocatesNothing: once the collectors and the books have
// grown to the session, applying and syncing allocate nothing.
func TestSteadyStateAllocatesNothing(t *testing.T) {
	raw := session(5, 20_000, 40)
	var msgs []itch.Message
	var seqs []uint64
	each(raw, func(seq uint64, m itch.Message) { msgs, seqs = append(msgs, m), append(seqs, seq) })
	s, err := New(Config{Shards: 2, Book: book.Options{Orders: 1 << 16, Instruments: 64}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	s.SetListener(book.ListenerFunc(func(*book.Change) { n++ }))
	// Replaying the session over itself: the adds are duplicates the
	// second time, which the book counts and refuses; that is still the
	// whole path (route, ring, apply, collect, merge).
	play := func() {
		for i, m := range msgs {
			s.Apply(seqs[i], m)
			if i%32 == 31 {
				s.Sync()
			}
		}
		s.Sync()
	}
	play()
	play()
	if a := testing.AllocsPerRun(3, play); a != 0 {
		t.Errorf("%v allocations per session replayed", a)
	}
	if n == 0 {
		t.Error("no change delivered")
	}
}
