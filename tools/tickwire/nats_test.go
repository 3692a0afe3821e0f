package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// TestDaemonPublishesIntoNATS runs the simulator with loss, the daemon
// publishing into a JetStream server (embedded in the test, no TCP
// subscribers), a tickwire subscribe --nats from the start of the session
// and one started after its end, replaying the day from the stream (and a
// third from the bucket's final snapshots): each writes the daemon's
// books byte for byte.
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
	writeFile(t, cfg, fmt.Sprintf(`feed:
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
`, groupA, groupB, rr, url, daemonBooks))
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
