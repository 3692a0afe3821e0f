package main

import (
	"bufio"
	"bytes"
	be "encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tickwire/tickwire/codec/glimpse"
	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/codec/moldudp64"
	"github.com/tickwire/tickwire/codec/soupbintcp"
	"github.com/tickwire/tickwire/feed/mcast"
)

// Regression tests, with real processes and sockets, for what an outside
// tester's hostile senders and servers did to `tickwire run` (the
// hardening issue). Each ends with the generator's books byte for byte.

// forgedAdd is an Add Order no true session carries: if it reached a book,
// the books would differ from the generator's.
var forgedAdd = (&itch.AddOrderMsg{Header: itch.Header{Locate: 1}, Ref: 1 << 40, Side: itch.Buy, Shares: 999,
	Stock: itch.Alpha8("AAPL"), Price: 1}).Append(nil)

var testSessionName = moldudp64.MakeSession("TICKWIRE01")

func forgedData(seq uint64) []byte {
	return moldudp64.AppendBlock(moldudp64.AppendHeader(nil, testSessionName, seq, 1), forgedAdd)
}

func forgedEnd(seq uint64) []byte {
	return moldudp64.AppendHeader(nil, testSessionName, seq, moldudp64.EndOfSession)
}

// startRun starts `tickwire run --exit-on-end` on config, its output in the
// returned buffer.
func startRun(t *testing.T, bin, cfg string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	run := exec.Command(bin, "run", "-config", cfg, "-exit-on-end")
	out := &syncBuffer{}
	run.Stdout, run.Stderr = out, out
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	return run, out
}

// startSim starts the simulator with args.
func startSim(t *testing.T, bin string, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	sim := exec.Command(bin, append([]string{"sim"}, args...)...)
	out := &syncBuffer{}
	sim.Stdout, sim.Stderr = out, out
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Process.Kill(); sim.Wait() })
	return sim, out
}

// TestHostileLines covers the tester's findings 1 to 3 and 10: while the
// session runs, line A carries an end of session with sequence 2^63, a
// data packet with sequence 2^63 (then on both lines, then twice on line
// A), and ends of session on line A alone below the next expected
// sequence. None ends the session, opens a gap or reaches the book; the
// handler exits at the session's true end, says every message was
// accounted for, and reports each fault with its line and source.
func TestHostileLines(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end with processes")
	}
	bin := binary(t)
	dir := t.TempDir()
	groupA, groupB := lineGroups(81)
	want, got := filepath.Join(dir, "want.jsonl"), filepath.Join(dir, "got.jsonl")
	cfg := filepath.Join(dir, "tickwire.yaml")
	writeFile(t, cfg, fmt.Sprintf("feed:\n  interface: lo\n  line_a: {group: %s}\n  line_b: {group: %s}\nbooks_on_exit: %s\n", groupA, groupB, got))
	run, runOut := startRun(t, bin, cfg)
	_, simOut := startSim(t, bin, "-messages", "20003", "-instruments", "30", "-seed", "31", "-books", want,
		"-group-a", groupA, "-group-b", groupB, "-rate", "20000", "-start-delay", "300ms")

	sender, err := mcast.NewSender("lo", 1, true)
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close()
	dstA, dstB := netip.MustParseAddrPort(groupA), netip.MustParseAddrPort(groupB)
	send := func(dst netip.AddrPort, p []byte) {
		if err := sender.Send(dst, p); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(700 * time.Millisecond) // the session is under way
	for i := 0; i < 10; i++ {
		send(dstA, forgedEnd(1<<63))
		send(dstA, forgedData(1<<63))
		send(dstB, forgedData(1<<63))
		send(dstA, forgedData(1<<63+1))
		send(dstA, forgedEnd(5))
		send(dstA, forgedEnd(uint64(4000+1000*i)))
		time.Sleep(50 * time.Millisecond)
	}
	waitExit(t, run, runOut, simOut)
	out := runOut.String()
	t.Logf("handler:\n%s", out)
	sameBooks(t, got, want)
	wantInOutput(t, out, "gaps        0 ", "session     ended at sequence 20004", "every message accounted for",
		"line A: ", "implausible sequence number", "latest from 127.0.0.1:", "sequence 9223372036854775808", "0 jumps taken")
}

// TestHostileRecoverySocket covers finding 4: datagrams sent to the
// handler's re-request socket from another port are refused, and, when
// the test may forge the server's source address (root, raw sockets),
// packets answering nothing requested are dropped as unsolicited; the
// feed, which loses packets on both lines, is still recovered exactly.
func TestHostileRecoverySocket(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end with processes")
	}
	bin := binary(t)
	dir := t.TempDir()
	groupA, groupB := lineGroups(83)
	rr := fmt.Sprintf("127.0.0.1:%d", freeUDPPort(t))
	want, got := filepath.Join(dir, "want.jsonl"), filepath.Join(dir, "got.jsonl")
	cfg := filepath.Join(dir, "tickwire.yaml")
	writeFile(t, cfg, fmt.Sprintf("feed:\n  interface: lo\n  line_a: {group: %s}\n  line_b: {group: %s}\n  rerequest: {server: %s}\nbooks_on_exit: %s\n",
		groupA, groupB, rr, got))
	run, runOut := startRun(t, bin, cfg)
	_, simOut := startSim(t, bin, "-messages", "30000", "-instruments", "30", "-seed", "37", "-books", want,
		"-group-a", groupA, "-group-b", groupB, "-rate", "30000", "-loss-a", "0.03", "-loss-b", "0.03",
		"-rerequest", rr, "-start-delay", "300ms")

	port := waitFor(t, runOut, regexp.MustCompile(`re-requests to \S+ from port (\d+)`))
	handler := netip.MustParseAddrPort("127.0.0.1:" + port)
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	spoof := rawSender(t)
	server := netip.MustParseAddrPort(rr)
	time.Sleep(500 * time.Millisecond)
	for i := 0; i < 10; i++ {
		for _, seq := range []uint64{uint64(1000 * i), 32_000, 1_000_000, 1 << 63} {
			c.WriteToUDPAddrPort(forgedData(max(seq, 1)), handler)
			if spoof != nil {
				spoof(server, handler, forgedData(max(seq+30_001, 1)))
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitExit(t, run, runOut, simOut)
	out := runOut.String()
	t.Logf("handler:\n%s", out)
	sameBooks(t, got, want)
	wantInOutput(t, out, "gaps        0 ", "every message accounted for", "datagrams not from the re-request server",
		"recovery socket: ", "40 not from the re-request server")
	if spoof != nil {
		// Each of the 40 forged answers is refused: as unsolicited, or, when
		// a loaded machine delays the session past the test's sleep, as a
		// packet before the session.
		wantInOutput(t, out, "re-request answers for nothing requested")
		unsolicited := countIn(t, out, `(\d+) unsolicited answers`)
		early := countIn(t, out, `(\d+) before the session`)
		if unsolicited+early != 40 {
			t.Errorf("forged answers: %d unsolicited + %d before the session, want 40", unsolicited, early)
		}
	}
}

// countIn returns the number re's first group matches in out.
func countIn(t *testing.T, out string, re string) int {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("output lacks %s", re)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// waitFor waits for re in a process's output and returns its first group.
func waitFor(t *testing.T, out *syncBuffer, re *regexp.Regexp) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
	}
	t.Fatalf("no %q in\n%s", re, out)
	return ""
}

// rawSender returns a function sending a UDP datagram with a forged
// source address, or nil when raw sockets are not allowed (not root).
func rawSender(t *testing.T) func(src, dst netip.AddrPort, payload []byte) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_RAW)
	if err != nil {
		t.Logf("no raw socket (%v): the forged-source half is skipped", err)
		return nil
	}
	t.Cleanup(func() { syscall.Close(fd) })
	return func(src, dst netip.AddrPort, payload []byte) {
		b := make([]byte, 28, 28+len(payload))
		b[0], b[8], b[9] = 0x45, 64, syscall.IPPROTO_UDP
		be.BigEndian.PutUint16(b[2:], uint16(28+len(payload)))
		s4, d4 := src.Addr().As4(), dst.Addr().As4()
		copy(b[12:], s4[:])
		copy(b[16:], d4[:])
		be.BigEndian.PutUint16(b[20:], src.Port())
		be.BigEndian.PutUint16(b[22:], dst.Port())
		be.BigEndian.PutUint16(b[24:], uint16(8+len(payload)))
		b = append(b, payload...)
		if err := syscall.Sendto(fd, b, 0, &syscall.SockaddrInet4{Addr: d4}); err != nil {
			t.Errorf("raw send: %v", err)
		}
	}
}

// serveLoopback listens on a loopback TCP port and runs handle on each
// connection accepted (the n-th from 0) until the test ends.
func serveLoopback(t *testing.T, handle func(c net.Conn, n int)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for n := 0; ; n++ {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go handle(c, n)
		}
	}()
	return l.Addr().String()
}

// hostileGlimpse serves SoupBinTCP logins on a loopback port: each login
// is accepted, then serve writes what it likes on the connection.
func hostileGlimpse(t *testing.T, serve func(w io.Writer)) string {
	return serveLoopback(t, func(c net.Conn, _ int) {
		defer c.Close()
		r := bufio.NewReader(c)
		var hdr [2]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		if _, err := io.CopyN(io.Discard, r, int64(be.BigEndian.Uint16(hdr[:]))); err != nil {
			return
		}
		w := bufio.NewWriter(c)
		w.Write(soupbintcp.LoginAccepted{Session: soupbintcp.Session("GLIMPSE"), Seq: 1}.Append(nil))
		serve(w)
		w.Flush()
		io.Copy(io.Discard, r) // until the client hangs up
	})
}

// TestHostileSnapshotSequence covers finding 5: a GLIMPSE server whose end
// of snapshot names sequence 18446744073709551615 (refused on its face by
// the snapshot loader's bound), or 2^39 (below that bound, but far beyond
// what the lines carry). A late join refuses either, naming the sequence,
// and exits 1 rather than drop the whole session as duplicates.
func TestHostileSnapshotSequence(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end with processes")
	}
	bin := binary(t)
	for _, c := range []struct {
		seq  uint64
		want string
	}{
		{math.MaxUint64, "implausible end-of-snapshot sequence number"},
		{1 << 39, "the lines carry sequence"},
	} {
		t.Run(strconv.FormatUint(c.seq, 10), func(t *testing.T) {
			dir := t.TempDir()
			groupA, groupB := lineGroups(85)
			addr := hostileGlimpse(t, func(w io.Writer) {
				w.Write(soupbintcp.AppendSequenced(nil, glimpse.AppendEndOfSnapshot(nil, c.seq)))
			})
			cfg := filepath.Join(dir, "tickwire.yaml")
			writeFile(t, cfg, fmt.Sprintf("feed:\n  interface: lo\n  line_a: {group: %s}\n  line_b: {group: %s}\n  snapshot: {server: %s}\n", groupA, groupB, addr))
			run, runOut := startRun(t, bin, cfg)
			startSim(t, bin, "-messages", "20000", "-instruments", "30", "-seed", "41", "-group-a", groupA, "-group-b", groupB, "-rate", "20000")
			if err := waitAnyExit(t, run, 30*time.Second, runOut, nil); err == nil {
				t.Fatalf("exit 0 with an implausible snapshot\n%s", runOut)
			}
			out := runOut.String()
			t.Logf("handler:\n%s", out)
			if !strings.Contains(out, strconv.FormatUint(c.seq, 10)) || !strings.Contains(out, c.want) {
				t.Errorf("the snapshot's sequence was not refused naming it (%q)", c.want)
			}
		})
	}
}

// TestHostileSnapshotSignal covers finding 9: SIGTERM while a GLIMPSE
// snapshot is being fetched (the server accepts the login and sends
// nothing more) shuts the handler down cleanly: a summary, the books
// written, exit 0.
func TestHostileSnapshotSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end with processes")
	}
	bin := binary(t)
	dir := t.TempDir()
	groupA, groupB := lineGroups(87)
	addr := hostileGlimpse(t, func(io.Writer) {})
	got := filepath.Join(dir, "got.jsonl")
	cfg := filepath.Join(dir, "tickwire.yaml")
	writeFile(t, cfg, fmt.Sprintf("feed:\n  interface: lo\n  line_a: {group: %s}\n  line_b: {group: %s}\n  snapshot: {server: %s, timeout: 60s}\nbooks_on_exit: %s\n",
		groupA, groupB, addr, got))
	run := exec.Command(bin, "run", "-config", cfg)
	var out syncBuffer
	run.Stdout, run.Stderr = &out, &out
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // past the wait for the lines: fetching
	run.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- run.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("tickwire run: %v\n%s", err, &out)
		}
	case <-time.After(10 * time.Second):
		run.Process.Kill()
		<-done
		t.Fatalf("no exit after SIGTERM\n%s", &out)
	}
	wantInOutput(t, out.String(), "books       STALE: shut down while a snapshot was being fetched", "session     not ended")
	if _, err := os.Stat(got); err != nil {
		t.Errorf("books not written: %v", err)
	}
}

// TestHostileJumbo covers finding 8: MoldUDP64 packets of up to 2,994
// bytes are received whole (the receive slots hold 9 KiB), and a datagram
// longer than the slots is reported as truncated, not as malformed.
func TestHostileJumbo(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end with processes")
	}
	bin := binary(t)
	dir := t.TempDir()
	groupA, groupB := lineGroups(89)
	want, got := filepath.Join(dir, "want.jsonl"), filepath.Join(dir, "got.jsonl")
	cfg := filepath.Join(dir, "tickwire.yaml")
	writeFile(t, cfg, fmt.Sprintf("feed:\n  interface: lo\n  line_a: {group: %s}\n  line_b: {group: %s}\nbooks_on_exit: %s\n", groupA, groupB, got))
	run, runOut := startRun(t, bin, cfg)
	_, simOut := startSim(t, bin, "-messages", "20000", "-instruments", "30", "-seed", "43", "-books", want,
		"-group-a", groupA, "-group-b", groupB, "-rate", "40000", "-payload", "2994", "-start-delay", "300ms")
	sender, err := mcast.NewSender("lo", 1, true)
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close()
	time.Sleep(500 * time.Millisecond)
	big := moldudp64.AppendHeader(nil, testSessionName, 5, 1)
	big = moldudp64.AppendBlock(big, make([]byte, 12_000))
	for i := 0; i < 3; i++ {
		if err := sender.Send(netip.MustParseAddrPort(groupA), big); err != nil {
			t.Fatal(err)
		}
	}
	waitExit(t, run, runOut, simOut)
	out := runOut.String()
	t.Logf("handler:\n%s", out)
	sameBooks(t, got, want)
	wantInOutput(t, out, "gaps        0 ", "every message accounted for", "3 datagrams truncated", "3 truncated")
	if m := regexp.MustCompile(`malformed (\d+)`).FindStringSubmatch(out); m != nil {
		if n, _ := strconv.Atoi(m[1]); n != 0 {
			t.Errorf("%d packets counted malformed", n)
		}
	}
}

// TestRunRefusesBadConfig runs the binary on configs the tester sent (item
// 11): each is refused before anything starts, exit 2, naming the key.
func TestRunRefusesBadConfig(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	const base = "feed:\n  interface: lo\n  line_a: {group: 239.10.0.1:30000}\n  line_b: {group: 239.10.0.2:30000}\n"
	for i, c := range []struct{ extra, key string }{
		{"  cpu: " + strconv.Itoa(runtime.NumCPU()) + "\n", "feed.cpu"},
		{"  datagram_size: 70000\n", "feed.datagram_size"},
		{"  snapshot: {max_bytes: 0}\n", "feed.snapshot.max_bytes"},
		{"  rerequest: {timeout: -1s}\n", "feed.rerequest.timeout"},
		{"  soupbintcp: {packet_timeout: 1ms}\n", "feed.soupbintcp.packet_timeout"},
		{"  colour: blue\n", "colour"},
	} {
		cfg := filepath.Join(dir, "c"+strconv.Itoa(i)+".yaml")
		if err := os.WriteFile(cfg, []byte(base+c.extra), 0o644); err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd := exec.Command(bin, "run", "-config", cfg)
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("%q: %v, want exit 2", c.extra, err)
		}
		if !strings.Contains(stderr.String(), c.key) {
			t.Errorf("%q: error does not name %s: %s", c.extra, c.key, stderr.String())
		}
	}
	cfg := filepath.Join(dir, "if.yaml")
	if err := os.WriteFile(cfg, []byte(strings.Replace(base, "interface: lo", "interface: nosuchif", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "run", "-config", cfg).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "feed.interface") || !strings.Contains(string(out), "nosuchif") {
		t.Errorf("interface nosuchif: %v: %s", err, out)
	}
}
