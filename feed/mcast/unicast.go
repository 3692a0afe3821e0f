//go:build linux

package mcast

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// Options configures ListenUnicast. Build it with the With functions.
type Options struct {
	// RecvBuffer is the receive buffer requested in bytes, set as for a
	// multicast socket (Config.RecvBuffer); 0 keeps the kernel default.
	RecvBuffer int
}

// Option configures ListenUnicast.
type Option func(*Options)

// WithRecvBuffer requests an n-byte receive buffer (Options.RecvBuffer).
func WithRecvBuffer(n int) Option {
	return func(o *Options) { o.RecvBuffer = n }
}

// ListenUnicast opens a non-blocking unicast UDP socket bound to local
// (port 0: ephemeral), with kernel receive timestamps and drop counters on,
// read with Recv and waited on by a Poller like a multicast Socket: Drops
// counts what the kernel dropped on it (SO_RXQ_OVFL), Batch.KernelTime and
// Batch.Source work alike, and Warnings reports a capped receive buffer.
// The live handler sends MoldUDP64 re-requests from it (SendTo) and reads
// the answers, which the re-request server unicasts back to it; anyone may
// send to the socket, so the caller should check Batch.Source against the
// server. IPv4 only.
func ListenUnicast(local netip.AddrPort, opts ...Option) (*Socket, error) {
	var o Options
	for _, opt := range opts {
		opt(&o)
	}
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
	s := &Socket{fd: fd, cfg: Config{Group: local, RecvBuffer: o.RecvBuffer}}
	for _, so := range []struct {
		name string
		opt  int
	}{{"SO_TIMESTAMPNS", unix.SO_TIMESTAMPNS}, {"SO_RXQ_OVFL", unix.SO_RXQ_OVFL}} {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, so.opt, 1); err != nil {
			unix.Close(fd)
			return nil, fail("setsockopt "+so.name, err)
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
	// After the bind, so that a warning names the port.
	if op, err := s.setRecvBuffer(o.RecvBuffer); err != nil {
		unix.Close(fd)
		return nil, fail(op, err)
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
