package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/tickwire/tickwire/internal/admin"
)

// TestSoak runs the daemon for a simulated session at a sustained rate,
// with loss on both lines, re-requests and subscribers attached, and
// reports the collector's cycles, memory and the stages; the collector
// must not run during the session (nothing allocates in steady state),
// nothing may be lost for good, and every mirror equals the daemon's books.
// `make test` runs a short form; TICKWIRE_SOAK=5m (make soak) a long one.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end with processes")
	}
	length := 4 * time.Second
	if s := os.Getenv("TICKWIRE_SOAK"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("TICKWIRE_SOAK=%q: %v", s, err)
		}
		length = d
	}
	const rate = 50_000
	messages := int(length.Seconds() * rate)
	bin := binary(t)
	dir := t.TempDir()
	groupA, groupB := lineGroups(101)
	rr := fmt.Sprintf("127.0.0.1:%d", freeUDPPort(t))
	addrs := freeTCPAddrs(t, 2)
	listen, adminAddr := addrs[0], addrs[1]
	daemonBooks := filepath.Join(dir, "daemon.jsonl")
	cfg := filepath.Join(dir, "tickwire.yaml")
	writeFile(t, cfg, fmt.Sprintf(`feed:
  interface: lo
  line_a: {group: %s}
  line_b: {group: %s}
  rerequest: {server: %s, max_retries: 30}
book: {orders: 262144}
transport: {listen: %s}
admin: {listen: %s}
books_on_exit: %s
`, groupA, groupB, rr, listen, adminAddr, daemonBooks))
	runCmd := exec.Command(bin, "run", "-config", cfg, "-exit-on-end")
	var runOut, simOut syncBuffer
	runCmd.Stdout, runCmd.Stderr = &runOut, &runOut
	if err := runCmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer runCmd.Process.Kill()
	waitFor(t, &runOut, regexp.MustCompile(`(metrics on http://\S+)`))
	type sub struct {
		cmd   *exec.Cmd
		out   *syncBuffer
		books string
	}
	var subs []sub
	for i, depth := range []string{"levels", "orders", "top", "5"} {
		s := sub{out: &syncBuffer{}, books: filepath.Join(dir, fmt.Sprintf("sub%d.jsonl", i))}
		s.cmd = exec.Command(bin, "subscribe", "-addr", listen, "-depth", depth, "-exit-on-end", "-quiet", "-books-on-exit", s.books)
		s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
		if err := s.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer s.cmd.Process.Kill()
		subs = append(subs, s)
	}
	figures := func() admin.Figures {
		resp, err := http.Get("http://" + adminAddr + "/stats")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var f admin.Figures
		if err := json.NewDecoder(resp.Body).Decode(&f); err != nil {
			t.Fatal(err)
		}
		return f
	}
	time.Sleep(300 * time.Millisecond)
	before := figures().Runtime
	sim := exec.Command(bin, "sim", "-messages", strconv.Itoa(messages), "-instruments", "300", "-seed", "31",
		"-group-a", groupA, "-group-b", groupB, "-rate", strconv.Itoa(rate), "-loss-a", "0.01", "-loss-b", "0.01",
		"-rerequest", rr, "-linger", "2s", "-books", filepath.Join(dir, "want.jsonl"))
	sim.Stdout, sim.Stderr = &simOut, &simOut
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	defer sim.Process.Kill()
	// The figures at the end of the session, while the daemon drains its
	// subscribers.
	var after admin.Figures
	for deadline := time.Now().Add(length + 60*time.Second); ; {
		after = figures()
		if after.Feed.Ended {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the session did not end:\n%s\n%s", runOut.String(), simOut.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	waitExit(t, runCmd, &runOut, &simOut)
	for i, s := range subs {
		if err := waitAnyExit(t, s.cmd, 20*time.Second, s.out, nil); err != nil {
			t.Errorf("subscriber %d: %v\n%s", i, err, s.out.String())
		}
	}
	sameBooks(t, daemonBooks, filepath.Join(dir, "want.jsonl"))
	sameBooks(t, subs[0].books, daemonBooks)
	sameBooks(t, subs[1].books, daemonBooks)
	sameTop(t, subs[2].books, daemonBooks)
	var b []byte
	for _, s := range after.Stages {
		b = fmt.Appendf(b, "\n  %-16s n=%d p50 %.1f us p99 %.1f us max %.1f us", s.Name, s.Count, float64(s.P50)/1e3, float64(s.P99)/1e3, float64(s.MaxNs)/1e3)
	}
	t.Logf("%d messages at %d/s: GC cycles %d before the session, %d at its end; heap %.1f MiB; %.2f MiB allocated during the session; %d re-requests, %d recovered, %d gaps%s",
		messages, rate, before.GCCycles, after.Runtime.GCCycles, float64(after.Runtime.HeapBytes)/(1<<20),
		float64(after.Runtime.TotalAlloc-before.TotalAlloc)/(1<<20),
		after.Feed.Rerequests, after.Feed.Recovered, after.Feed.Gaps, b)
	if after.Feed.Gaps != 0 || after.Feed.Messages != uint64(messages) {
		t.Errorf("%d gaps, %d messages of %d", after.Feed.Gaps, after.Feed.Messages, messages)
	}
	if n := after.Runtime.GCCycles - before.GCCycles; n != 0 {
		t.Errorf("the collector ran %d times during the session", n)
	}
}
