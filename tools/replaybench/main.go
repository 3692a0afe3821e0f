// Command replaybench measures whole-process replays of a generated yardstick
// session against floor loops, as `make bench` reports them.
//
// It generates (once, cached) one session of -messages messages over
// -instruments instruments as a raw ITCH file and as an A/B Ethernet pcap,
// then times, as separate processes, each several times:
//
//   - floor-raw:  read the raw file whole and walk its length prefixes;
//   - floor-pcap: walk the pcap records and drop A/B duplicates by sequence;
//   - tickwire replay --books of each file, with exact books, checked
//     against the generator's expected books.
//
// It prints the best wall time of each, the ratio to its floor, messages per
// second and the peak resident memory of the tickwire process. With -json
// FILE it writes the same figures (and -gobench's headline figures) to FILE
// as a report.Replay, for tools/benchtable.
package main

import (
	"bytes"
	"encoding/binary"
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
	if len(os.Args) == 3 && (os.Args[1] == "floor-raw" || os.Args[1] == "floor-pcap") {
		os.Exit(floor(os.Args[1], os.Args[2]))
	}
	var (
		tickwire    = flag.String("tickwire", "bin/tickwire", "tickwire binary to measure")
		messages    = flag.Int("messages", 3_000_000, "messages in the yardstick session")
		instruments = flag.Int("instruments", 300, "instruments in the yardstick session")
		dir         = flag.String("dir", filepath.Join(os.TempDir(), "tickwire-bench"), "cache directory for generated sessions")
		runs        = flag.Int("runs", 5, "runs of each case (the best is reported)")
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
	rep, err := bench(*tickwire, *messages, *instruments, *dir, *runs)
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

// bench measures the replays, prints them and returns them.
func bench(tickwire string, messages, instruments int, dir string, runs int) (*report.Replay, error) {
	loadBefore := report.LoadAvg()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	base := filepath.Join(dir, fmt.Sprintf("yardstick-%d-%d", messages, instruments))
	raw, pcap, books := base+".itch", base+".pcap", base+".books.jsonl"
	if _, err := os.Stat(books); err != nil {
		// Packets filled for up to a second hold ~35 messages each, the
		// shape of the yardstick (95 MB raw, ~200 MB A/B pcap).
		fmt.Fprintf(os.Stderr, "generating %s.{itch,pcap} ...\n", base)
		cmd := exec.Command(tickwire, "gen", "-messages", fmt.Sprint(messages), "-instruments", fmt.Sprint(instruments),
			"-seed", "42", "-batch", "1s", "-format", "pcap", "-link", "ether", "-o", pcap, "-itch", raw, "-books", books+".tmp")
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
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	out := filepath.Join(dir, "books.out.jsonl")
	rep := &report.Replay{Messages: messages, Instruments: instruments, Runs: runs, GOMAXPROCS: runtime.GOMAXPROCS(0),
		Floor: "replaybench's own Go loops (floor-raw, floor-pcap), run as processes of their own", LoadBefore: loadBefore}
	for _, c := range []struct {
		name, format, file, floor string
		shards                    int
		target                    float64
	}{
		{"raw ITCH file", "raw", raw, "floor-raw", 1, 1.5},
		{"raw ITCH file", "raw", raw, "floor-raw", 2, 1.2},
		{"A/B Ethernet pcap", "pcap", pcap, "floor-pcap", 1, 1.3},
		{"A/B Ethernet pcap", "pcap", pcap, "floor-pcap", 2, 1.3},
	} {
		fl, err := best(runs, self, c.floor, c.file)
		if err != nil {
			return nil, err
		}
		tw, err := best(runs, tickwire, "replay", "-q", "-shards", fmt.Sprint(c.shards), "-books", out, c.file)
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
	fmt.Printf("\nwhole-process replay, %d messages over %d instruments (raw %.0f MB, pcap %.0f MB), best of %d, GOMAXPROCS=%d, books exact\n",
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

// best runs a command runs times and returns its fastest wall time and its
// largest peak resident set.
func best(runs int, name string, args ...string) (result, error) {
	var walls []time.Duration
	var rss int64
	for i := 0; i < runs; i++ {
		cmd := exec.Command(name, args...)
		cmd.Stderr = os.Stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return result{}, fmt.Errorf("%s %v: %w", name, args, err)
		}
		walls = append(walls, time.Since(start))
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru.Maxrss*1024 > rss {
			rss = ru.Maxrss * 1024
		}
	}
	sort.Slice(walls, func(i, j int) bool { return walls[i] < walls[j] })
	return result{walls[0], rss}, nil
}

// floor runs a floor loop as its own process: the least work that touches
// every message, so that the ratio measures what tickwire adds.
func floor(kind, path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var n, sum uint64
	if kind == "floor-raw" {
		for off := 0; off+2 <= len(data); {
			l := int(binary.BigEndian.Uint16(data[off:]))
			if off+2+l > len(data) {
				break
			}
			sum += uint64(data[off+2])
			n++
			off += 2 + l
		}
	} else {
		n, sum = walkPcap(data)
	}
	if n == 0 || sum == 0 {
		fmt.Fprintf(os.Stderr, "%s: %s: no messages walked\n", kind, path)
		return 1
	}
	return 0
}

// walkPcap walks a little-endian pcap of Ethernet/IPv4/UDP/MoldUDP64 frames
// without VLAN tags or IP options, dropping packets already seen by sequence.
func walkPcap(data []byte) (n, sum uint64) {
	next := uint64(1)
	for off := 24; off+16 <= len(data); {
		incl := int(binary.LittleEndian.Uint32(data[off+8:]))
		if off+16+incl > len(data) {
			break
		}
		rec := data[off+16 : off+16+incl]
		off += 16 + incl
		if len(rec) < 14+20+8+20 || rec[12] != 0x08 || rec[13] != 0x00 || rec[23] != 17 {
			continue
		}
		mold := rec[14+20+8:]
		seq := binary.BigEndian.Uint64(mold[10:])
		count := uint64(binary.BigEndian.Uint16(mold[18:]))
		if count == 0 || count == 0xFFFF || seq+count <= next || seq > next {
			continue
		}
		p := mold[20:]
		for i := uint64(0); i < count && len(p) >= 2; i++ {
			l := int(binary.BigEndian.Uint16(p))
			if 2+l > len(p) {
				break
			}
			if seq+i >= next {
				sum += uint64(p[2])
				n++
			}
			p = p[2+l:]
		}
		next = seq + count
	}
	return n, sum
}
