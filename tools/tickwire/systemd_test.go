package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSystemdNotify runs the daemon as systemd would with Type=notify and
// WatchdogSec: it says READY=1 once running, feeds the watchdog while its
// receive loop runs, and says STOPPING=1 on SIGTERM, then exits 0.
func TestSystemdNotify(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end with processes")
	}
	bin := binary(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	groupA, groupB := lineGroups(99)
	cfg := filepath.Join(dir, "tickwire.yaml")
	writeFile(t, cfg, fmt.Sprintf("feed:\n  interface: lo\n  line_a: {group: %s}\n  line_b: {group: %s}\n", groupA, groupB))
	cmd := exec.Command(bin, "run", "-config", cfg)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock, "WATCHDOG_USEC=600000")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	got := map[string]int{}
	buf := make([]byte, 4096)
	deadline := time.Now().Add(15 * time.Second)
	for got["READY=1"] == 0 || got["WATCHDOG=1"] < 2 {
		conn.SetReadDeadline(deadline)
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("notifications %v: %v\n%s", got, err, out.String())
		}
		for _, l := range strings.Split(string(buf[:n]), "\n") {
			got[l]++
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for got["STOPPING=1"] == 0 {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no STOPPING=1 after SIGTERM: %v %v\n%s", got, err, out.String())
		}
		got[strings.TrimSpace(string(buf[:n]))]++
	}
	if err := waitAnyExit(t, cmd, 10*time.Second, &out, nil); err != nil {
		t.Fatalf("after SIGTERM: %v\n%s", err, out.String())
	}
	if !regexp.MustCompile(`session +not ended`).MatchString(out.String()) {
		t.Errorf("no summary after SIGTERM:\n%s", out.String())
	}
}
