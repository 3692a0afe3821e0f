package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// genRun runs `tickwire gen` in-process and fails the test on error.
func genRun(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(append([]string{"gen"}, args...), &out, &errb); code != 0 {
		t.Fatalf("tickwire gen %v: exit %d: %s", args, code, errb.String())
	}
	return out.String() + errb.String()
}

// replayRun runs `tickwire replay` in-process and returns its exit code and output.
func replayRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"replay"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// impaired is the line impairment every capture case is generated with:
// independent loss, duplication and reordering on both lines, and noise.
var impaired = []string{"-loss-a", "0.03", "-loss-b", "0.03", "-dup", "0.02", "-reorder", "0.02", "-noise", "-noise-rate", "0.05"}

// TestReplayEveryCaptureForm generates one session per capture form the
// generator writes, replays it, and requires the books to equal the ones the
// generator computed from its order flow, byte for byte.
func TestReplayEveryCaptureForm(t *testing.T) {
	cases := []struct {
		name string
		args []string
	}{
		{"pcap-ether", []string{"-format", "pcap", "-link", "ether"}},
		{"pcap-ns-vlan", []string{"-format", "pcap-ns", "-link", "vlan"}},
		{"pcap-be-qinq", []string{"-format", "pcap-be", "-link", "qinq"}},
		{"pcap-be-ns-sll", []string{"-format", "pcap-be-ns", "-link", "sll"}},
		{"pcap-sll2", []string{"-format", "pcap", "-link", "sll2"}},
		{"pcap-raw", []string{"-format", "pcap", "-link", "raw"}},
		{"pcap-ipv4-options-fcs", []string{"-format", "pcap", "-link", "ether", "-ip-options", "-fcs"}},
		{"pcap-ipv6", []string{"-format", "pcap", "-link", "ether", "-ipv6", "-ip-options"}},
		{"pcapng-us-sections", []string{"-format", "pcapng", "-link", "vlan", "-tsresol", "us", "-sections", "500"}},
		{"pcapng-be-bin30-junk", []string{"-format", "pcapng-be", "-link", "raw", "-tsresol", "bin30", "-junk"}},
		{"pcapng-pb-ipv4", []string{"-format", "pcapng", "-link", "ipv4", "-blocks", "pb"}},
		{"pcapng-mixed-sll2", []string{"-format", "pcapng", "-link", "sll2", "-blocks", "mixed", "-junk"}},
	}
	dir := t.TempDir()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			capture := filepath.Join(dir, c.name+".cap")
			want := filepath.Join(dir, c.name+".want.jsonl")
			got := filepath.Join(dir, c.name+".got.jsonl")
			args := append([]string{"-messages", "20000", "-instruments", "80", "-seed", strconv.Itoa(i + 1),
				"-o", capture, "-books", want}, impaired...)
			genRun(t, append(args, c.args...)...)
			code, out, errs := replayRun(t, "-books", got, capture)
			if code != 0 {
				t.Fatalf("replay exit %d: %s\n%s", code, errs, out)
			}
			sameBooks(t, got, want)
			for _, s := range []string{"messages    20000 ", "gaps        0 ", "0 anomalies"} {
				if !strings.Contains(out, s) {
					t.Errorf("summary lacks %q:\n%s", s, out)
				}
			}
		})
	}
}

func sameBooks(t *testing.T, got, want string) {
	t.Helper()
	g, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	if len(w) == 0 {
		t.Fatal("generator wrote no books")
	}
	if !bytes.Equal(g, w) {
		gl, wl := strings.Split(string(g), "\n"), strings.Split(string(w), "\n")
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("books differ at line %d:\n got  %.300s\n want %.300s", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("books differ: %d lines, want %d", len(gl), len(wl))
	}
}

// TestReplayTwoHosts merges line A and line B captured as two files.
func TestReplayTwoHosts(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.pcapng"), filepath.Join(dir, "b.pcapng")
	want, got := filepath.Join(dir, "want.jsonl"), filepath.Join(dir, "got.jsonl")
	genRun(t, append([]string{"-messages", "30000", "-instruments", "60", "-seed", "11", "-format", "pcapng",
		"-o", a, "-out-b", b, "-books", want}, impaired...)...)
	code, out, errs := replayRun(t, "-books", got, a, b)
	if code != 0 {
		t.Fatalf("replay exit %d: %s\n%s", code, errs, out)
	}
	sameBooks(t, got, want)
	if !strings.Contains(out, "on 2 line(s)") {
		t.Errorf("expected two lines in the summary:\n%s", out)
	}
	// Line A alone loses what only line B carried: the replay must stop at a gap.
	code, _, errs = replayRun(t, a)
	if code != 1 || !strings.Contains(errs, "gap:") {
		t.Errorf("line A alone: exit %d, stderr %q; want a gap error", code, errs)
	}
}

// TestReplayRawITCH replays the same session as a raw BinaryFILE, plain and gzip.
func TestReplayRawITCH(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"itch", "itch.gz"} {
		raw := filepath.Join(dir, "day."+f)
		want, got := raw+".want.jsonl", raw+".got.jsonl"
		genRun(t, "-messages", "25000", "-instruments", "50", "-seed", "5", "-format", f, "-o", raw, "-books", want)
		code, out, errs := replayRun(t, "-books", got, raw)
		if code != 0 {
			t.Fatalf("%s: replay exit %d: %s\n%s", f, code, errs, out)
		}
		sameBooks(t, got, want)
	}
}

// TestReplayGaps loses packets on both lines: the replay stops at the first
// missing sequence number unless --allow-gaps, which reports every gap.
func TestReplayGaps(t *testing.T) {
	dir := t.TempDir()
	capture := filepath.Join(dir, "lossy.pcap")
	report := genRun(t, "-messages", "20000", "-instruments", "40", "-seed", "3", "-loss-a", "0.2", "-loss-b", "0.2",
		"-allow-double-loss", "-o", capture)
	code, _, errs := replayRun(t, capture)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr %s", code, errs)
	}
	m := regexp.MustCompile(`gap: (\d+) message\(s\) missing from sequence (\d+)`).FindStringSubmatch(errs)
	if m == nil {
		t.Fatalf("no gap error naming the sequence: %q", errs)
	}
	// The generator reports the doubly-lost ranges; the first must be the one named.
	if !strings.Contains(report, "seq "+m[2]+"-") && !strings.Contains(report, m[2]) {
		t.Errorf("gap at %s not among the generator's lost ranges: %s", m[2], report)
	}
	books := filepath.Join(dir, "books.jsonl")
	code, out, errs := replayRun(t, "--allow-gaps", "--books", books, capture)
	if code != 0 {
		t.Fatalf("--allow-gaps: exit %d: %s", code, errs)
	}
	if data, err := os.ReadFile(books); err != nil || !strings.Contains(string(data), `"suspect":true`) {
		t.Errorf("--allow-gaps books mark no instrument suspect (err %v)", err)
	}
	if !strings.Contains(out, "suspect") || strings.Contains(out, "gaps        0 ") {
		t.Errorf("--allow-gaps summary does not report gaps and suspect instruments:\n%s", out)
	}
}

// TestReplayBadInput: errors name the fault and the offset; exit status 1.
func TestReplayBadInput(t *testing.T) {
	dir := t.TempDir()
	capture := filepath.Join(dir, "ok.pcap")
	genRun(t, "-messages", "5000", "-instruments", "20", "-seed", "9", "-o", capture)
	data, err := os.ReadFile(capture)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.pcap")
	if err := os.WriteFile(truncated, data[:len(data)-7], 0o644); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.bin")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte("not a capture "), 100), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		file string
		want string
	}{
		{truncated, "offset"},
		{garbage, "replay:"},
		{filepath.Join(dir, "missing.pcap"), "no such file"},
	} {
		code, _, errs := replayRun(t, "-q", c.file)
		if code != 1 || !strings.Contains(errs, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 1 naming %q", filepath.Base(c.file), code, errs, c.want)
		}
	}
	if code, _, _ := replayRun(t, "--port", "seventy", capture); code != 2 {
		t.Errorf("bad --port: exit %d, want 2", code)
	}
}

// TestReplaySymbolAndSelection prints a ladder and selects lines by group.
func TestReplaySymbolAndSelection(t *testing.T) {
	dir := t.TempDir()
	capture := filepath.Join(dir, "s.pcap")
	genRun(t, "-messages", "20000", "-instruments", "30", "-seed", "4", "-o", capture)
	code, out, errs := replayRun(t, "--symbol", "AAPL", "--group", "233.54.12.111", "--port", "26477", capture)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "AAPL (locate") || !strings.Contains(out, "on 1 line(s)") {
		t.Errorf("ladder or line selection missing:\n%s", out)
	}
	if code, _, errs := replayRun(t, "--symbol", "NOSUCH", capture); code != 1 || !strings.Contains(errs, "NOSUCH") {
		t.Errorf("unknown symbol: exit %d %q", code, errs)
	}
}

// TestSampleCaptureProcess runs the built binary on the bundled sample, as
// the README's quick start does, and checks its books.
func TestSampleCaptureProcess(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "tickwire")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	got := filepath.Join(t.TempDir(), "books.jsonl")
	cmd := exec.Command(bin, "replay", "--symbol", "AAPL", "--books", got, "../../pcaps/sample.pcap")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tickwire replay: %v\n%s", err, out)
	}
	sameBooks(t, got, "../../pcaps/sample.books.jsonl")
	if !strings.Contains(string(out), "AAPL (locate") {
		t.Errorf("no AAPL ladder:\n%s", out)
	}
}

// TestReplayShards: the books and the summary's counts are the same for any
// number of book shards, whether each shard reads the input and owns
// locate mod N (--split read) or one reader hands each shard its messages
// through a ring (--split ring).
func TestReplayShards(t *testing.T) {
	dir := t.TempDir()
	capture, want := filepath.Join(dir, "s.pcapng"), filepath.Join(dir, "want.jsonl")
	genRun(t, append([]string{"-messages", "30000", "-instruments", "70", "-seed", "21", "-format", "pcapng",
		"-o", capture, "-books", want}, impaired...)...)
	var summaries []string
	for _, n := range []string{"1", "2", "3", "7", "ring 2", "ring 5"} {
		split := "read"
		if s, ok := strings.CutPrefix(n, "ring "); ok {
			split, n = "ring", s
		}
		got := filepath.Join(dir, "got"+split+n+".jsonl")
		code, out, errs := replayRun(t, "-split", split, "-shards", n, "-top", "0", "-books", got, capture)
		if code != 0 {
			t.Fatalf("-split %s -shards %s: exit %d: %s", split, n, code, errs)
		}
		sameBooks(t, got, want)
		// Drop the timing line and the shard count; everything else must agree.
		var keep []string
		for _, l := range strings.Split(out, "\n") {
			if !strings.HasPrefix(l, "messages ") {
				keep = append(keep, regexp.MustCompile(`; \d+ shard\(s\)`).ReplaceAllString(strings.TrimSuffix(l, " fed through rings by one reader"), ""))
			}
		}
		summaries = append(summaries, strings.Join(keep, "\n"))
	}
	for i := 1; i < len(summaries); i++ {
		if summaries[i] != summaries[0] {
			t.Errorf("summary differs between shard counts:\n%s\n---\n%s", summaries[0], summaries[i])
		}
	}
	if code, _, _ := replayRun(t, "-shards", "0", capture); code != 2 {
		t.Errorf("-shards 0: exit %d, want 2", code)
	}
	if code, _, _ := replayRun(t, "-split", "both", capture); code != 2 {
		t.Errorf("-split both: exit %d, want 2", code)
	}
}

// TestReplayCapturesRewrittenByWireshark replays captures that Wireshark's
// own tools wrote from the generator's: editcap's pcapng and nanosecond
// pcap, and mergecap's merge of line A and line B captured as two files.
// These are byte layouts nobody on the team wrote. The tools come from
// Debian's wireshark-common, which .ci/run installs.
func TestReplayCapturesRewrittenByWireshark(t *testing.T) {
	for _, tool := range []string{"editcap", "mergecap"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (Debian package wireshark-common): %v", tool, err)
		}
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.pcap"), filepath.Join(dir, "b.pcap")
	want := filepath.Join(dir, "want.jsonl")
	genRun(t, append([]string{"-messages", "20000", "-instruments", "50", "-seed", "31", "-link", "vlan",
		"-o", a, "-out-b", b, "-books", want}, impaired...)...)
	tool := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	merged := filepath.Join(dir, "merged.pcapng")
	tool("mergecap", "-F", "pcapng", "-w", merged, a, b)
	ngA, nsB := filepath.Join(dir, "a.pcapng"), filepath.Join(dir, "b-ns.pcap")
	tool("editcap", "-F", "pcapng", a, ngA)
	tool("editcap", "-F", "nsecpcap", b, nsB)
	for _, c := range [][]string{{merged}, {ngA, nsB}} {
		got := filepath.Join(dir, "got.jsonl")
		code, out, errs := replayRun(t, append([]string{"-books", got}, c...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s\n%s", c, code, errs, out)
		}
		sameBooks(t, got, want)
	}
}
