package natsjs

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/transport"
)

// Config configures a Publisher. Zero values take the defaults named.
type Config struct {
	// URL is the NATS server (or a comma-separated list of a cluster's).
	URL string
	// Prefix is the first token of every subject (default "tickwire").
	Prefix string
	// Stream is the JetStream stream keeping the updates (default
	// "TICKWIRE"); it is created, or its configuration updated, with
	// subjects <Prefix>.>, file storage and the limits below.
	Stream string
	// KV is the key-value bucket of the snapshots (default
	// "tickwire_books").
	KV string
	// Replicas of the stream and the bucket (default 1; 3 on a cluster).
	Replicas int
	// MaxBytes and MaxAge limit the stream (default none: a day's
	// session is kept until the operator purges it or the next day's
	// limits drop it).
	MaxBytes int64
	MaxAge   time.Duration
	// Duplicates is the stream's duplicate window (default 2 min): two
	// handlers on the same feed publish each frame once within it.
	Duplicates time.Duration
	// SnapshotEvery is how often every instrument's snapshot is put into
	// the bucket (default 1 min); the end of the session puts them at once.
	SnapshotEvery time.Duration
	// History is the bucket's snapshots kept per instrument (default 8,
	// at most 64): how far back a client can start from a snapshot.
	History int
	// MaxPending bounds the publishes awaiting JetStream's
	// acknowledgement (default 8192): past it, frames are dropped,
	// counted, and their instruments repaired from a snapshot.
	MaxPending int
	// BatchSeqs and Linger shape the NATS messages: an instrument's
	// updates go out together until one comes from a feed sequence in
	// another block of BatchSeqs (default 1024), or the first has waited
	// Linger (default 2 ms). Blocks of sequences make two handlers cut
	// their messages alike, for the stream's duplicate detection, which
	// takes a message for another's only when both cover the same
	// sequences (a Linger cut makes them differ: both are kept, and
	// readers skip what they applied already). A negative Linger is
	// none: the batches go out at each Flush of the books, for the least
	// latency and the most messages.
	BatchSeqs uint64
	Linger    time.Duration
	// AckTimeout is how long a publish may wait for its acknowledgement
	// before it counts as lost (default 5 s).
	AckTimeout time.Duration
	// Options are nats.go's connection options: credentials, an nkey, TLS.
	Options []nats.Option
	// Logf, if set, receives a line per event worth an operator's eye.
	Logf func(format string, args ...any)
	// OnAck, if set, is called with every message JetStream acknowledged
	// (on nats.go's goroutine; m is not to be kept): for measurements,
	// such as tools/fanoutbench's time from the book to the stream.
	OnAck func(m *nats.Msg)
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func (c *Config) resolve() error {
	if c.URL == "" {
		return fmt.Errorf("%w: no URL", ErrConfig)
	}
	defaultNames(&c.Prefix, &c.Stream, &c.KV)
	for _, v := range []struct{ what, s string }{{"prefix", c.Prefix}, {"stream", c.Stream}, {"kv", c.KV}} {
		if !nameRE.MatchString(v.s) {
			return fmt.Errorf("%w: %s %q: want letters, digits, '-' and '_'", ErrConfig, v.what, v.s)
		}
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	if c.Duplicates <= 0 {
		c.Duplicates = 2 * time.Minute
	}
	if c.SnapshotEvery <= 0 {
		c.SnapshotEvery = time.Minute
	}
	if c.History <= 0 {
		c.History = 8
	}
	if c.History > 64 {
		return fmt.Errorf("%w: history %d: at most 64", ErrConfig, c.History)
	}
	if c.MaxPending <= 0 {
		c.MaxPending = 8192
	}
	if c.BatchSeqs == 0 {
		c.BatchSeqs = 1024
	}
	if c.Linger == 0 {
		c.Linger = 2 * time.Millisecond
	}
	if c.AckTimeout <= 0 {
		c.AckTimeout = 5 * time.Second
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	return nil
}

// Headers of the messages a Publisher writes.
const (
	// HeaderKind is "u" (an instrument's updates), "s" (a snapshot part,
	// in the stream or the bucket) or "f" (a frame for every subscriber).
	HeaderKind = "Tw-Kind"
	// HeaderSeq is the feed sequence of the frame's last update, or the
	// snapshot's.
	HeaderSeq = "Tw-Seq"
	// HeaderPrev is, on an updates frame, the feed sequence of the last
	// update of the instrument before it (0: none): a reader that has
	// applied less has missed a frame.
	HeaderPrev = "Tw-Prev"
	// HeaderTime is the exchange timestamp (ns since midnight) of the
	// frame's last update, or the snapshot's.
	HeaderTime = "Tw-Time"
	// HeaderLocate is the instrument's ITCH stock locate.
	HeaderLocate = "Tw-Locate"
	// HeaderPart is a snapshot part's "index/parts" (from 0).
	HeaderPart = "Tw-Part"
	// HeaderRound is, on a bucket snapshot, when its round of snapshots
	// began on the publisher's clock (Unix ns): every update after the
	// snapshot was published after it.
	HeaderRound = "Tw-Round"
	// HeaderSession is the session, on a bucket snapshot.
	HeaderSession = "Tw-Session"
)

// Kinds, HeaderKind's values.
const (
	KindUpdates  = "u"
	KindSnapshot = "s"
	KindFeed     = "f"
)

// Stats are a Publisher's counters.
type Stats struct {
	Connected  bool
	Published  uint64 // messages published into the stream (frames and snapshot parts)
	Bytes      uint64 // their payload bytes
	Dropped    uint64 // frames not published: NATS disconnected, too many awaiting acknowledgement, or before the stream existed
	Failed     uint64 // publishes JetStream did not acknowledge (an error or AckTimeout)
	Repairs    uint64 // snapshots published into the stream for an instrument with a frame dropped or failed
	Rounds     uint64 // rounds of bucket snapshots completed
	Puts       uint64 // snapshot parts put into the bucket
	Resyncs    uint64 // the follower lapped by the ring, or the books rebuilt
	Duplicates uint64 // publishes the stream took as duplicates (another handler's)
	Pending    int    // publishes awaiting JetStream's acknowledgement now
	Behind     uint64 // bytes of the books' ring not yet read, at the publisher's last pass
	Held       uint64 // passes that stopped reading the ring to wait for acknowledgements
}

// Publisher publishes the daemon's books into NATS JetStream: every
// instrument's updates on <prefix>.<session>.<symbol> in the transport
// schema's frames (one NATS message per instrument per batch of feed
// messages), and every instrument's snapshot into a key-value bucket
// keyed by symbol, at an interval and at the end of the session (see the
// package documentation). It reads the books through a
// transport.Follower, on a goroutine of its own: NATS down or slow never
// holds the feed or the TCP subscribers back.
type Publisher struct {
	cfg  Config
	f    *transport.Follower
	nc   *nats.Conn
	js   jetstream.JetStream
	mr   *mirror
	subj Subjects

	session atomic.Pointer[string]
	ready   atomic.Bool // the stream and the bucket exist

	failMu     sync.Mutex
	failed     []uint16    // instruments whose publish JetStream refused or did not acknowledge
	failedFeed []*nats.Msg // frames for every subscriber to publish again

	stop, done chan struct{}
	setupKick  chan struct{}

	// The round of bucket snapshots in progress.
	roundAt   time.Time
	roundLocs []uint16
	roundIdx  int
	nextRound time.Time
	ended     bool // the session ended: a round at once
	finalDone bool // the round after the end is done

	repairs []uint16 // dirty instruments to snapshot into the stream
	snapBuf []byte

	batches     []batch  // by locate
	pendingLocs []uint16 // instruments with a batch waiting
	now         time.Time

	published, bytes, dropped, failedN, repaired, rounds, puts, dups atomic.Uint64
	resyncs, behind, held                                            atomic.Uint64
	synced                                                           atomic.Bool

	// pubOpts: never wait for room, and never retry: nats.go retries a
	// publish refused while a cluster elects its leader after the ones
	// that followed it, out of the instrument's order; failed instead, it
	// is repaired by a snapshot that comes before the instrument's next
	// update.
	pubOpts []jetstream.PublishOpt

	// The pool of updates messages (outMsg): taken on the publishing
	// goroutine, given back on nats.go's when JetStream answers.
	poolMu sync.Mutex
	pool   []*outMsg
	outs   map[*nats.Msg]*outMsg // every outMsg made, by its message

	// inflight counts each instrument's publishes into the stream not yet
	// answered; disconnected is set when the connection is lost.
	inflight     []atomic.Int32
	disconnected atomic.Bool
}

// Start connects to NATS and publishes what pub publishes from now on,
// until Close. The connection is retried in the background: a server
// down at start is no error, its frames are counted as dropped.
func Start(pub *transport.Publisher, cfg Config) (*Publisher, error) {
	if err := cfg.resolve(); err != nil {
		return nil, err
	}
	p := &Publisher{cfg: cfg, mr: newMirror(), batches: make([]batch, 1<<16), inflight: make([]atomic.Int32, 1<<16),
		outs:    map[*nats.Msg]*outMsg{},
		pubOpts: []jetstream.PublishOpt{jetstream.WithStallWait(time.Millisecond), jetstream.WithRetryAttempts(0)}, stop: make(chan struct{}), done: make(chan struct{}),
		setupKick: make(chan struct{}, 1)}
	opts := append([]nats.Option{nats.Name("tickwire"), nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			p.disconnected.Store(true)
			if err != nil {
				cfg.Logf("nats: disconnected: %v", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			cfg.Logf("nats: reconnected to %s", nc.ConnectedUrlRedacted())
			p.kick()
		}),
		nats.ConnectHandler(func(*nats.Conn) { p.kick() }),
	}, cfg.Options...)
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("natsjs: %s: %w", cfg.URL, err)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(cfg.MaxPending+64),
		jetstream.WithPublishAsyncTimeout(cfg.AckTimeout),
		jetstream.WithPublishAsyncErrHandler(p.asyncErr),
		jetstream.WithPublishAsyncAckHandler(func(_ jetstream.JetStream, m *nats.Msg, a *jetstream.PubAck) {
			p.settled(m)
			if a.Duplicate {
				p.dups.Add(1)
			}
			if cfg.OnAck != nil {
				cfg.OnAck(m)
			}
			p.putOut(m)
		}))
	if err != nil {
		nc.Close()
		return nil, err
	}
	p.nc, p.js = nc, js
	p.subj = Subjects{Prefix: cfg.Prefix}
	p.f = pub.Follow()
	go p.setup()
	go p.run()
	p.kick()
	return p, nil
}

// SetSession names the feed's session (MoldUDP64's, padded): the second
// token of the subjects. Call it before the first Flush of a session's
// messages, from any goroutine.
func (p *Publisher) SetSession(s [10]byte) {
	t := Token(itch.TrimAlpha(s[:]))
	p.session.Store(&t)
}

func (p *Publisher) kick() {
	select {
	case p.setupKick <- struct{}{}:
	default:
	}
}

// setup creates (or updates) the stream and the bucket whenever the
// connection is made, off the publishing goroutine.
func (p *Publisher) setup() {
	for {
		select {
		case <-p.stop:
			return
		case <-p.setupKick:
		case <-time.After(time.Second):
			if p.ready.Load() {
				continue
			}
		}
		if p.nc.Status() != nats.CONNECTED {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := p.ensure(ctx)
		cancel()
		if err != nil {
			p.cfg.Logf("nats: stream %s, bucket %s: %v (retrying)", p.cfg.Stream, p.cfg.KV, err)
			continue
		}
		if !p.ready.Swap(true) {
			p.cfg.Logf("nats: publishing on %s.> into stream %s, snapshots into bucket %s", p.cfg.Prefix, p.cfg.Stream, p.cfg.KV)
		}
	}
}

func (p *Publisher) ensure(ctx context.Context) error {
	c := p.cfg
	maxBytes := c.MaxBytes
	if maxBytes <= 0 {
		maxBytes = -1
	}
	_, err := p.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: c.Stream, Subjects: []string{c.Prefix + ".>"},
		Storage: jetstream.FileStorage, Replicas: c.Replicas, MaxBytes: maxBytes, MaxAge: c.MaxAge,
		Duplicates: c.Duplicates, AllowDirect: true, Discard: jetstream.DiscardOld,
		Description: "tickwire: each instrument's updates, in the transport schema's frames"})
	if err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	_, err = p.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: c.KV, History: uint8(c.History),
		Storage: jetstream.FileStorage, Replicas: c.Replicas,
		Description: "tickwire: each instrument's latest snapshots, keyed by symbol"})
	if err != nil {
		return fmt.Errorf("bucket: %w", err)
	}
	return nil
}

// asyncErr is JetStream's report of a publish that failed, on nats.go's
// goroutine: the instrument is repaired from a snapshot.
func (p *Publisher) asyncErr(_ jetstream.JetStream, m *nats.Msg, err error) {
	p.failedN.Add(1)
	p.settled(m)
	defer p.putOut(m)
	if m.Header.Get(HeaderKind) == KindFeed {
		// Published again (its Nats-Msg-Id makes a copy that did reach
		// the stream a duplicate).
		p.keepFeed(m)
		return
	}
	if loc, e := strconv.ParseUint(m.Header.Get(HeaderLocate), 10, 16); e == nil {
		p.failMu.Lock()
		p.failed = append(p.failed, uint16(loc))
		p.failMu.Unlock()
	}
}

// settled counts a publish of an instrument answered (acknowledged or
// failed), on nats.go's goroutine.
func (p *Publisher) settled(m *nats.Msg) {
	if loc, e := strconv.ParseUint(m.Header.Get(HeaderLocate), 10, 16); e == nil && m.Header.Get(HeaderRound) == "" {
		p.inflight[loc].Add(-1)
	}
}

// lostInFlight marks for repair, after the connection was lost, every
// instrument with a publish unanswered: it may never have reached the
// stream, and no error may come for it before AckTimeout, or ever if the
// instrument has no more updates.
func (p *Publisher) lostInFlight() {
	if !p.disconnected.Swap(false) {
		return
	}
	for loc := range p.inflight {
		if p.inflight[loc].Load() > 0 {
			p.markDirty(uint16(loc))
		}
	}
}

// Stats returns the counters. Safe from any goroutine.
func (p *Publisher) Stats() Stats {
	return Stats{Connected: p.nc.Status() == nats.CONNECTED && p.ready.Load(), Published: p.published.Load(),
		Bytes: p.bytes.Load(), Dropped: p.dropped.Load(), Failed: p.failedN.Load(), Repairs: p.repaired.Load(),
		Rounds: p.rounds.Load(), Puts: p.puts.Load(), Resyncs: p.resyncs.Load(), Duplicates: p.dups.Load(),
		Pending: p.js.PublishAsyncPending(), Behind: p.behind.Load(), Held: p.held.Load()}
}

// Synced reports whether the publisher follows the books (it has their
// snapshots): false at its start and while it resynchronises after the
// ring lapped it, until the books' writer next Flushes. A writer that
// stops (the end of the session, a shutdown) should Flush until it is
// true, or a while, before Close: else the publisher never learns the
// books' last state. Safe from any goroutine.
func (p *Publisher) Synced() bool { return p.synced.Load() }

// Close publishes what the Publisher has not yet, puts the final
// snapshots into the bucket if the session ended, waits up to ctx for
// JetStream's acknowledgements and closes the connection.
func (p *Publisher) Close(ctx context.Context) error {
	select {
	case <-p.stop:
		return nil
	default:
	}
	close(p.stop)
	<-p.done
	p.f.Close()
	var err error
	select {
	case <-p.js.PublishAsyncComplete():
	case <-ctx.Done():
		err = fmt.Errorf("natsjs: %d publishes not acknowledged: %w", p.js.PublishAsyncPending(), ctx.Err())
	}
	p.nc.Close()
	return err
}

// run is the publishing goroutine.
func (p *Publisher) run() {
	defer close(p.done)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		stopping := false
		select {
		case <-p.stop:
			stopping = true
		case <-p.f.Wake():
		case <-tick.C:
		}
		p.now = time.Now()
		p.lostInFlight()
		p.takeFailed()
		p.behind.Store(p.f.Behind())
		if stopping {
			p.f.Next(p)
		} else {
			p.f.NextWhile(p, p.room)
		}
		p.resyncs.Store(p.f.Resyncs())
		p.synced.Store(p.f.Synced())
		p.flushLingering(stopping)
		p.repair(!stopping)
		if stopping {
			p.finalRound()
			p.settle()
			return
		}
		p.round(1 << 20)
	}
}

// finalRound puts every instrument's snapshot into the bucket before the
// publisher closes (the session ended, or the daemon is going down), for
// up to 10 s while NATS takes them.
func (p *Publisher) finalRound() {
	if !p.ended || !p.finalDone {
		// A round begun before the end would put books older than the
		// final ones: a new one.
		p.ended, p.finalDone, p.nextRound, p.roundLocs = true, false, time.Time{}, nil
	}
	deadline := time.Now().Add(10 * time.Second)
	for !p.finalDone && p.ready.Load() && p.nc.Status() == nats.CONNECTED && time.Now().Before(deadline) {
		idx := p.roundIdx
		p.round(1 << 62)
		if p.roundIdx == idx && !p.finalDone {
			time.Sleep(time.Millisecond) // waiting for acknowledgements
		}
	}
}

// settle waits, up to 10 s, until every publish is answered, repairing
// the instruments whose publishes failed meanwhile: at the end, no later
// update would reveal the loss.
func (p *Publisher) settle() {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		p.lostInFlight()
		p.takeFailed()
		p.failMu.Lock()
		feed := len(p.failedFeed)
		p.failMu.Unlock()
		if len(p.repairs) == 0 && feed == 0 && p.js.PublishAsyncPending() == 0 {
			return
		}
		p.repair(false)
		time.Sleep(time.Millisecond)
	}
}

// takeFailed marks the instruments whose publishes failed for repair.
func (p *Publisher) takeFailed() {
	p.failMu.Lock()
	failed, feed := p.failed, p.failedFeed
	p.failed, p.failedFeed = nil, nil
	p.failMu.Unlock()
	for _, loc := range failed {
		p.markDirty(loc)
	}
	for i, m := range feed {
		if !p.publish(m.Subject, m.Data, m.Header, -1) {
			p.failMu.Lock()
			p.failedFeed = append(feed[i:], p.failedFeed...)
			p.failMu.Unlock()
			return
		}
	}
}

func (p *Publisher) markDirty(loc uint16) {
	in := &p.mr.inst[loc]
	if !in.dirty {
		in.dirty = true
		p.repairs = append(p.repairs, loc)
	}
}

// Follow implements transport.FollowHandler.
func (p *Publisher) Follow(kind transport.FollowKind, loc uint16, frame []byte) {
	switch kind {
	case transport.FollowResync:
		p.flushLingering(true)
		p.mr.reset()
	case transport.FollowSnapshot:
		fi, err := p.mr.apply(frame[transport.PrefixSize:])
		if err != nil {
			p.cfg.Logf("nats: a snapshot frame from the books does not read: %v", err)
			return
		}
		if !fi.snapshot {
			p.feedFrame(frame) // the feed's state as of the snapshots
			return
		}
		in := &p.mr.inst[fi.locate]
		p.flushBatch(fi.locate)
		if p.publishSnapshotPart(fi.locate, frame, fi, in.part) && !fi.more {
			in.dirty = false
		} else if !fi.more {
			p.markDirty(fi.locate)
		}
	case transport.FollowUpdates:
		p.updates(loc, frame)
	case transport.FollowFeed:
		p.feedFrame(frame)
	}
}

// updates adds one instrument's frame of updates to the instrument's
// batch, after a snapshot of the instrument when a frame of it was lost.
func (p *Publisher) updates(loc uint16, frame []byte) {
	in := &p.mr.inst[loc]
	if in.dirty && p.canPublish() && !in.partial {
		p.repairOne(loc)
	}
	prev := in.lastSeq
	fi, err := p.mr.apply(frame[transport.PrefixSize:])
	if err != nil {
		p.cfg.Logf("nats: a frame of locate %d from the books does not read: %v", loc, err)
		return
	}
	if in.dirty {
		p.dropped.Add(1)
		return // the repair snapshot will carry it
	}
	b := &p.batches[loc]
	if len(b.buf) > 0 && (fi.first/p.cfg.BatchSeqs != b.first/p.cfg.BatchSeqs || len(b.buf)+len(frame) > maxBatch) {
		p.flushBatch(loc)
	}
	if len(b.buf) == 0 {
		b.first, b.prev, b.since = fi.first, prev, p.now
		p.pendingLocs = append(p.pendingLocs, loc)
	}
	b.buf = append(b.buf, frame...)
	b.last, b.ts = fi.last, fi.ts
}

// batch is an instrument's frames waiting to go out in one NATS message.
type batch struct {
	buf                   []byte // frames, size-prefixed, back to back
	first, last, prev, ts uint64
	since                 time.Time
}

// maxBatch bounds a batch's bytes, inside NATS's default 1 MiB payload.
const maxBatch = 512 << 10

// flushBatch publishes instrument loc's batch, if it has one, in a pooled
// message (nothing allocated once the pool has grown; nats.go's publish
// and its acknowledgement allocate what they do).
func (p *Publisher) flushBatch(loc uint16) {
	b := &p.batches[loc]
	if len(b.buf) == 0 {
		return
	}
	if !p.canPublish() {
		p.dropped.Add(1)
		p.markDirty(loc)
		b.buf = b.buf[:0]
		return
	}
	o := p.getOut()
	o.set(hSeq, b.last)
	o.set(hPrev, b.prev)
	o.set(hTime, b.ts)
	o.set(hLocate, uint64(loc))
	start := len(o.text)
	o.text = append(o.text, p.sessionToken()...)
	o.text = append(o.text, '.')
	o.text = strconv.AppendUint(o.text, uint64(loc), 10)
	o.text = append(o.text, '.')
	o.text = strconv.AppendUint(o.text, b.first, 10)
	o.text = append(o.text, '-')
	o.text = strconv.AppendUint(o.text, b.last, 10)
	o.vals[hMsgID][0] = unsafe.String(&o.text[start], len(o.text)-start)
	o.m.Subject = p.instSubject(loc)
	o.m.Data = append(o.m.Data[:0], b.buf...)
	if !p.send(&o.m, int(loc)) {
		p.putOut(&o.m)
		p.markDirty(loc)
	}
	b.buf = b.buf[:0]
}

// The headers of an updates message, by their index in outMsg.vals.
const (
	hSeq = iota
	hPrev
	hTime
	hLocate
	hMsgID
	numOutHeaders
)

var outHeaderKeys = [numOutHeaders]string{HeaderSeq, HeaderPrev, HeaderTime, HeaderLocate, jetstream.MsgIDHeader}

// kindUpdates is the Tw-Kind of every pooled message, and their mark:
// a message whose kind is this very slice is an outMsg's.
var kindUpdates = []string{KindUpdates}

// outMsg is a pooled message of an instrument's updates: its headers'
// map, their values (strings over text) and its payload, reused once
// JetStream has answered it (nats.go is done with it then: it never
// retries a publish of ours).
type outMsg struct {
	m    nats.Msg
	vals [numOutHeaders][1]string
	text []byte
}

// set sets header i to v's decimal digits.
func (o *outMsg) set(i int, v uint64) {
	start := len(o.text)
	o.text = strconv.AppendUint(o.text, v, 10)
	o.vals[i][0] = unsafe.String(&o.text[start], len(o.text)-start)
}

// getOut takes a message from the pool, its text emptied.
func (p *Publisher) getOut() *outMsg {
	p.poolMu.Lock()
	defer p.poolMu.Unlock()
	if n := len(p.pool); n > 0 {
		o := p.pool[n-1]
		p.pool = p.pool[:n-1]
		o.text = o.text[:0]
		return o
	}
	o := &outMsg{text: make([]byte, 0, 128)}
	o.m.Header = make(nats.Header, numOutHeaders+1)
	o.m.Header[HeaderKind] = kindUpdates
	for i, k := range outHeaderKeys {
		o.m.Header[k] = o.vals[i][:]
	}
	p.outs[&o.m] = o
	return o
}

// putOut returns m to the pool if it is a pooled message (and not in
// it already).
func (p *Publisher) putOut(m *nats.Msg) {
	if k := m.Header[HeaderKind]; len(k) == 0 || &k[0] != &kindUpdates[0] {
		return
	}
	p.poolMu.Lock()
	if o := p.outs[m]; o != nil {
		p.pool = append(p.pool, o)
	}
	p.poolMu.Unlock()
}

// flushLingering publishes the batches older than Linger (all of them
// when all is set).
func (p *Publisher) flushLingering(all bool) {
	keep := p.pendingLocs[:0]
	for _, loc := range p.pendingLocs {
		b := &p.batches[loc]
		if len(b.buf) == 0 {
			continue
		}
		if all || p.now.Sub(b.since) >= p.cfg.Linger {
			p.flushBatch(loc)
			continue
		}
		keep = append(keep, loc)
	}
	p.pendingLocs = keep
}

// feedFrame publishes a frame for every subscriber; the end of the
// session starts the final round of snapshots.
func (p *Publisher) feedFrame(frame []byte) {
	if f, err := transport.Open(frame[transport.PrefixSize:]); err == nil && !p.ended && f.EndsSession() {
		p.ended, p.nextRound, p.roundLocs = true, time.Time{}, nil
		// Readers stop at the end: every update and repair goes into the
		// stream before it.
		p.flushLingering(true)
		p.settle()
	}
	p.publishFeed(frame)
}

func (p *Publisher) publishFeed(frame []byte) {
	p.flushLingering(true) // the updates before it go first
	h := nats.Header{HeaderKind: {KindFeed},
		jetstream.MsgIDHeader: {p.sessionToken() + "._feed." + strconv.FormatUint(xxhash.Sum64(frame), 16)}}
	p.subj.Session = p.sessionToken()
	subject := p.subj.Feed()
	if !p.publish(subject, frame, h, -1) {
		p.keepFeed(&nats.Msg{Subject: subject, Data: bytes.Clone(frame), Header: h})
	}
}

// keepFeed keeps a frame for every subscriber that NATS did not take, to
// publish again once it does (takeFailed): a Status is state every reader
// needs, the end of the session above all. The latest 64 are kept. Safe
// from any goroutine.
func (p *Publisher) keepFeed(m *nats.Msg) {
	p.failMu.Lock()
	if len(p.failedFeed) >= 64 {
		p.failedFeed = p.failedFeed[1:]
	}
	p.failedFeed = append(p.failedFeed, m)
	p.failMu.Unlock()
}

// sessionToken returns the session's token ("0" before one is known).
func (p *Publisher) sessionToken() string {
	if s := p.session.Load(); s != nil {
		return *s
	}
	return "0"
}

// instSubject returns the subject of instrument loc.
// It is kept, until the session or the symbol changes.
func (p *Publisher) instSubject(loc uint16) string {
	in := &p.mr.inst[loc]
	sess := p.sessionToken()
	if in.subject != "" && in.subjectSession == sess && in.subjectToken == in.token {
		return in.subject
	}
	p.subj.Session = sess
	tok := in.token
	if tok == "" {
		tok = locateToken(loc)
	}
	in.subject, in.subjectSession, in.subjectToken = p.subj.Instrument(tok), sess, in.token
	return in.subject
}

// room reports whether the publisher may read on in the books' ring: not
// while three quarters of MaxPending await acknowledgement (it waits for
// them rather than drop frames; the ring holds what follows). Disconnected,
// it reads on: its frames are dropped, counted and repaired after. A no
// ends the pass's reading (Follower.NextWhile): it counts a pass held.
func (p *Publisher) room() bool {
	if !p.ready.Load() || p.nc.Status() != nats.CONNECTED || p.js.PublishAsyncPending() < p.cfg.MaxPending*3/4 {
		return true
	}
	p.held.Add(1)
	return false
}

// canPublish reports whether a publish now can be taken.
func (p *Publisher) canPublish() bool {
	return p.ready.Load() && p.nc.Status() == nats.CONNECTED && p.js.PublishAsyncPending() < p.cfg.MaxPending
}

// publish publishes one message into the stream, never waiting: it
// reports false (and counts a drop) when it cannot now.
func (p *Publisher) publish(subject string, data []byte, h nats.Header, loc int) bool {
	if !p.canPublish() {
		p.dropped.Add(1)
		return false
	}
	return p.send(&nats.Msg{Subject: subject, Data: bytes.Clone(data), Header: h}, loc)
}

// send publishes m into the stream, once canPublish said it may, counting
// it in flight for instrument loc (none: -1) and published, or dropped
// when nats.go refuses it.
func (p *Publisher) send(m *nats.Msg, loc int) bool {
	if loc >= 0 {
		p.inflight[loc].Add(1)
	}
	if _, err := p.js.PublishMsgAsync(m, p.pubOpts...); err != nil {
		if loc >= 0 {
			p.inflight[loc].Add(-1)
		}
		p.dropped.Add(1)
		return false
	}
	p.published.Add(1)
	p.bytes.Add(uint64(len(m.Data)))
	return true
}

// publishSnapshotPart publishes part of an instrument's snapshot into the
// stream, on the instrument's subject.
func (p *Publisher) publishSnapshotPart(loc uint16, frame []byte, fi frameInfo, part int) bool {
	more := "1"
	if !fi.more {
		more = "0"
	}
	h := nats.Header{HeaderKind: {KindSnapshot}, HeaderSeq: {strconv.FormatUint(fi.last, 10)},
		HeaderTime: {strconv.FormatUint(fi.ts, 10)}, HeaderLocate: {strconv.Itoa(int(loc))},
		HeaderPart:            {strconv.Itoa(part) + "/" + more},
		jetstream.MsgIDHeader: {p.sessionToken() + "." + strconv.Itoa(int(loc)) + ".s" + strconv.FormatUint(fi.last, 10) + "." + strconv.Itoa(part)}}
	return p.publish(p.instSubject(loc), frame, h, int(loc))
}

// repair publishes into the stream a snapshot of each instrument a frame
// of which was lost, once publishing works again (a budget of them per
// pass, unless all is set).
func (p *Publisher) repair(budget bool) {
	n := 0
	for len(p.repairs) > 0 && p.canPublish() && (!budget || n < 256) {
		loc := p.repairs[0]
		p.repairs = p.repairs[1:]
		if in := &p.mr.inst[loc]; in.dirty && !in.partial {
			p.repairOne(loc)
		}
		n++
	}
	if len(p.repairs) == 0 {
		p.repairs = nil
	}
}

// repairOne publishes instrument loc's snapshot from the mirror into the
// stream.
func (p *Publisher) repairOne(loc uint16) {
	p.flushBatch(loc)
	in := &p.mr.inst[loc]
	var ends []int
	p.snapBuf, ends = p.mr.encodeSnapshot(p.snapBuf[:0], loc)
	fi := frameInfo{first: in.lastSeq, last: in.lastSeq, ts: in.lastTS, locate: loc, snapshot: true}
	ok, from := true, 0
	for i, end := range ends {
		fi.more = i < len(ends)-1
		ok = p.publishSnapshotPart(loc, p.snapBuf[from:end], fi, i) && ok
		from = end
	}
	if ok {
		in.dirty = false
		p.repaired.Add(1)
	}
}

// round goes on with the round of bucket snapshots, up to budget bytes of
// them, starting one when it is due.
func (p *Publisher) round(budget int) {
	if !p.ready.Load() || p.nc.Status() != nats.CONNECTED {
		return
	}
	now := time.Now()
	if p.roundLocs == nil {
		if now.Before(p.nextRound) || (p.ended && p.finalDone) {
			return
		}
		p.roundAt, p.roundIdx = now, 0
		p.roundLocs = []uint16{}
		for loc := range p.mr.inst {
			if in := &p.mr.inst[loc]; in.known && in.token != "" {
				p.roundLocs = append(p.roundLocs, uint16(loc))
			}
		}
	}
	kvp := "$KV." + p.cfg.KV + "."
	round := strconv.FormatInt(p.roundAt.UnixNano(), 10)
	sess := p.sessionToken()
	for p.roundIdx < len(p.roundLocs) && budget > 0 {
		if p.js.PublishAsyncPending() >= p.cfg.MaxPending {
			return // on with it at the next pass
		}
		loc := p.roundLocs[p.roundIdx]
		in := &p.mr.inst[loc]
		if in.partial {
			return // its snapshot's parts are being applied: at the next pass
		}
		p.roundIdx++
		var ends []int
		p.snapBuf, ends = p.mr.encodeSnapshot(p.snapBuf[:0], loc)
		from := 0
		for i, end := range ends {
			key := in.token
			if i > 0 {
				key += "." + strconv.Itoa(i)
			}
			h := nats.Header{HeaderKind: {KindSnapshot}, HeaderSeq: {strconv.FormatUint(in.lastSeq, 10)},
				HeaderTime: {strconv.FormatUint(in.lastTS, 10)}, HeaderLocate: {strconv.Itoa(int(loc))},
				HeaderPart: {strconv.Itoa(i) + "/" + strconv.Itoa(len(ends))}, HeaderRound: {round},
				HeaderSession: {sess}}
			m := &nats.Msg{Subject: kvp + key, Data: bytes.Clone(p.snapBuf[from:end]), Header: h}
			if _, err := p.js.PublishMsgAsync(m, p.pubOpts...); err == nil {
				p.puts.Add(1)
			}
			budget -= end - from
			from = end
		}
		// Parts an earlier, larger snapshot left: deleted.
		for i := len(ends); i < in.kvParts; i++ {
			m := &nats.Msg{Subject: kvp + in.token + "." + strconv.Itoa(i), Header: nats.Header{"KV-Operation": {"DEL"}}}
			p.js.PublishMsgAsync(m, p.pubOpts...)
		}
		in.kvParts, in.changed = len(ends), false
	}
	if p.roundIdx >= len(p.roundLocs) {
		p.roundLocs = nil
		p.nextRound = p.roundAt.Add(p.cfg.SnapshotEvery)
		p.rounds.Add(1)
		if p.ended {
			p.finalDone = true
		}
	}
}
