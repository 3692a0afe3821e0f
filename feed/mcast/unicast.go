//go:build linux

package mcast

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// ListenUnicast opens a non-blocking unicast UDP socket bound to local
// (port 0: ephemeral), with kernel receive timestamps and drop counters on,
// read with Recv and waited on by a Poller like a multicast Socket. The
// live handler sends MoldUDP64 re-requests from it (SendTo) and reads the
// answers, which the re-request server unicasts back to it. IPv4 only.
func ListenUnicast(local netip.AddrPort) (*Socket, error) {
	fail := func(op string, err error) error {
		return &Error{Op: op, Group: local, Err: err}
	}
	if !local.Addr().Unmap().Is4() {
		return nil, fail("listen unicast", ErrIPv6)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return nil, fail("socket", err)
	}
	s := &Socket{fd: fd, cfg: Config{Group: local}}
	for _, o := range []struct {
		name string
		opt  int
	}{{"SO_TIMESTAMPNS", unix.SO_TIMESTAMPNS}, {"SO_RXQ_OVFL", unix.SO_RXQ_OVFL}} {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, o.opt, 1); err != nil {
			unix.Close(fd)
			return nil, fail("setsockopt "+o.name, err)
		}
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Port: int(local.Port()), Addr: local.Addr().Unmap().As4()}); err != nil {
		unix.Close(fd)
		return nil, fail("bind", err)
	}
	if sa, err := unix.Getsockname(fd); err == nil {
		if in4, ok := sa.(*unix.SockaddrInet4); ok {
			s.cfg.Group = netip.AddrPortFrom(netip.AddrFrom4(in4.Addr), uint16(in4.Port))
		}
	}
	return s, nil
}

// SendTo sends one datagram from the socket to dst (IPv4). It does not
// block: a full send buffer is an error (EAGAIN) the caller may retry.
// It allocates nothing: the destination is kept in the Socket.
func (s *Socket) SendTo(dst netip.AddrPort, payload []byte) error {
	s.to.Port = int(dst.Port())
	s.to.Addr = dst.Addr().Unmap().As4()
	if err := unix.Sendto(s.fd, payload, 0, &s.to); err != nil {
		return &Error{Op: "sendto", Group: dst, Err: err}
	}
	return nil
}
