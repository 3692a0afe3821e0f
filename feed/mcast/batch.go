//go:build linux

package mcast

import (
	"fmt"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// DefaultDatagramSize is the slot size that receives any datagram of an
// Ethernet jumbo frame (up to 9216 bytes of frame) whole.
const DefaultDatagramSize = 9216

// MaxDatagramSize is the longest UDP payload of an IPv4 datagram
// (65535 − 20-byte IP header − 8-byte UDP header): a larger slot is never
// filled.
const MaxDatagramSize = 65507

// maxBatch is the kernel's UIO_MAXIOV: recvmmsg and sendmmsg clamp their
// vector length to it.
const maxBatch = 1024

// sizeofSockaddr is the name buffer per datagram: a sockaddr_in6, large
// enough for either family.
const sizeofSockaddr = unix.SizeofSockaddrInet6

// ctrlSize is the control buffer per datagram: one SCM_TIMESTAMPNS
// (struct timespec) and one SO_RXQ_OVFL (u32) message, rounded up to a
// 64-byte multiple (56 bytes used on 64-bit Linux).
var ctrlSize = (cmsgSpace(int(unsafe.Sizeof(unix.Timespec{}))) + cmsgSpace(4) + 63) &^ 63

// Batch holds the buffers of one recvmmsg call: n datagram slots of size
// bytes each, with their mmsghdr, iovec, source sockaddr and control
// buffers, all allocated once by NewBatch and reused by every Recv.
//
// Memory per batch is about n × (size + 64 + 64 + 16 + 28 + 8) bytes.
// A Batch is not safe for concurrent use; it belongs to the goroutine
// that calls Recv with it.
type Batch struct {
	hdrs     []unix.Mmsghdr
	iovs     []unix.Iovec
	names    []unix.RawSockaddrInet6
	bufs     []byte
	ctrl     []byte
	times    []int64
	size     int
	ctrlSize int
	n        int // datagrams received by the last Recv
	dirty    int // headers the kernel may have rewritten since NewBatch or the last reset
}

// NewBatch allocates a batch of n datagram slots (1..1024) of size bytes
// each (≥ 1). A datagram longer than size is cut to size and flagged (see
// Truncated and WireLen): size the slots for the largest datagram the
// network can deliver, not the one the feed usually sends. A standard
// Ethernet MTU carries at most 1472 bytes of UDP payload over IPv4, a 9000
// to 9216-byte jumbo frame about 9188; DefaultDatagramSize (9216) covers
// both. It panics on out-of-range arguments.
func NewBatch(n, size int) *Batch {
	if n < 1 || n > maxBatch || size < 1 {
		panic(fmt.Sprintf("mcast: NewBatch(%d, %d): need 1 <= n <= %d and size >= 1", n, size, maxBatch))
	}
	b := &Batch{
		hdrs:     make([]unix.Mmsghdr, n),
		iovs:     make([]unix.Iovec, n),
		names:    make([]unix.RawSockaddrInet6, n),
		bufs:     make([]byte, n*size),
		ctrl:     alignedBytes(n * ctrlSize),
		times:    make([]int64, n),
		size:     size,
		ctrlSize: ctrlSize,
	}
	for i := range b.hdrs {
		b.iovs[i].Base = &b.bufs[i*size]
		b.iovs[i].SetLen(size)
		h := &b.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&b.names[i]))
		h.Namelen = uint32(sizeofSockaddr)
		h.Iov = &b.iovs[i]
		h.SetIovlen(1)
		h.Control = &b.ctrl[i*ctrlSize]
		h.SetControllen(ctrlSize)
	}
	return b
}

// alignedBytes returns n zero bytes starting on an 8-byte boundary, as
// control messages require.
func alignedBytes(n int) []byte {
	w := make([]uint64, (n+7)/8)
	return unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), n)
}

// Len returns the number of datagrams received by the last Recv.
func (b *Batch) Len() int { return b.n }

// Cap returns the number of datagram slots.
func (b *Batch) Cap() int { return len(b.hdrs) }

// Size returns the slot size in bytes: the longest datagram received whole.
func (b *Batch) Size() int { return b.size }

// Payload returns datagram i (0 <= i < Len()). It aliases the batch and
// is valid until the next Recv into b; at most Size() bytes (see
// Truncated: a truncated payload is only the datagram's head).
func (b *Batch) Payload(i int) []byte {
	if uint(i) >= uint(b.n) {
		panic("mcast: Payload index beyond Len")
	}
	off := i * b.size
	l := min(int(b.hdrs[i].Len), b.size)
	return b.bufs[off : off+l : off+b.size]
}

// KernelTime returns the time the kernel received datagram i, in ns since
// the Unix epoch (SCM_TIMESTAMPNS, software timestamp taken when the
// packet entered the network stack), or 0 if the kernel attached none.
func (b *Batch) KernelTime(i int) int64 {
	if uint(i) >= uint(b.n) {
		panic("mcast: KernelTime index beyond Len")
	}
	return b.times[i]
}

// Source returns the sender's address and port of datagram i.
func (b *Batch) Source(i int) netip.AddrPort {
	if uint(i) >= uint(b.n) {
		panic("mcast: Source index beyond Len")
	}
	return sockaddrAddrPort(&b.names[i])
}

// Truncated reports whether datagram i was longer than Size() and cut to
// it: the kernel set MSG_TRUNC in its msg_flags. Its tail is lost. The
// fault is the receiver's slot size, not the sender's packet, so a caller
// should count it as truncated (and report WireLen against Size), and not
// hand the head to a parser that would count it as malformed; the
// sequence range it carried is then recovered like any lost datagram.
func (b *Batch) Truncated(i int) bool {
	if uint(i) >= uint(b.n) {
		panic("mcast: Truncated index beyond Len")
	}
	return b.hdrs[i].Hdr.Flags&unix.MSG_TRUNC != 0
}

// WireLen returns the length datagram i had on the wire: len(Payload(i))
// when it fitted, more than Size() when it was truncated (Recv passes
// MSG_TRUNC to recvmmsg, so the kernel reports the real UDP length).
func (b *Batch) WireLen(i int) int {
	if uint(i) >= uint(b.n) {
		panic("mcast: WireLen index beyond Len")
	}
	return int(b.hdrs[i].Len)
}
