package client

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tickwire/tickwire/transport"
	"github.com/tickwire/tickwire/transport/natsjs"
	"github.com/tickwire/tickwire/transport/tw"
)

// NATSOptions are DialNATS's options (see WithNATS and the WithFrom
// functions).
type NATSOptions struct {
	// Prefix, Stream and KV name what the daemon publishes into (its
	// nats: prefix, stream and kv). Defaults "tickwire", "TICKWIRE",
	// "tickwire_books".
	Prefix, Stream, KV string
	// Session is the feed session to follow (a subject's second token);
	// default the latest one published.
	Session string
	// From is where to start: the latest snapshots (the default, then
	// live), the session's start, or a point of the day.
	From From
	// Lead is how far before a snapshot's round the stream is read from
	// (default 10 s): it covers a second handler publishing that far
	// ahead, and the clocks of the handler and the servers.
	Lead time.Duration
	// Domain is the JetStream domain of the servers the daemon publishes
	// into, for a client of a leaf node without JetStream of its own (the
	// hub's jetstream domain), or of another domain; "": the local one.
	Domain string
	// Options are nats.go's connection options (credentials, TLS).
	Options []nats.Option
}

// From is a starting point of a NATS subscription.
type From struct {
	kind     fromKind
	seq, tod uint64
}

type fromKind uint8

const (
	fromLatest fromKind = iota
	fromStart
	fromSeq
	fromTime
)

// FromStart replays the session from the stream's beginning.
func FromStart() From { return From{kind: fromStart} }

// FromSeq starts at the feed sequence seq: the snapshot at or before it,
// then the updates after.
func FromSeq(seq uint64) From { return From{kind: fromSeq, seq: seq} }

// FromTime starts at the exchange time ns (nanoseconds since midnight):
// the snapshot at or before it, then the updates after.
func FromTime(ns uint64) From { return From{kind: fromTime, tod: ns} }

// WithNATS sets DialNATS's options.
func WithNATS(o NATSOptions) Option { return func(opts *Options) { opts.NATS = o } }

// natsState is a NATS client's: its connection, consumer and each
// instrument's place in the stream.
type natsState struct {
	nc   *nats.Conn
	js   jetstream.JetStream
	src  natsjs.Source
	subj natsjs.Subjects
	it   jetstream.MessagesContext
	// endAtTail: the session had ended when the client started; it ends
	// once it has read the stream to its end.
	endAtTail bool
	inst      []natsInst
	tokens    []string // the symbols asked for; nil: all
	lead      time.Duration
	fellBack  error // why the bucket's snapshots were not used at the start
	// frames are the frames of the updates message being applied.
	frames []transport.Frame
	// initial are the bucket's snapshots the client starts from: applied,
	// and handed to Run's function, when Run starts.
	initial []natsjs.Snapshot
	// skipped counts the messages refused: not whole frames, headers
	// that do not parse or do not agree with the frames they carry.
	skipped atomic.Uint64
}

// natsInst is what a NATS client knows of an instrument's place.
type natsInst struct {
	seq       uint64 // the last feed sequence applied
	synced    bool   // from a snapshot (or its first frame)
	stale     bool   // a frame was missed: updates wait for a snapshot
	partSeq   uint64 // a snapshot in parts is being applied: its sequence
	partNext  int
	partAt    time.Time // when its first part came
	lastFetch time.Time
}

// DialNATS subscribes through NATS JetStream to what a daemon publishes
// there (its nats: section): the same mirror (Book) and events as Dial,
// every instrument at the Orders depth or the symbols WithSymbols names
// (not locates: subjects are by symbol). It starts from the bucket's
// latest snapshots (or the point WithNATS's From says) and then reads the
// stream live; an instrument that misses a frame is resynchronised from
// the next snapshot of it in the stream or in the bucket. url is a NATS
// server or a comma-separated list of a cluster's.
func DialNATS(ctx context.Context, url string, opts ...Option) (*Client, error) {
	c := &Client{o: Options{Depth: DepthOrders, Reconnect: true}, book: NewBook(), closed: make(chan struct{})}
	for _, opt := range opts {
		opt(&c.o)
	}
	if len(c.o.Locates) > 0 {
		return nil, errors.New("client: over NATS, instruments are subscribed to by symbol")
	}
	no := c.o.NATS
	nc, err := nats.Connect(url, append([]nats.Option{nats.Name("tickwire-client"), nats.MaxReconnects(-1)}, no.Options...)...)
	if err != nil {
		return nil, fmt.Errorf("client: NATS %s: %w", url, err)
	}
	js, err := jetstream.New(nc)
	if no.Domain != "" {
		js, err = jetstream.NewWithDomain(nc, no.Domain)
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	ns := &natsState{nc: nc, js: js, src: natsjs.Source{NC: nc, JS: js, Prefix: no.Prefix, Stream: no.Stream, KV: no.KV, Domain: no.Domain},
		inst: make([]natsInst, 1<<16), lead: no.Lead}
	if ns.lead <= 0 {
		ns.lead = 10 * time.Second
	}
	c.nats = ns
	if err := c.startNATS(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// startNATS finds the session and the starting point, applies the
// snapshots and opens the consumer.
func (c *Client) startNATS(ctx context.Context) error {
	ns, no := c.nats, c.o.NATS
	session := no.Session
	for session == "" {
		s, err := ns.src.LatestSession(ctx)
		if err == nil {
			session = s
			break
		}
		select { // nothing published yet, or the cluster not answering: wait
		case <-ctx.Done():
			return fmt.Errorf("client: waiting for a session in NATS (%v): %w", err, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	ns.subj = natsjs.Subjects{Prefix: ns.src.Prefix, Session: session}
	if c.o.some {
		ns.tokens = []string{}
		for _, s := range c.o.Symbols {
			ns.tokens = append(ns.tokens, natsjs.Token([]byte(s)))
		}
	}
	// Ended already: read to the stream's end, then stop.
	if ms, err := ns.src.LastFeed(ctx, session); err == nil && ms != nil {
		ns.endAtTail = isEnd(ms)
	}
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if ns.tokens == nil {
		cfg.FilterSubjects = []string{ns.subj.All()}
	} else {
		cfg.FilterSubjects = []string{ns.subj.Feed()}
		for _, t := range ns.tokens {
			cfg.FilterSubjects = append(cfg.FilterSubjects, ns.subj.Instrument(t))
		}
	}
	if no.From.kind != fromStart {
		var upTo time.Time
		if no.From.kind != fromLatest {
			at, err := ns.src.Find(ctx, session, func(seq, ts uint64) bool {
				if no.From.kind == fromSeq {
					return seq >= no.From.seq
				}
				return ts >= no.From.tod
			})
			if err != nil {
				return err
			}
			upTo = at // zero: not reached yet; the latest snapshots
		}
		snaps, err := ns.src.Snapshots(ctx, session, ns.tokens, upTo)
		if err != nil {
			// The bucket does not answer (a cluster electing its
			// leader): the stream's start is as exact, only longer.
			snaps = nil
			ns.fellBack = err
		}
		if len(snaps) > 0 {
			start := snaps[0].Round
			for _, sn := range snaps {
				for _, fr := range sn.Frames {
					if _, err := natsjs.OpenFrame(fr); err != nil {
						return fmt.Errorf("client: snapshot of %s: %w", sn.Token, err)
					}
				}
				// Its place now; the mirror and the events at Run's start.
				ns.inst[sn.Locate] = natsInst{seq: sn.Seq, synced: true}
				start = minTime(start, sn.Round)
			}
			ns.initial = snaps
			start = start.Add(-ns.lead)
			cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &start
		}
	}
	// A cluster electing a leader may leave a request unanswered: each
	// attempt has 5 s, until ctx is done.
	var cons jetstream.Consumer
	for {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		c, err := ns.js.OrderedConsumer(actx, ns.src.Stream, cfg)
		cancel()
		if err == nil {
			cons = c
			break
		}
		if ctx.Err() != nil {
			return fmt.Errorf("client: NATS consumer on %s: %w", ns.src.Stream, err)
		}
	}
	if ns.endAtTail {
		if info, err := cons.Info(ctx); err == nil && info.NumPending == 0 {
			c.ended = true
			return nil
		}
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(4096))
	if err != nil {
		return err
	}
	ns.it = it
	return nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// isEnd reports whether a feed frame is the session's end.
func isEnd(m *nats.Msg) bool {
	f, err := natsjs.OpenFrame(m.Data)
	return err == nil && f.EndsSession()
}

// applyStored applies a snapshot read from the bucket, handing fn its
// messages as events (a Snapshot, as over TCP).
func (c *Client) applyStored(sn natsjs.Snapshot, fn func(*Event) error, ev *Event) error {
	if in := c.book.Instrument(sn.Locate); in != nil {
		in.partial = false // a snapshot's parts left unfinished: this one replaces it
	}
	for _, fr := range sn.Frames {
		f, err := natsjs.OpenFrame(fr)
		if err != nil {
			return fmt.Errorf("client: snapshot of %s: %w", sn.Token, err)
		}
		if err := c.applyFrame(&f, sn.Locate, true, 0, fn, ev); err != nil {
			return err
		}
	}
	c.nats.inst[sn.Locate] = natsInst{seq: sn.Seq, synced: true}
	return nil
}

// runNATS reads the stream until ctx is done, Close, fn's error, or the
// end of the session.
func (c *Client) runNATS(ctx context.Context, fn func(*Event) error) error {
	ns := c.nats
	defer ns.nc.Close()
	var ev Event
	// The bucket's snapshots the client starts from, first.
	for _, sn := range ns.initial {
		if err := c.applyStored(sn, fn, &ev); err != nil {
			var fe fnError
			if errors.As(err, &fe) {
				return fe.err
			}
			return err
		}
	}
	ns.initial = nil
	if c.ended {
		return nil
	}
	stop := context.AfterFunc(ctx, ns.it.Stop)
	defer stop()
	go func() {
		select {
		case <-c.closed:
			ns.it.Stop()
		case <-ctx.Done():
		}
	}()
	for {
		m, err := ns.it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if c.isClosed() || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			return fmt.Errorf("client: NATS: %w", err)
		}
		if err := c.natsMsg(ctx, m, fn, &ev); err != nil {
			var fe fnError
			if errors.As(err, &fe) {
				return fe.err
			}
			return err
		}
		if c.ended {
			return nil
		}
		if ns.endAtTail {
			if md, err := m.Metadata(); err == nil && md.NumPending == 0 {
				c.ended = true
				return nil
			}
		}
	}
}

// partTimeout is how long a snapshot's parts may take to come, on the
// stream's clock (when it stored them; a replay reads a day's in
// seconds): past it, the parts missing are given up (the publisher died
// between them, or the first was not its), and the instrument
// resynchronised from the bucket.
const partTimeout = time.Second

// storedAt is when the stream stored m (now, if its metadata does not
// say).
func storedAt(m jetstream.Msg) time.Time {
	if md, err := m.Metadata(); err == nil {
		return md.Timestamp
	}
	return time.Now()
}

// natsMsg applies one message of the stream: a frame of updates, a
// snapshot part, or a frame for every subscriber. A message that is not
// what the publisher writes (frames that do not open, headers that do not
// parse or disagree with the frames) is skipped and counted
// (NATSSkipped): it never moves an instrument's place in the stream.
func (c *Client) natsMsg(ctx context.Context, m jetstream.Msg, fn func(*Event) error, ev *Event) error {
	ns := c.nats
	h := m.Headers()
	data := m.Data()
	kind := h.Get(natsjs.HeaderKind)
	if kind == natsjs.KindFeed {
		f, err := natsjs.OpenFrame(data)
		if err != nil {
			ns.skipped.Add(1)
			return nil
		}
		return c.applyFrame(&f, 0, false, 0, fn, ev)
	}
	loc64, err := strconv.ParseUint(h.Get(natsjs.HeaderLocate), 10, 16)
	if err != nil || loc64 == 0 {
		ns.skipped.Add(1)
		return nil
	}
	loc := uint16(loc64)
	seq, err := strconv.ParseUint(h.Get(natsjs.HeaderSeq), 10, 64)
	if err != nil {
		ns.skipped.Add(1)
		return nil
	}
	st := &ns.inst[loc]
	if st.partSeq != 0 && storedAt(m).Sub(st.partAt) > partTimeout {
		st.partSeq, st.stale = 0, true // the rest never came: from the bucket
	}
	switch kind {
	case natsjs.KindSnapshot:
		f, err := natsjs.OpenFrame(data)
		part, _, ok := cutPart(h.Get(natsjs.HeaderPart))
		if err != nil || !ok || !snapshotOf(&f, loc, seq, &c.msg) {
			ns.skipped.Add(1)
			return nil
		}
		if st.partSeq != 0 {
			if seq != st.partSeq || part != st.partNext {
				return nil // another handler's, interleaved
			}
		} else if part != 0 || (st.synced && !st.stale && seq <= st.seq) {
			return nil // not news: the mirror is as of a later point
		} else {
			st.partAt = storedAt(m)
		}
		if in := c.book.Instrument(loc); in != nil && part == 0 {
			in.partial = false // an earlier snapshot's parts left unfinished
		}
		st.partSeq, st.partNext = seq, part+1
		if err := c.applyFrame(&f, loc, true, 0, fn, ev); err != nil {
			return err
		}
		if in := c.book.Instrument(loc); in == nil || !in.partial {
			*st = natsInst{seq: seq, synced: true}
		}
		return nil
	case natsjs.KindUpdates:
		prev, err := strconv.ParseUint(h.Get(natsjs.HeaderPrev), 10, 64)
		if err != nil || prev >= seq || !updatesOf(data, loc, prev, seq, &c.msg, &ns.frames) {
			ns.skipped.Add(1)
			return nil
		}
		switch {
		case st.partSeq != 0:
			return nil // between a snapshot's parts: another handler's
		case st.synced && !st.stale && seq <= st.seq:
			return nil // applied already (another handler's copy)
		case !st.synced && prev == 0:
			st.synced = true // the instrument's first frame
		case st.synced && !st.stale && prev > st.seq:
			st.stale = true // a frame is missing
			if in := c.book.Instrument(loc); in != nil {
				in.Suspect = true
			}
		}
		if !st.synced || st.stale {
			ok, err := c.fetchSnapshot(ctx, loc, lastToken(m.Subject()), prev, fn, ev)
			if err != nil {
				return err
			}
			if !ok {
				return nil
			}
			if seq <= st.seq {
				return nil
			}
		}
		after := st.seq
		st.seq = max(st.seq, seq)
		// The message's frames, opened and checked whole by updatesOf.
		for i := range ns.frames {
			if err := c.applyFrame(&ns.frames[i], loc, false, after, fn, ev); err != nil {
				return err
			}
		}
	default:
		ns.skipped.Add(1)
	}
	return nil
}

// updatesOf reports whether data is what the publisher writes for
// instrument loc's updates from after prev to seq: whole frames back to
// back, every update in them (and snapshot: a new instrument's, listed
// among its updates) of loc, in (prev, seq], the last at seq. It leaves
// the frames, opened, in *frames.
func updatesOf(data []byte, loc uint16, prev, seq uint64, msg *transport.Message, frames *[]transport.Frame) bool {
	*frames = (*frames)[:0]
	last := uint64(0)
	for len(data) > 0 {
		if len(data) < transport.PrefixSize {
			return false
		}
		n := transport.PrefixSize + int(binary.LittleEndian.Uint32(data))
		if n > len(data) || n < transport.PrefixSize {
			return false
		}
		f, err := natsjs.OpenFrame(data[:n])
		if err != nil {
			return false
		}
		*frames = append(*frames, f)
		for i := range f.Len() {
			m := f.Message(i, msg)
			st, ok := m.Stamp()
			if m.Type() == tw.BodySnapshot {
				// A new instrument's first state, among its updates.
				var s tw.Snapshot
				t := m.Table()
				s.Init(t.Bytes, t.Pos)
				st, ok = transport.Stamp{Locate: s.Locate(), FeedSeq: s.FeedSeq()}, true
			}
			if !ok {
				continue
			}
			if st.Locate != loc || st.FeedSeq <= prev || st.FeedSeq > seq || st.FeedSeq < last {
				return false
			}
			last = st.FeedSeq
		}
		data = data[n:]
	}
	return last == seq
}

// snapshotOf reports whether frame f holds instrument loc's snapshot at
// feed sequence seq (a part of it).
func snapshotOf(f *transport.Frame, loc uint16, seq uint64, msg *transport.Message) bool {
	found := false
	for i := range f.Len() {
		m := f.Message(i, msg)
		if m.Type() != tw.BodySnapshot {
			continue
		}
		var s tw.Snapshot
		t := m.Table()
		s.Init(t.Bytes, t.Pos)
		if s.Locate() != loc || s.FeedSeq() != seq {
			return false
		}
		found = true
	}
	return found
}

// fetchSnapshot resynchronises instrument loc from the bucket's latest
// snapshot when it covers the frames missed (its sequence at least prev),
// at most every 200 ms per instrument.
// Its events go to fn; fn's error is returned.
func (c *Client) fetchSnapshot(ctx context.Context, loc uint16, tok string, prev uint64, fn func(*Event) error, ev *Event) (bool, error) {
	ns := c.nats
	st := &ns.inst[loc]
	if time.Since(st.lastFetch) < 200*time.Millisecond {
		return false, nil
	}
	st.lastFetch = time.Now()
	snaps, err := ns.src.Snapshots(ctx, ns.subj.Session, []string{tok}, time.Time{})
	if err != nil || len(snaps) != 1 || snaps[0].Locate != loc || snaps[0].Seq < prev {
		return false, nil
	}
	if err := c.applyStored(snaps[0], fn, ev); err != nil {
		var fe fnError
		if errors.As(err, &fe) {
			return false, err
		}
		return false, nil
	}
	return true, nil
}

// lastToken returns a subject's last token.
func lastToken(subject string) string {
	for i := len(subject) - 1; i >= 0; i-- {
		if subject[i] == '.' {
			return subject[i+1:]
		}
	}
	return subject
}

func cutPart(s string) (i int, more bool, ok bool) {
	for j := 0; j < len(s); j++ {
		if s[j] == '/' {
			n, err := strconv.Atoi(s[:j])
			return n, s[j+1:] == "1", err == nil
		}
	}
	return 0, false, false
}

// applyFrame applies a frame's messages to the mirror and hands each to
// fn: for an instrument's frame (loc not 0, or a snapshot), only its
// messages, and of updates only those after feed sequence after.
func (c *Client) applyFrame(f *transport.Frame, loc uint16, snapshot bool, after uint64, fn func(*Event) error, ev *Event) error {
	feed := loc == 0 && !snapshot
	for i := range f.Len() {
		m := f.Message(i, &c.msg)
		if !feed {
			if m.Type() == tw.BodySnapshot {
				var s tw.Snapshot
				t := m.Table()
				s.Init(t.Bytes, t.Pos)
				if s.Locate() != loc || (!snapshot && s.FeedSeq() <= after) {
					continue
				}
			} else if s, ok := m.Stamp(); !ok || s.Locate != loc || s.FeedSeq <= after {
				continue
			}
		}
		l, err := c.apply(m)
		if err != nil {
			return err
		}
		if fn != nil {
			*ev = Event{Kind: EventMessage, Message: m, Locate: l}
			if err := fn(ev); err != nil {
				return fnError{err}
			}
		}
	}
	return nil
}

// NATSSkipped returns, for a DialNATS client, how many messages of the
// stream it refused as not the publisher's: frames that do not open,
// headers that do not parse or disagree with the frames (0 over TCP).
func (c *Client) NATSSkipped() uint64 {
	if c.nats == nil {
		return 0
	}
	return c.nats.skipped.Load()
}

// NATSFallback returns, for a DialNATS client, why it replays the session
// from the stream's start instead of the bucket's snapshots (nil when it
// did not have to, and over TCP).
func (c *Client) NATSFallback() error {
	if c.nats == nil {
		return nil
	}
	return c.nats.fellBack
}
