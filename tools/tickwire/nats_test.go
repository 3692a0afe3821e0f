package main

import (
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
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
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true,
		StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	url := ns.ClientURL()
	bin := binary(t)
	dir := t.TempDir()
	groupA, groupB := lineGroups(93)
	rr := fmt.Sprintf("127.0.0.1:%d", freeUDPPort(t))
	want, daemonBooks := filepath.Join(dir, "want.jsonl"), filepath.Join(dir, "daemon.jsonl")
	cfg := filepath.Join(dir, "tickwire.yaml")
	adminAddr := freeTCPAddrs(t, 1)[0]
	writeFile(t, cfg, fmt.Sprintf(`admin: {listen: %s}
feed:
  interface: lo
  line_a: {group: %s}
  line_b: {group: %s}
  rerequest:
    server: %s
    fill_time: 3ms
    timeout: 40ms
    max_retries: 30
    max_age: 20s
nats:
  url: %s
  snapshot_every: 500ms
books_on_exit: %s
`, adminAddr, groupA, groupB, rr, url, daemonBooks))
	runCmd := exec.Command(bin, "run", "-config", cfg, "-exit-on-end")
	var runOut, simOut syncBuffer
	runCmd.Stdout, runCmd.Stderr = &runOut, &runOut
	if err := runCmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer runCmd.Process.Kill()
	waitFor(t, &runOut, regexp.MustCompile(`publishing on (tickwire)\.> into stream`))

	subscribe := func(name string, args ...string) (*exec.Cmd, *syncBuffer, string) {
		books := filepath.Join(dir, name+".jsonl")
		out := &syncBuffer{}
		cmd := exec.Command(bin, append([]string{"subscribe", "-nats", url, "-exit-on-end", "-books-on-exit", books}, args...)...)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, out, books
	}
	simCmd := exec.Command(bin, "sim", "-messages", "40000", "-instruments", "40", "-seed", "19", "-books", want,
		"-group-a", groupA, "-group-b", groupB, "-rate", "20000",
		"-loss-a", "0.02", "-loss-b", "0.02", "-dup", "0.01", "-reorder", "0.01",
		"-rerequest", rr, "-linger", "5s", "-start-delay", "300ms")
	simCmd.Stdout, simCmd.Stderr = &simOut, &simOut
	if err := simCmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer simCmd.Process.Kill()
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
	waitExit(t, runCmd, &runOut, &simOut)
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
