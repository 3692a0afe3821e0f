//go:build linux

package mcast

import (
	"fmt"
	"net/netip"
	"sync/atomic"

	"github.com/tickwire/tickwire/internal/invariants"
	"golang.org/x/sys/cpu"
	"golang.org/x/sys/unix"
)

// Config describes one multicast line to receive.
type Config struct {
	// Group is the multicast group and UDP port, e.g. 233.54.12.111:26477
	// (IPv4 or IPv6).
	Group netip.AddrPort
	// Source, when valid, makes the join source-specific (IGMPv3 SSM):
	// only datagrams from this unicast address (of the group's family) are
	// delivered.
	Source netip.Addr
	// Interface names the interface to join on, e.g. "lo" or "ens1f0";
	// "" lets the kernel pick it from the route to the group.
	Interface string
	// RecvBuffer is the receive buffer requested in bytes; 0 keeps the
	// kernel default (net.core.rmem_default). It is set with
	// SO_RCVBUFFORCE, which may exceed net.core.rmem_max, when the process
	// has CAP_NET_ADMIN, and with SO_RCVBUF, capped at rmem_max, otherwise;
	// a capped buffer is reported by Socket.Warnings.
	RecvBuffer int
}

// Socket is a non-blocking UDP socket bound to one multicast group and
// joined to it on one interface.
//
// Recv, SendTo, Fd and Close belong to one goroutine at a time (the
// receive loop, typically locked to its OS thread with
// runtime.LockOSThread); Drops, Warnings, Group, RecvBufferGranted and
// RecvBufferForced are safe to call from any goroutine.
type Socket struct {
	fd       int
	cfg      Config
	granted  int
	forced   bool // the receive buffer was set with SO_RCVBUFFORCE
	warnings []string

	// lastOvfl is the last raw 32-bit SO_RXQ_OVFL value seen; drops is
	// its 64-bit extension. Both are written only by the receive loop;
	// drops is read by monitoring goroutines, so it sits on its own cache
	// line to keep those reads from stalling the receive loop's writes.
	lastOvfl uint32
	_        cpu.CacheLinePad
	drops    atomic.Uint64
	_        cpu.CacheLinePad

	to unix.SockaddrInet4 // SendTo's destination, kept to avoid allocating
}

// Listen opens a UDP socket for cfg: SO_REUSEADDR and SO_REUSEPORT (so that
// several sockets, e.g. lines A and B, may share the port), bound to the
// group address and port rather than the wildcard address,
// IP_MULTICAST_ALL (IPv6: IPV6_MULTICAST_ALL) off so that only groups
// joined by this socket are delivered to it, joined with
// IP_ADD_MEMBERSHIP / IP_ADD_SOURCE_MEMBERSHIP (IPv6: IPV6_JOIN_GROUP /
// MCAST_JOIN_SOURCE_GROUP), the receive buffer set (SO_RCVBUFFORCE when
// permitted, else SO_RCVBUF) and read back, kernel receive
// timestamps (SO_TIMESTAMPNS) and drop counters (SO_RXQ_OVFL) on,
// non-blocking and close-on-exec.
//
// IPv6 groups of interface-local (ff01::/16, ff11::/16 ...) or link-local
// (ff02::/16 ...) scope need cfg.Interface, which becomes the bind scope.
//
// Errors are *Error values naming the step that failed; the cause is a
// sentinel of this package or a unix.Errno.
func Listen(cfg Config) (*Socket, error) {
	fail := func(op string, err error) error {
		return &Error{Op: op, Group: cfg.Group, Source: cfg.Source, Interface: cfg.Interface, Err: err}
	}
	g := cfg.Group.Addr().Unmap()
	if !cfg.Group.IsValid() || !g.IsMulticast() {
		return nil, fail("listen", ErrNotMulticast)
	}
	cfg.Group = netip.AddrPortFrom(g, cfg.Group.Port())
	if cfg.Source.IsValid() {
		cfg.Source = cfg.Source.Unmap()
		if cfg.Source.Is4() != g.Is4() || cfg.Source.IsMulticast() || cfg.Source.IsUnspecified() {
			return nil, fail("listen", ErrBadSource)
		}
	}
	ifindex, ifaddr, err := iface(cfg.Interface)
	if err != nil {
		return nil, fail("listen", err)
	}

	family := unix.AF_INET
	if g.Is6() {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return nil, fail("socket", err)
	}
	s := &Socket{fd: fd, cfg: cfg}
	if op, err := s.setup(ifindex, ifaddr); err != nil {
		unix.Close(fd)
		return nil, fail(op, err)
	}
	return s, nil
}

// setRecvBuffer asks for an n-byte receive buffer (n <= 0: keep the
// kernel default) and records what the kernel granted. SO_RCVBUFFORCE
// (CAP_NET_ADMIN) is tried first: it is not capped by net.core.rmem_max,
// and a feed handler that cannot have the buffer it was configured with
// loses datagrams under a burst. Without the capability (EPERM) it falls
// back to SO_RCVBUF and warns when rmem_max capped the request.
func (s *Socket) setRecvBuffer(n int) (op string, err error) {
	fd := s.fd
	forced := false
	if n > 0 {
		switch err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n); err {
		case nil:
			forced = true
		case unix.EPERM:
			if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, n); err != nil {
				return "setsockopt SO_RCVBUF", err
			}
		default:
			return "setsockopt SO_RCVBUFFORCE", err
		}
	}
	got, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
	if err != nil {
		return "getsockopt SO_RCVBUF", err
	}
	// The kernel stores (and reports) twice the requested value, the
	// extra half being its bookkeeping allowance.
	s.granted = got / 2
	s.forced = forced
	if n > 0 && s.granted < n {
		s.warnings = append(s.warnings, fmt.Sprintf(
			"mcast: %s: receive buffer requested %d bytes, kernel granted %d (getsockopt SO_RCVBUF %d = 2 x granted): capped by net.core.rmem_max and SO_RCVBUFFORCE not permitted (no CAP_NET_ADMIN); raise the cap with `sysctl -w net.core.rmem_max=%d` or grant the capability",
			s.cfg.Group, n, s.granted, got, n))
	}
	return "", nil
}

// setup configures, binds and joins s.fd; on failure it returns the step
// that failed and why.
func (s *Socket) setup(ifindex int, ifaddr [4]byte) (op string, err error) {
	fd := s.fd
	v6 := s.cfg.Group.Addr().Is6()
	type intOpt struct {
		name       string
		level, opt int
		val        int
	}
	ints := []intOpt{
		{"SO_REUSEADDR", unix.SOL_SOCKET, unix.SO_REUSEADDR, 1},
		{"SO_REUSEPORT", unix.SOL_SOCKET, unix.SO_REUSEPORT, 1},
		{"SO_TIMESTAMPNS", unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1},
		{"SO_RXQ_OVFL", unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1},
	}
	if v6 {
		ints = append(ints, intOpt{"IPV6_V6ONLY", unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1})
	} else {
		ints = append(ints, intOpt{"IP_MULTICAST_ALL", unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0})
	}
	for _, o := range ints {
		if err := unix.SetsockoptInt(fd, o.level, o.opt, o.val); err != nil {
			return "setsockopt " + o.name, err
		}
	}
	if v6 {
		// IPV6_MULTICAST_ALL appeared in Linux 4.20 (RHEL 8 runs 4.18):
		// without it the socket still only gets its group, because it is
		// bound to the group address, so an old kernel is a warning.
		err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_ALL, 0)
		if err == unix.ENOPROTOOPT {
			s.warnings = append(s.warnings, fmt.Sprintf(
				"mcast: %s: kernel lacks IPV6_MULTICAST_ALL (Linux < 4.20); isolation relies on the bind to the group address", s.cfg.Group))
		} else if err != nil {
			return "setsockopt IPV6_MULTICAST_ALL", err
		}
	}
	if op, err := s.setRecvBuffer(s.cfg.RecvBuffer); err != nil {
		return op, err
	}
	if v6 {
		return s.bindJoin6(ifindex)
	}
	return s.bindJoin4(ifindex, ifaddr)
}

func (s *Socket) bindJoin4(ifindex int, ifaddr [4]byte) (op string, err error) {
	fd := s.fd
	group := s.cfg.Group.Addr().As4()
	if err := unix.Bind(fd, &unix.SockaddrInet4{Port: int(s.cfg.Group.Port()), Addr: group}); err != nil {
		return "bind", err
	}
	if s.cfg.Source.IsValid() {
		// ip_mreq_source names the interface by address only; with
		// interface "" the address is 0.0.0.0 and the kernel routes.
		if ifindex != 0 && ifaddr == [4]byte{} {
			return "join", fmt.Errorf("interface has no IPv4 address for a source-specific join")
		}
		m := ipMreqSource(group, ifaddr, s.cfg.Source.As4())
		if err := setsockoptBytes(fd, unix.IPPROTO_IP, unix.IP_ADD_SOURCE_MEMBERSHIP, m[:]); err != nil {
			return "join", err
		}
		return "", nil
	}
	mreq := unix.IPMreqn{Multiaddr: group, Ifindex: int32(ifindex)}
	if err := unix.SetsockoptIPMreqn(fd, unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, &mreq); err != nil {
		return "join", err
	}
	return "", nil
}

func (s *Socket) bindJoin6(ifindex int) (op string, err error) {
	fd := s.fd
	g := s.cfg.Group.Addr()
	group := g.As16()
	var zone uint32
	if g.IsInterfaceLocalMulticast() || g.IsLinkLocalMulticast() {
		zone = uint32(ifindex)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet6{Port: int(s.cfg.Group.Port()), Addr: group, ZoneId: zone}); err != nil {
		return "bind", err
	}
	if s.cfg.Source.IsValid() {
		m := groupSourceReq6(ifindex, group, s.cfg.Source.As16())
		if err := setsockoptBytes(fd, unix.IPPROTO_IPV6, unix.MCAST_JOIN_SOURCE_GROUP, m); err != nil {
			return "join", err
		}
		return "", nil
	}
	mreq := unix.IPv6Mreq{Multiaddr: group, Interface: uint32(ifindex)}
	if err := unix.SetsockoptIPv6Mreq(fd, unix.IPPROTO_IPV6, unix.IPV6_JOIN_GROUP, &mreq); err != nil {
		return "join", err
	}
	return "", nil
}

// Close leaves the group (the kernel drops memberships with the socket)
// and closes the socket. Closing twice returns ErrClosed.
func (s *Socket) Close() error {
	if s.fd < 0 {
		return ErrClosed
	}
	err := unix.Close(s.fd)
	s.fd = -1
	if err != nil {
		return &Error{Op: "close", Group: s.cfg.Group, Interface: s.cfg.Interface, Err: err}
	}
	return nil
}

// Fd returns the socket's file descriptor (-1 once closed), e.g. for
// SO_BUSY_POLL or CPU affinity settings this package does not make.
func (s *Socket) Fd() int { return s.fd }

// Group returns the group and port the socket is bound to.
func (s *Socket) Group() netip.AddrPort { return s.cfg.Group }

// RecvBufferGranted returns the usable receive buffer in bytes: half of
// what getsockopt(SO_RCVBUF) reports.
func (s *Socket) RecvBufferGranted() int { return s.granted }

// RecvBufferForced reports whether the receive buffer was set with
// SO_RCVBUFFORCE (the process has CAP_NET_ADMIN), so that
// net.core.rmem_max did not cap it.
func (s *Socket) RecvBufferForced() bool { return s.forced }

// Warnings returns the non-fatal problems found by Listen, e.g. a receive
// buffer capped by net.core.rmem_max. The slice is shared: do not modify it.
func (s *Socket) Warnings() []string { return s.warnings }

// Drops returns the kernel's count of datagrams dropped on this socket
// (receive queue full), as last reported by an SO_RXQ_OVFL control
// message. The kernel attaches the counter only to datagrams queued after
// the first drop, so the value lags: it is current as of the last
// datagram received. The kernel's 32-bit counter is extended to 64 bits.
func (s *Socket) Drops() uint64 { return s.drops.Load() }

// noteOvfl folds a raw 32-bit SO_RXQ_OVFL value into the 64-bit count.
func (s *Socket) noteOvfl(v uint32) {
	if d := v - s.lastOvfl; d != 0 {
		s.lastOvfl = v
		s.drops.Add(uint64(d))
	}
}

// Recv receives up to b.Cap() datagrams with one recvmmsg call,
// MSG_DONTWAIT and MSG_TRUNC (so that a datagram longer than its slot is
// reported with its real length, see Batch.WireLen). It returns the number received (also b.Len()), or 0 and a
// nil error when none is queued. The datagrams are read with b.Payload(i)
// etc. and stay valid until the next Recv into b. Recv does not allocate.
func (s *Socket) Recv(b *Batch) (int, error) {
	b.n = 0
	if s.fd < 0 {
		return 0, ErrClosed
	}
	// The kernel rewrites name length, control length and flags only in
	// the headers of datagrams it returned: restore just those.
	for i := range b.hdrs[:b.dirty] {
		h := &b.hdrs[i].Hdr
		h.Namelen = uint32(sizeofSockaddr)
		h.SetControllen(b.ctrlSize)
		h.Flags = 0
	}
	n, errno := recvmmsg(s.fd, b.hdrs, unix.MSG_DONTWAIT|unix.MSG_TRUNC)
	if errno != 0 {
		if errno == unix.EAGAIN || errno == unix.EINTR {
			// Nothing received: the kernel wrote no header back, and
			// the loop above left every header clean.
			b.dirty = 0
			return 0, nil
		}
		b.dirty = len(b.hdrs) // be safe after an unexpected failure
		return 0, &Error{Op: "recvmmsg", Group: s.cfg.Group, Interface: s.cfg.Interface, Err: errno}
	}
	b.dirty = n
	for i := range n {
		h := &b.hdrs[i].Hdr
		if invariants.Enabled {
			long := int(b.hdrs[i].Len) > b.size
			if long != (h.Flags&unix.MSG_TRUNC != 0) || int(h.Controllen) > b.ctrlSize || int(h.Namelen) > sizeofSockaddr {
				panic(fmt.Sprintf("mcast: recvmmsg slot %d: len %d (slot %d) flags %#x controllen %d namelen %d disagree with the batch's buffers",
					i, b.hdrs[i].Len, b.size, h.Flags, h.Controllen, h.Namelen))
			}
		}
		off := i * b.ctrlSize
		ns, ovfl, ok := control(b.ctrl[off : off+min(int(h.Controllen), b.ctrlSize)])
		b.times[i] = ns
		if ok {
			s.noteOvfl(ovfl)
		}
	}
	b.n = n
	return n, nil
}
