package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// jetStreamServer runs a nats-server with JetStream in the test process
// and returns its URL.
func jetStreamServer(t *testing.T) string {
	t.Helper()
	return jetStreamServerAt(t, t.TempDir(), server.RANDOM_PORT).ClientURL()
}

// jetStreamServerAt runs a nats-server with JetStream on port, storing in
// store, until the test ends or it is shut down.
func jetStreamServerAt(t *testing.T, store string, port int) *server.Server {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, JetStream: true,
		StoreDir: store, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	return ns
}

// natsDaemonConfig writes, at path, the configuration of a daemon on the
// two lines publishing into NATS at url (extra: more of it, first), and
// returns path.
func natsDaemonConfig(t *testing.T, path, extra, groupA, groupB, rr, url, books string) string {
	t.Helper()
	writeFile(t, path, fmt.Sprintf(`%s%snats:
  url: %s
  snapshot_every: 500ms
books_on_exit: %s
`, extra, lossyFeedYAML(groupA, groupB, rr), url, books))
	return path
}

// natsDaemon starts tickwire run -exit-on-end with configuration cfg and
// waits until it publishes into NATS.
func natsDaemon(t *testing.T, bin, cfg string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(bin, "run", "-config", cfg, "-exit-on-end")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	waitFor(t, out, regexp.MustCompile(`publishing on (tickwire)\.> into stream`))
	return cmd, out
}

// natsSubscriber returns a function starting a tickwire subscribe --nats
// that writes its books into dir/name.jsonl at the end of the session.
func natsSubscriber(t *testing.T, bin, dir, url string) func(name string, args ...string) (*exec.Cmd, *syncBuffer, string) {
	return func(name string, args ...string) (*exec.Cmd, *syncBuffer, string) {
		books := filepath.Join(dir, name+".jsonl")
		out := &syncBuffer{}
		cmd := exec.Command(bin, append([]string{"subscribe", "-nats", url, "-exit-on-end", "-books-on-exit", books}, args...)...)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill() })
		return cmd, out, books
	}
}

// natsSim starts the simulator of the NATS tests: 40,000 messages at
// 20,000 a second, with loss on both lines, writing its books to want.
func natsSim(t *testing.T, bin, groupA, groupB, rr, want string, out *syncBuffer) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "sim", "-messages", "40000", "-instruments", "40", "-seed", "19", "-books", want,
		"-group-a", groupA, "-group-b", groupB, "-rate", "20000",
		"-loss-a", "0.02", "-loss-b", "0.02", "-dup", "0.01", "-reorder", "0.01",
		"-rerequest", rr, "-linger", "5s", "-start-delay", "300ms")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd
}

// TestDaemonPublishesIntoNATS runs the simulator with loss, the daemon
// publishing into a JetStream server (embedded in the test, no TCP
// subscribers), a tickwire subscribe --nats from the start of the session
// and one started after its end, replaying the day from the stream (and a
// third from the bucket's final snapshots): each writes the daemon's
// books byte for byte. The publisher's counters are in /metrics.
func TestDaemonPublishesIntoNATS(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end with processes")
	}
	url := jetStreamServer(t)
	bin := binary(t)
	dir := t.TempDir()
	groupA, groupB := lineGroups(93)
	rr := fmt.Sprintf("127.0.0.1:%d", freeUDPPort(t))
	want, daemonBooks := filepath.Join(dir, "want.jsonl"), filepath.Join(dir, "daemon.jsonl")
	adminAddr := freeTCPAddrs(t, 1)[0]
	cfg := natsDaemonConfig(t, filepath.Join(dir, "tickwire.yaml"), fmt.Sprintf("admin: {listen: %s}\n", adminAddr), groupA, groupB, rr, url, daemonBooks)
	runCmd, runOut := natsDaemon(t, bin, cfg)
	var simOut syncBuffer
	subscribe := natsSubscriber(t, bin, dir, url)
	natsSim(t, bin, groupA, groupB, rr, want, &simOut)
	time.Sleep(800 * time.Millisecond) // the session under way: a session to join
	liveCmd, liveOut, liveBooks := subscribe("live")
	// The publisher's counters in /metrics, mid-session.
	published := regexp.MustCompile(`(?m)^tickwire_nats_published_total [1-9]`)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get("http://" + adminAddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if m := string(b); published.MatchString(m) && strings.Contains(m, "\ntickwire_nats_connected 1\n") {
			for _, name := range []string{"tickwire_nats_dropped_total", "tickwire_nats_pending", "tickwire_nats_snapshot_rounds_total"} {
				if !strings.Contains(m, "\n"+name+" ") {
					t.Errorf("/metrics has no %s", name)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics never showed the NATS publisher connected and publishing:\n%s", grepLines(string(b), "tickwire_nats_"))
		}
	}
	waitExit(t, runCmd, runOut, &simOut)
	t.Logf("daemon:\n%s", runOut.String())
	sameBooks(t, daemonBooks, want)
	if err := waitAnyExit(t, liveCmd, 30*time.Second, liveOut, nil); err != nil {
		t.Fatalf("live subscriber: %v\n%s", err, liveOut)
	}
	sameBooks(t, liveBooks, daemonBooks)
	for _, from := range []string{"start", ""} {
		args := []string{}
		if from != "" {
			args = append(args, "-from", from)
		}
		cmd, out, books := subscribe("after-"+from, args...)
		if err := waitAnyExit(t, cmd, 30*time.Second, out, nil); err != nil {
			t.Fatalf("subscriber after the end (--from %q): %v\n%s", from, err, out)
		}
		sameBooks(t, books, daemonBooks)
	}
}

// TestTwoDaemonsIntoNATS runs two daemons on the same lines (the
// simulator with loss on both), publishing into one JetStream stream, and
// kills one (SIGKILL) mid-session: the stream keeps one copy of what both
// published alike (the survivor counts the other's duplicates), and a
// subscriber from before the kill and one replaying the day after the end
// write the survivor's books, the simulator's, byte for byte.
func TestTwoDaemonsIntoNATS(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end with processes")
	}
	url := jetStreamServer(t)
	bin := binary(t)
	dir := t.TempDir()
	groupA, groupB := lineGroups(103)
	rr := fmt.Sprintf("127.0.0.1:%d", freeUDPPort(t))
	want := filepath.Join(dir, "want.jsonl")
	start := func(name string) (*exec.Cmd, *syncBuffer, string) {
		books := filepath.Join(dir, name+".jsonl")
		cmd, out := natsDaemon(t, bin, natsDaemonConfig(t, filepath.Join(dir, name+".yaml"), "", groupA, groupB, rr, url, books))
		return cmd, out, books
	}
	survivor, survivorOut, survivorBooks := start("survivor")
	killed, killedOut, _ := start("killed")
	subscribe := natsSubscriber(t, bin, dir, url)
	var simOut syncBuffer
	natsSim(t, bin, groupA, groupB, rr, want, &simOut)
	time.Sleep(800 * time.Millisecond)
	liveCmd, liveOut, liveBooks := subscribe("live")
	time.Sleep(400 * time.Millisecond) // about half the session
	killed.Process.Kill()
	killed.Wait()
	t.Logf("killed daemon:\n%s", killedOut)
	waitExit(t, survivor, survivorOut, &simOut)
	t.Logf("survivor:\n%s", survivorOut)
	sameBooks(t, survivorBooks, want)
	if m := regexp.MustCompile(`(\d+) duplicates of another handler's`).FindStringSubmatch(survivorOut.String()); m == nil || m[1] == "0" {
		t.Errorf("the survivor's publishes were never the other's duplicates (both publishing into one stream): %v", m)
	}
	if err := waitAnyExit(t, liveCmd, 30*time.Second, liveOut, nil); err != nil {
		t.Fatalf("live subscriber: %v\n%s", err, liveOut)
	}
	sameBooks(t, liveBooks, want)
	cmd, out, books := subscribe("after", "-from", "start")
	if err := waitAnyExit(t, cmd, 30*time.Second, out, nil); err != nil {
		t.Fatalf("subscriber after the end: %v\n%s", err, out)
	}
	sameBooks(t, books, want)
}

// TestDaemonNATSRestart stops the NATS server under a running daemon and
// starts it again (same port, same storage) mid-session: the daemon's
// books stay exact, it counts what it could not publish and repairs it,
// and a subscriber replaying the day after the end writes its books.
func TestDaemonNATSRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end with processes")
	}
	_, p, _ := net.SplitHostPort(freeTCPAddrs(t, 1)[0])
	port, _ := strconv.Atoi(p)
	store := t.TempDir()
	ns := jetStreamServerAt(t, store, port)
	url := ns.ClientURL()
	bin := binary(t)
	dir := t.TempDir()
	groupA, groupB := lineGroups(105)
	rr := fmt.Sprintf("127.0.0.1:%d", freeUDPPort(t))
	want, daemonBooks := filepath.Join(dir, "want.jsonl"), filepath.Join(dir, "daemon.jsonl")
	runCmd, runOut := natsDaemon(t, bin, natsDaemonConfig(t, filepath.Join(dir, "tickwire.yaml"), "", groupA, groupB, rr, url, daemonBooks))
	var simOut syncBuffer
	natsSim(t, bin, groupA, groupB, rr, want, &simOut)
	time.Sleep(900 * time.Millisecond) // under way
	ns.Shutdown()
	ns.WaitForShutdown()
	time.Sleep(400 * time.Millisecond) // NATS down
	jetStreamServerAt(t, store, port)
	waitExit(t, runCmd, runOut, &simOut)
	t.Logf("daemon:\n%s", runOut)
	sameBooks(t, daemonBooks, want)
	m := regexp.MustCompile(`nats: published \d+ messages \(\d+ bytes\), (\d+) dropped, (\d+) failed, (\d+) instruments repaired`).FindStringSubmatch(runOut.String())
	if m == nil || m[1]+m[2] == "00" || m[3] == "0" {
		t.Errorf("NATS down under the daemon: want frames dropped or failed, and instruments repaired: %v", m)
	}
	cmd, out, books := natsSubscriber(t, bin, dir, url)("after", "-from", "start")
	if err := waitAnyExit(t, cmd, 30*time.Second, out, nil); err != nil {
		t.Fatalf("subscriber after the end: %v\n%s", err, out)
	}
	sameBooks(t, books, want)
}
