//go:build linux

package mcast

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// senderBatch is the number of preallocated sendmmsg headers: SendBatch
// sends longer payload lists in chunks of this size.
const senderBatch = 256

// Sender sends multicast datagrams, for tests and the exchange simulator.
// It holds one IPv4 and (when the kernel has IPv6) one IPv6 socket, both
// set up alike and picked by the destination's family. Its sockets are
// blocking: when the send buffer is full, Send and SendBatch wait rather
// than drop.
//
// A Sender is not safe for concurrent use.
type Sender struct {
	fd4, fd6 int // fd6 is -1 when the kernel lacks IPv6
	iface    string
	ifindex  int
	hdrs     []unix.Mmsghdr
	iovs     []unix.Iovec
	name     unix.RawSockaddrInet6 // destination, either family
}

// NewSender opens sockets that send multicast out of interface iface
// ("" = the route's choice; "lo" keeps IPv4 traffic on the host and needs
// no privilege) with the given TTL / hop limit (0 keeps the kernel default
// of 1) and IP_MULTICAST_LOOP (IPv6: IPV6_MULTICAST_LOOP) set to loop
// (true: local listeners get a copy, which is what makes same-host tests
// and multicast on "lo" work).
//
// Linux sends IPv6 multicast on lo only with a route for ff00::/8 there;
// on other interfaces, interface-local groups (ff11::/16 etc.) with loop
// on never leave the host.
func NewSender(iface string, ttl int, loop bool) (*Sender, error) {
	return newSender(iface, netip.AddrPort{}, ttl, loop)
}

// NewSenderFrom is NewSender with the socket of src's family bound to the
// local address src: it picks the datagrams' source address (e.g.
// 127.0.0.2 on lo, to test source-specific joins) and port (0 = ephemeral).
func NewSenderFrom(iface string, src netip.AddrPort, ttl int, loop bool) (*Sender, error) {
	return newSender(iface, src, ttl, loop)
}

func newSender(ifname string, src netip.AddrPort, ttl int, loop bool) (*Sender, error) {
	fail := func(op string, err error) error {
		return &Error{Op: op, Group: src, Interface: ifname, Err: err}
	}
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	ifindex, ifaddr, err := iface(ifname)
	if err != nil {
		return nil, fail("sender", err)
	}
	s := &Sender{fd4: -1, fd6: -1, iface: ifname, ifindex: ifindex}
	l := 0
	if loop {
		l = 1
	}

	s.fd4, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return nil, fail("socket", err)
	}
	op, err := func() (string, error) {
		if ifname != "" {
			// ip_mreqn{0, interface address, ifindex}: the index wins
			// when set, so interfaces without an IPv4 address work too.
			m := unix.IPMreqn{Address: ifaddr, Ifindex: int32(ifindex)}
			if err := unix.SetsockoptIPMreqn(s.fd4, unix.IPPROTO_IP, unix.IP_MULTICAST_IF, &m); err != nil {
				return "setsockopt IP_MULTICAST_IF", err
			}
		}
		if ttl > 0 {
			if err := unix.SetsockoptInt(s.fd4, unix.IPPROTO_IP, unix.IP_MULTICAST_TTL, ttl); err != nil {
				return "setsockopt IP_MULTICAST_TTL", err
			}
		}
		if err := unix.SetsockoptInt(s.fd4, unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, l); err != nil {
			return "setsockopt IP_MULTICAST_LOOP", err
		}
		if src.IsValid() && src.Addr().Is4() {
			if err := unix.Bind(s.fd4, &unix.SockaddrInet4{Port: int(src.Port()), Addr: src.Addr().As4()}); err != nil {
				return "bind", err
			}
		}

		fd6, err := unix.Socket(unix.AF_INET6, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
		if err == unix.EAFNOSUPPORT && !(src.IsValid() && src.Addr().Is6()) {
			return "", nil // no IPv6 in this kernel: IPv6 sends fail with ErrIPv6
		}
		if err != nil {
			return "socket", err
		}
		s.fd6 = fd6
		if ifname != "" {
			if err := unix.SetsockoptInt(fd6, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_IF, ifindex); err != nil {
				return "setsockopt IPV6_MULTICAST_IF", err
			}
		}
		if ttl > 0 {
			if err := unix.SetsockoptInt(fd6, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_HOPS, ttl); err != nil {
				return "setsockopt IPV6_MULTICAST_HOPS", err
			}
		}
		if err := unix.SetsockoptInt(fd6, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_LOOP, l); err != nil {
			return "setsockopt IPV6_MULTICAST_LOOP", err
		}
		if src.IsValid() && src.Addr().Is6() {
			sa := &unix.SockaddrInet6{Port: int(src.Port()), Addr: src.Addr().As16()}
			if src.Addr().IsLinkLocalUnicast() {
				sa.ZoneId = uint32(ifindex)
			}
			if err := unix.Bind(fd6, sa); err != nil {
				return "bind", err
			}
		}
		return "", nil
	}()
	if err != nil {
		s.closeFds()
		return nil, fail(op, err)
	}
	s.hdrs = make([]unix.Mmsghdr, senderBatch)
	s.iovs = make([]unix.Iovec, senderBatch)
	for i := range s.hdrs {
		h := &s.hdrs[i].Hdr
		h.Name = sockaddrPtr(&s.name)
		h.Iov = &s.iovs[i]
		h.SetIovlen(1)
	}
	return s, nil
}

// LocalAddr returns the address the IPv4 socket is bound to (after the
// first send, the ephemeral port the kernel chose).
func (s *Sender) LocalAddr() (netip.AddrPort, error) { return s.localAddr(s.fd4) }

// LocalAddr6 is LocalAddr for the IPv6 socket.
func (s *Sender) LocalAddr6() (netip.AddrPort, error) { return s.localAddr(s.fd6) }

func (s *Sender) localAddr(fd int) (netip.AddrPort, error) {
	if s.fd4 < 0 {
		return netip.AddrPort{}, ErrClosed
	}
	if fd < 0 {
		return netip.AddrPort{}, ErrIPv6
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return netip.AddrPort{}, &Error{Op: "getsockname", Interface: s.iface, Err: err}
	}
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port)), nil
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port)), nil
	}
	return netip.AddrPort{}, nil
}

// target picks the socket for dst and writes dst into the shared
// sockaddr (with the sender's interface as scope for IPv6 groups that
// need one).
func (s *Sender) target(op string, dst netip.AddrPort) (int, error) {
	if s.fd4 < 0 {
		return -1, ErrClosed
	}
	fd := s.fd4
	var zone uint32
	if a := dst.Addr().Unmap(); !a.Is4() {
		if s.fd6 < 0 || !a.IsValid() {
			return -1, &Error{Op: op, Group: dst, Interface: s.iface, Err: ErrIPv6}
		}
		fd = s.fd6
		if a.IsInterfaceLocalMulticast() || a.IsLinkLocalMulticast() || a.IsLinkLocalUnicast() {
			zone = uint32(s.ifindex)
		}
	}
	namelen := putSockaddr(&s.name, dst, zone)
	for i := range s.hdrs {
		s.hdrs[i].Hdr.Namelen = namelen
	}
	return fd, nil
}

// SendBatch sends every payload as one datagram to dst, with one sendmmsg
// call per 256 payloads, and returns how many were sent; it is less than
// len(payloads) only with an error. The payloads are not retained.
// SendBatch does not allocate (except for the error on failure).
func (s *Sender) SendBatch(dst netip.AddrPort, payloads [][]byte) (int, error) {
	fd, err := s.target("sendmmsg", dst)
	if err != nil {
		return 0, err
	}
	sent := 0
	for sent < len(payloads) {
		chunk := payloads[sent:min(len(payloads), sent+len(s.hdrs))]
		for i, p := range chunk {
			if len(p) > 0 {
				s.iovs[i].Base = &p[0]
			} else {
				s.iovs[i].Base = nil
			}
			s.iovs[i].SetLen(len(p))
		}
		n, errno := sendmmsg(fd, s.hdrs[:len(chunk)], 0)
		if errno == unix.EINTR {
			continue
		}
		if errno == 0 && n == 0 {
			errno = unix.EIO // cannot happen with a non-empty vector; never spin
		}
		if errno != 0 {
			s.forget(len(chunk))
			return sent, &Error{Op: "sendmmsg", Group: dst, Interface: s.iface, Err: errno}
		}
		sent += n
	}
	s.forget(min(len(payloads), len(s.hdrs)))
	return sent, nil
}

// forget clears the first n iovecs so the Sender does not keep the
// caller's payloads reachable.
func (s *Sender) forget(n int) {
	for i := range s.iovs[:n] {
		s.iovs[i] = unix.Iovec{}
	}
}

// Send sends payload as one datagram to dst. It does not allocate (except
// for the error on failure).
func (s *Sender) Send(dst netip.AddrPort, payload []byte) error {
	fd, err := s.target("sendto", dst)
	if err != nil {
		return err
	}
	if len(payload) > 0 {
		s.iovs[0].Base = &payload[0]
	}
	s.iovs[0].SetLen(len(payload))
	for {
		_, errno := sendmmsg(fd, s.hdrs[:1], 0)
		if errno == unix.EINTR {
			continue
		}
		s.forget(1)
		if errno != 0 {
			return &Error{Op: "sendto", Group: dst, Interface: s.iface, Err: errno}
		}
		return nil
	}
}

// Close closes the sockets. Closing twice returns ErrClosed.
func (s *Sender) Close() error {
	if s.fd4 < 0 {
		return ErrClosed
	}
	return s.closeFds()
}

func (s *Sender) closeFds() error {
	var err error
	for _, fd := range []*int{&s.fd4, &s.fd6} {
		if *fd >= 0 {
			if e := unix.Close(*fd); e != nil && err == nil {
				err = e
			}
			*fd = -1
		}
	}
	return err
}
