package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// base is the clock every timestamp counts from: nanoseconds since it fit
// in ITCH's 48-bit timestamp and mean the same in every goroutine.
var base = time.Now()

// nowNS is the monotonic time since base in nanoseconds.
func nowNS() uint64 { return uint64(time.Since(base)) }

// newHist records 100 ns to 60 s with 2 significant digits (1%).
func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, 60e9, 2) }

// lat is a histogram written by one goroutine while on is set and read by
// another between windows.
type lat struct {
	mu sync.Mutex
	h  *hdrhistogram.Histogram
}

func newLat() *lat { return &lat{h: newHist()} }

func (l *lat) record(ns uint64, n int64) {
	l.mu.Lock()
	l.h.RecordValues(int64(ns), n)
	l.mu.Unlock()
}

// takeInto merges l into dst and resets l.
func (l *lat) takeInto(dst *hdrhistogram.Histogram) {
	l.mu.Lock()
	dst.Merge(l.h)
	l.h.Reset()
	l.mu.Unlock()
}

// quantiles is a window's latency: p50 and p99 in nanoseconds, and the
// count.
type quantiles struct {
	p50, p99, max int64
	n             int64
}

func quantilesOf(h *hdrhistogram.Histogram) quantiles {
	return quantiles{h.ValueAtQuantile(50), h.ValueAtQuantile(99), h.Max(), h.TotalCount()}
}

// gather merges the histograms into one and resets them.
func gather(ls []*lat) quantiles {
	h := newHist()
	for _, l := range ls {
		l.takeInto(h)
	}
	return quantilesOf(h)
}

// tick is the paced runs' packet interval: every tick, what fell due at
// the rate is sent as one batch (20 messages at 20k/s), as an ITCH feed
// delivers them in packets; each message is stamped as it is sent. Both
// systems are paced alike.
var tick = time.Millisecond

// pace calls emit with the number of messages due at rate per second,
// every tick until d has passed or stop is closed, and returns how many it
// emitted. It sleeps between calls: no core is spun on a 2-core machine.
func pace(rate int, d time.Duration, stop <-chan struct{}, emit func(n int)) int {
	start := time.Now()
	sent := 0
	for {
		el := time.Since(start)
		if el >= d {
			return sent
		}
		select {
		case <-stop:
			return sent
		default:
		}
		if due := int(el.Seconds() * float64(rate)); due > sent {
			emit(due - sent)
			sent = due
		}
		time.Sleep(tick - time.Since(start)%tick)
	}
}

// memSample is the process's memory at one moment.
type memSample struct {
	goInUse uint64 // heap in use + stacks, after a forced GC
	rss     uint64 // resident set, before that GC
}

func sampleMem() memSample {
	var s memSample
	s.rss = rss()
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s.goInUse = ms.HeapInuse + ms.StackInuse
	return s
}

// rss reads the resident set from /proc/self/statm (0 if it cannot).
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

// perConn is the memory cost per connection between two samples.
type perConn struct {
	goBytes, rssBytes float64
	n                 int
}

func costPer(before, after memSample, n int) perConn {
	return perConn{float64(int64(after.goInUse)-int64(before.goInUse)) / float64(n), float64(int64(after.rss)-int64(before.rss)) / float64(n), n}
}

// The idle clients run in a child process (this binary, or the test binary
// through TestMain), so that their own memory is not counted as the
// daemon's: FANOUTBENCH_IDLE="proto addr n".
const idleEnv = "FANOUTBENCH_IDLE"

// idleChild is a running child holding idle connections.
type idleChild struct {
	cmd   *exec.Cmd
	stdin interface{ Close() error }
	ready chan error
}

// startIdle starts a child that opens n idle connections to addr speaking
// proto ("nats" or "tickwire"); ready says when all are made.
func startIdle(proto, addr string, n int) (*idleChild, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe) // the environment selects the child (see childMode)
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %s %d", idleEnv, proto, addr, n))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ic := &idleChild{cmd: cmd, stdin: in, ready: make(chan error, 1)}
	go func() {
		line, err := bufio.NewReader(out).ReadString('\n')
		if err == nil && !strings.HasPrefix(line, "ready") {
			err = fmt.Errorf("idle child: %s", strings.TrimSpace(line))
		}
		ic.ready <- err
	}()
	return ic, nil
}

// stop closes the child's connections and waits for it.
func (ic *idleChild) stop() {
	ic.stdin.Close()
	done := make(chan struct{})
	go func() { ic.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		ic.cmd.Process.Kill()
		<-done
	}
}

// childMode runs the idle child if the environment says so.
func childMode() bool {
	spec := os.Getenv(idleEnv)
	if spec == "" {
		return false
	}
	var proto, addr string
	var n int
	if _, err := fmt.Sscanf(spec, "%s %s %d", &proto, &addr, &n); err != nil {
		fmt.Println("bad spec:", err)
		os.Exit(2)
	}
	var r syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r) == nil {
		r.Cur = r.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r)
	}
	hs := tickwireHello
	if proto == "nats" {
		hs = natsHello
	}
	conns := make([]net.Conn, n)
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || failed.Load() != nil {
					return
				}
				c, err := net.DialTimeout("tcp", addr, 10*time.Second)
				if err == nil {
					err = hs(c)
				}
				if err != nil {
					err = fmt.Errorf("connection %d: %w", i, err)
					failed.CompareAndSwap(nil, &err)
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	if e := failed.Load(); e != nil {
		// Reported, but the connections made stay open until the parent
		// is done with its server: closing them under it is not measured.
		fmt.Println("failed:", *e)
	} else {
		fmt.Println("ready", n)
	}
	bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes stdin
	for _, c := range conns {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0) // no TIME_WAIT left for the next run's ports
		}
		if c != nil {
			c.Close()
		}
	}
	return true
}

// smallRcvBuf dials with a 64 KiB receive buffer: the slow consumer's, so
// that the kernel's autotuned buffers (up to 32 MiB here) do not hide for
// many seconds that it stopped reading. Both systems get the same.
var smallRcvBuf = net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 64<<10)
	})
	if err != nil {
		return err
	}
	return serr
}}
