package main

import (
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheck: tickwire check passes the example configuration, and fails,
// exit 1 naming the key, on a bad value, an unknown key and a port already
// taken; the file is named once.
func TestCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end with processes")
	}
	bin := binary(t)
	dir := t.TempDir()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	groupA, groupB := lineGroups(97)
	lines := fmt.Sprintf("feed:\n  interface: lo\n  line_a: {group: %s}\n  line_b: {group: %s}\n", groupA, groupB)
	for _, tc := range []struct {
		name, yaml string
		code       int
		want       string
	}{
		{"example", "", 0, "ok"},
		{"port taken", lines + fmt.Sprintf("transport: {listen: %s}\n", taken.Addr()), 1, "transport.listen"},
		{"admin port taken", lines + fmt.Sprintf("admin: {listen: %s}\n", taken.Addr()), 1, "admin.listen"},
		{"bad value", lines + "  recv_buffer: -5\n", 1, "feed.recv_buffer"},
		{"no interface", strings.Replace(lines, "interface: lo", "interface: nosuch0", 1), 1, "feed.interface"},
		{"unknown key", lines + "  nosuch: 3\n", 1, "config: invalid feed.nosuch (line 5): unknown key"},
	} {
		path := "../../tickwire.example.yaml"
		if tc.yaml != "" {
			path = filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".yaml")
			writeFile(t, path, tc.yaml)
		}
		out, err := exec.Command(bin, "check", "-config", path).CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tc.code || !strings.Contains(string(out), tc.want) {
			t.Errorf("%s: exit %d, want %d naming %s:\n%s", tc.name, code, tc.code, tc.want, out)
		}
		if n := strings.Count(string(out), path); n != 1 {
			t.Errorf("%s: the file is named %d times, want once:\n%s", tc.name, n, out)
		}
	}
}
