package transport

import (
	"encoding/binary"
	"errors"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/tickwire/tickwire/transport/ring"
	"github.com/tickwire/tickwire/transport/tw"
)

// FollowKind says what a frame handed to a FollowHandler is.
type FollowKind uint8

// Follow kinds.
const (
	// FollowSnapshot: a frame of the snapshots taken for the follower, as
	// of one point of the feed: every instrument's Snapshot at the Orders
	// depth (in parts when large), preceded by the day's market-wide
	// circuit breaker messages. Updates after it come from later feed
	// messages.
	FollowSnapshot FollowKind = iota + 1
	// FollowUpdates: one instrument's Order*, Trade, TradingState, RegSho,
	// LuldCollar and TradeBroken updates from one batch of feed messages
	// (a new instrument's directory comes as an empty Snapshot).
	FollowUpdates
	// FollowFeed: a frame for every subscriber: Status, MwcbLevels,
	// MwcbBreach.
	FollowFeed
	// FollowResync: the follower lost records (it fell more than the ring
	// behind) or the daemon rebuilt its books: no frame; what it knew is
	// void, and fresh snapshots follow (FollowSnapshot, then
	// FollowSynced).
	FollowResync
	// FollowSynced: the snapshots asked for are all delivered (no frame);
	// updates follow.
	FollowSynced
)

// FollowHandler receives a Follower's frames. frame is a whole frame with
// its size prefix and the placeholder stream_seq (math.MaxUint64), valid
// only during the call: it aliases the follower's copy of a ring record
// (checked whole: never torn) or the writer's snapshot buffer. locate is the instrument of a FollowUpdates frame, 0 otherwise.
type FollowHandler interface {
	Follow(kind FollowKind, locate uint16, frame []byte)
}

// followerBit marks a follower's id among the connections' (which count
// from 1), for the requests the Publisher takes.
const followerBit = 1 << 63

var followerIDs atomic.Uint64

// Follower reads everything the Publisher publishes, every instrument at
// the Orders depth, on a goroutine of its own: the way another
// redistribution (NATS, a recorder) takes the daemon's books without
// costing the book's writer more than the encoding of the Orders stream,
// which it needs for its TCP subscribers anyway. Like a connection, it
// never holds the writer back: it reads the ring from a cursor of its own,
// and a follower lapped by the ring is resynchronised from fresh snapshots
// (FollowResync).
//
// A Follower is not safe for concurrent use, but for Wake, which any
// goroutine may select on.
type Follower struct {
	p    *Publisher
	rd   *ring.Reader
	id   uint64
	wake chan struct{}
	enc  *Encoder

	mu    sync.Mutex
	ready []*request // taken by the writer, waiting for their markers

	reqID     uint64
	inflight  int  // requests not reached
	synced    bool // its first snapshots are delivered
	suspended bool // resynchronising: updates are not delivered until the marker
	resyncs   uint64
	closed    bool
	scratch   []byte // the record being handed on, copied out of the ring
}

// Follow returns a follower of the Publisher, subscribed to every
// instrument at the Orders depth: the first frames it delivers are the
// snapshots of the book as the writer's next Flush finds it. Call Close
// when done, or the Publisher goes on encoding the Orders stream for it.
func (p *Publisher) Follow() *Follower {
	f := &Follower{p: p, rd: p.ring.NewReader(), id: followerBit | followerIDs.Add(1), wake: make(chan struct{}, 1), enc: NewEncoder(1 << 10)}
	for {
		old := p.followers.Load()
		var list []*Follower
		if old != nil {
			list = slices.Clone(*old)
		}
		list = append(list, f)
		if p.followers.CompareAndSwap(old, &list) {
			break
		}
	}
	f.resync(false)
	return f
}

// wake calls the server's notify and wakes the followers. It never blocks.
func (p *Publisher) wake() {
	if p.notify != nil {
		p.notify()
	}
	if l := p.followers.Load(); l != nil {
		for _, f := range *l {
			select {
			case f.wake <- struct{}{}:
			default:
			}
		}
	}
}

// Wake is signalled when the Publisher has appended records since the last
// signal: call Next then. Safe from any goroutine.
func (f *Follower) Wake() <-chan struct{} { return f.wake }

// Resyncs returns how many times the follower was resynchronised (lapped
// by the ring, or the books rebuilt).
func (f *Follower) Resyncs() uint64 { return f.resyncs }

// Behind returns how many bytes of the ring the follower has not read.
func (f *Follower) Behind() uint64 { return f.rd.Behind() }

// Synced reports whether the follower's snapshots have been delivered
// and updates follow.
func (f *Follower) Synced() bool { return f.synced && !f.suspended }

// resync asks the writer for fresh snapshots of every instrument: until
// their marker, updates are not delivered.
func (f *Follower) resync(tell bool) {
	if tell {
		f.resyncs++
	}
	f.suspended = true
	f.reqID++
	f.inflight++
	f.p.submit(&request{conn: f.id, id: f.reqID, sink: f.take, all: true, depth: tw.DepthOrders})
}

// take is the requests' sink, on the writer's goroutine.
func (f *Follower) take(r *request) {
	f.mu.Lock()
	f.ready = append(f.ready, r)
	f.mu.Unlock()
}

// Next hands h, in order, every frame published since the last call that
// the follower is to see, and returns how many records it read. It never
// blocks.
func (f *Follower) Next(h FollowHandler) int { return f.NextWhile(h, nil) }

// NextWhile is Next, stopping before a frame of updates or for every
// subscriber when more, if not nil, says no: the frames left are handed on
// at the next call (unless the ring laps the follower meanwhile: then
// resynchronised). A follower slower than the books holds back so, rather
// than dropping what it cannot take now.
func (f *Follower) NextWhile(h FollowHandler, more func() bool) int {
	if f.closed {
		return 0
	}
	total := 0
	for {
		if more != nil && f.synced && !f.suspended && !more() {
			return total
		}
		// A copy, checked whole before it is parsed: the follower reads
		// what it is handed, and a record the writer is overwriting (the
		// follower lapped, as a slow one is) would be torn.
		tag, rec, ok, err := f.rd.NextCopy(f.scratch[:0])
		if errors.Is(err, ring.ErrLapped) {
			f.rd.Skip()
			h.Follow(FollowResync, 0, nil)
			f.resync(true)
			continue
		}
		if !ok {
			return total
		}
		f.scratch = rec[:0]
		total++
		switch kind := int(tag >> 16); kind {
		case recMarker:
			if len(rec) == 16 && binary.LittleEndian.Uint64(rec) == f.id {
				f.reached(h, binary.LittleEndian.Uint64(rec[8:]))
			}
		case recFeed:
			if f.synced && !f.suspended {
				h.Follow(FollowFeed, 0, rec)
			}
		case recResync:
			if f.synced && !f.suspended {
				// The records before the resynchronisation's were handed
				// on; the rest wait for the fresh snapshots.
				h.Follow(FollowResync, 0, nil)
				f.resync(true)
			}
		case streamOrders:
			if f.synced && !f.suspended {
				h.Follow(FollowUpdates, uint16(tag), rec)
			}
		}
	}
}

// reached delivers the snapshots of the requests taken up to id.
func (f *Follower) reached(h FollowHandler, id uint64) {
	for _, r := range takeReady(&f.mu, &f.ready, id) {
		f.inflight--
		if r.id != f.reqID {
			continue // superseded by a later resynchronisation
		}
		for _, fr := range r.out {
			h.Follow(FollowSnapshot, 0, fr)
		}
		// The feed's state as of the marker, which the records after it
		// may not repeat.
		if st := r.status; st.state != tw.FeedStateLive || st.seq != 0 {
			f.enc.Begin(placeholderSeq)
			f.enc.Status(st.state, []byte(st.reason), st.seq, 0)
			if fr, err := f.enc.Finish(); err == nil {
				h.Follow(FollowSnapshot, 0, fr)
			}
		}
		f.synced, f.suspended = true, false
		h.Follow(FollowSynced, 0, nil)
	}
}

// takeReady removes from *ready, under mu, the requests taken up to id
// and returns them.
func takeReady(mu *sync.Mutex, ready *[]*request, id uint64) []*request {
	mu.Lock()
	defer mu.Unlock()
	k := 0
	for k < len(*ready) && (*ready)[k].id <= id {
		k++
	}
	rs := (*ready)[:k:k]
	*ready = (*ready)[k:]
	return rs
}

// Close stops the follower: the Publisher forgets its subscription at its
// next Flush. Next delivers nothing after it.
func (f *Follower) Close() {
	if f.closed {
		return
	}
	f.closed = true
	p := f.p
	for {
		old := p.followers.Load()
		list := slices.DeleteFunc(slices.Clone(*old), func(x *Follower) bool { return x == f })
		if p.followers.CompareAndSwap(old, &list) {
			break
		}
	}
	f.reqID++
	p.submit(&request{conn: f.id, id: f.reqID, sink: func(*request) {}, closed: true})
}
