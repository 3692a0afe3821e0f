package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/tickwire/tickwire/tools/benchtable/report"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/rows.txt from what the rows are now")

// The testdata are one make bench run's output (bin/bench.txt and the
// tools' -json files), as they were written.
const (
	testBench  = "testdata/bench.txt"
	testReplay = "testdata/replay.json"
	testDay    = "testdata/replay-day.json"
	testDeep   = "testdata/replay-live.json"
	testLive   = "testdata/live.json"
	testFanout = "testdata/fanout.json"
)

func TestParseGoBench(t *testing.T) {
	f, err := os.Open(testBench)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g, err := parseGoBench(f)
	if err != nil {
		t.Fatal(err)
	}
	if g.cpu != "Oxide Virtual Turin-like Processor" {
		t.Errorf("cpu %q", g.cpu)
	}
	for _, c := range []struct {
		pkg, name, unit string
		want            float64
		ok              bool
	}{
		{"codec/itch", "BenchmarkDecode/shuffled", "ns/msg", 13.89, true},
		{"codec/itch", "BenchmarkDecode/grouped", "ns/msg", 5.193, true},
		{"codec/itch", "BenchmarkDecode/shuffled", "allocs/op", 0, true},
		{"book", "BenchmarkApply", "B/live-order", 44, true},
		{"book", "BenchmarkApplyLive/200000", "ns/msg", 127.4, true},
		{"book/shard", "BenchmarkShards/shards=2", "msgs/s", 4176730, true},
		{"internal/pipeline", "BenchmarkDecodeBook", "live-orders", 27014, true},
		// transport has a BenchmarkDecode of its own: packages are told apart.
		{"transport", "BenchmarkDecode", "ns/update", 26.73, true},
		{"codec/itch", "BenchmarkDecode", "ns/update", 0, false},
		{"book", "BenchmarkApply/nothing", "ns/msg", 0, false},
		{"tch", "BenchmarkDecode/shuffled", "ns/msg", 0, false}, // whole path elements, not a suffix of one
	} {
		got, ok := g.metric(c.pkg, c.name, c.unit)
		if ok != c.ok || got != c.want {
			t.Errorf("%s %s %s: %v, %v; want %v, %v", c.pkg, c.name, c.unit, got, ok, c.want, c.ok)
		}
	}
}

// TestRows builds the table's rows from the testdata and compares them with
// testdata/rows.txt (go test -rewrite rewrites it); every headline figure is
// measured in them.
func TestRows(t *testing.T) {
	in := load(testBench, testReplay, testLive, testFanout)
	in.day = readJSON[report.Replay](testDay, &in.errs)
	in.deep = readJSON[report.Replay](testDeep, &in.errs)
	if len(in.errs) > 0 {
		t.Fatal(in.errs)
	}
	var b strings.Builder
	for _, r := range in.rows() {
		if r.measured == notMeasured {
			t.Errorf("not measured: %+v", r)
		}
		line := fmt.Sprintf("%s | %s | %s | %s | %s | %s", r.section, r.what, r.unit, r.measured, r.target, r.verdict)
		fmt.Fprintln(&b, strings.TrimRight(line, " |"))
	}
	for _, n := range in.notes() {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	const golden = "testdata/rows.txt"
	if *rewrite {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("rows differ from %s (go test -rewrite):\n%s", golden, b.String())
	}
}

// TestNotMeasured: without inputs every row says so and claims no verdict;
// an input named but missing is an error.
func TestNotMeasured(t *testing.T) {
	in := load("", "", "", "")
	if len(in.errs) > 0 {
		t.Fatal(in.errs)
	}
	for _, r := range in.rows() {
		if r.measured != notMeasured || r.verdict != "" {
			t.Errorf("%+v", r)
		}
	}
	in = load("testdata/none.txt", "testdata/none.json", testLive, "")
	if len(in.errs) != 2 || in.live == nil {
		t.Errorf("errs %q, live read: %v", in.errs, in.live != nil)
	}
}

func TestMeets(t *testing.T) {
	for _, c := range []struct {
		v       float64
		target  string
		met, ok bool
	}{
		{5.9, "<= 6", true, true},
		{6.1, "<= 6", false, true},
		{0, "0", true, true},
		{0.5, "0", false, true},
		{2.1, ">= 2", true, true},
		{2, "> 2", false, true},
		{1, "", false, false},
		{1, "none", false, false},
	} {
		if met, ok := meets(c.v, c.target); met != c.met || ok != c.ok {
			t.Errorf("meets(%v, %q) = %v, %v", c.v, c.target, met, ok)
		}
	}
}
