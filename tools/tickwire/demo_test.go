package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemo runs `tickwire demo` as the quick start does, but without the
// ladder (no terminal) and faster: the bundled capture through the
// simulator with loss on both lines, re-requests, the daemon and a
// subscriber, ending exit 0 with both checks passed.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end with processes")
	}
	cmd := exec.Command(binary(t), "demo", "-rate", "50000", "-loss", "0.05")
	cmd.Dir = filepath.Join("..", "..") // the repository's root, where the quick start runs
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tickwire demo: %v\n%s", err, out)
	}
	for _, want := range []string{
		"every message accounted for",
		"the subscriber's mirror equals the daemon's books (100 instruments",
		"the daemon's books equal pcaps/sample.books.jsonl",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("no %q in the output:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "re-requests 0,") {
		t.Errorf("nothing was re-requested: the demo shows no recovery\n%s", out)
	}
}
