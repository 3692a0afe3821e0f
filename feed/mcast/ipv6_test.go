//go:build linux

package mcast

import (
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"
)

// randomGroups6 returns n interface-local IPv6 groups (ff11::/16: the
// kernel never transmits them on a wire, so tests on a real interface stay
// on the host) and a random high port.
func randomGroups6(t testing.TB, n int) ([]netip.Addr, uint16) {
	t.Helper()
	t.Logf("seed %d", seed)
	base := rng.Uint32() &^ 0xff
	gs := make([]netip.Addr, n)
	for i := range gs {
		var a [16]byte
		a[0], a[1] = 0xff, 0x11
		v := base + uint32(i)
		a[12], a[13], a[14], a[15] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
		gs[i] = netip.AddrFrom16(a)
	}
	return gs, uint16(20000 + rng.IntN(40000))
}

// ipv6Iface finds an interface where IPv6 multicast loops back to local
// listeners: lo if it has a route for ff00::/8 (it usually has not), else
// the first multicast-capable interface that is up with an IPv6 address.
func ipv6Iface(t *testing.T) string {
	t.Helper()
	cands := []string{"lo"}
	ifs, _ := net.Interfaces()
	for _, ifi := range ifs {
		if ifi.Flags&net.FlagUp != 0 && ifi.Flags&net.FlagMulticast != 0 && ifi.Flags&net.FlagLoopback == 0 {
			cands = append(cands, ifi.Name)
		}
	}
	var why []string
	for _, name := range cands {
		gs, port := randomGroups6(t, 1)
		group := netip.AddrPortFrom(gs[0], port)
		err := func() error {
			s, err := Listen(Config{Group: group, Interface: name})
			if err != nil {
				return err
			}
			defer s.Close()
			tx, err := NewSender(name, 1, true)
			if err != nil {
				return err
			}
			defer tx.Close()
			if err := tx.Send(group, []byte("probe")); err != nil {
				return err
			}
			b := NewBatch(1, 16)
			for deadline := time.Now().Add(200 * time.Millisecond); time.Now().Before(deadline); {
				if n, _ := s.Recv(b); n == 1 {
					return nil
				}
				time.Sleep(time.Millisecond)
			}
			return errors.New("nothing looped back")
		}()
		if err == nil {
			return name
		}
		why = append(why, name+": "+err.Error())
	}
	t.Skipf("no interface loops IPv6 multicast back here: %s", strings.Join(why, "; "))
	return ""
}

// TestIPv6 receives datagrams on two IPv6 groups sharing a port: each
// socket gets exactly its group's datagrams, with an IPv6 source and a
// kernel timestamp.
func TestIPv6(t *testing.T) {
	ifname := ipv6Iface(t)
	t.Logf("IPv6 multicast on %s", ifname)
	gs, port := randomGroups6(t, 2)
	socks := []*Socket{
		listen(t, Config{Group: netip.AddrPortFrom(gs[0], port), Interface: ifname, RecvBuffer: 1 << 20}),
		listen(t, Config{Group: netip.AddrPortFrom(gs[1], port), Interface: ifname}),
	}
	tx, err := NewSender(ifname, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	const total = 1000
	bufs := make([][]byte, 50)
	for i := range bufs {
		bufs[i] = make([]byte, 600)
	}
	for seq := uint64(0); seq < total; {
		for i := range bufs {
			bufs[i] = payload(bufs[i][:cap(bufs[i])], seq, 8+int(seq%593))
			seq++
		}
		if n, err := tx.SendBatch(socks[0].Group(), bufs); err != nil || n != len(bufs) {
			t.Fatalf("SendBatch = %d, %v", n, err)
		}
		if err := tx.Send(socks[1].Group(), []byte("other "+strconv.Itoa(int(seq)))); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Send(socks[0].Group(), []byte("end")); err != nil {
		t.Fatal(err)
	}
	b := NewBatch(64, 1500)
	var want uint64
	drain(t, socks[0], b, total+1, func(b *Batch, i int) {
		p := b.Payload(i)
		if string(p) == "end" {
			return
		}
		if msg := checkPayload(p, want); msg != "" {
			t.Fatalf("datagram %d: %s", want, msg)
		}
		if src := b.Source(i); !src.Addr().Is6() || src.Port() == 0 {
			t.Fatalf("Source = %v, want an IPv6 address and port", src)
		}
		if b.KernelTime(i) == 0 {
			t.Fatalf("datagram %d: no kernel timestamp", want)
		}
		want++
	})
	if want != total {
		t.Fatalf("received %d of %d datagrams on %v (drops %d)", want, total, socks[0].Group(), socks[0].Drops())
	}
	if got := drain(t, socks[1], b, total/len(bufs), func(b *Batch, i int) {
		if p := string(b.Payload(i)); !strings.HasPrefix(p, "other ") {
			t.Errorf("socket of %v received %q", socks[1].Group(), p)
		}
	}); got != total/len(bufs) {
		t.Errorf("socket of %v received %d datagrams, want %d", socks[1].Group(), got, total/len(bufs))
	}
	local, err := tx.LocalAddr6()
	if err != nil || local.Port() == 0 {
		t.Errorf("LocalAddr6 = %v, %v", local, err)
	}
}

// TestIPv6SourceSpecific joins an IPv6 group for one source with
// MCAST_JOIN_SOURCE_GROUP; a sender bound to that address gets through,
// one sending from another address of the interface does not.
func TestIPv6SourceSpecific(t *testing.T) {
	ifname := ipv6Iface(t)
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		t.Fatal(err)
	}
	addrs, _ := ifi.Addrs()
	var chosen, other netip.Addr
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.To4() != nil {
			continue
		}
		ip, _ := netip.AddrFromSlice(ipn.IP)
		switch {
		case !ip.IsLinkLocalUnicast() && !chosen.IsValid():
			chosen = ip
		case !other.IsValid():
			other = ip
		}
	}
	if !chosen.IsValid() || !other.IsValid() {
		t.Skipf("%s needs a global and a second IPv6 address for this test (has %v)", ifname, addrs)
	}
	gs, port := randomGroups6(t, 1)
	group := netip.AddrPortFrom(gs[0], port)
	s, err := Listen(Config{Group: group, Source: chosen, Interface: ifname})
	if err != nil {
		t.Fatalf("source-specific join: %v", err)
	}
	defer s.Close()
	// An any-source listener on the same group proves that the other
	// sender's datagrams did reach the host.
	all := listen(t, Config{Group: group, Interface: ifname})
	txOther, err := NewSenderFrom(ifname, netip.AddrPortFrom(other, 0), 1, true)
	if err != nil {
		t.Skipf("cannot bind a sender to %v: %v", other, err)
	}
	defer txOther.Close()
	txChosen, err := NewSenderFrom(ifname, netip.AddrPortFrom(chosen, 0), 1, true)
	if err != nil {
		t.Fatal(err)
	}
	defer txChosen.Close()
	for i := range 5 {
		if err := txOther.Send(group, []byte("other "+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
		if err := txChosen.Send(group, []byte("chosen "+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := txChosen.Send(group, []byte("chosen end")); err != nil {
		t.Fatal(err)
	}
	b := NewBatch(8, 64)
	others := 0
	drain(t, all, b, 11, func(b *Batch, i int) {
		if strings.HasPrefix(string(b.Payload(i)), "other ") {
			others++
		}
	})
	if others == 0 {
		t.Fatal("the any-source listener got nothing from the other sender: the test proves nothing")
	}
	var last string
	got := drain(t, s, b, 6, func(b *Batch, i int) {
		if last = string(b.Payload(i)); !strings.HasPrefix(last, "chosen ") {
			t.Errorf("received %q from %v", last, b.Source(i))
		}
		if src := b.Source(i).Addr(); src != chosen {
			t.Errorf("Source = %v, want %v", src, chosen)
		}
	})
	if got != 6 || last != "chosen end" {
		t.Errorf("received %d datagrams ending with %q, want 6 ending with the terminator", got, last)
	}
}
