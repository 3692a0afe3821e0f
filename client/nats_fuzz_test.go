package client

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tickwire/tickwire/transport"
	"github.com/tickwire/tickwire/transport/natsjs"
	"github.com/tickwire/tickwire/transport/tw"
)

// fuzzMsg is a message of the stream, as the fuzzer makes it: what
// natsMsg reads of a jetstream.Msg (the rest is never called).
type fuzzMsg struct {
	jetstream.Msg
	h    nats.Header
	data []byte
	at   time.Time
}

func (m *fuzzMsg) Headers() nats.Header { return m.h }
func (m *fuzzMsg) Data() []byte         { return m.data }
func (m *fuzzMsg) Subject() string      { return "tickwire.S.AAPL" }
func (m *fuzzMsg) Metadata() (*jetstream.MsgMetadata, error) {
	return &jetstream.MsgMetadata{Timestamp: m.at}, nil
}

// FuzzNATSMessage throws arbitrary messages of the stream (any kind,
// locate, sequences, part and bytes) at a NATS client's handling of
// them, after a good snapshot and frame of updates: nothing panics, a
// message refused changes no instrument's place in the stream, and an
// instrument's sequence never moves but to what an accepted message's
// frames carry.
func FuzzNATSMessage(f *testing.F) {
	e := transport.NewEncoder(256)
	e.Begin(0)
	e.Snapshot(&transport.SnapshotHead{Locate: 3, Stock: []byte("AAPL"), FeedSeq: 10, Depth: tw.DepthOrders},
		[]transport.BookOrder{{Ref: 1, Price: 100, Shares: 5}}, nil, nil, nil)
	snap, _ := e.Finish()
	snap = append([]byte(nil), snap...)
	e.Begin(0)
	e.OrderAdded(transport.Stamp{FeedSeq: 11, Locate: 3}, 2, tw.SideSell, 101, 7, nil)
	e.OrderExecuted(transport.Stamp{FeedSeq: 12, Locate: 3}, 2, 9, 3, 0, false, true)
	ups, _ := e.Finish()
	ups = append([]byte(nil), ups...)
	f.Add("u", "3", "12", "10", "", ups)
	e.Begin(0)
	e.Snapshot(&transport.SnapshotHead{Locate: 3, Stock: []byte("AAPL"), FeedSeq: 20, Depth: tw.DepthOrders}, nil, nil, nil, nil)
	listed, _ := e.Finish()
	f.Add("u", "3", "20", "12", "", append([]byte(nil), listed...)) // an instrument listed among its updates
	f.Add("s", "3", "10", "", "0/0", snap)
	f.Add("s", "3", "10", "", "0/1", snap)
	f.Add("f", "", "", "", "", ups)
	f.Add("u", "3", "99", "10", "", ups)
	f.Add("u", "4", "12", "10", "", ups)
	f.Add("u", "3", "12", "10", "", append(append([]byte(nil), ups...), ups...))
	bk, ns := NewBook(), &natsState{inst: make([]natsInst, 1<<16)} // reused, emptied each time
	f.Fuzz(func(t *testing.T, kind, loc, seq, prev, part string, data []byte) {
		for _, l := range bk.live {
			bk.inst[l] = nil
		}
		bk.live = bk.live[:0]
		clear(ns.inst)
		c := &Client{book: bk, o: Options{Depth: DepthOrders}, nats: ns}
		ctx := context.Background()
		var ev Event
		at := time.Unix(1_700_000_000, 0)
		good := &fuzzMsg{h: nats.Header{natsjs.HeaderKind: {"s"}, natsjs.HeaderLocate: {"3"}, natsjs.HeaderSeq: {"10"}, natsjs.HeaderPart: {"0/0"}}, data: snap, at: at}
		if err := c.natsMsg(ctx, good, nil, &ev); err != nil {
			t.Fatal(err)
		}
		// The locates the message may touch: its header's, and the
		// snapshot's. No fetch from the bucket (there is none): as if one
		// was just made.
		locs := []uint16{3}
		if l, err := strconv.ParseUint(loc, 10, 16); err == nil && l != 3 {
			locs = append(locs, uint16(l))
		}
		var before []natsInst
		for _, l := range locs {
			ns.inst[l].lastFetch = time.Now()
			before = append(before, ns.inst[l])
		}
		skipped := c.nats.skipped.Load()
		h := nats.Header{}
		for k, v := range map[string]string{natsjs.HeaderKind: kind, natsjs.HeaderLocate: loc, natsjs.HeaderSeq: seq, natsjs.HeaderPrev: prev, natsjs.HeaderPart: part} {
			if v != "" {
				h.Set(k, v)
			}
		}
		m := &fuzzMsg{h: h, data: data, at: at.Add(time.Millisecond)}
		c.natsMsg(ctx, m, func(*Event) error { return nil }, &ev)
		refused := c.nats.skipped.Load() != skipped
		for j, i := range locs {
			a, b := before[j], ns.inst[i]
			if a == b {
				continue
			}
			if refused {
				t.Fatalf("a refused message changed locate %d: %+v to %+v", i, a, b)
			}
			if b.seq > a.seq && !carries(data, uint16(i), b.seq) {
				t.Fatalf("locate %d moved to %d, which the message's frames do not carry", i, b.seq)
			}
		}
		var out nopWriter
		if err := c.book.WriteBooks(&out); err != nil {
			t.Fatal(err)
		}
	})
}

// carries reports whether data holds a frame with an update or snapshot
// of loc at feed sequence seq.
func carries(data []byte, loc uint16, seq uint64) bool {
	var m transport.Message
	for len(data) >= transport.PrefixSize {
		n := transport.PrefixSize + int(uint32(data[0])|uint32(data[1])<<8|uint32(data[2])<<16|uint32(data[3])<<24)
		if n > len(data) || n < transport.PrefixSize {
			return false
		}
		if f, err := natsjs.OpenFrame(data[:n]); err == nil {
			for i := range f.Len() {
				msg := f.Message(i, &m)
				if st, ok := msg.Stamp(); ok && st.Locate == loc && st.FeedSeq == seq {
					return true
				}
				if msg.Type() == tw.BodySnapshot {
					var s tw.Snapshot
					t := msg.Table()
					s.Init(t.Bytes, t.Pos)
					if s.Locate() == loc && s.FeedSeq() == seq {
						return true
					}
				}
			}
		}
		data = data[n:]
	}
	return false
}

type nopWriter struct{}

func (nopWriter) Write(b []byte) (int, error) { return len(b), nil }

// TestNATSListedAmongUpdates: an instrument listed after the publisher
// began (its Snapshot among its updates, as the publisher relays it) is
// the publisher's, not refused.
func TestNATSListedAmongUpdates(t *testing.T) {
	e := transport.NewEncoder(256)
	e.Begin(0)
	e.Snapshot(&transport.SnapshotHead{Locate: 7, Stock: []byte("NEW"), FeedSeq: 20, Depth: tw.DepthOrders}, nil, nil, nil, nil)
	fr, err := e.Finish()
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{book: NewBook(), o: Options{Depth: DepthOrders}, nats: &natsState{inst: make([]natsInst, 1<<16)}}
	m := &fuzzMsg{h: nats.Header{natsjs.HeaderKind: {natsjs.KindUpdates}, natsjs.HeaderLocate: {"7"}, natsjs.HeaderSeq: {"20"}, natsjs.HeaderPrev: {"0"}},
		data: append([]byte(nil), fr...), at: time.Now()}
	var ev Event
	if err := c.natsMsg(context.Background(), m, nil, &ev); err != nil {
		t.Fatal(err)
	}
	if n := c.NATSSkipped(); n != 0 {
		t.Fatalf("refused %d", n)
	}
	if st := c.nats.inst[7]; !st.synced || st.seq != 20 {
		t.Fatalf("instrument 7: %+v", st)
	}
	if in := c.Book().Instrument(7); in == nil || string(in.Symbol[:3]) != "NEW" {
		t.Fatalf("the mirror: %+v", in)
	}
}
