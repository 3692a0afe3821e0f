package main

import (
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAdmin runs the daemon with its admin listeners and a subscriber
// server, plays a session with loss and a window lost on both lines (a
// re-request every run, not by chance) through the simulator, and checks,
// once the session has ended and while the daemon is still up: /metrics
// has every metric the operator's section names, messages_total equal to
// the messages applied; `tickwire stats` prints the stage table; the
// profiles are on their own listener and not on the metrics one; SIGTERM
// then ends the daemon with exit 0.
func TestAdmin(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end with processes")
	}
	bin := binary(t)
	dir := t.TempDir()
	groupA, groupB := lineGroups(95)
	rr := fmt.Sprintf("127.0.0.1:%d", freeUDPPort(t))
	addrs := freeTCPAddrs(t, 3)
	listen, adminAddr, pprofAddr := addrs[0], addrs[1], addrs[2]
	cfg := filepath.Join(dir, "tickwire.yaml")
	writeFile(t, cfg, fmt.Sprintf(`feed:
  interface: lo
  line_a: {group: %s}
  line_b: {group: %s}
  rerequest: {server: %s}
transport: {listen: %s}
admin: {listen: %s, pprof: %s}
`, groupA, groupB, rr, listen, adminAddr, pprofAddr))
	runCmd := exec.Command(bin, "run", "-config", cfg)
	var runOut, simOut syncBuffer
	runCmd.Stdout, runCmd.Stderr = &runOut, &runOut
	if err := runCmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer runCmd.Process.Kill()
	waitFor(t, &runOut, regexp.MustCompile(`(profiles on http://\S+)`))
	sub := exec.Command(bin, "subscribe", "-addr", listen, "-exit-on-end", "-quiet")
	if err := sub.Start(); err != nil {
		t.Fatal(err)
	}
	defer sub.Process.Kill()
	time.Sleep(300 * time.Millisecond)
	sim := exec.Command(bin, "sim", "-messages", "30000", "-instruments", "30", "-seed", "23", "-group-a", groupA, "-group-b", groupB,
		"-rate", "30000", "-loss-a", "0.02", "-loss-b", "0.02", "-cut-a", "12000:12200", "-cut-b", "12000:12200", "-rerequest", rr, "-linger", "1s")
	sim.Stdout, sim.Stderr = &simOut, &simOut
	if err := sim.Run(); err != nil {
		t.Fatalf("sim: %v\n%s", err, simOut.String())
	}
	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// The figures are published once a second.
	var metrics string
	for deadline := time.Now().Add(10 * time.Second); ; {
		_, metrics = get("http://" + adminAddr + "/metrics")
		if strings.Contains(metrics, "tickwire_messages_total 30000") && strings.Contains(metrics, `tickwire_session_ended 1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("messages_total never reached 30000:\n%s\ndaemon:\n%s", metrics, runOut.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, name := range []string{`tickwire_packets_total{line="A"}`, `tickwire_packets_total{line="B"}`, "tickwire_duplicates_total",
		"tickwire_gaps_total 0", "tickwire_gap_messages_total", "tickwire_rerequests_total", "tickwire_recovered_messages_total",
		`tickwire_kernel_drops_total{line="A"}`, "tickwire_snapshots_total", "tickwire_book_anomalies_total", "tickwire_books_stale 0",
		"tickwire_subscribers", "tickwire_conflations_total", "tickwire_subscriber_buffered_bytes", `tickwire_client_disconnects_total{reason="slow_consumer"}`,
		`tickwire_stage_latency_seconds_bucket{stage="receive_to_book"`, `tickwire_stage_latency_seconds_count{stage="publish"}`,
		"go_gc_duration_seconds", "process_resident_memory_bytes"} {
		if !strings.Contains(metrics, name) {
			t.Errorf("/metrics has no %s", name)
		}
	}
	if regexp.MustCompile(`tickwire_rerequests_total 0\b`).MatchString(metrics) {
		t.Errorf("no re-request counted with a window cut on both lines")
	}
	out, err := exec.Command(bin, "stats", "-admin", adminAddr).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "messages    30000 applied") || !regexp.MustCompile(`(?m)^end_to_end +\d+`).Match(out) {
		t.Errorf("tickwire stats: %v\n%s", err, out)
	}
	if code, body := get("http://" + pprofAddr + "/debug/pprof/"); code != 200 || !strings.Contains(body, "goroutine") {
		t.Errorf("profiles: %d", code)
	}
	if code, _ := get("http://" + adminAddr + "/debug/pprof/"); code != 404 {
		t.Errorf("the metrics listener serves profiles too (%d)", code)
	}
	req, _ := http.NewRequest(http.MethodPut, "http://"+adminAddr+"/loglevel?level=warn", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("PUT /loglevel: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if code, body := get("http://" + adminAddr + "/loglevel"); code != 200 || strings.TrimSpace(body) != "warn" {
		t.Errorf("GET /loglevel: %d %q", code, body)
	}
	runCmd.Process.Signal(syscall.SIGTERM)
	if err := waitAnyExit(t, runCmd, 10*time.Second, &runOut, nil); err != nil {
		t.Fatalf("after SIGTERM: %v\n%s", err, runOut.String())
	}
	if !strings.Contains(runOut.String(), "end_to_end") {
		t.Errorf("the summary has no stage table:\n%s", runOut.String())
	}
}
