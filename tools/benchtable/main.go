// Command benchtable prints the one table `make bench` ends with: the
// headline figures of the whole pipeline, from the Go benchmarks' output
// and what the benchmark tools wrote with -json (see package report):
//
//   - decode and book costs per message (go test -bench output);
//   - whole-process replays against the floor loops (tools/replaybench);
//   - the live handler: the highest loss-free rate found and the latency
//     percentiles of each stage at one rate (tools/loadtest);
//   - the subscriber fan-out beside NATS and per idle connection
//     (tools/fanoutbench).
//
// Each row says its unit, the figure, the target where the tool
// that measured it knows one, and whether it was met. A row whose input was
// not given or could not be read says "not measured"; an input named but
// unreadable also makes benchtable exit 1, after the table.
//
//	benchtable -gobench bin/bench.txt -replay bin/replay.json -live bin/live.json -fanout bin/fanout.json
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/tickwire/tickwire/feed/live"
	"github.com/tickwire/tickwire/internal/admin"
	"github.com/tickwire/tickwire/tools/benchtable/report"
	"github.com/tickwire/tickwire/transport"
)

func main() {
	var (
		gobench  = flag.String("gobench", "", "go test -bench output `FILE` (make bench: bin/bench.txt)")
		replay   = flag.String("replay", "", "replaybench -json `FILE`")
		day      = flag.String("replay-day", "", "replaybench -json `FILE` of the larger session (make bench: 10M messages, 3,000 instruments)")
		deep     = flag.String("replay-live", "", "replaybench -json `FILE` of the session with the most live orders (make bench: 2M at peak)")
		liveFile = flag.String("live", "", "loadtest -json `FILE`")
		fanout   = flag.String("fanout", "", "fanoutbench -json `FILE`")
		liveRate = flag.Float64("live-rate", 1e6, "the loadtest rate whose per-stage latencies are shown, messages per second (0: as fast as the sender could)")
	)
	flag.Parse()
	in := load(*gobench, *replay, *liveFile, *fanout)
	in.day = readJSON[report.Replay](*day, &in.errs)
	in.deep = readJSON[report.Replay](*deep, &in.errs)
	in.liveRate = *liveRate
	in.print(os.Stdout)
	if len(in.errs) > 0 {
		os.Exit(1)
	}
}

// inputs are what the table is made of; a nil one was not measured.
type inputs struct {
	bench    *goBench
	replay   *report.Replay
	day      *report.Replay // the larger session, beside the yardstick
	deep     *report.Replay // the session with 2M live orders at peak
	live     *report.Live
	fanout   *report.Fanout
	liveRate float64
	errs     []string // inputs named but not read
}

// load reads the inputs whose paths are not empty.
func load(gobench, replay, liveFile, fanout string) *inputs {
	in := &inputs{liveRate: 1e6}
	if gobench != "" {
		f, err := os.Open(gobench)
		if err == nil {
			in.bench, err = parseGoBench(f)
			f.Close()
		}
		if err != nil {
			in.bench = nil
			in.errs = append(in.errs, err.Error())
		}
	}
	in.replay = readJSON[report.Replay](replay, &in.errs)
	in.live = readJSON[report.Live](liveFile, &in.errs)
	in.fanout = readJSON[report.Fanout](fanout, &in.errs)
	return in
}

// readJSON reads the report at path (nil: none named, or not read, with
// why appended to errs).
func readJSON[T any](path string, errs *[]string) *T {
	if path == "" {
		return nil
	}
	v := new(T)
	if err := report.Read(path, v); err != nil {
		*errs = append(*errs, err.Error())
		return nil
	}
	return v
}

// row is one line of the table. measured is "not measured" when the
// figure is missing; verdict is "met", "NOT met" or empty (no target).
type row struct {
	section, what, unit, measured, target, verdict string
}

const notMeasured = "not measured"

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "NOT met"
}

// rows are the table's rows, section by section.
func (in *inputs) rows() []row {
	var rs []row
	rs = append(rs, in.goBenchRows()...)
	rs = append(rs, in.replayRows()...)
	rs = append(rs, in.liveRows()...)
	rs = append(rs, in.fanoutRows()...)
	return rs
}

// goBenchRows are the per-message costs: decode, and the book at the
// live-order counts its benchmarks hold (BenchmarkApply: book/bench_test.go's
// benchLive, 50,000).
func (in *inputs) goBenchRows() []row {
	live := "generated session"
	if n, ok := in.bench.metric("internal/pipeline", "BenchmarkDecodeBook", "live-orders"); ok {
		live = fmt.Sprintf("generated session (%s live orders)", thousands(n))
	}
	specs := []struct {
		section, what, pkg, bench, unit string
		target                          string // the issue's, where the headlines give none
	}{
		{"decode", "ITCH decode, shuffled type mix", "codec/itch", "BenchmarkDecode/shuffled", "ns/msg", ""},
		{"decode", "ITCH decode, grouped by type", "codec/itch", "BenchmarkDecode/grouped", "ns/msg", ""},
		{"decode", "decode + book, " + live, "internal/pipeline", "BenchmarkDecodeBook", "ns/msg", ""},
		{"decode", "decode + book allocations, steady state", "internal/pipeline", "BenchmarkDecodeBook", "allocs/msg", ""},
		{"book", "book alone, 2,000 live orders", "book", "BenchmarkApplyLive/2000", "ns/msg", ""},
		{"book", "book alone, 50,000 live orders", "book", "BenchmarkApply", "ns/msg", ""},
		{"book", "framing + decode + book, 50,000 live orders", "book", "BenchmarkApplyLive/50000", "ns/msg", "<= 25"},
		{"book", "book alone, 200,000 live orders", "book", "BenchmarkApplyLive/200000", "ns/msg", ""},
		{"book", "  the same prefetched in batches of 256, as replay applies them", "book", "BenchmarkApplyLive/200000/prefetch", "ns/msg", ""},
		{"book", "framing + decode + book, 2,000,000 live orders", "book", "BenchmarkApplyLive/2000000", "ns/msg", "<= 35"},
		{"book", "  the same prefetched in batches of 256, as replay applies them", "book", "BenchmarkApplyLive/2000000/prefetch", "ns/msg", "<= 35"},
		{"book", "book bytes per live order, 2,000,000 live orders", "book", "BenchmarkApplyLive/2000000", "B/live-order", "<= 48"},
		{"book", "book bytes per live order", "book", "BenchmarkApply", "B/live-order", ""},
		{"book", "5 M live orders, sized", "book", "BenchmarkMemoryAtPeak/sized", "MiB", ""},
		{"book", "5 M live orders, grown", "book", "BenchmarkMemoryAtPeak/grown", "MiB", ""},
		{"book", "live books, 1 shard (the receive loop applies them)", "book/shard", "BenchmarkShards/shards=1", "msgs/s", ""},
		{"book", "live books, 2 shards (the receive loop and 1 writer)", "book/shard", "BenchmarkShards/shards=2", "msgs/s", ""},
		{"book", "live books, 4 shards (the receive loop and 3 writers)", "book/shard", "BenchmarkShards/shards=4", "msgs/s", ""},
		{"book", "live books, 1 shard, changes to a listener", "book/shard", "BenchmarkShards/shards=1/listener", "msgs/s", ""},
		{"book", "live books, 2 shards, changes merged to a listener", "book/shard", "BenchmarkShards/shards=2/listener", "msgs/s", ""},
		{"jetstream", "book into JetStream (1 server, its own process), per update", "transport/natsjs", "BenchmarkPublish/linger=2ms", "ns/op", ""},
		{"jetstream", "  allocations per update (all nats.go's)", "transport/natsjs", "BenchmarkPublish/linger=2ms", "allocs/op", ""},
		{"jetstream", "  allocations per NATS message (all nats.go's)", "transport/natsjs", "BenchmarkPublish/linger=2ms", "allocs/natsmsg", ""},
		{"jetstream", "  updates per NATS message", "transport/natsjs", "BenchmarkPublish/linger=2ms", "updates/natsmsg", ""},
	}
	var rs []row
	for _, s := range specs {
		r := row{section: s.section, what: s.what, unit: s.unit, measured: notMeasured}
		r.target = s.target
		if r.target == "" {
			r.target = in.goBenchTarget(s.bench, s.unit)
		}
		if v, ok := in.bench.metric(s.pkg, s.bench, s.unit); ok {
			r.measured = strconv.FormatFloat(v, 'f', decimals(v), 64)
			if met, ok := meets(v, r.target); ok {
				r.verdict = verdict(met)
			}
		}
		rs = append(rs, r)
	}
	return rs
}

// goBenchTarget is the target replaybench's headline table gives the
// benchmark (a prefix of its name, as replaybench matches them) in unit.
func (in *inputs) goBenchTarget(bench, unit string) string {
	if in.replay == nil {
		return ""
	}
	for _, h := range in.replay.Headlines {
		if h.Unit == unit && (bench == h.Bench || strings.HasPrefix(bench, h.Bench+"/")) {
			return h.Target
		}
	}
	return ""
}

// replayRows are the whole-process replays of the yardstick and of the
// larger session against their floors, and the larger session's cost per
// message against the yardstick's.
func (in *inputs) replayRows() []row {
	rs := replayRows(in.replay)
	if in.day == nil {
		return rs
	}
	rs = append(rs, replayRows(in.day)...)
	if in.deep != nil {
		rs = append(rs, replayRows(in.deep)...)
	}
	r := row{section: "replay", what: "cost per message, larger session / yardstick (raw, 1 shard)", unit: "x", target: "<= 1.30", measured: notMeasured}
	small, big := perMessage(in.replay), perMessage(in.day)
	if small > 0 && big > 0 {
		r.measured = fmt.Sprintf("%.2f (%.1f / %.1f ns)", big/small, big, small)
		r.verdict = verdict(big/small <= 1.3)
	}
	return append(rs, r)
}

// perMessage returns the raw single-shard replay's wall time per message of
// rep in ns, or 0.
func perMessage(rep *report.Replay) float64 {
	if rep == nil {
		return 0
	}
	for _, c := range rep.Cases {
		if c.Format == "raw" && c.Shards == 1 && rep.Messages > 0 {
			return c.TickwireSeconds * 1e9 / float64(rep.Messages)
		}
	}
	return 0
}

// replayRows returns one session's rows; a format it did not replay is
// left out, unless rep is nil (then every row says not measured).
func replayRows(rep *report.Replay) []row {
	names := []struct {
		format string
		shards int
		what   string
	}{
		{"raw", 1, "replay raw ITCH file, 1 shard"},
		{"raw", 2, "replay raw ITCH file, 2 shards"},
		{"pcap", 1, "replay A/B Ethernet pcap, 1 shard"},
		{"pcap", 2, "replay A/B Ethernet pcap, 2 shards"},
	}
	var rs []row
	for _, n := range names {
		r := row{section: "replay", what: n.what, unit: "x floor", measured: notMeasured}
		if rep != nil {
			r.what += fmt.Sprintf(" (%s msgs)", thousands(float64(rep.Messages)))
			if rep.Live > 0 {
				r.what = strings.TrimSuffix(r.what, ")") + fmt.Sprintf(", %s live at peak)", thousands(float64(rep.Live)))
			}
			found := false
			for _, c := range rep.Cases {
				if c.Format != n.format || c.Shards != n.shards {
					continue
				}
				found = true
				r.measured = fmt.Sprintf("%.3f s = %.2fx %.3f s", c.TickwireSeconds, c.Ratio, c.FloorSeconds)
				if c.Target > 0 {
					r.target = fmt.Sprintf("<= %.2fx", c.Target)
					r.verdict = verdict(c.Ratio <= c.Target)
				}
			}
			if !found {
				continue
			}
		}
		rs = append(rs, r)
	}
	return rs
}

// The live targets, as the README's live table quotes them: the
// loss-free rate with 1400-byte packets, and kernel receive to book
// updated (the receive_to_book stage) at p50, p99 and p99.9. loadtest
// prints none.
const (
	liveTargetPayload = 1400
	liveTargetRate    = 5e6 // messages per second
)

var liveTargetToBook = [4]float64{4, 10, 150, 0} // us: p50, p99, p99.9, max (0: none)

// liveRows are the loss-free rates and, at in.liveRate, each stage's
// latency percentiles.
func (in *inputs) liveRows() []row {
	stages := append(live.StageNames[:], transport.StageNames[:]...)
	if in.live == nil {
		rs := []row{{section: "live", what: "highest loss-free rate", unit: "M msg/s", measured: notMeasured}}
		for _, s := range stages {
			rs = append(rs, row{section: "live", what: s, unit: "us p50/p99/p99.9/max", measured: notMeasured})
		}
		return rs
	}
	l := in.live
	var rs []row
	for _, lf := range l.LossFree {
		r := row{section: "live", unit: "M msg/s", measured: fmt.Sprintf("%.2f", lf.Rate/1e6),
			what: fmt.Sprintf("highest loss-free rate, %d B, %s poll", lf.Payload, lf.Poll)}
		if lf.Payload == liveTargetPayload {
			r.target = fmt.Sprintf(">= %.0f", liveTargetRate/1e6)
			r.verdict = verdict(lf.Rate >= liveTargetRate)
		}
		rs = append(rs, r)
	}
	run := in.liveRun()
	at := ", " + rateName(in.liveRate) + " msg/s"
	if run != nil && !run.LossFree {
		at += " WITH LOSS"
	}
	for _, name := range stages {
		r := row{section: "live", what: name + at, unit: "us p50/p99/p99.9/max", measured: notMeasured}
		if name == live.StageNames[live.StageToBook] {
			r.target = usTargets(liveTargetToBook)
		}
		for _, s := range stagesOf(run) {
			if s.Name != name || s.Count == 0 {
				continue
			}
			got := [4]float64{us(s.P50), us(s.P99), us(s.P999), us(s.MaxNs)}
			r.measured = fmt.Sprintf("%s / %s / %s / %s", usString(got[0]), usString(got[1]), usString(got[2]), usString(got[3]))
			if r.target != "" {
				r.verdict = usVerdict(got, liveTargetToBook)
			}
		}
		rs = append(rs, r)
	}
	return rs
}

// liveRun is the run whose stages the table shows: at in.liveRate, of the
// first packet size and poll mode (nil: none).
func (in *inputs) liveRun() *report.LiveRun {
	if in.live == nil || len(in.live.Runs) == 0 {
		return nil
	}
	first := in.live.Runs[0]
	for i, r := range in.live.Runs {
		if r.Rate == in.liveRate && r.Payload == first.Payload && r.Poll == first.Poll {
			return &in.live.Runs[i]
		}
	}
	return nil
}

// fanoutRows are the delivered rates and fanoutbench's checks.
func (in *inputs) fanoutRows() []row {
	f := in.fanout
	if f == nil {
		return []row{
			{section: "fan-out", what: "delivered, all subscribers", unit: "M msg/s", measured: notMeasured},
			{section: "fan-out", what: "fan-out, tickwire / NATS delivered", unit: "x", measured: notMeasured},
			{section: "fan-out", what: "idle connection memory", unit: "KiB/conn", measured: notMeasured},
		}
	}
	rs := []row{{section: "fan-out", unit: "M msg/s",
		what:     fmt.Sprintf("delivered, %d subscribers of %d instruments", f.Subscribers, f.Instruments),
		measured: fmt.Sprintf("%.2f (NATS %.2f)", f.Tickwire.Delivered/1e6, f.NATS.Delivered/1e6)}}
	for _, c := range f.Checks {
		what := c.What
		if strings.HasPrefix(what, "idle connection") {
			what += fmt.Sprintf(", %s conns", thousands(float64(f.Idle)))
		}
		rs = append(rs, row{section: "fan-out", what: what, unit: c.Unit, measured: clip(c.Measured), target: c.Target, verdict: verdict(c.Met)})
	}
	if len(f.JetStream) == 0 {
		rs = append(rs, row{section: "jetstream", what: "updates delivered through JetStream", unit: "M/s", measured: notMeasured})
	}
	for _, j := range f.JetStream {
		where := "1 server"
		if j.Servers > 1 {
			where = fmt.Sprintf("%d-node cluster, R%d", j.Servers, j.Servers)
		}
		ms := func(q report.Quantiles) string {
			if q.N == 0 {
				return notMeasured
			}
			return fmt.Sprintf("%.2f / %.2f", float64(q.P50)/1e6, float64(q.P99)/1e6)
		}
		lost := row{section: "jetstream", what: "lost by any subscriber, " + where, measured: clip(j.Lost), target: "none"}
		lost.verdict = verdict(strings.HasPrefix(j.Lost, "none"))
		rs = append(rs,
			row{section: "jetstream", what: fmt.Sprintf("updates stored and acknowledged, publisher alone / subscribers reading, %s", where), unit: "M/s",
				measured: fmt.Sprintf("%.3f / %.3f", j.Alone/1e6, j.Published/1e6)},
			row{section: "jetstream", what: fmt.Sprintf("updates delivered, %d subscribers, %s", f.Subscribers, where), unit: "M/s",
				measured: fmt.Sprintf("%.2f (TCP fan-out %.2f)", j.Delivered/1e6, f.Tickwire.Delivered/1e6)},
			row{section: "jetstream", what: "book to server / stored / decoded p50 / p99, " + where, unit: "ms",
				measured: ms(j.ToServer) + "; " + ms(j.ToAck) + "; " + ms(j.ToClient)},
			lost)
	}
	return rs
}

// print writes the table, then the machine and the notes.
func (in *inputs) print(w io.Writer) {
	cpu := cpuModel()
	if in.bench != nil && in.bench.cpu != "" && in.bench.cpu != cpu {
		cpu += "; go test says " + in.bench.cpu
	}
	fmt.Fprintf(w, "\nheadline figures of the pipeline: %d CPUs (%s), %s %s/%s\n", runtime.NumCPU(), cpu, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "stage\tfigure\tunit\tmeasured\ttarget\tmet")
	for _, r := range in.rows() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.section, r.what, r.unit, r.measured, r.target, r.verdict)
	}
	tw.Flush()
	for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	for _, n := range in.notes() {
		fmt.Fprintln(w, "note: "+n)
	}
}

// notes say what the figures are against and how loaded the machine was.
func (in *inputs) notes() []string {
	var ns []string
	if in.replay != nil {
		ns = append(ns, fmt.Sprintf("replay: medians of %d runs; the floors are %s", in.replay.Runs, in.replay.Floor))
	}
	if l := in.live; l != nil {
		ns = append(ns, fmt.Sprintf("live: tools/loadtest, %s messages a run; latencies from the handler's exit summary (its /stats stages); targets from the issue (README, live)", thousands(float64(l.Messages))))
		var tried []string
		for _, r := range l.Runs {
			tried = append(tried, fmt.Sprintf("%s (%.2f M sent, %d drops, %d gaps)", rateName(r.Rate), r.Sent/1e6, r.Drops, r.Gaps))
		}
		ns = append(ns, fmt.Sprintf("live: %d subscribers; rates asked: %s", l.Subscribers, strings.Join(tried, ", ")))
		if run := in.liveRun(); run != nil {
			ns = append(ns, fmt.Sprintf("live latencies: the run at %s msg/s asked, %d B packets, %s poll", rateName(run.Rate), run.Payload, run.Poll))
		}
	}
	if f := in.fanout; f != nil {
		ns = append(ns, fmt.Sprintf("fan-out: tools/fanoutbench, paced runs at %s msg/s, run took %.0f s", thousands(float64(f.Rate)), f.ElapsedSeconds))
	}
	var loads []string
	if in.replay != nil {
		loads = append(loads, fmt.Sprintf("replay %.2f-%.2f", in.replay.LoadBefore, in.replay.LoadAfter))
	}
	if in.live != nil {
		loads = append(loads, fmt.Sprintf("live %.2f-%.2f", in.live.LoadBefore, in.live.LoadAfter))
	}
	if in.fanout != nil {
		loads = append(loads, fmt.Sprintf("fan-out %.2f-%.2f", in.fanout.LoadBefore, in.fanout.LoadAfter))
	}
	if len(loads) > 0 {
		ns = append(ns, "load average (1 min), before-after each tool: "+strings.Join(loads, ", "))
	}
	for _, e := range in.errs {
		ns = append(ns, "not read: "+e)
	}
	return ns
}

// stagesOf are the run's stages (none for no run).
func stagesOf(r *report.LiveRun) []admin.Stage {
	if r == nil {
		return nil
	}
	return r.Stages
}
