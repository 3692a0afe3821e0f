package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// latencyStages are the rows `replay --latency` prints, in order.
var latencyStages = []string{"exchange_to_capture", "line_lag", "gap_fill", "decode", "book", "end_to_end"}

// stageRow is one row of the latency table: count, then p50, p90, p99,
// p99.9, p99.99 and max in µs.
type stageRow struct {
	count int64
	us    [6]float64
}

// parseStages reads the latency table out of out: the rows after its
// header, by stage name.
func parseStages(t *testing.T, out string) map[string]stageRow {
	t.Helper()
	_, table, ok := strings.Cut(out, "stage (us)")
	if !ok {
		t.Fatalf("no latency table:\n%s", out)
	}
	rows := map[string]stageRow{}
	for _, l := range strings.Split(strings.TrimSpace(table), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) != 8 {
			t.Fatalf("row %q: %d fields, want 8", l, len(f))
		}
		var r stageRow
		var err error
		if r.count, err = strconv.ParseInt(f[1], 10, 64); err != nil {
			t.Fatalf("row %q: %v", l, err)
		}
		for i := range r.us {
			if r.us[i], err = strconv.ParseFloat(f[2+i], 64); err != nil {
				t.Fatalf("row %q: %v", l, err)
			}
			if i > 0 && r.us[i] < r.us[i-1] {
				t.Errorf("row %q: percentiles not ascending", l)
			}
		}
		rows[f[0]] = r
	}
	return rows
}

// TestReplayLatency replays a generated A/B capture with loss on both
// lines, line B 80 µs behind line A, with --latency: every stage is
// reported, with the figures the generator's delays imply.
func TestReplayLatency(t *testing.T) {
	dir := t.TempDir()
	capture := filepath.Join(dir, "ab.pcap")
	genRun(t, "-messages", "20000", "-instruments", "50", "-seed", "13", "-format", "pcap-ns",
		"-loss-a", "0.03", "-loss-b", "0.03", "-latency-a", "18us", "-latency-b", "98us", "-o", capture)
	code, out, errs := replayRun(t, "-q", "--latency", capture)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	if !strings.HasPrefix(out, "stage (us)") || strings.Count(out, "\n") != 1+len(latencyStages) || errs != "" {
		t.Errorf("-q --latency: want the table alone, got:\n%s\nstderr %q", out, errs)
	}
	rows := parseStages(t, out)
	for _, s := range latencyStages {
		if r, ok := rows[s]; !ok || r.count == 0 {
			t.Errorf("stage %s missing:\n%s", s, out)
		}
	}
	// Capture time: sent at most the 5 µs batch window after a message's
	// timestamp, captured 18-19 µs later on line A (or 98-99 on B, when A
	// lost it); line B's copies come 80 µs (±1 µs jitter) after line A's;
	// a hole line A leaves is filled by line B within that.
	check := func(stage string, field int, lo, hi float64) {
		t.Helper()
		if v := rows[stage].us[field]; v < lo || v > hi {
			t.Errorf("%s: %v us at field %d, want %v to %v", stage, v, field, lo, hi)
		}
	}
	check("exchange_to_capture", 0, 18, 25)  // p50
	check("exchange_to_capture", 5, 18, 105) // max
	check("line_lag", 0, 79, 81)
	check("gap_fill", 0, 1, 81)
	check("gap_fill", 5, 1, 100)
	if n := rows["exchange_to_capture"].count; n != 20000 {
		t.Errorf("exchange_to_capture: %d messages, want 20000", n)
	}
	// Wall time: a packet is read, framed and applied in well under a
	// second (not a timing assertion: a sanity bound on the units).
	for _, s := range []string{"decode", "book", "end_to_end"} {
		check(s, 0, 0, 1e6)
	}

	// Without -q the table follows the summary.
	code, out, _ = replayRun(t, "--latency", "-top", "0", capture)
	if code != 0 || !strings.Contains(out, "messages    20000 ") || !strings.Contains(out, "\nstage (us)") {
		t.Errorf("--latency: exit %d, want the summary then the table:\n%s", code, out)
	}
	// Without --latency, no table.
	if _, out, _ = replayRun(t, "-top", "0", capture); strings.Contains(out, "stage (us)") {
		t.Errorf("a table without --latency:\n%s", out)
	}
	// The wrong zone puts the ITCH timestamps hours off the capture's: the
	// stage is not shown, and stderr says why.
	code, out, errs = replayRun(t, "-q", "--latency", "--tz", "Asia/Tokyo", capture)
	if code != 0 || strings.Contains(out, "exchange_to_capture") || !strings.Contains(errs, "--tz") || !strings.Contains(errs, "not shown") {
		t.Errorf("--tz Asia/Tokyo: exit %d, stdout:\n%s\nstderr %q", code, out, errs)
	}
	if code, _, errs = replayRun(t, "--latency", "--tz", "Nowhere/Special", capture); code != 2 || !strings.Contains(errs, "--tz") {
		t.Errorf("unknown zone: exit %d, stderr %q; want 2", code, errs)
	}
}

// TestReplayLatencySampleAndRaw: the bundled sample reports every stage; a
// raw ITCH file, which has no capture time, the wall-time ones only.
func TestReplayLatencySampleAndRaw(t *testing.T) {
	code, out, errs := replayRun(t, "-q", "--latency", "../../pcaps/sample.pcap")
	if code != 0 {
		t.Fatalf("sample: exit %d: %s", code, errs)
	}
	rows := parseStages(t, out)
	for _, s := range latencyStages {
		if rows[s].count == 0 {
			t.Errorf("sample: stage %s missing:\n%s", s, out)
		}
	}
	if r := rows["exchange_to_capture"]; r.count != 25000 || r.us[0] < 18 || r.us[0] > 25 {
		t.Errorf("sample: exchange_to_capture %+v", r)
	}

	raw := filepath.Join(t.TempDir(), "day.itch")
	genRun(t, "-messages", "5000", "-instruments", "20", "-seed", "2", "-format", "itch", "-o", raw)
	code, out, errs = replayRun(t, "-q", "--latency", raw)
	if code != 0 {
		t.Fatalf("raw: exit %d: %s", code, errs)
	}
	rows = parseStages(t, out)
	if len(rows) != 3 || rows["decode"].count == 0 || rows["book"].count == 0 || rows["end_to_end"].count == 0 {
		t.Errorf("raw ITCH: want decode, book and end_to_end alone:\n%s", out)
	}
}
