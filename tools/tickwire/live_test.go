package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/codec/moldudp64"
	"github.com/tickwire/tickwire/feed/mcast"
	"github.com/tickwire/tickwire/internal/admin"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary builds the tickwire binary once per test run.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tickwire-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "tickwire")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// freeUDPPort returns a UDP port free on loopback just now.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// freeTCPAddrs returns n distinct loopback TCP addresses free just now: the
// listeners are all held open while the ports are chosen, so no two are the
// same.
func freeTCPAddrs(t *testing.T, n int) []string {
	t.Helper()
	var ls []net.Listener
	var addrs []string
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		addrs = append(addrs, l.Addr().String())
	}
	for _, l := range ls {
		l.Close()
	}
	return addrs
}

// syncBuffer collects a process's output; safe to read while it writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	if b == nil {
		return ""
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// waitExit waits for the handler process (started with its output in out)
// to exit by itself, failing the test if it fails or has not exited within
// a minute; extra (the simulator's output) goes into the failure message.
func waitExit(t *testing.T, cmd *exec.Cmd, out, extra *syncBuffer) {
	t.Helper()
	if err := waitAnyExit(t, cmd, 60*time.Second, out, extra); err != nil {
		t.Fatalf("tickwire run: %v\n%s\nsim:\n%s", err, out, extra)
	}
}

// waitAnyExit waits up to d for a process to exit and returns what Wait
// returned; one still running after d is killed and the test fails.
func waitAnyExit(t *testing.T, cmd *exec.Cmd, d time.Duration, out, extra *syncBuffer) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		cmd.Process.Kill()
		<-done // the output is complete only once the process is reaped
		t.Fatalf("%s did not exit within %v\n%s\nsim:\n%s", cmd.Args[1], d, out, extra)
		return nil
	}
}

// lineGroups returns line A's and line B's groups for a test: 239.o.x.1 and
// 239.o.y.2 on one random port, o telling the tests apart.
func lineGroups(o int) (a, b string) {
	port := 20000 + rand.IntN(20000)
	return fmt.Sprintf("239.%d.%d.1:%d", o, rand.IntN(250), port), fmt.Sprintf("239.%d.%d.2:%d", o, rand.IntN(250), port)
}

// lossyFeedYAML is the feed: section of the end-to-end tests' daemons: lines
// A and B on loopback and re-requests to rr, with timers tight enough for
// a simulator that loses packets on both lines.
func lossyFeedYAML(groupA, groupB, rr string) string {
	return fmt.Sprintf(`feed:
  interface: lo
  line_a: {group: %s}
  line_b: {group: %s}
  rerequest:
    server: %s
    fill_time: 3ms
    timeout: 40ms
    max_retries: 30
    max_age: 20s
`, groupA, groupB, rr)
}

// writeFile writes a test's configuration.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// wantInOutput fails the test for each line the handler's output lacks.
func wantInOutput(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, s := range want {
		if !strings.Contains(out, s) {
			t.Errorf("handler output lacks %q", s)
		}
	}
}

// TestLiveHandlerRecovers runs the exchange simulator and the handler as
// two processes on loopback multicast: 2% independent loss on each line
// (so some packets are lost on both), duplication, reordering, line B
// lagging, the re-request server down for the first part of the session,
// and, in the late-join case, the handler started after the session began.
// The handler's books on exit must equal the generator's, with no gap.
func TestLiveHandlerRecovers(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end with processes")
	}
	bin := binary(t)
	for _, late := range []bool{false, true} {
		t.Run(fmt.Sprintf("late=%v", late), func(t *testing.T) {
			dir := t.TempDir()
			groupA, groupB := lineGroups(77)
			rr := fmt.Sprintf("127.0.0.1:%d", freeUDPPort(t))
			want, got := filepath.Join(dir, "want.jsonl"), filepath.Join(dir, "got.jsonl")
			cfg := filepath.Join(dir, "tickwire.yaml")
			writeFile(t, cfg, lossyFeedYAML(groupA, groupB, rr)+fmt.Sprintf("books_on_exit: %s\n", got))
			simArgs := []string{"sim", "-messages", "60000", "-instruments", "60", "-seed", "7", "-books", want,
				"-group-a", groupA, "-group-b", groupB, "-rate", "150000",
				"-loss-a", "0.02", "-loss-b", "0.02", "-dup", "0.01", "-reorder", "0.01", "-lag-b", "3",
				"-rerequest", rr, "-rerequest-down", "150ms", "-linger", "5s"}
			runCmd := exec.Command(bin, "run", "-config", cfg, "-exit-on-end")
			var runOut, simOut syncBuffer
			runCmd.Stdout, runCmd.Stderr = &runOut, &runOut
			if !late {
				// Both lines cut over [20000, 21000) as well: only the
				// re-request server can fill that.
				simArgs = append(simArgs, "-cut-a", "19000:21000", "-cut-b", "20000:22000", "-start-delay", "400ms")
			} else {
				// Both lines cut over [40000, 41000): whenever the handler
				// joins, the re-request server must fill that (on a loaded
				// machine it may be up before the session starts).
				simArgs = append(simArgs, "-cut-a", "40000:41000", "-cut-b", "40000:41000")
			}
			simCmd := exec.Command(bin, simArgs...)
			simCmd.Stdout, simCmd.Stderr = &simOut, &simOut
			if late {
				// The session starts first; the handler joins ~150 ms in
				// and must recover everything before from the server.
				if err := simCmd.Start(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(150 * time.Millisecond)
				if err := runCmd.Start(); err != nil {
					t.Fatal(err)
				}
			} else {
				if err := runCmd.Start(); err != nil {
					t.Fatal(err)
				}
				if err := simCmd.Start(); err != nil {
					t.Fatal(err)
				}
			}
			waitExit(t, runCmd, &runOut, &simOut)
			simCmd.Process.Kill()
			simCmd.Wait()
			out := runOut.String()
			t.Logf("handler:\n%s\nsim:\n%s", out, simOut.String())
			sameBooks(t, got, want)
			wantInOutput(t, out, "gaps        0 ", "session     ended", "0 anomalies")
			if strings.Contains(out, "recovery    0 requests") {
				t.Errorf("no re-request was needed: the test did not exercise recovery")
			}
		})
	}
}

// TestLiveHandlerBadInput injects bad datagrams into line A's group while
// the simulator plays: garbage, another session, a packet whose blocks do
// not match its count, and a well-formed packet with a wild sequence number
// carrying an Add Order. Each is counted and reported; none reaches the
// book, whose final state equals the generator's.
func TestLiveHandlerBadInput(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end with processes")
	}
	bin := binary(t)
	dir := t.TempDir()
	groupA, groupB := lineGroups(79)
	want, got := filepath.Join(dir, "want.jsonl"), filepath.Join(dir, "got.jsonl")
	cfg := filepath.Join(dir, "tickwire.yaml")
	adminAddr := freeTCPAddrs(t, 1)[0]
	writeFile(t, cfg, fmt.Sprintf("feed:\n  interface: lo\n  line_a: {group: %s}\n  line_b: {group: %s}\nbooks_on_exit: %s\nadmin: {listen: %s}\n",
		groupA, groupB, got, adminAddr))
	run := exec.Command(bin, "run", "-config", cfg, "-exit-on-end")
	var runOut syncBuffer
	run.Stdout, run.Stderr = &runOut, &runOut
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	// A 2 s session: the daemon's figures, published once a second, show
	// it under way long before its end.
	sim := exec.Command(bin, "sim", "-messages", "40000", "-instruments", "30", "-seed", "9", "-books", want,
		"-group-a", groupA, "-group-b", groupB, "-rate", "20000", "-start-delay", "300ms")
	var simOut syncBuffer
	sim.Stdout, sim.Stderr = &simOut, &simOut
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}

	sender, err := mcast.NewSender("lo", 1, true)
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close()
	dst := netip.MustParseAddrPort(groupA)
	session := moldudp64.MakeSession("TICKWIRE01")
	add := (&itch.AddOrderMsg{Header: itch.Header{Locate: 1}, Ref: 1 << 40, Side: itch.Buy, Shares: 999, Stock: itch.Alpha8("AAPL"), Price: 1}).Append(nil)
	wild := moldudp64.AppendBlock(moldudp64.AppendHeader(nil, session, 1_000_000_000_000, 1), add)
	other := moldudp64.AppendBlock(moldudp64.AppendHeader(nil, moldudp64.MakeSession("OTHER00001"), 5, 1), add)
	// Says 4 blocks, has 1; ahead of the feed (a packet behind it would be
	// dropped as a duplicate on its header alone), within the jump bound.
	short := moldudp64.AppendBlock(moldudp64.AppendHeader(nil, session, 10_000_000, 4), add)
	waitMessages(t, adminAddr, 1) // the session is under way
	for i := 0; i < 5; i++ {
		for _, p := range [][]byte{[]byte("junk"), other, short, wild} {
			if err := sender.Send(dst, p); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}

	waitExit(t, run, &runOut, nil)
	sim.Wait()
	out := runOut.String()
	t.Logf("handler:\n%s", out)
	sameBooks(t, got, want)
	wantInOutput(t, out, "5 not MoldUDP64", "5 of other sessions", "malformed 5", "implausible sequence 5",
		"datagrams that are not MoldUDP64 in the last second", "implausible sequence number", "gaps        0 ")
}

// TestLiveHandlerSnapshot covers the GLIMPSE paths: a handler started
// mid-session with no re-request server builds its books from a snapshot
// and goes on from its sequence; and a handler whose recovery fails (the
// re-request server down throughout, both lines cut over the same range)
// marks its books stale and rebuilds them from a snapshot. Either way the
// final books equal the generator's.
func TestLiveHandlerSnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end with processes")
	}
	bin := binary(t)
	for _, c := range []struct {
		name      string
		late      bool
		extraSim  []string
		extraConf string
		wantLog   string
	}{
		{"late join", true, nil, "", "books built from a snapshot"},
		{"failed recovery", false,
			[]string{"-cut-a", "15000:17000", "-cut-b", "15500:17500", "-rerequest-down", "1h"},
			"  rerequest: {server: RR, fill_time: 2ms, timeout: 20ms, max_retries: 2, max_age: 300ms}\n",
			"books rebuilt from a snapshot"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			groupA, groupB := lineGroups(80)
			rr := fmt.Sprintf("127.0.0.1:%d", freeUDPPort(t))
			glimpse := freeTCPAddrs(t, 1)[0]
			want, got := filepath.Join(dir, "want.jsonl"), filepath.Join(dir, "got.jsonl")
			cfg := filepath.Join(dir, "tickwire.yaml")
			conf := fmt.Sprintf("feed:\n  interface: lo\n  line_a: {group: %s}\n  line_b: {group: %s}\n  snapshot: {server: %s, username: tw, password: secret}\n%sbooks_on_exit: %s\n",
				groupA, groupB, glimpse, strings.ReplaceAll(c.extraConf, "RR", rr), got)
			writeFile(t, cfg, conf)
			simArgs := append([]string{"sim", "-messages", "40000", "-instruments", "40", "-seed", "13", "-books", want,
				"-group-a", groupA, "-group-b", groupB, "-rate", "50000", "-glimpse", glimpse,
				"-soup-user", "tw", "-soup-password", "secret", "-rerequest", rr, "-linger", "3s"}, c.extraSim...)
			if !c.late {
				simArgs = append(simArgs, "-start-delay", "400ms")
			}
			sim := exec.Command(bin, simArgs...)
			var simOut, runOut syncBuffer
			sim.Stdout, sim.Stderr = &simOut, &simOut
			if err := sim.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { sim.Process.Kill(); sim.Wait() }()
			time.Sleep(map[bool]time.Duration{true: 300 * time.Millisecond, false: 100 * time.Millisecond}[c.late])
			run := exec.Command(bin, "run", "-config", cfg, "-exit-on-end")
			run.Stdout, run.Stderr = &runOut, &runOut
			if err := run.Start(); err != nil {
				t.Fatal(err)
			}
			waitExit(t, run, &runOut, &simOut)
			out := runOut.String()
			t.Logf("handler:\n%s", out)
			sameBooks(t, got, want)
			wantInOutput(t, out, c.wantLog, "session     ended", "0 anomalies")
		})
	}
}

// TestLiveHandlerSoupBinTCP takes the feed over SoupBinTCP from the
// simulator: from the start of the session, and as a late join from a
// GLIMPSE snapshot followed by a login at the snapshot's sequence. The
// books at the end of the session equal the generator's.
func TestLiveHandlerSoupBinTCP(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end with processes")
	}
	bin := binary(t)
	for _, withSnapshot := range []bool{false, true} {
		t.Run(fmt.Sprintf("snapshot=%v", withSnapshot), func(t *testing.T) {
			dir := t.TempDir()
			groupA, groupB := lineGroups(81)
			tcp := freeTCPAddrs(t, 2)
			soupAddr, glimpse := tcp[0], tcp[1]
			want, got := filepath.Join(dir, "want.jsonl"), filepath.Join(dir, "got.jsonl")
			conf := fmt.Sprintf("feed:\n  interface: lo\n  soupbintcp: {server: %s, username: tw, password: secret}\nbooks_on_exit: %s\n", soupAddr, got)
			if withSnapshot {
				conf = strings.Replace(conf, "\nbooks_on_exit", fmt.Sprintf("\n  snapshot: {server: %s, username: tw, password: secret}\nbooks_on_exit", glimpse), 1)
			}
			cfg := filepath.Join(dir, "tickwire.yaml")
			writeFile(t, cfg, conf)
			sim := exec.Command(bin, "sim", "-messages", "30000", "-instruments", "30", "-seed", "17", "-books", want,
				"-group-a", groupA, "-group-b", groupB,
				"-rate", "40000", "-soup", soupAddr, "-soup-rate", "40000", "-glimpse", glimpse,
				"-soup-user", "tw", "-soup-password", "secret", "-linger", "5s")
			var simOut, runOut syncBuffer
			sim.Stdout, sim.Stderr = &simOut, &simOut
			if err := sim.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { sim.Process.Kill(); sim.Wait() }()
			time.Sleep(300 * time.Millisecond) // servers up; with a snapshot, the session is under way
			run := exec.Command(bin, "run", "-config", cfg, "-exit-on-end")
			run.Stdout, run.Stderr = &runOut, &runOut
			if err := run.Start(); err != nil {
				t.Fatal(err)
			}
			waitExit(t, run, &runOut, &simOut)
			out := runOut.String()
			t.Logf("handler:\n%s", out)
			sameBooks(t, got, want)
			wantInOutput(t, out, "logged in to session", "end of session", "0 anomalies")
			if withSnapshot && !strings.Contains(out, "books built from a snapshot") {
				t.Errorf("no snapshot was used")
			}
		})
	}
	// A wrong password is refused, naming the reason.
	dir := t.TempDir()
	soupAddr := freeTCPAddrs(t, 1)[0]
	cfg := filepath.Join(dir, "tickwire.yaml")
	writeFile(t, cfg, fmt.Sprintf("feed:\n  interface: lo\n  soupbintcp: {server: %s, username: tw, password: wrong}\n", soupAddr))
	sim := exec.Command(bin, "sim", "-messages", "1000", "-group-a", "239.81.2.1:30001", "-group-b", "239.81.2.2:30001",
		"-soup", soupAddr, "-soup-user", "tw", "-soup-password", "secret", "-linger", "3s")
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sim.Process.Kill(); sim.Wait() }()
	time.Sleep(200 * time.Millisecond)
	out, err := exec.Command(bin, "run", "-config", cfg, "-exit-on-end").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "login rejected") {
		t.Errorf("wrong password: err %v, output\n%s", err, out)
	}
}

// TestLiveHandlerPlaysCapture: the simulator plays the bundled sample
// capture (a pcap of both lines, arbitrated as replay reads it) as
// recorded, 100,000 times faster than real time, and the handler's books
// equal the sample's expected books.
func TestLiveHandlerPlaysCapture(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end with processes")
	}
	bin := binary(t)
	dir := t.TempDir()
	groupA, groupB := lineGroups(83)
	got := filepath.Join(dir, "got.jsonl")
	cfg := filepath.Join(dir, "tickwire.yaml")
	writeFile(t, cfg, fmt.Sprintf("feed:\n  interface: lo\n  line_a: {group: %s}\n  line_b: {group: %s}\nbooks_on_exit: %s\n",
		groupA, groupB, got))
	run := exec.Command(bin, "run", "-config", cfg, "-exit-on-end")
	var runOut syncBuffer
	run.Stdout, run.Stderr = &runOut, &runOut
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	sim := exec.Command(bin, "sim", "-itch", "../../pcaps/sample.pcap", "-speed", "100000",
		"-group-a", groupA, "-group-b", groupB, "-start-delay", "300ms")
	if out, err := sim.CombinedOutput(); err != nil {
		run.Process.Kill()
		t.Fatalf("tickwire sim: %v\n%s", err, out)
	}
	waitExit(t, run, &runOut, nil)
	sameBooks(t, got, "../../pcaps/sample.books.jsonl")
}

// TestLiveHandlerSIGTERM: a handler without --exit-on-end runs until it is
// told to stop; on SIGTERM it writes its books and exits cleanly.
func TestLiveHandlerSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end with processes")
	}
	bin := binary(t)
	dir := t.TempDir()
	groupA, groupB := lineGroups(84)
	want, got := filepath.Join(dir, "want.jsonl"), filepath.Join(dir, "got.jsonl")
	cfg := filepath.Join(dir, "tickwire.yaml")
	writeFile(t, cfg, fmt.Sprintf("feed:\n  interface: lo\n  line_a: {group: %s}\n  line_b: {group: %s}\n", groupA, groupB))
	run := exec.Command(bin, "run", "-config", cfg, "-books-on-exit", got)
	var runOut syncBuffer
	run.Stdout, run.Stderr = &runOut, &runOut
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	sim := exec.Command(bin, "sim", "-messages", "20000", "-instruments", "20", "-seed", "23", "-books", want,
		"-group-a", groupA, "-group-b", groupB, "-rate", "50000", "-start-delay", "300ms")
	if out, err := sim.CombinedOutput(); err != nil {
		run.Process.Kill()
		t.Fatalf("tickwire sim: %v\n%s", err, out)
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := os.Stat(got); err == nil {
		t.Fatal("books written before the handler was told to stop")
	}
	if err := run.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := run.Wait(); err != nil {
		t.Fatalf("tickwire run after SIGTERM: %v\n%s", err, runOut.String())
	}
	sameBooks(t, got, want)
	if !strings.Contains(runOut.String(), "session     ended") {
		t.Errorf("summary does not report the end of session:\n%s", runOut.String())
	}
}

// waitMessages waits until the daemon whose admin listener is addr has
// applied at least n messages (its figures are published once a second).
func waitMessages(t *testing.T, addr string, n uint64) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/stats")
		if err != nil {
			continue
		}
		var f admin.Figures
		err = json.NewDecoder(resp.Body).Decode(&f)
		resp.Body.Close()
		if err == nil && f.Feed.Messages >= n {
			return
		}
	}
	t.Fatalf("the daemon at %s never applied %d messages", addr, n)
}
