//go:build linux

package mcast

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// cmsg appends one control message as the kernel lays it out (native
// byte order, 8-byte alignment on 64-bit Linux).
func cmsg(dst []byte, level, typ int32, data []byte) []byte {
	h := make([]byte, cmsgAlign(unix.SizeofCmsghdr))
	l := cmsgAlign(unix.SizeofCmsghdr) + len(data)
	if unsafe.Sizeof(unix.Cmsghdr{}.Len) == 8 {
		binary.NativeEndian.PutUint64(h, uint64(l))
		binary.NativeEndian.PutUint32(h[8:], uint32(level))
		binary.NativeEndian.PutUint32(h[12:], uint32(typ))
	} else {
		binary.NativeEndian.PutUint32(h, uint32(l))
		binary.NativeEndian.PutUint32(h[4:], uint32(level))
		binary.NativeEndian.PutUint32(h[8:], uint32(typ))
	}
	dst = append(dst, h...)
	dst = append(dst, data...)
	for len(dst)%cmsgAlign(1) != 0 {
		dst = append(dst, 0)
	}
	return dst
}

func timespec(ns int64) []byte {
	ts := unix.NsecToTimespec(ns)
	return unsafe.Slice((*byte)(unsafe.Pointer(&ts)), unsafe.Sizeof(ts))
}

func u32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }

// aligned copies b into an 8-byte aligned buffer, as Batch provides.
func aligned(b []byte) []byte {
	a := alignedBytes(len(b) + 1)[:len(b)]
	copy(a, b)
	return a
}

func TestControl(t *testing.T) {
	const ns = int64(1700000000123456789)
	ts := cmsg(nil, unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, timespec(ns))
	ovfl := cmsg(nil, unix.SOL_SOCKET, unix.SO_RXQ_OVFL, u32(42))
	tests := []struct {
		name   string
		ctrl   []byte
		ns     int64
		drops  uint32
		haveOv bool
	}{
		{"empty", nil, 0, 0, false},
		{"timestamp", ts, ns, 0, false},
		{"overflow", ovfl, 0, 42, true},
		{"both", append(append([]byte(nil), ts...), ovfl...), ns, 42, true},
		{"overflow first", append(append([]byte(nil), ovfl...), ts...), ns, 42, true},
		{"other level", cmsg(nil, unix.IPPROTO_IP, unix.SCM_TIMESTAMPNS, timespec(ns)), 0, 0, false},
		{"truncated header", ts[:unix.SizeofCmsghdr-1], 0, 0, false},
		{"truncated data", ts[:len(ts)-1], 0, 0, false},
		{"short timestamp", cmsg(nil, unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, []byte{1, 2, 3, 4}), 0, 0, false},
		{"zero length", make([]byte, 32), 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c []byte
			if len(tt.ctrl) > 0 {
				c = aligned(tt.ctrl)
			}
			ns, drops, ok := control(c)
			if ns != tt.ns || drops != tt.drops || ok != tt.haveOv {
				t.Errorf("control = %d, %d, %v; want %d, %d, %v", ns, drops, ok, tt.ns, tt.drops, tt.haveOv)
			}
		})
	}
	if need := len(ts) + len(ovfl); need > ctrlSize {
		t.Errorf("ctrlSize %d < %d bytes needed", ctrlSize, need)
	}
}

// TestOverflowWrap checks that Drops extends the kernel's 32-bit counter.
func TestOverflowWrap(t *testing.T) {
	var s Socket
	for _, v := range []uint32{0, 10, 10, 1<<32 - 5, 3} {
		s.noteOvfl(v)
	}
	if got, want := s.Drops(), uint64(1<<32+3); got != want {
		t.Errorf("Drops = %d, want %d", got, want)
	}
}

func TestSockaddr(t *testing.T) {
	for _, tt := range []struct {
		ap  netip.AddrPort
		len uint32
	}{
		{netip.MustParseAddrPort("127.0.0.2:1"), unix.SizeofSockaddrInet4},
		{netip.MustParseAddrPort("233.54.12.111:65535"), unix.SizeofSockaddrInet4},
		{netip.MustParseAddrPort("10.1.2.3:26477"), unix.SizeofSockaddrInet4},
		{netip.MustParseAddrPort("[ff15::1:2]:26477"), unix.SizeofSockaddrInet6},
		{netip.MustParseAddrPort("[fd00::2]:1"), unix.SizeofSockaddrInet6},
	} {
		var sa6 unix.RawSockaddrInet6
		if l := putSockaddr(&sa6, tt.ap, 0); l != tt.len {
			t.Errorf("putSockaddr(%v) length %d, want %d", tt.ap, l, tt.len)
		}
		if got := sockaddrAddrPort(&sa6); got != tt.ap {
			t.Errorf("round trip of %v = %v", tt.ap, got)
		}
	}
	var sa6 unix.RawSockaddrInet6
	putSockaddr(&sa6, netip.MustParseAddrPort("[::ffff:10.0.0.1]:80"), 0)
	if got := sockaddrAddrPort(&sa6); got != netip.MustParseAddrPort("10.0.0.1:80") {
		t.Errorf("4-in-6 destination became %v, want plain IPv4", got)
	}
	g := groupSourceReq6(7, netip.MustParseAddr("ff15::1").As16(), netip.MustParseAddr("fd00::2").As16())
	if want := int(unsafe.Sizeof(uintptr(0))) + 256; len(g) != want {
		t.Errorf("group_source_req is %d bytes, want %d", len(g), want)
	}
	if got := sockaddrAddrPort(&unix.RawSockaddrInet6{}); got.IsValid() {
		t.Errorf("AF_UNSPEC sockaddr = %v, want zero", got)
	}
	m := ipMreqSource([4]byte{239, 1, 2, 3}, [4]byte{127, 0, 0, 1}, [4]byte{10, 0, 0, 9})
	if want := [12]byte{239, 1, 2, 3, 127, 0, 0, 1, 10, 0, 0, 9}; m != want {
		t.Errorf("ip_mreq_source = %v, want %v (Linux order: group, interface, source)", m, want)
	}
}

// FuzzControl feeds arbitrary control buffers to the cmsg walker, seeded
// with what the kernel hands a real socket on lo.
func FuzzControl(f *testing.F) {
	const ns = int64(1700000000123456789)
	f.Add(cmsg(nil, unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, timespec(ns)))
	f.Add(append(cmsg(nil, unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, timespec(ns)),
		cmsg(nil, unix.SOL_SOCKET, unix.SO_RXQ_OVFL, u32(7))...))
	f.Add(realControl(f))
	f.Fuzz(func(t *testing.T, b []byte) {
		control(aligned(b))
	})
}

// realControl receives one datagram on lo and returns its control bytes.
func realControl(f *testing.F) []byte {
	gs, port := randomGroups(f, 1)
	group := netip.AddrPortFrom(gs[0], port)
	s := listen(f, Config{Group: group})
	tx := sender(f)
	if err := tx.Send(group, []byte("seed")); err != nil {
		f.Fatal(err)
	}
	b := NewBatch(1, 64)
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		if n, _ := s.Recv(b); n == 1 {
			l := int(b.hdrs[0].Hdr.Controllen)
			return append([]byte(nil), b.ctrl[:l]...)
		}
	}
	f.Fatal("no datagram to seed from")
	return nil
}
