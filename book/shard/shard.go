package shard

import (
	"bytes"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/cespare/xxhash/v2"

	"github.com/tickwire/tickwire/book"
	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/internal/affinity"
)

// MaxShards bounds Config.Shards.
const MaxShards = 64

// DefaultRingBytes is each shard's ring when Config.RingBytes is 0: a few
// thousand messages, more than a batch of datagrams carries.
const DefaultRingBytes = 1 << 20

// unassigned marks a locate no message has named yet.
const unassigned = 0xFF

// Tuning of the producer, in records.
const (
	// publishEvery: the producer publishes its rings at least this often
	// within a datagram, so that a long one starts the shards early.
	publishEvery = 64
	// syncEvery: with a listener, the producer syncs at least this often
	// between two calls of Sync, so that what the collectors hold stays
	// bounded when a backlog is applied at once (a hole filled).
	syncEvery = 8 << 10
)

// Config is how a Set spreads the books.
type Config struct {
	// Shards is the number of books, each with its own writer; 1 (or 0)
	// keeps one book written by the caller, with no ring and no goroutine.
	Shards int
	// CPUs pins the writer of shard i+1 to CPUs[i] (a negative entry, or
	// no entry, leaves it unpinned). Shard 0 has no writer of its own: the
	// producer applies it, on the producer's CPU.
	CPUs []int
	// Map assigns symbols (as the Stock Directory names them, without the
	// padding) to shards; the others go by xxhash of the symbol, modulo
	// Shards, which keeps an instrument on the same shard day after day
	// as its locate code does not.
	Map map[string]int
	// RingBytes is each shard's ring (rounded up to a power of two).
	RingBytes int
	// Book is every shard's book options. Orders and Instruments are
	// capacity hints for the whole set: each shard is sized for its
	// share, with half again as much room for an uneven spread.
	Book book.Options
}

// Set is the books of one feed spread over shards by instrument. One
// goroutine, the producer, calls Apply with the feed's messages in
// sequence. It applies shard 0's itself; each other shard's writer, a
// goroutine locked to its own OS thread and pinned to its CPU, applies its
// instruments' messages to its own book, fed through a single-producer
// single-consumer ring. N shards take N threads, the producer's included. Sync waits until
// every shard has applied what was handed to it; after Sync, and until the
// next Apply, the producer may read and reset the books (Book, Locates,
// Reset...), since no writer touches them then.
//
// With a Listener (SetListener), each shard collects its book's changes,
// and Sync delivers them to the listener on the producer's goroutine,
// merged in sequence order: the listener sees the same changes in the same
// order as from a single book.
//
// With one shard, the Set is that book, written by the producer itself.
type Set struct {
	cfg    Config
	books  []*book.Book
	shards []*shard // nil with one shard
	route  [1 << 16]uint8

	lis       book.Listener
	dirty     uint64 // shards pushed to since their last publish
	pending   uint64 // shards pushed to since the last Sync
	published int    // records since the last publish
	unsynced  int    // records since the last Sync
	idx       []int  // merge cursors, by shard

	stop   atomic.Bool
	wg     sync.WaitGroup
	closed bool
	errs   []error // pinning failures, by shard
}

// shard is one writer: its ring, its book and its collector.
type shard struct {
	ring *ring
	book *book.Book
	col  collector
}

// New returns a Set of cfg.Shards books and starts their writers.
func New(cfg Config) (*Set, error) {
	if cfg.Shards < 1 {
		cfg.Shards = 1
	}
	if cfg.Shards > MaxShards {
		return nil, fmt.Errorf("%w: %d shards, at most %d", ErrConfig, cfg.Shards, MaxShards)
	}
	for sym, i := range cfg.Map {
		if i < 0 || i >= cfg.Shards {
			return nil, fmt.Errorf("%w: symbol %q mapped to shard %d of %d", ErrConfig, sym, i, cfg.Shards)
		}
	}
	if cfg.RingBytes <= 0 {
		cfg.RingBytes = DefaultRingBytes
	}
	s := &Set{cfg: cfg}
	opts := func(o *book.Options) {
		*o = cfg.Book
		if cfg.Shards > 1 {
			if o.Orders > 0 {
				o.Orders = share(o.Orders, cfg.Shards)
			}
			if o.Instruments > 0 {
				o.Instruments = share(o.Instruments, cfg.Shards)
			}
			o.Listener = nil
		}
	}
	for range cfg.Shards {
		s.books = append(s.books, book.New(opts))
	}
	if cfg.Shards == 1 {
		return s, nil
	}
	s.resetRoute()
	s.idx = make([]int, cfg.Shards)
	s.errs = make([]error, cfg.Shards)
	ready := make(chan struct{}, cfg.Shards)
	s.shards = append(s.shards, &shard{book: s.books[0]}) // the producer's own
	for i, b := range s.books[1:] {
		sh := &shard{ring: newRing(cfg.RingBytes), book: b}
		s.shards = append(s.shards, sh)
		cpu := -1
		if i < len(cfg.CPUs) {
			cpu = cfg.CPUs[i]
		}
		s.wg.Add(1)
		go s.write(i+1, sh, cpu, ready)
	}
	for range cfg.Shards - 1 {
		<-ready
	}
	if cfg.Book.Listener != nil {
		s.SetListener(cfg.Book.Listener)
	}
	return s, nil
}

// share is n's share of one shard among k, with half again as much room.
func share(n, k int) int { return (n + k - 1) / k * 3 / 2 }

// write is shard i's writer.
func (s *Set) write(i int, sh *shard, cpu int, ready chan<- struct{}) {
	defer s.wg.Done()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if cpu >= 0 {
		if err := affinity.Place([]int{cpu}, 0); err != nil {
			s.errs[i] = fmt.Errorf("shard %d: CPU %d: %w", i, cpu, err)
		}
	}
	ready <- struct{}{}
	b, col := sh.book, &sh.col
	sh.ring.consume(&s.stop, func(seq uint64, msg []byte) {
		col.last = nil // a new message: its first change copies it
		b.Apply(seq, itch.Message(msg))
	})
}

// Errors returns why writers could not be pinned as configured (pinning
// is an optimisation: such a writer runs unpinned).
func (s *Set) Errors() []error {
	var errs []error
	for _, err := range s.errs {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// Shards returns the number of shards.
func (s *Set) Shards() int { return len(s.books) }

// Apply hands message m, which itch.Check accepted, with its feed sequence
// number to the shard owning its instrument. m is copied (into the ring)
// or applied before Apply returns; it is not retained.
func (s *Set) Apply(seq uint64, m itch.Message) {
	if s.shards == nil {
		s.books[0].Apply(seq, m)
		return
	}
	l := m.Locate()
	i := s.route[l]
	if i == unassigned {
		i = s.assign(l, m)
	}
	if i == 0 {
		// The producer's own shard, applied in place.
		sh := s.shards[0]
		sh.col.last = nil
		sh.book.Apply(seq, m)
	} else {
		s.shards[i].ring.push(seq, m)
		s.dirty |= 1 << i
	}
	if s.published++; s.published >= publishEvery {
		s.Commit()
	}
	if s.lis != nil {
		if s.unsynced++; s.unsynced >= syncEvery {
			s.Sync()
		}
	}
}

// assign chooses the shard of locate l on the first message naming it:
// by the configured map or the hash of the symbol for a Stock Directory,
// and by the locate for any other message (a feed that sends an
// instrument's orders before its directory; the instrument stays there).
func (s *Set) assign(l uint16, m itch.Message) uint8 {
	n := len(s.books)
	i := int(l) % n
	if m.Type() == itch.TypeStockDirectory {
		sym := bytes.TrimRight(itch.StockDirectory(m).Stock(), " ")
		if j, ok := s.cfg.Map[string(sym)]; ok {
			i = j
		} else {
			i = int(xxhash.Sum64(sym) % uint64(n))
		}
	}
	s.route[l] = uint8(i)
	return uint8(i)
}

// ShardOf returns the shard holding stock locate l (for a locate not seen
// yet, the one its next message other than a directory would go to).
func (s *Set) ShardOf(l uint16) int {
	if s.shards == nil {
		return 0
	}
	if i := s.route[l]; i != unassigned {
		return int(i)
	}
	return int(l) % len(s.books)
}

// Commit publishes what Apply handed to the shards, so that their writers
// start on it; Apply does so every few dozen messages by itself. The
// producer calls it at the end of each datagram.
func (s *Set) Commit() {
	for d := s.dirty; d != 0; d &= d - 1 {
		i := bitIndex(d)
		s.shards[i].ring.publish()
		s.pending |= 1 << i
	}
	s.dirty = 0
	s.published = 0
}

// Sync waits until every shard has applied what it was handed, then
// delivers the changes they collected to the listener, in sequence order.
// After it, the producer may read the books until its next Apply.
func (s *Set) Sync() {
	if s.shards == nil || s.closed {
		return
	}
	s.Commit()
	for d := s.pending; d != 0; d &= d - 1 {
		s.shards[bitIndex(d)].ring.drained()
	}
	s.pending = 0
	s.unsynced = 0
	if s.lis != nil {
		s.deliver()
	}
}

// bitIndex returns the index of d's lowest set bit.
func bitIndex(d uint64) int {
	i := 0
	for d&1 == 0 {
		d >>= 1
		i++
	}
	return i
}

// SetListener sets the listener the books' changes go to; nil removes it.
// Call it after Sync (or before the first Apply).
func (s *Set) SetListener(l book.Listener) {
	s.lis = l
	if s.shards == nil {
		s.books[0].SetListener(l)
		return
	}
	for _, sh := range s.shards {
		if l == nil {
			sh.book.SetListener(nil)
		} else {
			sh.book.SetListener(&sh.col)
		}
	}
}

// deliver passes the collected changes to the listener, merged by sequence
// number (each shard's are in order already), and empties the collectors.
func (s *Set) deliver() {
	idx := s.idx
	clear(idx)
	for {
		best, seq := -1, uint64(0)
		for i, sh := range s.shards {
			if idx[i] < len(sh.col.changes) {
				if q := sh.col.changes[idx[i]].Seq; best < 0 || q < seq {
					best, seq = i, q
				}
			}
		}
		if best < 0 {
			break
		}
		col := &s.shards[best].col
		for idx[best] < len(col.changes) && col.changes[idx[best]].Seq == seq {
			c := &col.changes[idx[best]]
			at := col.msgs[idx[best]]
			c.Msg = col.arena[at[0] : at[0]+at[1]]
			s.lis.Change(c)
			idx[best]++
		}
	}
	for _, sh := range s.shards {
		sh.col.reset()
	}
}

// Book returns the book holding stock locate l. Read it only after Sync.
func (s *Set) Book(l uint16) *book.Book { return s.books[s.ShardOf(l)] }

// Books returns the shards' books, by shard. Read them only after Sync.
func (s *Set) Books() []*book.Book { return s.books }

// Locates returns the instruments of every book, ascending, appended to
// dst.
func (s *Set) Locates(dst []uint16) []uint16 {
	if s.shards == nil {
		return s.books[0].Locates(dst)
	}
	n := len(dst)
	for _, b := range s.books {
		dst = b.Locates(dst)
	}
	slices.Sort(dst[n:])
	return dst
}

// LiveOrders returns the orders live in all books.
func (s *Set) LiveOrders() int {
	n := 0
	for _, b := range s.books {
		n += b.LiveOrders()
	}
	return n
}

// AnomalyTotal returns the anomalies of all books.
func (s *Set) AnomalyTotal() uint64 {
	var n uint64
	for _, b := range s.books {
		n += b.AnomalyTotal()
	}
	return n
}

// Anomalies returns the anomalies of all books, the records in sequence
// order.
func (s *Set) Anomalies() book.Anomalies {
	if len(s.books) == 1 {
		return s.books[0].Anomalies()
	}
	all := make([]book.Anomalies, len(s.books))
	for i, b := range s.books {
		all[i] = b.Anomalies()
	}
	return book.MergeAnomalies(all...)
}

// Reset empties every book, as before a snapshot is applied, and forgets
// which shard each instrument went to (the snapshot lists them again).
// Call it after Sync.
func (s *Set) Reset() {
	for _, b := range s.books {
		b.Reset()
	}
	if s.shards != nil {
		s.resetRoute()
	}
}

func (s *Set) resetRoute() {
	for i := range s.route {
		s.route[i] = unassigned
	}
	s.route[0] = 0 // market-wide messages: shard 0
}

// Close waits for the writers to apply what they were handed (Sync) and
// stops them. The books may still be read. It may be called more than once.
func (s *Set) Close() {
	if s.closed || s.shards == nil {
		return
	}
	s.Sync()
	s.closed = true
	s.stop.Store(true)
	for _, sh := range s.shards[1:] {
		sh.ring.stopConsumer()
	}
	s.wg.Wait()
}

// collector keeps a shard's changes until Sync delivers them: each Change
// by value, and its message copied once into an arena (the changes of one
// message share the copy).
type collector struct {
	changes []book.Change
	msgs    [][2]int // offset and length in arena of each change's message
	arena   []byte
	last    *byte // the message being applied, once copied (nil before its first change)
}

// Change implements book.Listener.
func (c *collector) Change(ch *book.Change) {
	m := ch.Msg
	if len(m) == 0 {
		c.msgs = append(c.msgs, [2]int{})
	} else {
		if p := unsafe.SliceData(m); p != c.last {
			c.last = p
			c.arena = append(c.arena, m...)
		}
		c.msgs = append(c.msgs, [2]int{len(c.arena) - len(m), len(m)})
	}
	c.changes = append(c.changes, *ch)
	c.changes[len(c.changes)-1].Msg = nil
}

func (c *collector) reset() {
	c.changes = c.changes[:0]
	c.msgs = c.msgs[:0]
	c.arena = c.arena[:0]
	c.last = nil
}
