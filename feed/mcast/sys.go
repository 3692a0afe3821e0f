//go:build linux

package mcast

// This file holds every unsafe conversion of the package: the raw
// recvmmsg/sendmmsg/setsockopt calls that golang.org/x/sys/unix (v0.50)
// does not wrap, and the views of kernel-filled headers. There is no safe
// twin: without these calls the package has no purpose.

import (
	"encoding/binary"
	"net"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// recvmmsg receives up to len(hdrs) datagrams in one system call. It uses
// RawSyscall6 because callers always pass MSG_DONTWAIT: the call cannot
// block, so the scheduler hand-off of Syscall6 would be pure overhead on
// the hot path.
func recvmmsg(fd int, hdrs []unix.Mmsghdr, flags int) (int, unix.Errno) {
	r, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(fd),
		uintptr(unsafe.Pointer(&hdrs[0])), uintptr(len(hdrs)), uintptr(flags), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), 0
}

// epollPoll reports the ready events of epfd without waiting
// (epoll_pwait with a zero timeout and no signal mask, the one form every
// architecture has). RawSyscall6: it cannot block.
func epollPoll(epfd int, events []unix.EpollEvent) (int, unix.Errno) {
	r, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd),
		uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), 0
}

// sendmmsg sends len(hdrs) datagrams in one system call and returns how
// many the kernel accepted. It uses Syscall6: a blocking socket may sleep
// while its send buffer is full.
func sendmmsg(fd int, hdrs []unix.Mmsghdr, flags int) (int, unix.Errno) {
	r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(fd),
		uintptr(unsafe.Pointer(&hdrs[0])), uintptr(len(hdrs)), uintptr(flags), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), 0
}

// setsockoptBytes sets a socket option from a hand-built struct.
func setsockoptBytes(fd, level, opt int, b []byte) error {
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0)
	if e != 0 {
		return e
	}
	return nil
}

// ipMreqSource builds Linux's struct ip_mreq_source (12 bytes, each
// address in network byte order):
//
//	+--------+--------------+--------+
//	| 0..3   | 4..7         | 8..11  |
//	| group  | interface    | source |
//	|        | (local addr) |        |
//	+--------+--------------+--------+
//
// BSD, macOS and Windows put the source before the interface; Linux does not.
func ipMreqSource(group, ifaddr, source [4]byte) [12]byte {
	var m [12]byte
	copy(m[0:4], group[:])
	copy(m[4:8], ifaddr[:])
	copy(m[8:12], source[:])
	return m
}

// groupSourceReq6 builds struct group_source_req for an IPv6
// MCAST_JOIN_SOURCE_GROUP (264 bytes on 64-bit Linux): the interface index
// (u32, native order), then two sockaddr_storage (128 bytes each, aligned
// to a pointer) holding sockaddr_in6 for the group and the source:
//
//	+------------+-----+------------------------+------------------------+
//	| 0..3       | pad | 8..135                 | 136..263               |
//	| if index   |     | group: family u16,     | source: same layout    |
//	|            |     | port, flowinfo, addr   |                        |
//	|            |     | (at +8), scope (at +24)|                        |
//	+------------+-----+------------------------+------------------------+
func groupSourceReq6(ifindex int, group, source [16]byte) []byte {
	const storage = 128 // sizeof(struct __kernel_sockaddr_storage)
	off := int(unsafe.Sizeof(uintptr(0)))
	b := make([]byte, off+2*storage)
	binary.NativeEndian.PutUint32(b, uint32(ifindex))
	for i, a := range [2][16]byte{group, source} {
		sa := b[off+i*storage:]
		binary.NativeEndian.PutUint16(sa, unix.AF_INET6)
		copy(sa[8:24], a[:])
	}
	return b
}

// putSockaddr fills a sockaddr_in (IPv4 dst) or sockaddr_in6 in sa, port
// in network byte order, and returns its length. zone is the IPv6 scope.
func putSockaddr(sa *unix.RawSockaddrInet6, dst netip.AddrPort, zone uint32) uint32 {
	a := dst.Addr().Unmap()
	if a.Is4() {
		s4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		*s4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: a.As4()}
		p := (*[2]byte)(unsafe.Pointer(&s4.Port))
		binary.BigEndian.PutUint16(p[:], dst.Port())
		return unix.SizeofSockaddrInet4
	}
	*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: a.As16(), Scope_id: zone}
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	binary.BigEndian.PutUint16(p[:], dst.Port())
	return unix.SizeofSockaddrInet6
}

// sockaddrAddrPort converts a kernel-filled sockaddr (IPv4 or IPv6) to a
// netip.AddrPort; the zero value if the family is neither.
func sockaddrAddrPort(sa *unix.RawSockaddrInet6) netip.AddrPort {
	switch sa.Family {
	case unix.AF_INET:
		s4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		p := (*[2]byte)(unsafe.Pointer(&s4.Port))
		return netip.AddrPortFrom(netip.AddrFrom4(s4.Addr), binary.BigEndian.Uint16(p[:]))
	case unix.AF_INET6:
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), binary.BigEndian.Uint16(p[:]))
	}
	return netip.AddrPort{}
}

// cmsgAlign rounds n up to the kernel's control-message alignment
// (sizeof(long)).
func cmsgAlign(n int) int {
	const a = int(unsafe.Sizeof(uintptr(0)))
	return (n + a - 1) &^ (a - 1)
}

// cmsgSpace is CMSG_SPACE(n): header plus n data bytes, aligned.
func cmsgSpace(n int) int { return cmsgAlign(unix.SizeofCmsghdr) + cmsgAlign(n) }

// control walks the control messages the kernel left in ctrl (its
// msg_controllen bytes) and returns the SCM_TIMESTAMPNS time in ns since
// the epoch (0 if absent) and the SO_RXQ_OVFL drop counter (ok false if
// absent). ctrl must start on a cmsg-aligned address (Batch guarantees
// it). It does not allocate.
func control(ctrl []byte) (ns int64, drops uint32, ok bool) {
	hdrLen := cmsgAlign(unix.SizeofCmsghdr)
	for off := 0; off+unix.SizeofCmsghdr <= len(ctrl); {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&ctrl[off]))
		l := int(h.Len)
		if l < unix.SizeofCmsghdr || off+l > len(ctrl) {
			break // malformed or truncated (MSG_CTRUNC): stop
		}
		data := ctrl[off+hdrLen : off+l]
		if h.Level == unix.SOL_SOCKET {
			switch h.Type {
			case unix.SCM_TIMESTAMPNS:
				if len(data) >= int(unsafe.Sizeof(unix.Timespec{})) {
					ts := (*unix.Timespec)(unsafe.Pointer(&data[0]))
					ns = ts.Nano()
				}
			case unix.SO_RXQ_OVFL:
				if len(data) >= 4 {
					drops, ok = *(*uint32)(unsafe.Pointer(&data[0])), true
				}
			}
		}
		off += cmsgAlign(l)
	}
	return ns, drops, ok
}

// iface resolves an interface name to its index and first IPv4 address
// ("" gives index 0 and the zero address: the kernel chooses).
func iface(name string) (index int, addr [4]byte, err error) {
	if name == "" {
		return 0, addr, nil
	}
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return 0, addr, ErrNoInterface
	}
	addrs, err := ifi.Addrs()
	if err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				if ip4 := ipn.IP.To4(); ip4 != nil {
					copy(addr[:], ip4)
					break
				}
			}
		}
	}
	return ifi.Index, addr, nil
}

// sockaddrPtr converts a sockaddr to the pointer a msghdr holds.
func sockaddrPtr(sa *unix.RawSockaddrInet6) *byte { return (*byte)(unsafe.Pointer(sa)) }
