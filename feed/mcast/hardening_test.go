//go:build linux

package mcast

import (
	"bytes"
	"errors"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// kind is one of the two kinds of Socket: a multicast line, or the
// unicast recovery socket. Each test below runs on both.
type kind struct {
	name string
	// open returns a receiving socket with the given receive buffer (0:
	// the kernel default) and a function sending one datagram to it from
	// the address from reports.
	open func(t *testing.T, recvBuffer int) (rx *Socket, send func([]byte) error, from func() netip.AddrPort)
}

var kinds = []kind{
	{"multicast", func(t *testing.T, recvBuffer int) (*Socket, func([]byte) error, func() netip.AddrPort) {
		gs, port := randomGroups(t, 1)
		group := netip.AddrPortFrom(gs[0], port)
		rx := listen(t, Config{Group: group, RecvBuffer: recvBuffer})
		// Bound to 127.0.0.1, so that its address is known exactly.
		tx, err := NewSenderFrom(testIface, netip.MustParseAddrPort("127.0.0.1:0"), 1, true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tx.Close() })
		from := func() netip.AddrPort {
			local, err := tx.LocalAddr()
			if err != nil {
				t.Fatal(err)
			}
			return local
		}
		return rx, func(p []byte) error { return tx.Send(group, p) }, from
	}},
	{"unicast", func(t *testing.T, recvBuffer int) (*Socket, func([]byte) error, func() netip.AddrPort) {
		rx := listenUnicast(t, WithRecvBuffer(recvBuffer))
		tx := listenUnicast(t)
		return rx, func(p []byte) error { return tx.SendTo(rx.Group(), p) }, tx.Group
	}},
}

// listenUnicast opens a unicast socket on 127.0.0.1, closed at cleanup.
func listenUnicast(t testing.TB, opts ...Option) *Socket {
	t.Helper()
	s, err := ListenUnicast(netip.MustParseAddrPort("127.0.0.1:0"), opts...)
	if err != nil {
		t.Fatalf("ListenUnicast: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestJumboTruncation sends a 2,994-byte MoldUDP64-sized datagram, the one
// the outside tester saw cut by 2,048-byte slots, and a datagram of
// exactly the slot size: with 2,048-byte slots the long one is flagged
// truncated (MSG_TRUNC) with its real length, the other is not; with
// DefaultDatagramSize slots neither is.
func TestJumboTruncation(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			rx, send, _ := k.open(t, 1<<20)
			long := payload(make([]byte, 2994), 1, 2994)
			exact := payload(make([]byte, 2048), 2, 2048)
			for _, tt := range []struct {
				slot        int
				longTrunc   bool
				longPayload []byte
			}{
				{2048, true, long[:2048]},
				{DefaultDatagramSize, false, long},
			} {
				for _, p := range [][]byte{long, exact} {
					if err := send(p); err != nil {
						t.Fatal(err)
					}
				}
				b := NewBatch(4, tt.slot)
				var got []struct {
					p     []byte
					trunc bool
					wire  int
				}
				drain(t, rx, b, 2, func(b *Batch, i int) {
					got = append(got, struct {
						p     []byte
						trunc bool
						wire  int
					}{bytes.Clone(b.Payload(i)), b.Truncated(i), b.WireLen(i)})
				})
				if len(got) != 2 {
					t.Fatalf("slot %d: received %d datagrams, want 2", tt.slot, len(got))
				}
				if g := got[0]; g.trunc != tt.longTrunc || g.wire != len(long) || !bytes.Equal(g.p, tt.longPayload) {
					t.Errorf("slot %d, 2994-byte datagram: %d bytes, truncated %v, WireLen %d; want %d bytes, truncated %v, WireLen 2994",
						tt.slot, len(g.p), g.trunc, g.wire, len(tt.longPayload), tt.longTrunc)
				}
				if g := got[1]; g.trunc || g.wire != len(exact) || !bytes.Equal(g.p, exact) {
					t.Errorf("slot %d, 2048-byte datagram: %d bytes, truncated %v, WireLen %d; want it whole", tt.slot, len(g.p), g.trunc, g.wire)
				}
			}
		})
	}
}

// TestDropsAndSource overflows a small receive buffer on each kind of
// socket and expects the SO_RXQ_OVFL counter to report the loss; every
// datagram received carries a kernel timestamp and the sender's address.
func TestDropsAndSource(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			rx, send, from := k.open(t, 4096)
			const burst = 2000
			p := make([]byte, 200)
			sent := 0
			for range burst {
				if err := send(p); err != nil {
					if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.ENOBUFS) {
						continue // a unicast SendTo does not block
					}
					t.Fatal(err)
				}
				sent++
			}
			b := NewBatch(64, 256)
			want := from()
			check := func(b *Batch, i int) {
				if b.Source(i) != want {
					t.Fatalf("datagram from %v, sent from %v", b.Source(i), want)
				}
				if b.KernelTime(i) == 0 {
					t.Fatal("no kernel timestamp")
				}
			}
			got := drain(t, rx, b, sent, check)
			// The kernel attaches the counter to datagrams queued after
			// a drop: one more brings it.
			if err := send(p); err != nil {
				t.Fatal(err)
			}
			sent++
			got += drain(t, rx, b, 1, check)
			t.Logf("sent %d, received %d, Drops %d (granted buffer %d)", sent, got, rx.Drops(), rx.RecvBufferGranted())
			if rx.Drops() == 0 {
				t.Fatalf("received %d of %d datagrams through a %d-byte buffer, but Drops = 0", got, sent, rx.RecvBufferGranted())
			}
			if uint64(got)+rx.Drops() != uint64(sent) {
				t.Errorf("received %d + dropped %d != sent %d", got, rx.Drops(), sent)
			}
		})
	}
}

// TestRecvBufferForce asks for twice net.core.rmem_max on each kind of
// socket, with CAP_NET_ADMIN if the test has it (SO_RCVBUFFORCE: granted
// whole, no warning) and without it (SO_RCVBUF: capped, one warning).
func TestRecvBufferForce(t *testing.T) {
	limit := rmemMax(t)
	open := map[string]func() (*Socket, error){
		"multicast": func() (*Socket, error) {
			gs, port := randomGroups(t, 1)
			return Listen(Config{Group: netip.AddrPortFrom(gs[0], port), Interface: testIface, RecvBuffer: 2 * limit})
		},
		"unicast": func() (*Socket, error) {
			return ListenUnicast(netip.MustParseAddrPort("127.0.0.1:0"), WithRecvBuffer(2*limit))
		},
	}
	for _, name := range []string{"multicast", "unicast"} {
		t.Run(name, func(t *testing.T) {
			for _, admin := range []bool{true, false} {
				var s *Socket
				var err error
				if admin {
					if !hasNetAdmin(t) {
						continue
					}
					s, err = open[name]()
				} else {
					withoutNetAdmin(t, func() { s, err = open[name]() })
				}
				if err != nil {
					t.Fatal(err)
				}
				w := s.Warnings()
				t.Logf("CAP_NET_ADMIN %v: granted %d, forced %v, warnings %q", admin, s.RecvBufferGranted(), s.RecvBufferForced(), w)
				if admin {
					if !s.RecvBufferForced() || s.RecvBufferGranted() != 2*limit || len(w) != 0 {
						t.Errorf("with CAP_NET_ADMIN: forced %v, granted %d, warnings %q; want forced, %d, none", s.RecvBufferForced(), s.RecvBufferGranted(), w, 2*limit)
					}
				} else {
					if s.RecvBufferForced() || s.RecvBufferGranted() != limit || len(w) != 1 ||
						!strings.Contains(w[0], "net.core.rmem_max="+strconv.Itoa(2*limit)) || !strings.Contains(w[0], "CAP_NET_ADMIN") {
						t.Errorf("without CAP_NET_ADMIN: forced %v, granted %d, warnings %q; want not forced, %d, one naming rmem_max and CAP_NET_ADMIN", s.RecvBufferForced(), s.RecvBufferGranted(), w, limit)
					}
				}
				s.Close()
			}
		})
	}
	// A request within rmem_max is granted without the capability and
	// without a warning.
	gs, port := randomGroups(t, 1)
	var s *Socket
	var err error
	withoutNetAdmin(t, func() {
		s, err = Listen(Config{Group: netip.AddrPortFrom(gs[0], port), Interface: testIface, RecvBuffer: min(limit, 64<<10)})
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if w := s.Warnings(); len(w) != 0 || s.RecvBufferGranted() < min(limit, 64<<10) {
		t.Errorf("%d bytes within rmem_max: granted %d, warnings %q", min(limit, 64<<10), s.RecvBufferGranted(), w)
	}
}

// hasNetAdmin reports whether the test process has CAP_NET_ADMIN in its
// effective set.
func hasNetAdmin(t *testing.T) bool {
	t.Helper()
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		t.Fatalf("capget: %v", err)
	}
	return data[0].Effective&(1<<unix.CAP_NET_ADMIN) != 0
}

// withoutNetAdmin runs fn on an OS thread of its own with CAP_NET_ADMIN
// removed from the thread's effective set (capabilities are per thread
// on Linux). The thread is never unlocked, so the runtime ends it with
// the goroutine instead of reusing it.
func withoutNetAdmin(t *testing.T, fn func()) {
	t.Helper()
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			done <- err
			return
		}
		data[0].Effective &^= 1 << unix.CAP_NET_ADMIN
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			done <- err
			return
		}
		fn()
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatalf("dropping CAP_NET_ADMIN: %v", err)
	}
}

// TestPollerSpin checks an epoll Poller with a spin time: it returns at
// once for queued data, wakes for data sent while it spins or sleeps, and
// still times out, the spin being bounded by the timeout.
func TestPollerSpin(t *testing.T) {
	rx := listenUnicast(t)
	tx := listenUnicast(t)
	p, err := NewPoller(false, rx)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.SetSpin(-time.Second)
	if p.Spin() != 0 {
		t.Errorf("SetSpin(-1s): Spin = %v, want 0", p.Spin())
	}
	p.SetSpin(time.Hour)
	if err := p.Wait(5 * time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Wait(5ms) with an hour's spin and no data = %v, want ErrTimeout", err)
	}
	if err := p.Wait(0); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Wait(0) = %v, want ErrTimeout", err)
	}
	if err := tx.SendTo(rx.Group(), []byte("queued")); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(time.Second); err != nil {
		t.Fatalf("Wait with a datagram queued = %v", err)
	}
	b := NewBatch(4, 64)
	drain(t, rx, b, 1, func(*Batch, int) {})

	for _, spin := range []time.Duration{time.Hour, time.Microsecond} {
		p.SetSpin(spin)
		done := make(chan error, 1)
		go func() { done <- p.Wait(-1) }()
		time.Sleep(10 * time.Millisecond)
		if err := tx.SendTo(rx.Group(), []byte("wake")); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("spin %v: Wait = %v", spin, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("spin %v: Wait did not wake on data", spin)
		}
		drain(t, rx, b, 1, func(*Batch, int) {})
	}
	p.Close()
	if err := p.Wait(time.Millisecond); !errors.Is(err, ErrClosed) {
		t.Errorf("Wait after Close = %v, want ErrClosed", err)
	}
}

// TestNoAllocsUnicast proves the recovery socket's receive path (Recv and
// every accessor, Drops) and a spinning Poller allocate nothing.
func TestNoAllocsUnicast(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's instrumentation allocates")
	}
	rx := listenUnicast(t, WithRecvBuffer(1<<20))
	tx := listenUnicast(t)
	p, err := NewPoller(false, rx)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.SetSpin(50 * time.Microsecond)
	b := NewBatch(8, DefaultDatagramSize)
	pkt := payload(make([]byte, 300), 1, 300)
	var sink int64
	tests := []struct {
		name string
		fn   func()
	}{
		{"SendToRecv", func() {
			if err := tx.SendTo(rx.Group(), pkt); err != nil {
				t.Fatal(err)
			}
			if err := p.Wait(time.Second); err != nil {
				t.Fatalf("Wait = %v", err)
			}
			n, err := rx.Recv(b)
			if err != nil || n != 1 {
				t.Fatalf("Recv = %d, %v", n, err)
			}
			for i := range n {
				sink += int64(len(b.Payload(i))) + b.KernelTime(i) + int64(b.Source(i).Port()) + int64(b.WireLen(i))
				if b.Source(i).Addr().IsLoopback() && !b.Truncated(i) {
					sink++
				}
			}
			sink += int64(rx.Drops())
		}},
		{"WaitSpinTimeout", func() {
			if err := p.Wait(100 * time.Microsecond); !errors.Is(err, ErrTimeout) {
				t.Fatalf("Wait = %v", err)
			}
		}},
	}
	for _, tt := range tests {
		tt.fn() // warm up
		if a := testing.AllocsPerRun(50, tt.fn); a != 0 {
			t.Errorf("%s: %v allocations per run, want 0", tt.name, a)
		}
	}
	_ = sink
}
