//go:build linux

package mcast

import (
	"io"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// blastEnv makes the test binary a sender process: "group:port,size".
const blastEnv = "MCAST_TEST_BLAST"

func TestMain(m *testing.M) {
	if spec := os.Getenv(blastEnv); spec != "" {
		os.Exit(blast(spec))
	}
	os.Exit(m.Run())
}

// blast sends datagrams of the given size to the group on lo in batches
// of 64 as fast as sendmmsg takes them, until its stdin is closed (the
// benchmark ends or dies).
func blast(spec string) int {
	var dst netip.AddrPort
	var size int
	for i := len(spec) - 1; i >= 0; i-- {
		if spec[i] == ',' {
			var err error
			if dst, err = netip.ParseAddrPort(spec[:i]); err != nil {
				return 2
			}
			if size, err = strconv.Atoi(spec[i+1:]); err != nil {
				return 2
			}
			break
		}
	}
	if !dst.IsValid() {
		return 2
	}
	stop := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(stop)
	}()
	tx, err := NewSender(testIface, 1, true)
	if err != nil {
		return 1
	}
	payloads := make([][]byte, 64)
	for i := range payloads {
		payloads[i] = make([]byte, size)
	}
	for seq := uint64(0); ; {
		select {
		case <-stop:
			return 0
		default:
		}
		for i := range payloads {
			payload(payloads[i], seq, size)
			seq++
		}
		if _, err := tx.SendBatch(dst, payloads); err != nil {
			return 1
		}
	}
}

// BenchmarkRecv drains a group that a separate process floods with
// sendmmsg on lo, with batches of 64. One op is one datagram received:
// ns/op is the receive cost per datagram, dgrams/s the drain rate, and
// drop% the share the kernel dropped because the receiver fell behind
// (the sender is faster than any receiver on a shared 2-core machine).
func BenchmarkRecv(b *testing.B) {
	for _, size := range []int{1400, 300} {
		b.Run(strconv.Itoa(size)+"B", func(b *testing.B) { benchRecv(b, size) })
	}
}

func benchRecv(b *testing.B, size int) {
	gs, port := randomGroups(b, 1)
	group := netip.AddrPortFrom(gs[0], port)
	s := listen(b, Config{Group: group, RecvBuffer: 4 << 20})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), blastEnv+"="+group.String()+","+strconv.Itoa(size))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
	}()

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	batch := NewBatch(64, 1500)
	// Wait for the sender to start.
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := s.Recv(batch)
		if err != nil {
			b.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("sender process sent nothing")
		}
	}
	drops0 := s.Drops()
	var bytes int
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	got, idle := 0, 0
	for got < b.N {
		n, err := s.Recv(batch)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			if idle++; idle > 50_000_000 {
				b.Fatal("sender process stopped")
			}
			continue
		}
		idle = 0
		for i := range n {
			bytes += len(batch.Payload(i))
		}
		got += n
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if bytes != got*size {
		b.Fatalf("received %d bytes in %d datagrams of %d", bytes, got, size)
	}
	drops := s.Drops() - drops0
	b.ReportMetric(float64(got)/elapsed.Seconds(), "dgrams/s")
	b.ReportMetric(100*float64(drops)/float64(uint64(got)+drops), "drop%")
}

// BenchmarkSendBatch measures sendmmsg of 64 datagrams on lo with a
// listener present (the kernel delivers to it inside the send call, and
// drops once its buffer is full). One op is one datagram.
func BenchmarkSendBatch(b *testing.B) {
	gs, port := randomGroups(b, 1)
	group := netip.AddrPortFrom(gs[0], port)
	s := listen(b, Config{Group: group})
	_ = s
	tx := sender(b)
	payloads := make([][]byte, 64)
	for i := range payloads {
		payloads[i] = make([]byte, 300)
	}
	b.SetBytes(300)
	b.ReportAllocs()
	b.ResetTimer()
	for sent := 0; sent < b.N; sent += len(payloads) {
		if _, err := tx.SendBatch(group, payloads); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDrain isolates the receive cost: each round queues 1,000
// datagrams in the socket (timer stopped), then drains them with Recv
// batches of 64 (timed). One op is one datagram; dgrams/s is the rate one
// thread drains a full queue at, whatever the sender can do.
func BenchmarkDrain(b *testing.B) {
	for _, size := range []int{1400, 300} {
		b.Run(strconv.Itoa(size)+"B", func(b *testing.B) { benchDrain(b, size) })
	}
}

func benchDrain(b *testing.B, size int) {
	const round = 1000
	gs, port := randomGroups(b, 1)
	group := netip.AddrPortFrom(gs[0], port)
	s := listen(b, Config{Group: group, RecvBuffer: 4 << 20})
	tx := sender(b)
	payloads := make([][]byte, round)
	for i := range payloads {
		payloads[i] = payload(make([]byte, size), uint64(i), size)
	}
	batch := NewBatch(64, 1500)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	var elapsed time.Duration
	for got := 0; got < b.N; {
		b.StopTimer()
		if _, err := tx.SendBatch(group, payloads); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		for left := round; left > 0; {
			n, err := s.Recv(batch)
			if err != nil {
				b.Fatal(err)
			}
			if n == 0 {
				b.Fatalf("queue empty with %d datagrams of the round missing (drops %d)", left, s.Drops())
			}
			for i := range n {
				if len(batch.Payload(i)) != size {
					b.Fatalf("datagram of %d bytes", len(batch.Payload(i)))
				}
			}
			left -= n
			got += n
		}
		elapsed += time.Since(start)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "dgrams/s")
}
