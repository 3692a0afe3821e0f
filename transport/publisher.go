package transport

import (
	"encoding/binary"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/tickwire/tickwire/book"
	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/transport/ring"
	"github.com/tickwire/tickwire/transport/tw"
)

// The streams a Publisher encodes each instrument's changes into, one per
// depth a subscription can choose. TopN is served from the levels stream:
// a mirror of the best N levels must learn the level that moves up when one
// of them goes, so it is sent every level and shows N.
const (
	streamOrders = iota // Depth Orders: Order* updates
	streamLevels        // Depth Levels and TopN: LevelChanged for every level
	streamTop           // Depth Top: LevelChanged for the best level of each side
	numStreams
)

// Kinds of ring records beyond the streams, in a record's tag above the
// locate (tag = kind<<16 | locate).
const (
	recFeed   = 8  // a frame for every subscriber: Status
	recMarker = 9  // a subscription request taken: payload the connection's id
	recResync = 10 // the book was rebuilt: every connection resynchronises
)

// placeholderSeq is the stream_seq every frame in the ring is encoded with,
// so that the field is present; each connection writes its own in its copy.
const placeholderSeq = math.MaxUint64

// maxUpdateFrame is the size at which a frame of one instrument's updates
// is finished and another started.
const maxUpdateFrame = 64 << 10

// maxSnapshotOrders bounds the orders of one Snapshot part (16 bytes each
// in the frame), well inside MaxFrameSize.
const maxSnapshotOrders = 32 << 10

func depthStream(d tw.Depth) int {
	switch d {
	case tw.DepthOrders:
		return streamOrders
	case tw.DepthTop:
		return streamTop
	}
	return streamLevels
}

// pubChange is what the Publisher keeps of one book.Change until Flush:
// the change without its message, and the few fields of the message a
// frame needs.
type pubChange struct {
	c      book.Change // Msg cleared: it does not outlive Listener.Change
	code   byte        // trading state, Reg SHO action, cross type
	text   [8]byte     // trading reason (4), MPID (4), or the directory's stock (8)
	luld   [4]uint32
	hasTxt bool
	next   int32 // the next change of the same instrument, -1 at the end
}

// instState is the Publisher's record of an instrument's state for its
// snapshots: what the book does not keep.
type instState struct {
	known   bool // seen in any change
	listed  bool // seen in a Stock Directory
	state   byte
	regSho  byte
	reason  [4]byte
	lastSeq uint64
	lastTS  uint64
}

// request is a subscription change a connection asked for, taken by the
// writer at Flush: it resolves the stocks, encodes the snapshots, and marks
// the point in the ring from which the connection applies the change.
type request struct {
	conn   uint64         // the connection's id (recMarker payload)
	id     uint64         // numbers the connection's requests from 1 (recMarker payload)
	sink   func(*request) // hands the taken request to the connection, before its marker
	resync bool           // the connection's resynchronisation after a conflation
	listed bool           // made by the writer for a stock listed late: not one the connection counts
	unsub  bool
	closed bool // the connection is gone: drop its subscriptions
	all    bool
	depth  tw.Depth
	n      uint16
	stocks [][]byte
	locs   []uint16
	// Filled by the writer: the locates the change covers, resolved, and
	// the snapshot frames (placeholder stream_seq), for the connection to
	// send at the marker. Stocks not on the feed yet are waited for.
	resolved []uint16
	out      [][]byte // whole frames, aliasing the writer's snapshot buffer of the batch
	waiting  [][]byte
	// status is the feed's as of the marker: what the connection is told
	// there when it resynchronises or first subscribes (the latest one may
	// be ahead of the records that follow the marker).
	status feedStatus
}

// Publisher turns the book's changes into frames in the fan-out ring. It is
// the book's book.Listener and runs on the goroutine that applies messages:
// Change gathers, Flush (after each batch of messages) encodes each
// instrument's changes once per stream that has subscribers, appends the
// frames to the ring, takes the snapshots connections asked for, and wakes
// the server. Nothing on that path allocates in steady state or takes a
// lock, but for a request queue checked by an atomic counter.
type Publisher struct {
	ring   *ring.Ring
	enc    *Encoder
	snap   *Encoder
	books  func(locate uint16) *book.Book // SetBook, SetBooks
	notify func()                         // wakes the server after Flush appended records

	pend    []pubChange
	head    []int32 // by locate: first and last change in pend, -1 if none
	tail    []int32
	touched []uint16
	inst    []instState
	// subs counts subscriptions per stream, kept by the writer as it takes
	// requests: a stream nobody reads is not encoded.
	subs     [numStreams]int
	connSubs map[uint64]*connSubs

	reqMu    sync.Mutex
	reqs     []*request
	nreq     atomic.Int32
	taken    []*request
	waiting  []*request // requests with stocks not on the feed yet
	syms     map[string]uint16
	newInst  []uint16 // instruments listed in this batch, for the waiting requests
	suspect  func(locate uint16) bool
	lastSeq  uint64
	lastTS   uint64
	levels   []book.Level
	orders   [2][]BookOrder
	bookLvls [2][]BookLevel
	idBuf    [16]byte

	last feedStatus // the latest Status, on the writer's goroutine
	// muted: the book is being rebuilt from a snapshot (Status
	// Recovering): its changes are not sent; the next Status Live makes
	// every connection resynchronise from fresh snapshots.
	muted bool

	origin int64 // SetOrigin's, until the Flush after it

	// The batch's snapshots (newSnapshotBatch).
	snapGen uint64
	snapBuf []byte
	snapIdx [numStreams][]snapRef

	mwcb    mwcbState
	mwcbNew bool // a market-wide frame appended since the last Flush

	followers atomic.Pointer[[]*Follower] // woken after the server (follow.go)

	frames  atomic.Uint64 // frames appended, for tests and metrics
	seqSeen atomic.Uint64 // lastSeq as of the latest Flush, for other goroutines
}

// feedStatus is the latest Status published for the whole feed.
type feedStatus struct {
	state  tw.FeedState
	reason string
	seq    uint64
}

// lastSeqPublished returns the feed sequence of the last change flushed.
func (p *Publisher) lastSeqPublished() uint64 { return p.seqSeen.Load() }

// connSubs is what the writer knows of one connection's subscriptions: to
// count the streams' readers.
type connSubs struct {
	all      bool
	allDepth int
	locs     map[uint16]int
}

// NewPublisher returns a publisher writing into r. notify, if not nil, is
// called after a Flush that appended records (the server's wake-up).
func NewPublisher(r *ring.Ring, notify func()) *Publisher {
	p := &Publisher{ring: r, enc: NewEncoder(64 << 10), snap: NewEncoder(64 << 10), notify: notify,
		head: make([]int32, 1<<16), tail: make([]int32, 1<<16), inst: make([]instState, 1<<16),
		connSubs: map[uint64]*connSubs{}, syms: map[string]uint16{},
		pend: make([]pubChange, 0, maxPend), touched: make([]uint16, 0, 1<<10)}
	for i := range p.head {
		p.head[i], p.tail[i] = -1, -1
	}
	return p
}

// SetBook names the book the snapshots are read from; call it before the
// first Flush, on the writer's goroutine.
func (p *Publisher) SetBook(b *book.Book) { p.books = func(uint16) *book.Book { return b } }

// SetBooks names the books the snapshots are read from when they are
// several (book/shard): of returns the one holding a locate. Call it
// before the first Flush, on the writer's goroutine.
func (p *Publisher) SetBooks(of func(locate uint16) *book.Book) { p.books = of }

// bookOf returns the book holding loc, nil when none was set.
func (p *Publisher) bookOf(loc uint16) *book.Book {
	if p.books == nil {
		return nil
	}
	return p.books(loc)
}

// SetSuspect sets the function that says whether an instrument's book may
// be wrong (messages not applied after a gap): its snapshots say so.
func (p *Publisher) SetSuspect(f func(locate uint16) bool) { p.suspect = f }

// Frames returns the number of frames appended to the ring so far.
func (p *Publisher) Frames() uint64 { return p.frames.Load() }

// Change implements book.Listener.
func (p *Publisher) Change(c *book.Change) {
	if p.muted {
		return // a rebuild: the clients get fresh snapshots after it
	}
	if c.Kind == book.ChangeMWCBLevels || c.Kind == book.ChangeMWCBBreach {
		p.marketWide(c)
		return
	}
	p.pend = append(p.pend, pubChange{c: *c, next: -1})
	pc := &p.pend[len(p.pend)-1]
	pc.c.Msg = nil
	m := c.Msg
	switch c.Kind {
	case book.ChangeAdd:
		if m.Type() == itch.TypeAddOrderMPID {
			copy(pc.text[:4], itch.AddOrderMPID(m).Attribution())
			pc.hasTxt = true
		}
	case book.ChangeCrossTrade:
		pc.code = itch.CrossTrade(m).CrossType()
	case book.ChangeTradingAction:
		v := itch.StockTradingAction(m)
		pc.code = v.TradingState()
		copy(pc.text[:4], v.Reason())
		st := &p.inst[c.Locate]
		st.state, st.reason = pc.code, [4]byte(v.Reason())
	case book.ChangeRegSHO:
		pc.code = itch.RegSHORestriction(m).RegSHOAction()
		p.inst[c.Locate].regSho = pc.code
	case book.ChangeLULDCollar:
		v := itch.LULDAuctionCollar(m)
		pc.luld = [4]uint32{v.CollarRefPrice(), v.UpperCollarPrice(), v.LowerCollarPrice(), v.CollarExtension()}
	case book.ChangeDirectory:
		copy(pc.text[:], itch.StockDirectory(m).Stock())
		if p.inst[c.Locate].known {
			// A repeated directory, or one after the instrument's first
			// orders: the clients' books stand (an empty snapshot would
			// wipe them).
			pc.c.Kind = 0
		}
		p.inst[c.Locate].listed = true
		if sym := trimSpaces(pc.text[:]); !p.symIs(sym, c.Locate) {
			p.syms[string(sym)] = c.Locate
			if len(p.waiting) > 0 {
				p.newInst = append(p.newInst, c.Locate)
			}
		}
	}
	st := &p.inst[c.Locate]
	st.known = true
	st.lastSeq, st.lastTS = c.Seq, c.Timestamp
	p.lastSeq, p.lastTS = c.Seq, c.Timestamp
	i := int32(len(p.pend) - 1)
	if t := p.tail[c.Locate]; t >= 0 {
		p.pend[t].next = i
	} else {
		p.head[c.Locate] = i
		p.touched = append(p.touched, c.Locate)
	}
	p.tail[c.Locate] = i
	if len(p.pend) >= maxPend {
		// Many messages applied without a Flush (a hole filled, a
		// backlog released at once): their changes go out now, so that
		// what is gathered stays bounded. Safe between two changes of a
		// message: a frame's updates are applied one by one, and the
		// snapshots and markers wait for Flush, between messages.
		if p.flushChanges() {
			p.wake()
		}
	}
}

// maxPend bounds the changes Change gathers before it encodes them.
const maxPend = 16 << 10

// marketWide publishes a market-wide circuit breaker message (locate 0) to
// every connection that asked for a subscription, after the changes
// gathered so far, and keeps it for the subscriptions to come.
func (p *Publisher) marketWide(c *book.Change) {
	st := Stamp{FeedSeq: c.Seq, Timestamp: c.Timestamp}
	if c.Kind == book.ChangeMWCBLevels {
		v := itch.MWCBDeclineLevel(c.Msg)
		p.mwcb.levels, p.mwcb.levelsAt = [3]uint64{v.Level1(), v.Level2(), v.Level3()}, st
	} else {
		p.mwcb.breach, p.mwcb.breachAt = itch.MWCBStatus(c.Msg).BreachedLevel(), st
	}
	p.flushChanges()
	e := p.enc
	e.Begin(placeholderSeq)
	p.mwcb.encode(e, c.Kind)
	p.appendFrame(recFeed<<16, e)
	p.mwcbNew = true
}

// mwcbState is the day's market-wide circuit breaker: its levels (V) and
// the last level breached (W), as a new subscriber is told them.
type mwcbState struct {
	levels   [3]uint64
	levelsAt Stamp // zero FeedSeq: none yet
	breach   byte
	breachAt Stamp
}

// encode adds the message of kind k (book.ChangeMWCBLevels or
// ChangeMWCBBreach) to e.
func (m *mwcbState) encode(e *Encoder, k book.ChangeKind) {
	if k == book.ChangeMWCBLevels {
		e.MwcbLevels(m.levelsAt, m.levels[0], m.levels[1], m.levels[2])
		return
	}
	level := m.breach
	if level >= '1' && level <= '3' {
		level -= '0'
	}
	e.MwcbBreach(m.breachAt, level)
}

// Flush encodes and publishes what Change gathered, then takes the
// subscription requests waiting. Call it on the writer's goroutine after
// each batch of messages; nothing applies messages while it runs.
func (p *Publisher) Flush() {
	appended := p.flushChanges() || p.mwcbNew
	p.mwcbNew = false
	p.seqSeen.Store(p.lastSeq)
	if len(p.newInst) > 0 {
		p.listed()
		appended = true
	}
	if p.nreq.Load() > 0 {
		p.takeRequests()
		appended = true
	}
	if appended {
		p.wake()
	}
	p.origin = 0
}

// SetOrigin says when the oldest datagram whose messages the next Flush
// publishes was received (ns since the epoch, the kernel's timestamp): the
// server measures its end-to-end stage from it. Call it on the writer's
// goroutine before Flush; 0 (or never calling it) leaves that stage out.
func (p *Publisher) SetOrigin(ns int64) {
	if ns != 0 && (p.origin == 0 || ns < p.origin) {
		p.origin = ns
	}
}

// Status publishes a Status for every subscriber, after the changes
// gathered so far.
func (p *Publisher) Status(state tw.FeedState, reason string, feedSeq uint64) {
	p.flushChanges()
	resync := p.muted && state != tw.FeedStateRecovering
	p.muted = state == tw.FeedStateRecovering
	p.last = feedStatus{state, reason, feedSeq}
	e := p.enc
	e.Begin(placeholderSeq)
	e.Status(state, []byte(reason), feedSeq, 0)
	p.appendFrame(recFeed<<16, e)
	if resync {
		p.ring.Append(recResync<<16, nil)
	}
	p.wake()
}

// flushChanges encodes the gathered changes, one frame per instrument and
// stream read by someone, and reports whether it appended any.
func (p *Publisher) flushChanges() bool {
	if len(p.pend) == 0 {
		return false
	}
	appended := false
	for _, loc := range p.touched {
		for s := range numStreams {
			if p.subs[s] == 0 {
				continue
			}
			e := p.enc
			e.Begin(placeholderSeq)
			for i := p.head[loc]; i >= 0; i = p.pend[i].next {
				p.encode(e, s, &p.pend[i])
				if e.Size() > maxUpdateFrame {
					p.appendFrame(uint32(s)<<16|uint32(loc), e)
					e.Begin(placeholderSeq)
				}
			}
			if e.Len() > 0 {
				p.appendFrame(uint32(s)<<16|uint32(loc), e)
				appended = true
			}
		}
		p.head[loc], p.tail[loc] = -1, -1
	}
	p.touched, p.pend = p.touched[:0], p.pend[:0]
	return appended
}

// appendFrame finishes e's frame and appends it to the ring with tag.
func (p *Publisher) appendFrame(tag uint32, e *Encoder) {
	f, err := e.Finish()
	if err != nil {
		panic(err) // frames are bounded well below the maximum above
	}
	p.ring.Append(tag, f)
	p.frames.Add(1)
}

func side(b byte) tw.Side { return tw.Side(b) }

// encode adds the message that change pc makes in stream s, if any.
func (p *Publisher) encode(e *Encoder, s int, pc *pubChange) {
	c := &pc.c
	st := Stamp{FeedSeq: c.Seq, Timestamp: c.Timestamp, Locate: c.Locate}
	switch c.Kind {
	case book.ChangeAdd:
		if s == streamOrders {
			var mpid []byte
			if pc.hasTxt {
				mpid = pc.text[:4]
			}
			e.OrderAdded(st, c.Ref, side(c.Side), c.Price, c.Shares, mpid)
		}
	case book.ChangeExecute:
		// A level or top subscriber sees the execution as a trade (its
		// level's change follows).
		if s == streamOrders {
			e.OrderExecuted(st, c.Ref, c.Match, c.Shares, c.Price, false, true)
		} else {
			e.Trade(st, c.Match, c.Ref, side(c.Side), c.Price, uint64(c.Shares), tw.CrossKindContinuous)
		}
	case book.ChangeExecuteWithPrice:
		if s == streamOrders {
			e.OrderExecuted(st, c.Ref, c.Match, c.Shares, c.ExecPrice, true, c.Printable == 'Y')
		} else if c.Printable == 'Y' {
			e.Trade(st, c.Match, c.Ref, side(c.Side), c.ExecPrice, uint64(c.Shares), tw.CrossKindContinuous)
		}
	case book.ChangeCancel:
		if s == streamOrders {
			e.OrderCancelled(st, c.Ref, c.Shares)
		}
	case book.ChangeDelete:
		if s == streamOrders {
			e.OrderDeleted(st, c.Ref)
		}
	case book.ChangeReplace:
		if s == streamOrders {
			e.OrderReplaced(st, c.Ref, c.NewRef, side(c.Side), c.Price, c.Shares)
		}
	case book.ChangeLevel:
		if s == streamLevels {
			e.LevelChanged(st, side(c.Side), c.Price, c.LevelShares, c.LevelOrders)
		}
	case book.ChangeTop:
		if s == streamTop {
			e.LevelChanged(st, side(c.Side), c.Price, c.LevelShares, c.LevelOrders)
		}
	case book.ChangeTrade:
		e.Trade(st, c.Match, c.Ref, side(c.Side), c.Price, uint64(c.Shares), tw.CrossKindContinuous)
	case book.ChangeCrossTrade:
		e.Trade(st, c.Match, 0, tw.SideBuy, c.Price, c.CrossShares, tw.CrossKind(pc.code))
	case book.ChangeBrokenTrade:
		e.TradeBroken(st, c.Match)
	case book.ChangeTradingAction:
		e.TradingState(st, tw.TradingStateCode(pc.code), trimSpaces(pc.text[:4]))
	case book.ChangeRegSHO:
		e.RegSho(st, tw.RegShoAction(pc.code))
	case book.ChangeLULDCollar:
		e.LuldCollar(st, pc.luld[0], pc.luld[1], pc.luld[2], pc.luld[3])
	case book.ChangeDirectory:
		// A new instrument: its (empty) book, so that a client subscribed
		// to everything learns its symbol.
		h := SnapshotHead{Locate: c.Locate, Stock: trimSpaces(pc.text[:]), FeedSeq: c.Seq, Timestamp: c.Timestamp,
			TradingState: tw.TradingStateCodeTrading, RegSho: tw.RegShoActionNoTest, Depth: streamDepth(s)}
		e.Snapshot(&h, nil, nil, nil, nil)
	}
}

func streamDepth(s int) tw.Depth {
	switch s {
	case streamOrders:
		return tw.DepthOrders
	case streamTop:
		return tw.DepthTop
	}
	return tw.DepthLevels
}

// trimSpaces returns b without its trailing spaces and zeros.
func trimSpaces(b []byte) []byte {
	n := len(b)
	for n > 0 && (b[n-1] == ' ' || b[n-1] == 0) {
		n--
	}
	return b[:n]
}

// submit queues a request for the writer's next Flush.
func (p *Publisher) submit(r *request) {
	p.reqMu.Lock()
	p.reqs = append(p.reqs, r)
	p.nreq.Store(int32(len(p.reqs)))
	p.reqMu.Unlock()
}

// takeRequests takes the queued requests: for each, the snapshots of what
// it subscribes to as the book is now, then its marker.
func (p *Publisher) takeRequests() {
	p.reqMu.Lock()
	p.taken, p.reqs = p.reqs, p.taken[:0]
	p.nreq.Store(0)
	p.reqMu.Unlock()
	p.newSnapshotBatch()
	for _, r := range p.taken {
		p.take(r)
	}
	clear(p.taken)
	p.taken = p.taken[:0]
}

// take resolves r, counts the streams' subscribers, encodes r's snapshots
// into r.out and appends its marker: the connection applies r from there.
func (p *Publisher) take(r *request) {
	cs := p.connSubs[r.conn]
	if cs == nil {
		cs = &connSubs{locs: map[uint16]int{}}
		p.connSubs[r.conn] = cs
	}
	if r.closed {
		p.dropSubs(cs)
		delete(p.connSubs, r.conn)
		p.dropWaiting(r.conn)
		return
	}
	if r.unsub {
		p.unwait(r)
	}
	r.resolved = r.resolved[:0]
	r.resolved = append(r.resolved, r.locs...)
	for _, s := range r.stocks {
		if loc, ok := p.lookup(s); ok {
			r.resolved = append(r.resolved, loc)
		} else if !r.unsub {
			r.waiting = append(r.waiting, s)
		}
	}
	if r.all && !r.unsub {
		r.resolved = r.resolved[:0]
		for loc := range p.inst {
			if p.inst[loc].known {
				r.resolved = append(r.resolved, uint16(loc))
			}
		}
	}
	p.count(cs, r)
	if !r.unsub && !r.listed {
		for _, k := range []book.ChangeKind{book.ChangeMWCBLevels, book.ChangeMWCBBreach} {
			if (k == book.ChangeMWCBLevels && p.mwcb.levelsAt.FeedSeq != 0) || (k == book.ChangeMWCBBreach && p.mwcb.breachAt.FeedSeq != 0) {
				e := p.snap
				e.Begin(placeholderSeq)
				p.mwcb.encode(e, k)
				r.out = append(r.out, p.finish(e))
			}
		}
	}
	if !r.unsub {
		for _, loc := range r.resolved {
			p.snapshotShared(r, loc)
		}
	}
	p.marker(r)
	if len(r.waiting) > 0 && !r.unsub {
		p.waiting = append(p.waiting, r)
	}
}

// marker appends the record at which r's connection applies it, after
// handing it over.
func (p *Publisher) marker(r *request) {
	r.status = p.last // written on this goroutine alone
	r.sink(r)
	binary.LittleEndian.PutUint64(p.idBuf[:], r.conn)
	binary.LittleEndian.PutUint64(p.idBuf[8:], r.id)
	p.ring.Append(recMarker<<16, p.idBuf[:])
}

// listed subscribes the requests waiting for a stock to the instruments
// listed in this batch under that name, with a request of their own each.
func (p *Publisher) listed() {
	p.newSnapshotBatch()
	for _, loc := range p.newInst {
		sym := string(p.bookOf(loc).Symbol(loc))
		for _, r := range p.waiting {
			w := r.waiting[:0]
			found := false
			for _, s := range r.waiting {
				if string(s) == sym && !found {
					found = true
					continue
				}
				w = append(w, s)
			}
			r.waiting = w
			if found {
				p.take(&request{conn: r.conn, id: r.id, sink: r.sink, depth: r.depth, n: r.n, locs: []uint16{loc}, listed: true})
			}
		}
	}
	p.newInst = p.newInst[:0]
	w := p.waiting[:0]
	for _, r := range p.waiting {
		if len(r.waiting) > 0 {
			w = append(w, r)
		}
	}
	clear(p.waiting[len(w):])
	p.waiting = w
}

// count updates the streams' subscriber counts for request r of cs.
func (p *Publisher) count(cs *connSubs, r *request) {
	s := depthStream(r.depth)
	if r.all {
		if cs.all {
			p.subs[cs.allDepth]--
		}
		cs.all = !r.unsub
		if cs.all {
			cs.allDepth = s
			p.subs[s]++
		} else {
			for loc, old := range cs.locs {
				p.subs[old]--
				delete(cs.locs, loc)
			}
		}
	}
	for _, loc := range r.resolved {
		if r.all {
			break
		}
		if old, ok := cs.locs[loc]; ok {
			p.subs[old]--
			delete(cs.locs, loc)
		}
		if !r.unsub {
			cs.locs[loc] = s
			p.subs[s]++
		}
	}
}

func (p *Publisher) dropSubs(cs *connSubs) {
	if cs.all {
		p.subs[cs.allDepth]--
	}
	for _, s := range cs.locs {
		p.subs[s]--
	}
}

func (p *Publisher) dropWaiting(conn uint64) {
	w := p.waiting[:0]
	for _, r := range p.waiting {
		if r.conn != conn {
			w = append(w, r)
		}
	}
	clear(p.waiting[len(w):])
	p.waiting = w
}

// symIs reports whether sym is known as locate's symbol.
func (p *Publisher) symIs(sym []byte, locate uint16) bool {
	l, ok := p.syms[string(sym)]
	return ok && l == locate
}

// unwait forgets the stocks an unsubscription names that the connection
// was waiting for.
func (p *Publisher) unwait(u *request) {
	for _, r := range p.waiting {
		if r.conn != u.conn {
			continue
		}
		w := r.waiting[:0]
		for _, s := range r.waiting {
			if !u.all && !slices.ContainsFunc(u.stocks, func(x []byte) bool { return string(x) == string(s) }) {
				w = append(w, s)
			}
		}
		r.waiting = w
	}
}

// lookup finds the locate of a stock by its symbol (unpadded).
func (p *Publisher) lookup(stock []byte) (uint16, bool) {
	loc, ok := p.syms[string(stock)]
	return loc, ok
}

// snapshot appends the frames of instrument loc's Snapshot at r's depth to
// r.out.
func (p *Publisher) snapshot(r *request, loc uint16) {
	st := &p.inst[loc]
	bk := p.bookOf(loc)
	h := SnapshotHead{Locate: loc, FeedSeq: p.lastSeq, Timestamp: p.lastTS,
		TradingState: tw.TradingStateCodeTrading, RegSho: tw.RegShoActionNoTest, Depth: r.depth}
	if st.state != 0 {
		h.TradingState, h.TradingReason = tw.TradingStateCode(st.state), trimSpaces(st.reason[:])
	}
	if st.regSho != 0 {
		h.RegSho = tw.RegShoAction(st.regSho)
	}
	if p.suspect != nil {
		h.Suspect = p.suspect(loc)
	}
	if bk != nil {
		h.Stock = bk.Symbol(loc)
	}
	e := p.snap
	sides := [2]byte{itch.Buy, itch.Sell}
	switch depthStream(r.depth) {
	case streamOrders:
		for i, sd := range sides {
			p.orders[i] = p.orders[i][:0]
			if bk == nil {
				continue
			}
			p.levels = bk.AppendLevels(p.levels[:0], loc, sd)
			for _, lv := range p.levels {
				bk.Orders(loc, sd, lv.Price, func(ref uint64, shares uint32) bool {
					p.orders[i] = append(p.orders[i], BookOrder{Ref: ref, Price: lv.Price, Shares: shares})
					return true
				})
			}
		}
		bids, asks := p.orders[0], p.orders[1]
		for {
			nb := min(len(bids), maxSnapshotOrders)
			na := min(len(asks), maxSnapshotOrders-nb)
			h.More = nb < len(bids) || na < len(asks)
			e.Begin(placeholderSeq)
			e.Snapshot(&h, bids[:nb], asks[:na], nil, nil)
			r.out = append(r.out, p.finish(e))
			bids, asks = bids[nb:], asks[na:]
			if !h.More {
				break
			}
		}
		return
	}
	p.bookLvls[0], p.bookLvls[1] = p.bookLvls[0][:0], p.bookLvls[1][:0]
	switch {
	case bk == nil:
	case depthStream(r.depth) == streamTop:
		// The best level alone: a storm of conflated top-of-book
		// connections costs a lookup per side, not a walk of every
		// level (5 ms of the writer's time per batch on 300
		// instruments).
		bl, al, _ := bk.Best(loc)
		for i, lv := range [2]book.Level{bl, al} {
			if lv.Orders > 0 {
				p.bookLvls[i] = append(p.bookLvls[i], bookLevel(lv))
			}
		}
	default:
		for i, sd := range sides {
			p.levels = bk.AppendLevels(p.levels[:0], loc, sd)
			for _, lv := range p.levels {
				p.bookLvls[i] = append(p.bookLvls[i], bookLevel(lv))
			}
		}
	}
	e.Begin(placeholderSeq)
	e.Snapshot(&h, nil, nil, p.bookLvls[0], p.bookLvls[1])
	r.out = append(r.out, p.finish(e))
}

// bookLevel is a book's level as a Snapshot carries it.
func bookLevel(lv book.Level) BookLevel {
	return BookLevel{Shares: lv.Shares, Price: lv.Price, OrderCount: lv.Orders}
}

// finish appends e's finished frame to the batch's snapshot buffer and
// returns it there.
func (p *Publisher) finish(e *Encoder) []byte {
	f, err := e.Finish()
	if err != nil {
		panic(err) // parts are bounded well below the maximum
	}
	n := len(p.snapBuf)
	p.snapBuf = append(p.snapBuf, f...)
	return p.snapBuf[n:len(p.snapBuf):len(p.snapBuf)]
}

// newSnapshotBatch starts a batch of requests: the snapshots taken from
// now on are of the book as it is, shared by every request of the batch
// that wants the same instrument at the same depth (a storm of conflated
// connections costs one snapshot of each instrument, not one each). The
// connections read the frames after the writer has moved on, so a batch's
// buffer is never written again: each batch gets a new one.
func (p *Publisher) newSnapshotBatch() {
	p.snapGen++
	p.snapBuf = make([]byte, 0, max(64<<10, len(p.snapBuf))) // the size the last batch took
}

// snapshotShared adds to r loc's snapshot at r's depth, taken once per
// batch.
func (p *Publisher) snapshotShared(r *request, loc uint16) {
	s := depthStream(r.depth)
	if p.snapIdx[s] == nil {
		p.snapIdx[s] = make([]snapRef, 1<<16)
	}
	ref := &p.snapIdx[s][loc]
	if ref.gen == p.snapGen {
		r.out = append(r.out, ref.frames...)
		return
	}
	n := len(r.out)
	p.snapshot(r, loc)
	ref.gen, ref.frames = p.snapGen, append(ref.frames[:0], r.out[n:]...)
}

// snapRef is an instrument's snapshot frames at one depth in a batch.
type snapRef struct {
	gen    uint64
	frames [][]byte
}
