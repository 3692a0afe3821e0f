package live

import (
	be "encoding/binary"
	"errors"
	"fmt"
	"iter"
	"net/netip"
	"time"

	"github.com/tickwire/tickwire/codec/moldudp64"
	"github.com/tickwire/tickwire/codec/soupbintcp"
	"github.com/tickwire/tickwire/feed"
	"github.com/tickwire/tickwire/feed/soup"
)

// stage keeps datagrams received while a snapshot is fetched, in one
// preallocated buffer.
type stage struct {
	buf     []byte
	ents    []staged
	dropped uint64
	highest uint64 // the highest sequence the lines' packets showed
}

type staged struct {
	line   int
	ts     int64
	src    netip.AddrPort
	off, n int
}

func newStage(bytes int) stage {
	return stage{buf: make([]byte, 0, bytes), ents: make([]staged, 0, bytes/256)}
}

func (s *stage) add(line int, ts int64, payload []byte) bool {
	if len(s.buf)+len(payload) > cap(s.buf) || len(s.ents) == cap(s.ents) {
		s.dropped++
		return false
	}
	s.ents = append(s.ents, staged{line: line, ts: ts, off: len(s.buf), n: len(payload)})
	s.buf = append(s.buf, payload...)
	if line != lineRecovery && len(payload) >= moldudp64.HeaderLen {
		pkt := moldudp64.Packet(payload)
		seq := pkt.Seq()
		if c := pkt.Count(); c != moldudp64.EndOfSession {
			seq += uint64(c)
		}
		s.highest = max(s.highest, seq)
	}
	return true
}

func (s *stage) reset() {
	s.buf, s.ents, s.dropped, s.highest = s.buf[:0], s.ents[:0], 0, 0
}

// snapResult is the outcome of one snapshot fetch.
type snapResult struct {
	msgs snapshotMsgs
	next uint64
	err  error
}

// fetcher runs one snapshot fetch on its own goroutine.
type fetcher struct {
	done   chan snapResult
	cancel chan struct{}
}

func startFetch(sc Snapshot) *fetcher {
	f := &fetcher{done: make(chan snapResult, 1), cancel: make(chan struct{})}
	go func() {
		msgs, next, err := fetchSnapshot(sc, f.cancel)
		f.done <- snapResult{msgs, next, err}
	}()
	return f
}

// stop cancels the fetch and waits for it to end.
func (f *fetcher) stop() {
	close(f.cancel)
	<-f.done
}

// snapshotCollector receives a GLIMPSE snapshot over SoupBinTCP. Its
// methods run on the SoupBinTCP session's event loop; fetchSnapshot reads
// the result only after done is signalled.
type snapshotCollector struct {
	loader *feed.SnapshotLoader
	msgs   snapshotMsgs
	done   chan error
	sent   bool
}

func (c *snapshotCollector) finish(err error) {
	if !c.sent {
		c.sent = true
		c.done <- err
	}
}

func (c *snapshotCollector) Message(seq uint64, msg []byte) {
	if c.sent {
		return
	}
	end, err := c.loader.Message(msg)
	if err != nil {
		c.finish(err)
	} else if end {
		c.finish(nil)
	}
}

func (c *snapshotCollector) LoggedIn(string, uint64) {}

func (c *snapshotCollector) EndOfSession() {
	c.finish(errors.New("the server ended the session before the end of the snapshot"))
}

func (c *snapshotCollector) Rejected(reason byte) {
	c.finish(fmt.Errorf("login rejected: %s", soupbintcp.RejectReason(reason)))
}

// snapshotMsgs holds a snapshot's messages back to back in chunks of
// snapshotChunk bytes, each message after its 2-byte length: a few bytes over
// the messages' own (which feed.snapshot.max_bytes bounds). One allocation per
// message would cost several times that, and one growing buffer up to three
// times at the moment it doubles.
type snapshotMsgs struct {
	chunks [][]byte
	n      int // messages
}

const snapshotChunk = 1 << 20

func (s *snapshotMsgs) add(msg []byte) {
	k := len(s.chunks) - 1
	if k < 0 || len(s.chunks[k])+2+len(msg) > cap(s.chunks[k]) {
		s.chunks = append(s.chunks, make([]byte, 0, max(snapshotChunk, 2+len(msg))))
		k++
	}
	s.chunks[k] = append(be.BigEndian.AppendUint16(s.chunks[k], uint16(len(msg))), msg...)
	s.n++
}

// all yields the messages in order; each aliases a chunk.
func (s *snapshotMsgs) all() iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for _, b := range s.chunks {
			for len(b) >= 2 {
				n := 2 + int(be.BigEndian.Uint16(b))
				if !yield(b[2:n]) {
					return
				}
				b = b[n:]
			}
		}
	}
}

// fetchSnapshot logs in to the GLIMPSE server (requested sequence 1, as
// GLIMPSE wants) and returns the snapshot's ITCH messages and the feed
// sequence number its end-of-snapshot message gives: the next to apply.
// Closing cancel abandons it.
func fetchSnapshot(sc Snapshot, cancel <-chan struct{}) (snapshotMsgs, uint64, error) {
	c := &snapshotCollector{done: make(chan error, 1)}
	c.loader = feed.NewSnapshotLoader(c.msgs.add,
		feed.WithSnapshotMaxBytes(uint64(sc.MaxBytes)), feed.WithSnapshotMaxOrders(uint64(sc.MaxOrders)))
	sess, err := soup.Dial(soup.Config{Addr: sc.ServerAddr.String(), Username: sc.Username, Password: sc.Password, Seq: 1}, c)
	if err != nil {
		return snapshotMsgs{}, 0, fmt.Errorf("snapshot server %s: %w", sc.ServerAddr, err)
	}
	defer sess.Close()
	timer := time.NewTimer(sc.Timeout)
	defer timer.Stop()
	select {
	case err := <-c.done:
		if err != nil {
			return snapshotMsgs{}, 0, fmt.Errorf("snapshot server %s: %w", sc.ServerAddr, err)
		}
		return c.msgs, c.loader.Next(), nil
	case <-sess.Done():
		return snapshotMsgs{}, 0, fmt.Errorf("snapshot server %s: session ended before the end of the snapshot: %v", sc.ServerAddr, sess.Err())
	case <-timer.C:
		return snapshotMsgs{}, 0, fmt.Errorf("snapshot server %s: no complete snapshot within %v", sc.ServerAddr, sc.Timeout)
	case <-cancel:
		return snapshotMsgs{}, 0, fmt.Errorf("snapshot server %s: %w", sc.ServerAddr, errFetchCancelled)
	}
}
