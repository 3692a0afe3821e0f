//go:build linux

package mcast

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testIface is the interface every test uses: loopback multicast works
// without privilege when the sender sets IP_MULTICAST_IF to lo, even
// though lo lacks the MULTICAST flag and the only route (default via
// eth0) would otherwise send 239.0.0.0/8 elsewhere.
const testIface = "lo"

// seed is logged by every test that draws random groups and ports.
var seed = uint64(time.Now().UnixNano())

var rng = rand.New(rand.NewPCG(seed, seed>>1))

// randomGroups returns n distinct administratively scoped groups in
// 239.192.0.0/14 and one random high port, so that concurrent test
// processes do not hear each other.
func randomGroups(t testing.TB, n int) ([]netip.Addr, uint16) {
	t.Helper()
	t.Logf("seed %d", seed)
	base := rng.Uint32N(1<<18 - 16)
	gs := make([]netip.Addr, n)
	for i := range gs {
		v := 239<<24 | 192<<16 | (base + uint32(i))
		gs[i] = netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	return gs, uint16(20000 + rng.IntN(40000))
}

// listen opens a socket on lo or fails the test, closing it at cleanup.
func listen(t testing.TB, cfg Config) *Socket {
	t.Helper()
	if cfg.Interface == "" {
		cfg.Interface = testIface
	}
	s, err := Listen(cfg)
	if err != nil {
		t.Fatalf("Listen(%+v): %v", cfg, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// sender opens a sender on lo with loopback on.
func sender(t testing.TB) *Sender {
	t.Helper()
	s, err := NewSender(testIface, 1, true)
	if err != nil {
		t.Fatalf("NewSender: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// payload writes a datagram of length n carrying sequence number seq and
// a pattern derived from it.
func payload(dst []byte, seq uint64, n int) []byte {
	dst = dst[:n]
	binary.BigEndian.PutUint64(dst, seq)
	for i := 8; i < n; i++ {
		dst[i] = byte(seq) + byte(i)
	}
	return dst
}

// checkPayload reports what is wrong with p as datagram seq, or "".
func checkPayload(p []byte, seq uint64) string {
	if len(p) < 8 {
		return fmt.Sprintf("datagram of %d bytes", len(p))
	}
	if got := binary.BigEndian.Uint64(p); got != seq {
		return fmt.Sprintf("sequence %d, want %d", got, seq)
	}
	for i := 8; i < len(p); i++ {
		if p[i] != byte(seq)+byte(i) {
			return fmt.Sprintf("seq %d: byte %d = %#x, want %#x", seq, i, p[i], byte(seq)+byte(i))
		}
	}
	return ""
}

// drain receives from s until want datagrams arrived or nothing came for
// a second, calling fn for each.
func drain(t testing.TB, s *Socket, b *Batch, want int, fn func(b *Batch, i int)) int {
	t.Helper()
	got := 0
	idle := time.Now()
	for got < want {
		n, err := s.Recv(b)
		if err != nil {
			t.Fatalf("Recv: %v", err)
		}
		if n == 0 {
			if time.Since(idle) > time.Second {
				break
			}
			time.Sleep(100 * time.Microsecond)
			continue
		}
		idle = time.Now()
		for i := range n {
			fn(b, i)
		}
		got += n
	}
	return got
}

// rmemMax reads net.core.rmem_max.
func rmemMax(t testing.TB) int {
	t.Helper()
	raw, err := os.ReadFile("/proc/sys/net/core/rmem_max")
	if err != nil {
		t.Skipf("cannot read net.core.rmem_max: %v", err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatalf("net.core.rmem_max %q: %v", raw, err)
	}
	return v
}

// isErr reports whether err wraps any of targets.
func isErr(err error, targets ...error) bool {
	for _, e := range targets {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
