package pipeline

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/codec/moldudp64"
	"github.com/tickwire/tickwire/internal/capture"
	"github.com/tickwire/tickwire/internal/gen"
	"github.com/tickwire/tickwire/replay"
)

// latencyFeed is a session of one message per packet, sequences 1 to n,
// each stamped k µs before line A captures it at k ms after 10:00 New
// York time: line A loses 50 and 51, line B carries each k µs after line
// A, but 50 and 51 together at 52.5 ms.
func latencyFeed(t testing.TB, n int) (ds []replay.Datagram, ny *time.Location) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip(err)
	}
	midnight := time.Date(2026, 3, 2, 0, 0, 0, 0, ny).UnixNano()
	base := midnight + int64(10*time.Hour)
	name := moldudp64.MakeSession("TESTSESS01")
	msg := func(k int) []byte {
		ts := uint64(base + int64(k)*int64(time.Millisecond) - int64(k)*int64(time.Microsecond) - midnight)
		return (&itch.SystemEventMsg{Header: itch.Header{Timestamp: ts}, EventCode: 'O'}).Append(nil)
	}
	add := func(dst netip.AddrPort, at int64, seq int, msgs ...[]byte) {
		p := moldudp64.AppendHeader(nil, name, uint64(seq), uint16(len(msgs)))
		for _, m := range msgs {
			p = moldudp64.AppendBlock(p, m)
		}
		ds = append(ds, replay.Datagram{Time: at, Dst: dst, Payload: p})
	}
	for k := 1; k <= n; k++ {
		at := base + int64(k)*int64(time.Millisecond)
		if k != 50 && k != 51 {
			add(lineA, at, k, msg(k))
			add(lineB, at+int64(k)*int64(time.Microsecond), k, msg(k))
		}
		if k == 52 {
			add(lineB, at+int64(500*time.Microsecond), 50, msg(50), msg(51))
		}
	}
	slices.SortStableFunc(ds, func(a, b replay.Datagram) int { return int(a.Time - b.Time) })
	return ds, ny
}

// quantile is the value HdrHistogram reports at q for vs (the value at
// rank q% of len(vs), rounded), before its 3-digit bucketing.
func quantile(vs []int64, q float64) int64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	return s[max(int(q/100*float64(len(s))+0.5), 1)-1]
}

// TestLatencyRecorder feeds a session of known times through a pipeline
// recording its stages, and checks the capture-time ones against the times
// it was built with, and that recording allocates nothing.
func TestLatencyRecorder(t *testing.T) {
	const n = 100
	ds, ny := latencyFeed(t, n)
	p, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	p.RecordLatency(ny, true)
	p.lat.begin()
	for i := range ds {
		p.Datagram(0, &ds[i])
	}
	if st := p.Stats(); st.Messages != n {
		t.Fatalf("%d messages applied, want %d", st.Messages, n)
	}
	rep := (&Group{P: []*Pipeline{p}}).Latency()
	for _, st := range rep.Stages {
		t.Logf("%-19s %+v", st.Name, st.Quantiles)
	}

	var e2c, lag []int64
	for k := int64(1); k <= n; k++ {
		switch k {
		case 50:
			e2c = append(e2c, 2_500_000+50_000) // first copy on B at 52.5 ms
		case 51:
			e2c = append(e2c, 1_500_000+51_000)
		default:
			e2c = append(e2c, k*1000)
			lag = append(lag, k*1000)
		}
	}
	want := map[int][]int64{StageExchangeToCapture: e2c, StageLineLag: lag, StageGapFill: {500_000}}
	for stage, vs := range want {
		q := rep.Stages[stage]
		if q.Count != int64(len(vs)) {
			t.Errorf("%s: %d values, want %d", q.Name, q.Count, len(vs))
		}
		for _, c := range []struct {
			q   float64
			got int64
		}{{50, q.P50}, {90, q.P90}, {99, q.P99}, {100, q.MaxNs}} {
			if w := quantile(vs, c.q); c.got < w || c.got > w+w/1000+1 {
				t.Errorf("%s: p%v %d ns, want %d (to 3 digits)", q.Name, c.q, c.got, w)
			}
		}
	}
	// The first datagram waits in the session chooser: every other one
	// reaches the arbiter; those with a new message reach the book: B's
	// first (the held one's), A's but 50 to 52, B's 50-51 (releasing 52).
	for _, c := range []struct {
		stage int
		count int64
	}{{StageDecode, int64(len(ds) - 1)}, {StageBook, n - 2}, {StageEndToEnd, int64(len(ds) - 1)}} {
		if q := rep.Stages[c.stage]; q.Count != c.count || q.P50 < 1 {
			t.Errorf("%s: %d values (p50 %d ns), want %d", q.Name, q.Count, q.P50, c.count)
		}
	}
	if rep.Early != 0 || rep.Late != 0 || rep.Unfilled != 0 || rep.Notes() != nil || rep.Day != "2026-03-02 America/New_York" {
		t.Errorf("report %+v, notes %q", rep, rep.Notes())
	}

	// Steady state: a packet on each line, new then duplicate, recorded
	// without allocating (the first 2n-3 datagrams carry sequences to n).
	more, _ := latencyFeed(t, 300)
	more = more[2*n-3:]
	i := 0
	if a := testing.AllocsPerRun(100, func() {
		p.Datagram(0, &more[i])
		p.Datagram(0, &more[i+1])
		i += 2
	}); a != 0 {
		t.Errorf("recording allocates %.1f times per packet pair", a)
	}
}

// TestLatencyOutOfRange: with the wrong zone the ITCH timestamps are hours
// off their capture times, and exchange_to_capture is dropped with a note
// rather than reported.
func TestLatencyOutOfRange(t *testing.T) {
	ds, _ := latencyFeed(t, 20)
	p, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	p.RecordLatency(time.UTC, true)
	p.lat.begin()
	for i := range ds {
		p.Datagram(0, &ds[i])
	}
	rep := (&Group{P: []*Pipeline{p}}).Latency()
	if rep.Late != 20 || rep.Stages[StageExchangeToCapture].Count != 0 || rep.Day != "2026-03-02 UTC" {
		t.Errorf("late %d, early %d, recorded %d, day %q", rep.Late, rep.Early, rep.Stages[StageExchangeToCapture].Count, rep.Day)
	}
	if notes := rep.Notes(); len(notes) != 1 || !strings.Contains(notes[0], "not shown") {
		t.Errorf("notes %q", notes)
	}
	if rep.Stages[StageLineLag].Count != 20 {
		t.Errorf("line_lag: %d values, want 20", rep.Stages[StageLineLag].Count)
	}
}

// benchCapture is an A/B pcap of a generated session with 1% loss per
// line, cached in the temporary directory across runs.
var benchCapture = sync.OnceValues(func() (string, error) {
	path := filepath.Join(os.TempDir(), "tickwire-bench", "pipeline-ab-300k.pcap")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	cfg := gen.Config{Seed: 42, Messages: 300_000, Instruments: 300, Form: capture.Form{File: capture.Pcap, Link: capture.LinkEthernet}}
	cfg.Lines[0].Loss, cfg.Lines[1].Loss = 0.01, 0.01
	if _, err := gen.Generate(cfg, gen.Outputs{Capture: &buf}); err != nil {
		return "", err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
})

// BenchmarkReplayPackets replays an A/B pcap through one pipeline, without
// and with the latency stages. Reported as ns/msg.
func BenchmarkReplayPackets(b *testing.B) {
	path, err := benchCapture()
	if err != nil {
		b.Fatal(err)
	}
	for _, lat := range []bool{false, true} {
		name := "off"
		if lat {
			name = "latency"
		}
		b.Run(name, func(b *testing.B) {
			var msgs uint64
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				p, err := New(Config{})
				if err != nil {
					b.Fatal(err)
				}
				if lat {
					p.RecordLatency(time.UTC, true)
				}
				b.StartTimer()
				if _, err := p.ReplayFiles([]string{path}, nil); err != nil {
					b.Fatal(err)
				}
				msgs += p.Stats().Messages
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(msgs), "ns/msg")
		})
	}
}
