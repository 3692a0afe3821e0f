// Command replaybench measures whole-process replays of a generated yardstick
// session against the C floor programs of ../shared/floors, as `make bench`
// reports them.
//
// It generates (once, cached) one session of -messages messages over
// -instruments instruments as a raw ITCH file and as an A/B Ethernet pcap,
// then times, as separate processes, each several times:
//
//   - floor (floor.c): read the raw file whole and walk its length prefixes;
//   - floor_pcap (floor_pcap.c): walk the pcap records and drop A/B
//     duplicates by sequence;
//   - tickwire replay --books of each file, with exact books, checked
//     against the generator's expected books.
//
// each tickwire run alternating with its floor's. It prints the median wall
// time of each, the ratio to its floor, messages per
// second and the peak resident memory of the tickwire process. With -json
// FILE it writes the same figures (and -gobench's headline figures) to FILE
// as a report.Replay, for tools/benchtable.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tickwire/tickwire/tools/benchtable/report"
)

func main() {
	var (
		tickwire    = flag.String("tickwire", "bin/tickwire", "tickwire binary to measure")
		messages    = flag.Int("messages", 3_000_000, "messages in the yardstick session")
		instruments = flag.Int("instruments", 300, "instruments in the yardstick session")
		seed        = flag.Uint64("seed", 42, "generator seed of the session")
		live        = flag.Int("live", 0, "the session's peak of live orders (tickwire gen -live; 0: the generator's default)")
		formats     = flag.String("formats", "raw,pcap", "inputs to replay: raw (ITCH BinaryFILE), pcap (A/B Ethernet capture), or both")
		dir         = flag.String("dir", filepath.Join(os.TempDir(), "tickwire-bench"), "cache directory for generated sessions")
		runs        = flag.Int("runs", 5, "runs of each case, alternating with its floor (the medians are reported)")
		floors      = flag.String("floors", "../shared/floors", "`DIR` of the C floor programs (floor.c, floor_pcap.c), built here with cc -O2")
		gobench     = flag.String("gobench", "", "go test -bench output to summarise in the headline table")
		jsonOut     = flag.String("json", "", "also write the figures to this `FILE` as JSON (for tools/benchtable)")
	)
	flag.Parse()
	fail := func(err error) {
		fmt.Fprintf(os.Stderr, "replaybench: %v\n", err)
		os.Exit(1)
	}
	var heads []report.Headline
	if *gobench != "" {
		var err error
		if heads, err = headlines(*gobench); err != nil {
			fail(err)
		}
	}
	want := map[string]bool{}
	for _, f := range strings.Split(*formats, ",") {
		if f != "raw" && f != "pcap" {
			fail(fmt.Errorf("-formats: unknown input %q (raw, pcap)", f))
		}
		want[f] = true
	}
	rep, err := bench(*tickwire, session{*messages, *instruments, *seed, *live}, want, *dir, *floors, *runs)
	if err != nil {
		fail(err)
	}
	if *jsonOut != "" {
		rep.Headlines = heads
		if err := report.Write(*jsonOut, rep); err != nil {
			fail(err)
		}
	}
}

type result struct {
	wall   time.Duration
	maxRSS int64 // bytes
}

// session names a generated session: tickwire gen -messages -instruments
// -seed -live.
type session struct {
	messages, instruments int
	seed                  uint64
	live                  int // gen -live, 0 for none
}

// bench measures the replays of the formats in want, prints them and
// returns them.
func bench(tickwire string, ss session, formats map[string]bool, dir, floors string, runs int) (*report.Replay, error) {
	messages, instruments := ss.messages, ss.instruments
	loadBefore := report.LoadAvg()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	base := filepath.Join(dir, fmt.Sprintf("session-%d-%d-%d-%d", messages, instruments, ss.seed, ss.live))
	raw, pcap, books := base+".itch", base+".pcap", base+".books.jsonl"
	if _, err := os.Stat(books); err != nil {
		// Packets filled for up to a second hold ~35 messages each, the
		// shape of the yardstick (95 MB raw, ~200 MB A/B pcap).
		fmt.Fprintf(os.Stderr, "generating %s.{itch,pcap} ...\n", base)
		cmd := exec.Command(tickwire, "gen", "-messages", fmt.Sprint(messages), "-instruments", fmt.Sprint(instruments),
			"-seed", fmt.Sprint(ss.seed), "-live", fmt.Sprint(ss.live), "-batch", "1s", "-format", "pcap", "-link", "ether", "-o", pcap, "-itch", raw, "-books", books+".tmp")
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("generating %s: %w", base, err)
		}
		if err := os.Rename(books+".tmp", books); err != nil {
			return nil, err
		}
	}
	want, err := os.ReadFile(books)
	if err != nil {
		return nil, err
	}
	floorBin := map[string]string{}
	for _, f := range []string{"floor", "floor_pcap"} {
		bin := filepath.Join(dir, f)
		cmd := exec.Command("cc", "-O2", "-o", bin, filepath.Join(floors, f+".c"))
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("building the C floor %s from %s (-floors): %v\n%s", f, floors, err, out)
		}
		floorBin[f] = bin
	}
	out := filepath.Join(dir, "books.out.jsonl")
	rep := &report.Replay{Messages: messages, Instruments: instruments, Seed: ss.seed, Live: ss.live, Runs: runs, GOMAXPROCS: runtime.GOMAXPROCS(0),
		Floor: "the C floors of " + floors + " (floor.c, floor_pcap.c; cc -O2), run as processes alternating with tickwire's, medians", LoadBefore: loadBefore}
	for _, c := range []struct {
		name, format, file, floor string
		shards                    int
		target                    float64
	}{
		{"raw ITCH file", "raw", raw, "floor", 1, 1.5},
		{"raw ITCH file", "raw", raw, "floor", 2, 1.2},
		{"A/B Ethernet pcap", "pcap", pcap, "floor_pcap", 1, 1.3},
		{"A/B Ethernet pcap", "pcap", pcap, "floor_pcap", 2, 1.2},
	} {
		if !formats[c.format] {
			continue
		}
		fl, tw, err := alternate(runs, []string{floorBin[c.floor], c.file},
			[]string{tickwire, "replay", "-q", "-shards", fmt.Sprint(c.shards), "-books", out, c.file})
		if err != nil {
			return nil, err
		}
		got, err := os.ReadFile(out)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(got, want) {
			return nil, fmt.Errorf("%s: books differ from the generator's expected books (%s vs %s)", c.name, out, books)
		}
		rep.Cases = append(rep.Cases, report.ReplayCase{Input: c.name, Format: c.format, Shards: c.shards, Floor: c.floor,
			FloorSeconds: fl.wall.Seconds(), TickwireSeconds: tw.wall.Seconds(), Ratio: tw.wall.Seconds() / fl.wall.Seconds(),
			Target: c.target, MessagesPerSec: float64(messages) / tw.wall.Seconds(), PeakRSSBytes: tw.maxRSS})
	}
	fi, _ := os.Stat(raw)
	fp, _ := os.Stat(pcap)
	fmt.Printf("\nwhole-process replay, %d messages over %d instruments (raw %.0f MB, pcap %.0f MB), medians of %d runs alternating with the C floors, GOMAXPROCS=%d, books exact\n",
		messages, instruments, float64(fi.Size())/1e6, float64(fp.Size())/1e6, runs, runtime.GOMAXPROCS(0))
	fmt.Printf("%-20s %6s %-11s %9s %11s %7s %8s %11s %12s\n", "input", "shards", "floor", "floor s", "tickwire s", "ratio", "target", "M msg/s", "peak RSS MiB")
	for _, r := range rep.Cases {
		fmt.Printf("%-20s %6d %-11s %9.3f %11.3f %7.2f %8.2f %11.1f %12.1f\n", r.Input, r.Shards, r.Floor,
			r.FloorSeconds, r.TickwireSeconds, r.Ratio, r.Target, r.MessagesPerSec/1e6, float64(r.PeakRSSBytes)/(1<<20))
	}
	rep.RawBytes, rep.PcapBytes = fi.Size(), fp.Size()
	rep.LoadAfter = report.LoadAvg()
	return rep, nil
}

// headlines prints the per-message figures of a go test -bench output file
// next to the targets they answer to, and returns them.
func headlines(path string) ([]report.Headline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	// metric returns the value reported with unit by the first benchmark
	// whose name starts with name.
	metric := func(name, unit string) (float64, bool) {
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 || !strings.HasPrefix(f[0], name+"-") && !strings.HasPrefix(f[0], name+"/") {
				continue
			}
			for i := 2; i < len(f); i++ {
				if f[i] == unit {
					v, err := strconv.ParseFloat(f[i-1], 64)
					return v, err == nil
				}
			}
		}
		return 0, false
	}
	rows := []struct {
		what, bench, unit string
		target            string
	}{
		{"ITCH decode, shuffled type mix", "BenchmarkDecode/shuffled", "ns/msg", "<= 6"},
		{"ITCH decode, grouped by type", "BenchmarkDecode/grouped", "ns/msg", ""},
		{"MoldUDP64 block iteration", "BenchmarkBlocks", "ns/msg", ""},
		{"A/B arbitration", "BenchmarkArbiter/AB", "ns/msg", ""},
		{"decode + book (generated session)", "BenchmarkDecodeBook", "ns/msg", "<= 25"},
		{"decode + book allocations, steady state", "BenchmarkDecodeBook", "allocs/msg", "0"},
		{"book alone (book's synthetic stream)", "BenchmarkApply", "ns/msg", ""},
		{"book bytes per live order", "BenchmarkApply", "B/live-order", "<= 48"},
		{"5M live orders, sized", "BenchmarkMemoryAtPeak/sized", "MiB", "<= 1024"},
		{"5M live orders, grown", "BenchmarkMemoryAtPeak/grown", "MiB", "<= 1024"},
		{"pcap reader, 1400 B packets", "BenchmarkPacketReader/1400B/file", "ns/packet", ""},
		{"raw ITCH reader", "BenchmarkITCHReader/plain", "ns/msg", ""},
		{"live: recvmmsg drain, 1400 B", "BenchmarkDrain/1400B", "dgrams/s", ""},
		{"live: recvmmsg drain, 300 B", "BenchmarkDrain/300B", "dgrams/s", ""},
		{"live: recvmmsg drain allocations", "BenchmarkDrain/1400B", "allocs/op", "0"},
		{"live: arbitration with recovery", "BenchmarkRecovery", "ns/packet", ""},
		{"live: recovery allocations", "BenchmarkRecovery", "allocs/op", "0"},
		{"live: SoupBinTCP framer", "BenchmarkFramer", "ns/packet", ""},
	}
	fmt.Printf("\nheadline figures (%s)\n", path)
	fmt.Printf("%-38s %12s %-13s %s\n", "what", "measured", "unit", "target")
	defer fmt.Printf("(live loss-free rates and latency percentiles: make load)\n")
	var heads []report.Headline
	for _, r := range rows {
		h := report.Headline{What: r.what, Bench: r.bench, Unit: r.unit, Target: r.target}
		heads = append(heads, h)
		v, ok := metric(r.bench, r.unit)
		if !ok {
			fmt.Printf("%-38s %12s %-13s %s\n", r.what, "-", r.unit, r.target)
			continue
		}
		heads[len(heads)-1].Value = &v
		fmt.Printf("%-38s %12.2f %-13s %s\n", r.what, v, r.unit, r.target)
	}
	return heads, nil
}

// alternate runs the floor and tickwire's command one after the other,
// runs times, and returns the median wall time of each (and tickwire's
// largest peak resident set): the two see the same state of the machine.
func alternate(runs int, floor, tw []string) (fl, t result, err error) {
	var fw, tww []time.Duration
	for i := 0; i < runs; i++ {
		for _, c := range []struct {
			args  []string
			walls *[]time.Duration
			res   *result
		}{{floor, &fw, &fl}, {tw, &tww, &t}} {
			cmd := exec.Command(c.args[0], c.args[1:]...)
			cmd.Stderr = os.Stderr
			start := time.Now()
			if err := cmd.Run(); err != nil {
				return fl, t, fmt.Errorf("%v: %w", c.args, err)
			}
			*c.walls = append(*c.walls, time.Since(start))
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru.Maxrss*1024 > c.res.maxRSS {
				c.res.maxRSS = ru.Maxrss * 1024
			}
		}
	}
	fl.wall, t.wall = median(fw), median(tww)
	return fl, t, nil
}

// median returns the median of ds (the lower of the middle two).
func median(ds []time.Duration) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[(len(ds)-1)/2]
}
