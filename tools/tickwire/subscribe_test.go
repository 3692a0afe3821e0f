package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tickwire/tickwire/book"
	"github.com/tickwire/tickwire/internal/testcert"
)

// TestSubscribersMirrorTheDaemon runs the simulator with loss on both lines
// and its re-request server, the daemon serving subscribers, and several
// tickwire subscribe processes: from the start by levels, by orders and at
// the top of book, one joining half-way, one killed and restarted
// mid-session, and one with a wrong token. Every mirror's books equal the
// daemon's and the session's, byte for byte; the wrong token exits 1 at
// once naming the reason. The daemon spreads its books over two writers
// (book.shards: 2): the other end-to-end tests run the default, one.
func TestSubscribersMirrorTheDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end with processes")
	}
	bin := binary(t)
	dir := t.TempDir()
	groupA, groupB := lineGroups(91)
	rr := fmt.Sprintf("127.0.0.1:%d", freeUDPPort(t))
	listen := freeTCPAddrs(t, 1)[0]
	want, daemonBooks := filepath.Join(dir, "want.jsonl"), filepath.Join(dir, "daemon.jsonl")
	cfg := filepath.Join(dir, "tickwire.yaml")
	writeFile(t, cfg, lossyFeedYAML(groupA, groupB, rr)+fmt.Sprintf(`book: {shards: 2}
transport:
  listen: %s
  token: letmein
books_on_exit: %s
`, listen, daemonBooks))
	runCmd := exec.Command(bin, "run", "-config", cfg, "-exit-on-end")
	var runOut, simOut syncBuffer
	runCmd.Stdout, runCmd.Stderr = &runOut, &runOut
	if err := runCmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer runCmd.Process.Kill()
	waitFor(t, &runOut, regexp.MustCompile(`serving subscribers on (\S+)`))

	type sub struct {
		name  string
		cmd   *exec.Cmd
		out   *syncBuffer
		books string
	}
	start := func(name string, args ...string) *sub {
		s := &sub{name: name, out: &syncBuffer{}, books: filepath.Join(dir, name+".jsonl")}
		s.cmd = exec.Command(bin, append([]string{"subscribe", "-addr", listen, "-token", "letmein", "-exit-on-end", "-books-on-exit", s.books}, args...)...)
		s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
		if err := s.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return s
	}
	subs := []*sub{start("levels"), start("orders", "-depth", "orders"), start("top", "-depth", "top")}
	restarted := start("restarted")

	wrong := exec.Command(bin, "subscribe", "-addr", listen, "-token", "guess")
	out, err := wrong.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "wrong token") {
		t.Fatalf("wrong token: %v\n%s", err, out)
	}

	simCmd := exec.Command(bin, "sim", "-messages", "60000", "-instruments", "60", "-seed", "9", "-books", want,
		"-group-a", groupA, "-group-b", groupB, "-rate", "20000",
		"-loss-a", "0.02", "-loss-b", "0.02", "-dup", "0.01", "-reorder", "0.01",
		"-rerequest", rr, "-linger", "5s", "-start-delay", "300ms")
	simCmd.Stdout, simCmd.Stderr = &simOut, &simOut
	if err := simCmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer simCmd.Process.Kill()
	time.Sleep(1300 * time.Millisecond) // about half of the 3 s session
	restarted.cmd.Process.Signal(syscall.SIGKILL)
	restarted.cmd.Wait()
	subs = append(subs, start("joining"), start("restarted"))

	waitExit(t, runCmd, &runOut, &simOut)
	for _, s := range subs {
		if err := waitAnyExit(t, s.cmd, 20*time.Second, s.out, nil); err != nil {
			t.Errorf("subscriber %s: %v\n%s", s.name, err, s.out)
			continue
		}
		t.Logf("subscriber %s:\n%s", s.name, s.out)
		if s.name == "top" {
			sameTop(t, s.books, daemonBooks)
			continue
		}
		sameBooks(t, s.books, daemonBooks)
	}
	sameBooks(t, daemonBooks, want)
	t.Logf("daemon:\n%s", runOut.String())
}

// sameTop checks that a top-of-book mirror's books are the daemon's books
// cut to the best level of each side.
func sameTop(t *testing.T, got, full string) {
	t.Helper()
	g, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	for _, line := range bytes.Split(bytes.TrimSpace(f), []byte("\n")) {
		var v struct {
			Locate  uint16      `json:"locate"`
			Symbol  string      `json:"symbol"`
			Bids    [][3]uint64 `json:"bids"`
			Asks    [][3]uint64 `json:"asks"`
			Suspect bool        `json:"suspect"`
		}
		if err := json.Unmarshal(line, &v); err != nil {
			t.Fatal(err)
		}
		levels := func(ls [][3]uint64) []book.Level {
			var out []book.Level
			for _, l := range ls[:min(1, len(ls))] {
				out = append(out, book.Level{Price: uint32(l[0]), Shares: l[1], Orders: uint32(l[2])})
			}
			return out
		}
		want = book.AppendBooksLine(want, v.Locate, []byte(v.Symbol), levels(v.Bids), levels(v.Asks), v.Suspect)
	}
	if !bytes.Equal(g, want) {
		t.Errorf("top-of-book mirror differs from the daemon's best levels:\n%s", g[:min(len(g), 400)])
	}
}

// TestSubscribeTLS: the daemon serves TLS (transport.tls) on a port of its
// own; `tickwire subscribe --ca` mirrors its books through it, and a
// subscriber that does not trust its authority exits 1 at once, naming the
// fault.
func TestSubscribeTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end with processes")
	}
	bin := binary(t)
	dir := t.TempDir()
	certs, err := testcert.New()
	if err != nil {
		t.Fatal(err)
	}
	ca, cert, key, err := certs.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	groupA, groupB := lineGroups(93)
	listen := freeTCPAddrs(t, 1)[0]
	want, daemonBooks, mirrored := filepath.Join(dir, "want.jsonl"), filepath.Join(dir, "daemon.jsonl"), filepath.Join(dir, "mirror.jsonl")
	cfg := filepath.Join(dir, "tickwire.yaml")
	writeFile(t, cfg, fmt.Sprintf(`feed:
  interface: lo
  line_a: {group: %s}
  line_b: {group: %s}
transport:
  listen: %s
  tls: {cert: %s, key: %s}
books_on_exit: %s
`, groupA, groupB, listen, cert, key, daemonBooks))
	runCmd := exec.Command(bin, "run", "-config", cfg, "-exit-on-end")
	var runOut, simOut, subOut syncBuffer
	runCmd.Stdout, runCmd.Stderr = &runOut, &runOut
	if err := runCmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer runCmd.Process.Kill()
	waitFor(t, &runOut, regexp.MustCompile(`serving subscribers on (\S+)`))

	untrusted := exec.Command(bin, "subscribe", "-addr", listen, "-tls")
	out, err := untrusted.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "certificate") {
		t.Fatalf("a subscriber not trusting the authority: %v\n%s", err, out)
	}
	sub := exec.Command(bin, "subscribe", "-addr", listen, "-ca", ca, "-depth", "orders", "-exit-on-end", "-books-on-exit", mirrored)
	sub.Stdout, sub.Stderr = &subOut, &subOut
	if err := sub.Start(); err != nil {
		t.Fatal(err)
	}
	defer sub.Process.Kill()
	waitFor(t, &subOut, regexp.MustCompile(`(subscribed to all)`))
	time.Sleep(100 * time.Millisecond) // the subscription taken
	simCmd := exec.Command(bin, "sim", "-messages", "20000", "-instruments", "30", "-seed", "19", "-books", want,
		"-group-a", groupA, "-group-b", groupB, "-rate", "40000", "-linger", "1s")
	simCmd.Stdout, simCmd.Stderr = &simOut, &simOut
	if err := simCmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer simCmd.Process.Kill()
	waitExit(t, runCmd, &runOut, &simOut)
	if err := waitAnyExit(t, sub, 20*time.Second, &subOut, nil); err != nil {
		t.Fatalf("subscriber: %v\n%s", err, subOut.String())
	}
	sameBooks(t, mirrored, daemonBooks)
	sameBooks(t, daemonBooks, want)
}
