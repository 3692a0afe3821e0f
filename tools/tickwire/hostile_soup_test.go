package main

import (
	"bufio"
	be "encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/codec/soupbintcp"
)

// Regression tests of the hardening issue's SoupBinTCP and GLIMPSE findings
// (6, 7 and 13) with real processes: the simulator's SoupBinTCP server
// behind a hostile proxy, and hostile GLIMPSE servers.

// readSoupPacket reads one whole SoupBinTCP packet, length prefix included.
func readSoupPacket(r io.Reader) ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	p := make([]byte, 2+int(be.BigEndian.Uint16(hdr[:])))
	copy(p, hdr[:])
	_, err := io.ReadFull(r, p[2:])
	return p, err
}

// soupTamper is what a hostile proxy does to connection n (0 first): shift
// moves the Requested Sequence Number of its login before it reaches the
// server (the server then resumes elsewhere than asked), and after the
// proxy has forwarded packets for cut, it drips a 65535-byte packet one
// byte every 100 ms (drip) or hangs up.
type soupTamper struct {
	shift int64
	cut   time.Duration
	drip  bool
}

// hostileSoupProxy listens on a loopback port and forwards SoupBinTCP
// connections to upstream, tampered with as tamper(n) says.
func hostileSoupProxy(t *testing.T, upstream string, tamper func(n int) soupTamper) string {
	return serveLoopback(t, func(c net.Conn, n int) { proxySoup(c, upstream, tamper(n)) })
}

func proxySoup(c net.Conn, upstream string, tm soupTamper) {
	defer c.Close()
	up, err := net.Dial("tcp", upstream)
	if err != nil {
		return
	}
	defer up.Close()
	cr := bufio.NewReader(c)
	login, err := readSoupPacket(cr)
	if err != nil {
		return
	}
	if req, err := soupbintcp.ParseLoginRequest(login); err == nil && tm.shift != 0 {
		req.Seq = uint64(max(int64(req.Seq)+tm.shift, 1))
		login = req.Append(nil)
	}
	if _, err := up.Write(login); err != nil {
		return
	}
	go func() { io.Copy(up, cr); up.Close() }() // client heartbeats, logout
	ur := bufio.NewReader(up)
	var deadline <-chan time.Time
	if tm.cut > 0 {
		deadline = time.After(tm.cut)
	}
	for {
		select {
		case <-deadline:
			if tm.drip {
				c.Write([]byte{0xff, 0xff})
				for {
					time.Sleep(100 * time.Millisecond)
					if _, err := c.Write([]byte{' '}); err != nil {
						return
					}
				}
			}
			return
		default:
		}
		p, err := readSoupPacket(ur)
		if err != nil {
			return
		}
		if _, err := c.Write(p); err != nil {
			return
		}
	}
}

// TestHostileSoupServer covers findings 7 and 13 against the simulator's
// SoupBinTCP server behind a hostile proxy: a packet drip-fed one byte
// every 100 ms (dropped after feed.soupbintcp.packet_timeout, resumed where
// it stopped, books exact); a server that resumes behind the sequence asked
// for (the duplicates dropped, books exact); and one that resumes ahead of
// it (a gap: without a snapshot server the books are said to be possibly
// wrong and --exit-on-end exits 1; with one they are rebuilt and exact).
func TestHostileSoupServer(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end with processes")
	}
	bin := binary(t)
	cases := []struct {
		name     string
		tamper   soupTamper // of the first connection; the second is shifted by shift
		shift    int64
		snapshot bool
		exact    bool
		want     []string
	}{
		{name: "drip", tamper: soupTamper{cut: 300 * time.Millisecond, drip: true}, exact: true,
			want: []string{"packet not completed", "1 packet timeouts", "every message accounted for"}},
		{name: "behind", tamper: soupTamper{cut: 300 * time.Millisecond}, shift: -700, exact: true,
			want: []string{"resumed behind", "700 duplicates dropped", "every message accounted for"}},
		{name: "ahead", tamper: soupTamper{cut: 300 * time.Millisecond}, shift: 700,
			want: []string{"resumed ahead", "may be wrong: 1 gap(s)", "NOT every message accounted for"}},
		{name: "ahead-rebuilt", tamper: soupTamper{cut: 300 * time.Millisecond}, shift: 700, snapshot: true, exact: true,
			want: []string{"resumed ahead", "rebuilding from a snapshot", "2 snapshot(s) taken", "every message accounted for"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			groupA, groupB := lineGroups(83)
			tcp := freeTCPAddrs(t, 2)
			soupAddr, glimpseAddr := tcp[0], tcp[1]
			want, got := filepath.Join(dir, "want.jsonl"), filepath.Join(dir, "got.jsonl")
			proxy := hostileSoupProxy(t, soupAddr, func(n int) soupTamper {
				switch n {
				case 0:
					return c.tamper
				case 1:
					return soupTamper{shift: c.shift}
				}
				return soupTamper{}
			})
			conf := fmt.Sprintf("feed:\n  interface: lo\n  soupbintcp: {server: %s, username: tw, password: secret, packet_timeout: 1s}\n", proxy)
			if c.snapshot {
				conf += fmt.Sprintf("  snapshot: {server: %s, username: tw, password: secret}\n", glimpseAddr)
			}
			cfg := filepath.Join(dir, "tickwire.yaml")
			writeFile(t, cfg, conf+"books_on_exit: "+got+"\n")
			_, simOut := startSim(t, bin, "-messages", "30000", "-instruments", "30", "-seed", "23", "-books", want,
				"-group-a", groupA, "-group-b", groupB, "-rate", "40000", "-soup", soupAddr, "-soup-rate", "40000",
				"-glimpse", glimpseAddr, "-soup-user", "tw", "-soup-password", "secret", "-linger", "8s")
			time.Sleep(300 * time.Millisecond)
			run, runOut := startRun(t, bin, cfg)
			done := make(chan error, 1)
			go func() { done <- run.Wait() }()
			var err error
			select {
			case err = <-done:
			case <-time.After(60 * time.Second):
				run.Process.Kill()
				<-done
				t.Fatalf("no exit\n%s\nsim:\n%s", runOut, simOut)
			}
			out := runOut.String()
			t.Logf("handler:\n%s", out)
			if c.exact {
				if err != nil {
					t.Fatalf("tickwire run: %v", err)
				}
				sameBooks(t, got, want)
			} else if err == nil {
				t.Errorf("exit 0 with messages lost")
			}
			wantInOutput(t, out, c.want...)
		})
	}
}

// TestHostileSnapshotEndless covers finding 6: a GLIMPSE server that sends
// valid Add Orders and never an end of snapshot. The late join fails once
// the snapshot passes feed.snapshot.max_bytes (or max_orders), naming the
// limit, with the handler's memory bounded by it.
func TestHostileSnapshotEndless(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end with processes")
	}
	bin := binary(t)
	for _, c := range []struct{ key, limit, want string }{
		{"max_bytes", "16777216", "exceeds its byte limit"},
		{"max_orders", "100000", "exceeds its order limit"},
	} {
		t.Run(c.key, func(t *testing.T) {
			dir := t.TempDir()
			groupA, groupB := lineGroups(89)
			var sent atomic.Int64
			addr := hostileGlimpse(t, func(w io.Writer) {
				for ref := uint64(1); ; ref++ {
					add := (&itch.AddOrderMsg{Header: itch.Header{Locate: 1}, Ref: ref, Side: itch.Buy, Shares: 100,
						Stock: itch.Alpha8("AAPL"), Price: 1000}).Append(nil)
					if _, err := w.Write(soupbintcp.AppendSequenced(nil, add)); err != nil {
						return
					}
					sent.Add(int64(len(add)))
				}
			})
			cfg := filepath.Join(dir, "tickwire.yaml")
			writeFile(t, cfg, fmt.Sprintf("feed:\n  interface: lo\n  line_a: {group: %s}\n  line_b: {group: %s}\n  snapshot: {server: %s, timeout: 60s, %s: %s}\n",
				groupA, groupB, addr, c.key, c.limit))
			run, runOut := startRun(t, bin, cfg)
			peak := watchPeakRSS(run.Process.Pid)
			startSim(t, bin, "-messages", "200000", "-instruments", "30", "-seed", "43", "-group-a", groupA, "-group-b", groupB, "-rate", "20000")
			var ee *exec.ExitError
			if err := waitAnyExit(t, run, 60*time.Second, runOut, nil); !errors.As(err, &ee) {
				t.Fatalf("exit %v with a snapshot that never ends\n%s", err, runOut)
			}
			out := runOut.String()
			t.Logf("handler:\n%s", out)
			wantInOutput(t, out, c.want, "("+c.key+")")
			rss := peak()
			t.Logf("peak RSS %d MiB after %d MiB sent", rss>>20, sent.Load()>>20)
			if rss > 256<<20 {
				t.Errorf("peak RSS %d MiB: the snapshot's bound did not bound the handler", rss>>20)
			}
			if strings.Contains(out, "books built from a snapshot") {
				t.Errorf("books built from a snapshot that never ended")
			}
		})
	}
}

// watchPeakRSS samples the peak resident set (VmHWM) of process pid every
// 5 ms until it exits; the returned function gives the highest seen. Not
// getrusage's ru_maxrss of the child: that counts the pages it shared with
// the parent before exec, the whole test binary (386 MiB under the race
// detector once, for a handler that never passed 35).
func watchPeakRSS(pid int) func() int64 {
	var peak atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		path := fmt.Sprintf("/proc/%d/status", pid)
		for {
			b, err := os.ReadFile(path)
			if err != nil {
				return // exited
			}
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					var kib int64
					fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kib)
					if kib<<10 > peak.Load() {
						peak.Store(kib << 10)
					}
				}
				if strings.HasPrefix(line, "State:") && strings.Contains(line, "zombie") {
					return
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return func() int64 {
		<-done
		return peak.Load()
	}
}
