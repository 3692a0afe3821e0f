package soup

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tickwire/tickwire/codec/soupbintcp"
)

// Hostile servers: each test runs a real TCP server on loopback that speaks
// just enough SoupBinTCP to misbehave in one way.

// seqMsg is the test message of sequence seq: 'T' and the number, so a
// message delivered under the wrong number is caught.
func seqMsg(seq uint64) []byte { return fmt.Appendf(nil, "T%d", seq) }

// accepted appends Login Accepted (session, seq) and messages seq .. seq+n-1.
func accepted(dst []byte, session string, seq uint64, n int) []byte {
	dst = soupbintcp.LoginAccepted{Session: soupbintcp.Session(session), Seq: seq}.Append(dst)
	for i := range uint64(n) {
		dst = soupbintcp.AppendSequenced(dst, seqMsg(seq+i))
	}
	return dst
}

// scripted serves connection n with scripts[n] (the last script for later
// connections). A script ending in close drops the connection once written;
// otherwise the connection is held until the client closes it.
type script struct {
	out   []byte
	close bool
}

func scripted(t *testing.T, scripts ...script) *rawServer {
	return newRawServer(t, func(n int, c net.Conn) {
		sc := scripts[min(n, len(scripts)-1)]
		if _, err := c.Write(sc.out); err != nil || sc.close {
			return
		}
		hold(c)
	})
}

// checkSeqs checks r received exactly the messages of seqs, in order, each
// carrying its own number.
func checkSeqs(t *testing.T, r *recorder, seqs ...uint64) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.seqs) != len(seqs) {
		t.Fatalf("delivered %v, want %v", r.seqs, seqs)
	}
	for i, seq := range seqs {
		if r.seqs[i] != seq || !bytes.Equal(r.msgs[i], seqMsg(seq)) {
			t.Fatalf("message %d: seq %d %q; want %d %q (all: %v)", i, r.seqs[i], r.msgs[i], seq, seqMsg(seq), r.seqs)
		}
	}
}

func seqRange(first, last uint64) []uint64 {
	var s []uint64
	for q := first; q <= last; q++ {
		s = append(s, q)
	}
	return s
}

// TestSessionPacketTimeout: a server announcing a 65535-byte packet and then
// dripping it never completes it. The packet deadline drops the connection
// (and, with a long deadline, the silence rule does: dripped bytes are not
// signs of life); the session reconnects and resumes; the partial packet
// held never exceeds one frame and memory does not grow.
func TestSessionPacketTimeout(t *testing.T) {
	for _, tc := range []struct {
		name             string
		packet, silence  time.Duration
		wantErr          error
		counter          func(Stats) uint64
		wantPacketTimers bool
	}{
		{"packet deadline", 150 * time.Millisecond, 10 * time.Second, ErrPacketTimeout,
			func(st Stats) uint64 { return st.PacketTimeouts }, true},
		{"silence rule", time.Minute, 300 * time.Millisecond, ErrSilence,
			func(st Stats) uint64 { return st.Timeouts }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var written atomic.Int64
			rs := newRawServer(t, func(n int, c net.Conn) {
				// Connection n: message n+1, then most of a maximal packet
				// at once, then the rest one byte at a time.
				out := accepted(nil, "DRIP", uint64(n+1), 1)
				out = append(out, 0xFF, 0xFF, 'S')
				out = append(out, make([]byte, 60000)...)
				if _, err := c.Write(out); err != nil {
					return
				}
				written.Add(int64(len(out)))
				for {
					time.Sleep(10 * time.Millisecond)
					if _, err := c.Write([]byte{'x'}); err != nil {
						return
					}
					written.Add(1)
				}
			})
			var r recorder
			s := dial(t, Config{Addr: rs.ln.Addr().String(), Seq: 1, PacketTimeout: tc.packet,
				HeartbeatTimeout: tc.silence, Reconnect: 10 * time.Millisecond}, &r)
			var before runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			var maxPending uint64
			wait(t, "four connections' messages", func() bool {
				maxPending = max(maxPending, s.Stats().Pending)
				return r.count() >= 4
			})
			runtime.GC()
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			st := s.Stats()
			if tc.counter(st) < 3 || st.Reconnects < 3 {
				t.Fatalf("stats %+v: want a timeout per connection and reconnects", st)
			}
			if (st.PacketTimeouts > 0) != tc.wantPacketTimers {
				t.Fatalf("stats %+v: the wrong rule fired", st)
			}
			if maxPending > soupbintcp.MaxPacket || maxPending < 60000 {
				t.Fatalf("pending partial packet peaked at %d bytes: want between 60000 and %d", maxPending, soupbintcp.MaxPacket)
			}
			if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 16<<20 {
				t.Fatalf("heap grew by %d bytes while the server wrote %d", grew, written.Load())
			}
			if !r.faulted(tc.wantErr) || !errors.Is(s.LastFault(), tc.wantErr) {
				t.Fatalf("faults %v, last %v: want %v", r.faults, s.LastFault(), tc.wantErr)
			}
			checkSeqs(t, &r, seqRange(1, uint64(r.count()))...)
			reqs := rs.requests()
			for i, q := range reqs[1:] {
				if q.Seq != uint64(i+2) {
					t.Fatalf("login %d requested %d, want %d", i+1, q.Seq, i+2)
				}
			}
		})
	}
}

// TestSessionLoginNeverAnswered: a server that answers the login with
// Debug and Heartbeat packets only is dropped as silent; the session
// reconnects.
func TestSessionLoginNeverAnswered(t *testing.T) {
	rs := newRawServer(t, func(n int, c net.Conn) {
		if n > 0 {
			if _, err := c.Write(accepted(nil, "LATE", 1, 2)); err == nil {
				hold(c)
			}
			return
		}
		for {
			out := soupbintcp.AppendDebug(nil, "wait")
			out = soupbintcp.AppendEmpty(out, soupbintcp.TypeServerHeartbeat)
			if _, err := c.Write(out); err != nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	var r recorder
	s := dial(t, Config{Addr: rs.ln.Addr().String(), Seq: 1, HeartbeatTimeout: 200 * time.Millisecond, Reconnect: 10 * time.Millisecond}, &r)
	wait(t, "the second connection's messages", func() bool { return r.count() >= 2 })
	if st := s.Stats(); st.Timeouts < 1 || st.Heartbeats == 0 {
		t.Fatalf("stats %+v", st)
	}
	if !r.faulted(ErrSilence) {
		t.Fatalf("faults %v", r.faults)
	}
	checkSeqs(t, &r, 1, 2)
}

// TestSessionResume: each Login Accepted's sequence number is compared with
// the next expected one. Ahead: the Handler is told of the gap. Behind: the
// messages already delivered are dropped. Every case uses a real server that
// resumes where the case says.
func TestSessionResume(t *testing.T) {
	tests := []struct {
		name      string
		seq       uint64 // Config.Seq
		scripts   []script
		want      []uint64 // messages delivered
		gaps      [][2]uint64
		dups      uint64
		logins    []uint64 // LoggedIn's next
		requested []uint64 // Requested Sequence Numbers sent
		fault     error
	}{
		{"same", 1, []script{{accepted(nil, "S1", 1, 3), true}, {accepted(nil, "S1", 4, 3), false}},
			seqRange(1, 6), nil, 0, []uint64{1, 4}, []uint64{1, 4}, nil},
		{"ahead after reconnect", 1, []script{{accepted(nil, "S1", 1, 3), true}, {accepted(nil, "S1", 10, 3), false}},
			[]uint64{1, 2, 3, 10, 11, 12}, [][2]uint64{{4, 6}}, 0, []uint64{1, 10}, []uint64{1, 4}, ErrResumed},
		{"behind after reconnect", 1, []script{{accepted(nil, "S1", 1, 5), true}, {accepted(nil, "S1", 3, 6), false}},
			seqRange(1, 8), nil, 3, []uint64{1, 6}, []uint64{1, 6}, ErrResumed},
		{"behind, then dropped again", 1, []script{{accepted(nil, "S1", 1, 5), true}, {accepted(nil, "S1", 2, 2), true},
			{accepted(nil, "S1", 6, 2), false}},
			seqRange(1, 7), nil, 2, []uint64{1, 6, 6}, []uint64{1, 6, 6}, ErrResumed},
		{"first login ahead of 1", 1, []script{{accepted(nil, "S1", 5, 2), false}},
			[]uint64{5, 6}, [][2]uint64{{1, 4}}, 0, []uint64{5}, []uint64{1}, ErrResumed},
		{"first login behind a resumption", 20, []script{{accepted(nil, "S1", 18, 4), false}},
			[]uint64{20, 21}, nil, 2, []uint64{20}, []uint64{20}, ErrResumed},
		{"request 0 adopts", 0, []script{{accepted(nil, "S1", 100, 2), true}, {accepted(nil, "S1", 102, 1), false}},
			[]uint64{100, 101, 102}, nil, 0, []uint64{100, 102}, []uint64{0, 102}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rs := scripted(t, tc.scripts...)
			var r recorder
			s := dial(t, Config{Addr: rs.ln.Addr().String(), Seq: tc.seq, Reconnect: 10 * time.Millisecond}, &r)
			wait(t, "the messages", func() bool { return r.count() >= len(tc.want) })
			wait(t, "the logins", func() bool { r.mu.Lock(); defer r.mu.Unlock(); return len(r.logins) >= len(tc.logins) })
			time.Sleep(20 * time.Millisecond) // anything extra would show now
			checkSeqs(t, &r, tc.want...)
			st := s.Stats()
			r.mu.Lock()
			defer r.mu.Unlock()
			if fmt.Sprint(r.gaps) != fmt.Sprint(tc.gaps) || fmt.Sprint(r.logins) != fmt.Sprint(tc.logins) {
				t.Fatalf("gaps %v, logins %v; want %v, %v", r.gaps, r.logins, tc.gaps, tc.logins)
			}
			var gapMsgs uint64
			for _, g := range tc.gaps {
				gapMsgs += g[1]
			}
			if st.Duplicates != tc.dups || st.Gaps != uint64(len(tc.gaps)) || st.GapMessages != gapMsgs || st.Garbage != 0 || st.Implausible != 0 {
				t.Fatalf("stats %+v", st)
			}
			if last := tc.want[len(tc.want)-1]; s.Next() != last+1 {
				t.Fatalf("Next %d, want %d", s.Next(), last+1)
			}
			var reqs []uint64
			for _, q := range rs.requests() {
				reqs = append(reqs, q.Seq)
			}
			if fmt.Sprint(reqs[:len(tc.requested)]) != fmt.Sprint(tc.requested) {
				t.Fatalf("requested %v, want %v", reqs, tc.requested)
			}
			if tc.fault != nil && !errors.Is(s.LastFault(), tc.fault) {
				t.Fatalf("last fault %v, want %v", s.LastFault(), tc.fault)
			}
			if tc.fault == nil && len(r.faults) != 0 {
				t.Fatalf("faults %v", r.faults)
			}
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSessionChanged: a Login Accepted naming another session than the
// first login's (or the configured one) stops the session: it cannot be
// resumed, and nothing of the new session is delivered.
func TestSessionChanged(t *testing.T) {
	for _, tc := range []struct {
		name    string
		session string
		scripts []script
		want    []uint64
	}{
		{"after reconnect", "", []script{{accepted(nil, "OLD", 1, 3), true}, {accepted(nil, "NEW", 1, 3), false}}, seqRange(1, 3)},
		{"configured", "OLD", []script{{accepted(nil, "NEW", 1, 3), false}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rs := scripted(t, tc.scripts...)
			var r recorder
			s := dial(t, Config{Addr: rs.ln.Addr().String(), Session: tc.session, Seq: 1, Reconnect: 10 * time.Millisecond}, &r)
			select {
			case <-s.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("the session did not stop")
			}
			err := s.Err()
			if !errors.Is(err, ErrSessionChanged) || !strings.Contains(err.Error(), `"NEW"`) || !strings.Contains(err.Error(), `"OLD"`) {
				t.Fatalf("err %v, want ErrSessionChanged naming both sessions", err)
			}
			time.Sleep(50 * time.Millisecond) // five reconnect delays
			if n := len(rs.requests()); n != len(tc.scripts) {
				t.Fatalf("%d logins, want %d: the session went on", n, len(tc.scripts))
			}
			checkSeqs(t, &r, tc.want...)
		})
	}
}

// TestSessionHostileLogin: Login Accepted with implausible sequence numbers,
// sequenced data before login, a second Login Accepted, a malformed one:
// each is counted and reported, the sequence never moves, and the session
// reconnects and resumes where it was.
func TestSessionHostileLogin(t *testing.T) {
	good := script{accepted(nil, "H", 1, 3), false}
	la := func(seq uint64) []byte {
		return soupbintcp.LoginAccepted{Session: soupbintcp.Session("H"), Seq: seq}.Append(nil)
	}
	badNum := la(1)
	copy(badNum[13:], "-1                  ")
	tests := []struct {
		name  string
		first []byte
		fault error
		count func(Stats) uint64
	}{
		{"max uint64", la(math.MaxUint64), ErrImplausibleSeq, func(st Stats) uint64 { return st.Implausible }},
		{"above 2^63", la(1<<63 + 1), ErrImplausibleSeq, func(st Stats) uint64 { return st.Implausible }},
		{"above MaxSeq", la(DefaultMaxSeq + 1), ErrImplausibleSeq, func(st Stats) uint64 { return st.Implausible }},
		{"beyond MaxGap", la(DefaultMaxGap + 2), ErrImplausibleSeq, func(st Stats) uint64 { return st.Implausible }},
		{"zero", la(0), ErrImplausibleSeq, func(st Stats) uint64 { return st.Implausible }},
		{"malformed number", badNum, ErrMalformedPacket, func(st Stats) uint64 { return st.Garbage }},
		{"short login accepted", soupbintcp.AppendPacket(nil, soupbintcp.TypeLoginAccepted, []byte("H  1")), ErrMalformedPacket,
			func(st Stats) uint64 { return st.Garbage }},
		{"sequenced before login", soupbintcp.AppendSequenced(nil, seqMsg(1)), ErrUnexpectedPacket, func(st Stats) uint64 { return st.Garbage }},
		{"end of session before login", soupbintcp.AppendEmpty(nil, soupbintcp.TypeEndOfSession), ErrUnexpectedPacket,
			func(st Stats) uint64 { return st.Garbage }},
		{"login accepted twice", append(la(1), la(1000)...), ErrUnexpectedPacket, func(st Stats) uint64 { return st.Garbage }},
		{"client packet", soupbintcp.AppendEmpty(nil, soupbintcp.TypeClientHeartbeat), ErrUnexpectedPacket,
			func(st Stats) uint64 { return st.Garbage }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rs := scripted(t, script{tc.first, false}, good)
			var r recorder
			s := dial(t, Config{Addr: rs.ln.Addr().String(), Seq: 1, Reconnect: 10 * time.Millisecond}, &r)
			// The counters are updated after the messages are handed over:
			// wait for them too.
			wait(t, "the second connection's messages", func() bool {
				st := s.Stats()
				return r.count() >= 3 && tc.count(st) >= 1 && st.Reconnects >= 1
			})
			checkSeqs(t, &r, 1, 2, 3)
			st := s.Stats()
			if tc.count(st) != 1 || st.Reconnects < 1 || st.Gaps != 0 || st.Duplicates != 0 {
				t.Fatalf("stats %+v", st)
			}
			if !r.faulted(tc.fault) {
				t.Fatalf("faults %v, want %v", r.faults, tc.fault)
			}
			if reqs := rs.requests(); len(reqs) < 2 || reqs[1].Seq != 1 {
				t.Fatalf("the second login requested %+v, want 1", reqs)
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			if fmt.Sprint(r.logins) != "[1]" && !strings.HasPrefix(tc.name, "login accepted twice") {
				t.Fatalf("logins %v", r.logins)
			}
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
