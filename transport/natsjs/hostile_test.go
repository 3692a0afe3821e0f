package natsjs_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tickwire/tickwire/client"
	"github.com/tickwire/tickwire/transport"
	"github.com/tickwire/tickwire/transport/natsjs"
)

// TestHostileStream puts into the stream, between a session's messages,
// messages that are not the publisher's: garbage, the publisher's frames
// under headers that lie about their sequence, locate or predecessor,
// headers that do not parse, kinds that do not exist, and the first part
// of a snapshot, from the future, whose other parts never come. A client
// subscribed live and one replaying the day after the end refuse and
// count them all and equal the session's books: none moves an
// instrument's place in the stream, and the half snapshot holds its
// instrument back for at most a second before the bucket resynchronises it.
func TestHostileStream(t *testing.T) {
	msgs, want := session(t, 30_000, 20, 17)
	ns := startNATS(t, "", 0)
	url := ns.ClientURL()
	h := newHandler(t, natsjs.Config{URL: url})
	h.waitReady(t)
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// Real updates messages, to forge from.
	var mu sync.Mutex
	var real []*nats.Msg
	sub, err := nc.Subscribe("tickwire.>", func(m *nats.Msg) {
		mu.Lock()
		defer mu.Unlock()
		if m.Header.Get(natsjs.HeaderKind) == natsjs.KindUpdates && len(real) < 64 {
			real = append(real, m)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	nc.Flush()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	type result struct {
		books   []byte
		skipped uint64
		err     error
	}
	liveDone := make(chan result, 1)
	go func() {
		b, n, err := mirrorSkipped(ctx, url)
		liveDone <- result{b, n, err}
	}()
	third := len(msgs) / 3
	h.play(t, msgs, 0, third, 50)
	time.Sleep(300 * time.Millisecond) // a round of snapshots in the bucket
	mu.Lock()
	if len(real) < 2 {
		mu.Unlock()
		t.Fatalf("%d updates messages seen", len(real))
	}
	r, other := real[len(real)-1], real[0]
	for _, m := range real {
		if m.Header.Get(natsjs.HeaderLocate) != r.Header.Get(natsjs.HeaderLocate) {
			other = m
		}
	}
	mu.Unlock()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	forged := 0
	forge := func(what, subject string, hd nats.Header, data []byte) {
		t.Helper()
		m := &nats.Msg{Subject: subject, Header: nats.Header{}, Data: data}
		for k, v := range hd {
			m.Header[k] = append([]string(nil), v...)
		}
		m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("forged.%d", forged))
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		forged++
	}
	with := func(k, v string) nats.Header {
		hd := nats.Header{}
		for k, v := range r.Header {
			hd[k] = append([]string(nil), v...)
		}
		if v == "" {
			hd.Del(k)
		} else {
			hd.Set(k, v)
		}
		return hd
	}
	seq, _ := strconv.ParseUint(r.Header.Get(natsjs.HeaderSeq), 10, 64)
	loc, _ := strconv.ParseUint(r.Header.Get(natsjs.HeaderLocate), 10, 16)
	forge("garbage", r.Subject, r.Header, []byte("not a frame at all"))
	forge("truncated", r.Subject, r.Header, r.Data[:len(r.Data)-3])
	forge("a sequence from the future", r.Subject, with(natsjs.HeaderSeq, strconv.FormatUint(seq+1e12, 10)), r.Data)
	forge("another instrument's frames", other.Subject, with(natsjs.HeaderLocate, other.Header.Get(natsjs.HeaderLocate)), r.Data)
	forge("a predecessor after the sequence", r.Subject, with(natsjs.HeaderPrev, strconv.FormatUint(seq, 10)), r.Data)
	forge("no locate", r.Subject, with(natsjs.HeaderLocate, ""), r.Data)
	forge("locate 70000", r.Subject, with(natsjs.HeaderLocate, "70000"), r.Data)
	forge("locate 0", r.Subject, with(natsjs.HeaderLocate, "0"), r.Data)
	forge("a sequence that does not parse", r.Subject, with(natsjs.HeaderSeq, "12x"), r.Data)
	forge("no kind", r.Subject, with(natsjs.HeaderKind, ""), r.Data)
	forge("an unknown kind", r.Subject, with(natsjs.HeaderKind, "z"), r.Data)
	forge("a feed frame that is not one", natsjs.Subjects{Prefix: "tickwire", Session: natsjs.Token(sessionID[:])}.Feed(),
		nats.Header{natsjs.HeaderKind: {natsjs.KindFeed}}, []byte{1, 2, 3, 4, 5})
	snap := with(natsjs.HeaderKind, natsjs.KindSnapshot)
	snap.Set(natsjs.HeaderPart, "0/1")
	forge("a snapshot part that is not a frame", r.Subject, snap, r.Data)
	snap.Set(natsjs.HeaderPart, "zz")
	forge("a snapshot part numbered zz", r.Subject, snap, r.Data)
	// The first part of a snapshot from the future: applied (it is what
	// it carries), its other parts never come.
	e := transport.NewEncoder(1 << 10)
	e.Begin(0)
	future := seq + 1e9
	e.Snapshot(&transport.SnapshotHead{Locate: uint16(loc), Stock: []byte("FORGED"), FeedSeq: future, More: true}, nil, nil, nil, nil)
	frame, err := e.Finish()
	if err != nil {
		t.Fatal(err)
	}
	half := with(natsjs.HeaderKind, natsjs.KindSnapshot)
	half.Set(natsjs.HeaderSeq, strconv.FormatUint(future, 10))
	half.Set(natsjs.HeaderPart, "0/1")
	forge("half a snapshot", r.Subject, half, frame)
	refused := forged - 1

	time.Sleep(1200 * time.Millisecond) // the half snapshot's parts given up
	h.play(t, msgs, third, len(msgs), 50)
	time.Sleep(200 * time.Millisecond)
	h.end(uint64(len(msgs)))
	h.close(t)
	lv := <-liveDone
	if lv.err != nil {
		t.Fatalf("live client: %v", lv.err)
	}
	sameBooks(t, "live client", lv.books, want)
	if lv.skipped != uint64(refused) {
		t.Errorf("live client refused %d messages, want %d", lv.skipped, refused)
	}
	got, skipped, err := mirrorSkipped(ctx, url, client.WithNATS(client.NATSOptions{From: client.FromStart()}))
	if err != nil {
		t.Fatal(err)
	}
	sameBooks(t, "replay from the start", got, want)
	if skipped != uint64(refused) {
		t.Errorf("replaying client refused %d messages, want %d", skipped, refused)
	}
}
