//go:build linux

package mcast

import (
	"bytes"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestLoopback sends 10,000 datagrams of varying length to a group on lo
// and receives every one, in order, with a plausible kernel timestamp and
// the sender's address.
func TestLoopback(t *testing.T) {
	const total, burst = 10000, 100
	gs, port := randomGroups(t, 1)
	group := netip.AddrPortFrom(gs[0], port)
	s := listen(t, Config{Group: group, RecvBuffer: 1 << 20})
	tx := sender(t)
	b := NewBatch(64, 1500)

	bufs := make([][]byte, burst)
	for i := range bufs {
		bufs[i] = make([]byte, 1400)
	}
	start := time.Now()
	var seq, want uint64
	var last int64
	var back, maxBack int64
	var from netip.AddrPort
	for seq < total {
		for i := range bufs {
			bufs[i] = payload(bufs[i][:cap(bufs[i])], seq, 8+int(seq%1393))
			seq++
		}
		n, err := tx.SendBatch(group, bufs)
		if err != nil || n != burst {
			t.Fatalf("SendBatch = %d, %v; want %d", n, err, burst)
		}
		drain(t, s, b, burst, func(b *Batch, i int) {
			if b.Truncated(i) {
				t.Fatalf("datagram %d truncated", want)
			}
			if msg := checkPayload(b.Payload(i), want); msg != "" {
				t.Fatalf("datagram %d: %s", want, msg)
			}
			if l := len(b.Payload(i)); l != 8+int(want%1393) {
				t.Fatalf("datagram %d: %d bytes, want %d", want, l, 8+want%1393)
			}
			ts := b.KernelTime(i)
			if ts == 0 {
				t.Fatalf("datagram %d: no kernel timestamp", want)
			}
			if ts < start.Add(-time.Second).UnixNano() || ts > time.Now().Add(time.Second).UnixNano() {
				t.Fatalf("datagram %d: kernel time %v outside the test's run (%v..now)", want, time.Unix(0, ts), start)
			}
			if ts < last {
				back++
				maxBack = max(maxBack, last-ts)
			}
			last = ts
			if want == 0 {
				from = b.Source(i)
			} else if b.Source(i) != from {
				t.Fatalf("datagram %d from %v, earlier ones from %v", want, b.Source(i), from)
			}
			want++
		})
	}
	if want != total {
		t.Fatalf("received %d of %d datagrams (drops %d)", want, total, s.Drops())
	}
	local, err := tx.LocalAddr()
	if err != nil {
		t.Fatal(err)
	}
	if from.Port() != local.Port() || !from.Addr().IsLoopback() {
		t.Errorf("Source = %v, sender bound to %v", from, local)
	}
	// Timestamps come from the system clock, which may step back (NTP);
	// on one loopback flow they should not go back by more than a few ms.
	if maxBack > int64(10*time.Millisecond) {
		t.Errorf("kernel timestamps went back %d times, by up to %v", back, time.Duration(maxBack))
	}
	t.Logf("10000 datagrams, timestamps went back %d times (max %v), drops %d", back, time.Duration(maxBack), s.Drops())
	if s.Drops() != 0 {
		t.Errorf("Drops = %d with a reader keeping up", s.Drops())
	}
}

// TestGroupIsolation binds three sockets to one port, each to its own
// group: each receives only its group, though all three groups are joined
// on the host. A control socket bound to 0.0.0.0 with the kernel's default
// IP_MULTICAST_ALL = 1 and no join of its own shows that the kernel would
// otherwise deliver all three (PROTOCOLS.md §9 item 15).
func TestGroupIsolation(t *testing.T) {
	gs, port := randomGroups(t, 3)
	socks := make([]*Socket, len(gs))
	for i, g := range gs {
		socks[i] = listen(t, Config{Group: netip.AddrPortFrom(g, port)})
	}

	ctl, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(ctl)
	for _, o := range []int{unix.SO_REUSEADDR, unix.SO_REUSEPORT} {
		if err := unix.SetsockoptInt(ctl, unix.SOL_SOCKET, o, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Bind(ctl, &unix.SockaddrInet4{Port: int(port)}); err != nil {
		t.Fatal(err)
	}

	tx := sender(t)
	const each = 20
	for round := range each {
		for gi, g := range gs {
			msg := []byte("group " + strconv.Itoa(gi) + " #" + strconv.Itoa(round))
			if err := tx.Send(netip.AddrPortFrom(g, port), msg); err != nil {
				t.Fatal(err)
			}
		}
	}

	// A terminator sent last to each group: once a socket has it, every
	// datagram the kernel meant for that socket is queued before it.
	for gi, g := range gs {
		if err := tx.Send(netip.AddrPortFrom(g, port), []byte("end "+strconv.Itoa(gi))); err != nil {
			t.Fatal(err)
		}
	}

	b := NewBatch(16, 256)
	for gi, s := range socks {
		want := "group " + strconv.Itoa(gi) + " #"
		end := "end " + strconv.Itoa(gi)
		var last string
		got := drain(t, s, b, each+1, func(b *Batch, i int) {
			last = string(b.Payload(i))
			if !strings.HasPrefix(last, want) && last != end {
				t.Errorf("socket of %v received %q", s.Group(), last)
			}
		})
		if got != each+1 || last != end {
			t.Errorf("socket of %v received %d datagrams ending with %q, want %d ending with %q", s.Group(), got, last, each+1, end)
		}
	}

	// The control socket shows what binding to 0.0.0.0 with the default
	// IP_MULTICAST_ALL = 1 would have done: every group joined by any
	// socket on the host is delivered to it.
	seen := map[string]int{}
	buf := make([]byte, 256)
	for {
		n, _, err := unix.Recvfrom(ctl, buf, 0)
		if err != nil {
			break
		}
		seen[string(buf[:min(n, len("group 0"))])]++
	}
	t.Logf("control socket on 0.0.0.0:%d with IP_MULTICAST_ALL=1 received %v", port, seen)
	for gi := range gs {
		if k := "group " + strconv.Itoa(gi); seen[k] != each {
			t.Errorf("control socket received %d datagrams of %s, want %d: the kernel did not show the IP_MULTICAST_ALL leak this test guards against", seen[k], k, each)
		}
	}
}

// TestSourceSpecific joins with a source filter and sends from two loopback
// addresses: only the chosen source's datagrams arrive.
func TestSourceSpecific(t *testing.T) {
	gs, port := randomGroups(t, 1)
	group := netip.AddrPortFrom(gs[0], port)
	want := netip.MustParseAddr("127.0.0.2")
	s, err := Listen(Config{Group: group, Source: want, Interface: testIface})
	if err != nil {
		if isErr(err, unix.EPERM, unix.ENODEV, unix.EINVAL, unix.ENOPROTOOPT, unix.EADDRNOTAVAIL) {
			t.Skipf("kernel refuses a source-specific join on lo: %v", err)
		}
		t.Fatal(err)
	}
	defer s.Close()
	// An any-source listener on the same group proves that the other
	// sender's datagrams did reach the host.
	all := listen(t, Config{Group: group, Interface: testIface})

	other, err := NewSenderFrom(testIface, netip.MustParseAddrPort("127.0.0.1:0"), 1, true)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	chosen, err := NewSenderFrom(testIface, netip.AddrPortFrom(want, 0), 1, true)
	if err != nil {
		t.Skipf("cannot bind a sender to %v: %v", want, err)
	}
	defer chosen.Close()

	for i := range 10 {
		if err := other.Send(group, []byte("other "+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
		if err := chosen.Send(group, []byte("chosen "+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := chosen.Send(group, []byte("chosen end")); err != nil {
		t.Fatal(err)
	}
	b := NewBatch(8, 64)
	others := 0
	drain(t, all, b, 21, func(b *Batch, i int) {
		if strings.HasPrefix(string(b.Payload(i)), "other ") {
			others++
		}
	})
	if others == 0 {
		t.Fatal("the any-source listener got nothing from the other sender: the test proves nothing")
	}
	var last string
	got := drain(t, s, b, 11, func(b *Batch, i int) {
		if last = string(b.Payload(i)); !strings.HasPrefix(last, "chosen ") {
			t.Errorf("received %q from %v", last, b.Source(i))
		}
		if src := b.Source(i).Addr(); src != want {
			t.Errorf("Source = %v, want %v", src, want)
		}
	})
	if got != 11 || last != "chosen end" {
		t.Errorf("received %d datagrams from %v ending with %q, want 11 ending with the terminator", got, want, last)
	}
}

// TestTruncated receives datagrams longer than the batch's slots.
func TestTruncated(t *testing.T) {
	gs, port := randomGroups(t, 1)
	group := netip.AddrPortFrom(gs[0], port)
	s := listen(t, Config{Group: group})
	tx := sender(t)
	long := payload(make([]byte, 300), 7, 300)
	short := payload(make([]byte, 50), 8, 50)
	exact := payload(make([]byte, 100), 9, 100)
	for _, p := range [][]byte{long, short, exact} {
		if err := tx.Send(group, p); err != nil {
			t.Fatal(err)
		}
	}
	b := NewBatch(4, 100)
	var got [][]byte
	var trunc []bool
	var wire []int
	drain(t, s, b, 3, func(b *Batch, i int) {
		got = append(got, bytes.Clone(b.Payload(i)))
		trunc = append(trunc, b.Truncated(i))
		wire = append(wire, b.WireLen(i))
	})
	want := []struct {
		p     []byte
		trunc bool
	}{{long[:100], true}, {short, false}, {exact, false}}
	if len(got) != len(want) {
		t.Fatalf("received %d datagrams, want %d", len(got), len(want))
	}
	for i, w := range want {
		if !bytes.Equal(got[i], w.p) || trunc[i] != w.trunc {
			t.Errorf("datagram %d: %d bytes truncated=%v, want %d bytes truncated=%v", i, len(got[i]), trunc[i], len(w.p), w.trunc)
		}
		if sent := []int{300, 50, 100}[i]; wire[i] != sent {
			t.Errorf("datagram %d: WireLen %d, sent %d bytes", i, wire[i], sent)
		}
	}
	// The flags are reset between calls: a later datagram reusing the
	// truncated one's slot is not reported truncated.
	if err := tx.Send(group, exact); err != nil {
		t.Fatal(err)
	}
	drain(t, s, b, 1, func(b *Batch, i int) {
		if b.Truncated(i) || !bytes.Equal(b.Payload(i), exact) {
			t.Errorf("reused slot: %d bytes truncated=%v, want 100 bytes not truncated", len(b.Payload(i)), b.Truncated(i))
		}
	})
}

// TestPoller checks that epoll mode times out without data and wakes on
// data for any of its sockets, and that busy mode never blocks.
func TestPoller(t *testing.T) {
	gs, port := randomGroups(t, 2)
	a := listen(t, Config{Group: netip.AddrPortFrom(gs[0], port)})
	bsock := listen(t, Config{Group: netip.AddrPortFrom(gs[1], port)})
	p, err := NewPoller(false, a, bsock)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	t0 := time.Now()
	if err := p.Wait(30 * time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Wait without data = %v, want ErrTimeout", err)
	}
	if d := time.Since(t0); d < 25*time.Millisecond {
		t.Errorf("Wait returned after %v, before its timeout", d)
	}
	if err := p.Wait(0); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Wait(0) without data = %v, want ErrTimeout", err)
	}

	tx := sender(t)
	done := make(chan error, 1)
	go func() { done <- p.Wait(-1) }()
	time.Sleep(20 * time.Millisecond)
	if err := tx.Send(bsock.Group(), []byte("wake")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Wait with data = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not wake on data")
	}
	batch := NewBatch(4, 64)
	if n, err := bsock.Recv(batch); n != 1 || err != nil || string(batch.Payload(0)) != "wake" {
		t.Fatalf("Recv after wake = %d, %v", n, err)
	}
	if n, err := a.Recv(batch); n != 0 || err != nil {
		t.Fatalf("Recv on the other line = %d, %v; want 0, nil", n, err)
	}
	if err := p.Wait(10 * time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Wait after draining = %v, want ErrTimeout", err)
	}

	busy, err := NewPoller(true, a, bsock)
	if err != nil {
		t.Fatal(err)
	}
	if err := busy.Wait(time.Hour); err != nil {
		t.Fatalf("busy Wait = %v", err)
	}
	busy.Close()
	if err := busy.Wait(0); !errors.Is(err, ErrClosed) {
		t.Errorf("Wait after Close = %v, want ErrClosed", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(0); !errors.Is(err, ErrClosed) {
		t.Errorf("Wait after Close = %v, want ErrClosed", err)
	}
}

// TestNoAllocs proves Recv, SendBatch, the batch accessors and Poller.Wait
// allocate nothing in steady state.
func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's instrumentation allocates")
	}
	gs, port := randomGroups(t, 1)
	group := netip.AddrPortFrom(gs[0], port)
	s := listen(t, Config{Group: group, RecvBuffer: 1 << 20})
	tx := sender(t)
	payloads := make([][]byte, 64)
	for i := range payloads {
		payloads[i] = payload(make([]byte, 300), uint64(i), 300)
	}
	b := NewBatch(64, 1500)
	p, err := NewPoller(false, s)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	var sink int64
	tests := []struct {
		name string
		fn   func()
	}{
		{"SendBatch", func() {
			if n, err := tx.SendBatch(group, payloads); n != len(payloads) || err != nil {
				t.Fatalf("SendBatch = %d, %v", n, err)
			}
			for n, _ := s.Recv(b); n > 0; n, _ = s.Recv(b) {
			}
		}},
		{"Recv", func() {
			tx.SendBatch(group, payloads)
			if err := p.Wait(time.Second); err != nil {
				t.Fatalf("Wait = %v", err)
			}
			for {
				n, err := s.Recv(b)
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					break
				}
				for i := range n {
					sink += int64(len(b.Payload(i))) + b.KernelTime(i) + int64(b.Source(i).Port()) + int64(b.WireLen(i))
					if b.Truncated(i) {
						sink++
					}
				}
			}
			sink += int64(s.Drops())
		}},
		{"RecvEmpty", func() {
			if n, err := s.Recv(b); n != 0 || err != nil {
				t.Fatalf("Recv = %d, %v", n, err)
			}
		}},
		{"WaitTimeout", func() {
			if err := p.Wait(0); !errors.Is(err, ErrTimeout) {
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

// TestListenErrors checks argument validation and error wrapping.
func TestListenErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want error
	}{
		{"zero", Config{}, ErrNotMulticast},
		{"unicast", Config{Group: netip.MustParseAddrPort("10.0.0.1:1234")}, ErrNotMulticast},
		{"ipv6 unicast", Config{Group: netip.MustParseAddrPort("[fd00::1]:1234")}, ErrNotMulticast},
		{"multicast source", Config{Group: netip.MustParseAddrPort("239.1.2.3:1234"), Source: netip.MustParseAddr("239.1.2.4")}, ErrBadSource},
		{"ipv6 source", Config{Group: netip.MustParseAddrPort("239.1.2.3:1234"), Source: netip.MustParseAddr("fd00::1")}, ErrBadSource},
		{"ipv4 source", Config{Group: netip.MustParseAddrPort("[ff15::1]:1234"), Source: netip.MustParseAddr("10.0.0.1")}, ErrBadSource},
		{"unspecified source", Config{Group: netip.MustParseAddrPort("239.1.2.3:1234"), Source: netip.MustParseAddr("0.0.0.0")}, ErrBadSource},
		{"no interface", Config{Group: netip.MustParseAddrPort("239.1.2.3:1234"), Interface: "nosuch0"}, ErrNoInterface},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Listen(tt.cfg)
			if err == nil {
				s.Close()
				t.Fatal("Listen succeeded")
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Listen = %v, want %v", err, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) || !strings.HasPrefix(err.Error(), "mcast: ") {
				t.Fatalf("Listen error %v is not an *Error", err)
			}
		})
	}
	if _, err := NewSender("nosuch0", 1, true); !errors.Is(err, ErrNoInterface) {
		t.Errorf("NewSender(nosuch0) = %v", err)
	}
}

// TestErrorMessages pins the wording of wrapped errors.
func TestErrorMessages(t *testing.T) {
	g := netip.MustParseAddrPort("233.54.12.111:26477")
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Op: "join", Group: g, Interface: "lo", Err: unix.EPERM}, "mcast: join 233.54.12.111 on lo: operation not permitted"},
		{&Error{Op: "join", Group: g, Source: netip.MustParseAddr("10.1.2.3"), Interface: "ens1", Err: unix.EINVAL}, "mcast: join 233.54.12.111 from 10.1.2.3 on ens1: invalid argument"},
		{&Error{Op: "join", Group: g, Err: unix.ENODEV}, "mcast: join 233.54.12.111 on default interface: no such device"},
		{&Error{Op: "bind", Group: g, Interface: "lo", Err: unix.EADDRINUSE}, "mcast: bind 233.54.12.111:26477 on lo: address already in use"},
		{&Error{Op: "epoll_wait", Err: unix.EBADF}, "mcast: epoll_wait: bad file descriptor"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
		if !errors.Is(tt.err, tt.err.Err) {
			t.Errorf("%v does not unwrap to %v", tt.err, tt.err.Err)
		}
	}
}

// TestClosed checks operations on closed sockets.
func TestClosed(t *testing.T) {
	gs, port := randomGroups(t, 1)
	s, err := Listen(Config{Group: netip.AddrPortFrom(gs[0], port), Interface: testIface})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v", err)
	}
	if _, err := s.Recv(NewBatch(1, 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Recv after Close = %v", err)
	}
	if _, err := NewPoller(false, s); !errors.Is(err, ErrClosed) {
		t.Errorf("NewPoller with a closed socket = %v", err)
	}
	tx, err := NewSender(testIface, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	tx.Close()
	if err := tx.Send(s.Group(), []byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close = %v", err)
	}
	if _, err := tx.SendBatch(s.Group(), [][]byte{{1}}); !errors.Is(err, ErrClosed) {
		t.Errorf("SendBatch after Close = %v", err)
	}
}

// TestNewBatchPanics checks NewBatch's argument bounds.
func TestNewBatchPanics(t *testing.T) {
	for _, tt := range []struct{ n, size int }{{0, 1500}, {-1, 1500}, {1025, 1500}, {64, 0}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewBatch(%d, %d) did not panic", tt.n, tt.size)
				}
			}()
			NewBatch(tt.n, tt.size)
		}()
	}
	b := NewBatch(maxBatch, 1)
	if b.Cap() != maxBatch || b.Size() != 1 || b.Len() != 0 {
		t.Errorf("NewBatch(%d, 1): Cap %d Size %d Len %d", maxBatch, b.Cap(), b.Size(), b.Len())
	}
	defer func() {
		if recover() == nil {
			t.Error("Payload(0) on an empty batch did not panic")
		}
	}()
	b.Payload(0)
}

// TestUnicastRoundTrip: a unicast socket sends with SendTo and receives
// through Recv and the Poller, with kernel timestamps, allocating nothing.
func TestUnicastRoundTrip(t *testing.T) {
	a, err := ListenUnicast(netip.MustParseAddrPort("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := ListenUnicast(netip.MustParseAddrPort("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if a.Group().Port() == 0 {
		t.Fatal("ephemeral port not reported")
	}
	p, err := NewPoller(false, b)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	batch := NewBatch(8, 64)
	for i := 0; i < 3; i++ {
		if err := a.SendTo(b.Group(), []byte{byte(i), 'x'}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Wait(time.Second); err != nil {
		t.Fatal(err)
	}
	got := 0
	for deadline := time.Now().Add(time.Second); got < 3 && time.Now().Before(deadline); {
		n, err := b.Recv(batch)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			if pl := batch.Payload(i); len(pl) != 2 || pl[0] != byte(got) || batch.KernelTime(i) == 0 || batch.Source(i) != a.Group() {
				t.Fatalf("datagram %d: %x from %v at %d", got, pl, batch.Source(i), batch.KernelTime(i))
			}
			got++
		}
	}
	if got != 3 {
		t.Fatalf("received %d of 3", got)
	}
	if !raceEnabled {
		if n := testing.AllocsPerRun(100, func() { a.SendTo(b.Group(), []byte("y")); b.Recv(batch) }); n != 0 {
			t.Errorf("%v allocations per SendTo+Recv", n)
		}
	}
	if _, err := ListenUnicast(netip.MustParseAddrPort("[::1]:0")); err == nil {
		t.Error("IPv6 unicast accepted")
	}
}
