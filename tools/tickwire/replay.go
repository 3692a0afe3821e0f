package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tickwire/tickwire/internal/pipeline"
	"github.com/tickwire/tickwire/replay"
)

func replayCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tickwire replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		books       = fs.String("books", "", "write the final books as JSON Lines to `FILE` (- for standard output)")
		symbol      = fs.String("symbol", "", "print this instrument's full ladder")
		ports       = fs.String("port", "", "select the feed by UDP destination `PORTS` (comma-separated)")
		groups      = fs.String("group", "", "select the feed by destination `ADDRS` (comma-separated multicast groups)")
		session     = fs.String("session", "", "select the MoldUDP64 session by `NAME` (default: the first carrying ITCH)")
		allowGaps   = fs.Bool("allow-gaps", false, "go on past sequence gaps, report them and mark instruments whose books may be wrong")
		orders      = fs.Int("orders", 0, "live-order capacity hint: tables start at this size and double past it (0: 65536); size for the day's peak to avoid growth")
		instruments = fs.Int("instruments", 1<<14, "instrument capacity hint")
		holdPackets = fs.Int("hold-packets", 1024, "packets held ahead of a hole before it is declared a gap")
		holdTime    = fs.Duration("hold-time", 0, "capture time a hole may stay open before it is declared a gap (0: bounded by --hold-packets only)")
		top         = fs.Int("top", 10, "instruments in the summary's top-of-book table")
		maxJump     = fs.Uint64("max-jump", pipeline.DefaultMaxJump, "drop a packet starting this many messages beyond all known, unless another line corroborates it (0: off)")
		quiet       = fs.Bool("q", false, "print no summary")
		cpuprofile  = fs.String("cpuprofile", "", "write a CPU profile to `FILE`")
		shards      = fs.Int("shards", runtime.NumCPU(), "book shards, each on its own pinned thread owning a share of the instruments (see --split)")
		split       = fs.String("split", "read", "how shards share the input: read (each reads and arbitrates the whole input, applying locate mod N) or ring (one reader frames and arbitrates once and hands each shard its messages through a ring, as the live handler's book.shards)")
		lat         = fs.Bool("latency", false, "record per-stage latency (capture time: exchange_to_capture, line_lag, gap_fill; wall time: decode, book, end_to_end) and print its percentiles")
		verifyCsums = fs.Bool("verify-checksums", false, "verify UDP checksums too (IPv4 header checksums are always verified) and drop datagrams failing either, as a NIC would; without it failures are counted and kept")
		tz          = fs.String("tz", "America/New_York", "with --latency: the exchange's time `ZONE`, whose midnight ITCH timestamps count from")
	)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: tickwire replay [flags] CAPTURE...\n\n"+
			"CAPTURE is a pcap or pcapng capture of MoldUDP64 (several are merged in time order),\n"+
			"or a raw ITCH 5.0 file (BinaryFILE, plain or gzip).\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	cfg := pipeline.Config{
		Session:     *session,
		AllowGaps:   *allowGaps,
		Orders:      *orders,
		Instruments: *instruments,
		HoldPackets: *holdPackets,
		HoldTime:    int64(*holdTime),
		MaxJump:     *maxJump,
	}
	if *verifyCsums {
		cfg.Capture = append(cfg.Capture, replay.WithVerifyChecksums(true))
	}
	var err error
	if cfg.Ports, err = parsePorts(*ports); err != nil {
		fmt.Fprintf(stderr, "tickwire replay: --port: %v\n", err)
		return 2
	}
	if cfg.Groups, err = parseGroups(*groups); err != nil {
		fmt.Fprintf(stderr, "tickwire replay: --group: %v\n", err)
		return 2
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintf(stderr, "tickwire replay: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "tickwire replay: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	switch *split {
	case "read":
	case "ring":
		if *shards > 1 {
			cfg.Writers.Shards = *shards
			for i := 1; i < *shards; i++ {
				cfg.Writers.CPUs = append(cfg.Writers.CPUs, i%runtime.NumCPU())
			}
			*shards = 1
		}
	default:
		fmt.Fprintf(stderr, "tickwire replay: --split %q: read or ring\n", *split)
		return 2
	}
	if *shards < 1 || *shards > 64 {
		fmt.Fprintf(stderr, "tickwire replay: --shards %d: must be 1 to 64\n", *shards)
		return 2
	}
	var loc *time.Location
	if *lat {
		if loc, err = time.LoadLocation(*tz); err != nil {
			fmt.Fprintf(stderr, "tickwire replay: --tz: %v\n", err)
			return 2
		}
	}
	return replayFiles(fs.Args(), cfg, *shards, loc, *books, *symbol, *top, *quiet, stdout, stderr)
}

// replayFiles replays paths; loc, when not nil, turns on the latency stages
// with ITCH timestamps in that zone.
func replayFiles(paths []string, cfg pipeline.Config, shards int, loc *time.Location, booksPath, symbol string, top int, quiet bool, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintf(stderr, "tickwire replay: %v\n", err)
		return 1
	}
	g, err := pipeline.NewGroup(cfg, shards)
	if err != nil {
		return fail(err)
	}
	if loc != nil {
		g.RecordLatency(loc)
	}
	progress := progressFunc(stderr, quiet)
	start := time.Now()
	runErr := g.Run(paths, true, progress)
	elapsed := time.Since(start)
	if progress != nil {
		fmt.Fprint(stderr, "\r\033[K")
	}
	if !quiet && g.Format != 0 {
		g.WriteSummary(stdout, pipeline.Summary{Inputs: paths, Format: g.Format.String(), Elapsed: elapsed, Top: top})
	}
	if rep := g.Latency(); rep != nil && g.Format != 0 {
		writeLatency(stdout, stderr, rep)
	}
	if runErr != nil {
		return fail(runErr)
	}
	if symbol != "" {
		l, ok := g.Lookup(symbol)
		if !ok {
			return fail(fmt.Errorf("--symbol %s: no such instrument in the stock directory", symbol))
		}
		pipeline.WriteLadder(stdout, g, l)
	}
	if booksPath != "" {
		if err := writeBooks(booksPath, g, stdout); err != nil {
			return fail(err)
		}
	}
	return 0
}

// writeLatency prints the latency stages in the columns `tickwire stats`
// prints the daemon's (admin.WriteStages, whose name column is too narrow
// for exchange_to_capture), and on stderr what makes one unreliable.
func writeLatency(stdout, stderr io.Writer, rep *pipeline.LatencyReport) {
	const row = "%-19s %10s %9s %9s %9s %9s %9s %9s\n"
	fmt.Fprintf(stdout, row, "stage (us)", "count", "p50", "p90", "p99", "p99.9", "p99.99", "max")
	us := func(ns int64) string { return strconv.FormatFloat(float64(ns)/1e3, 'f', 1, 64) }
	for _, s := range rep.Stages {
		if s.Count > 0 {
			fmt.Fprintf(stdout, row, s.Name, strconv.FormatInt(s.Count, 10), us(s.P50), us(s.P90), us(s.P99), us(s.P999), us(s.P9999), us(s.MaxNs))
		}
	}
	for _, note := range rep.Notes() {
		fmt.Fprintf(stderr, "tickwire replay: %s\n", note)
	}
}

func writeBooks(path string, g *pipeline.Group, stdout io.Writer) error {
	return writeOutput(path, stdout, func(w io.Writer) error { return pipeline.WriteBooks(w, g) })
}

// progressFunc returns a callback printing a progress line on stderr when it
// is a terminal, or nil.
func progressFunc(stderr io.Writer, quiet bool) func(uint64) {
	f, ok := stderr.(*os.File)
	if quiet || !ok {
		return nil
	}
	if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err != nil {
		return nil
	}
	start := time.Now()
	last := start
	return func(records uint64) {
		now := time.Now()
		if now.Sub(last) < 250*time.Millisecond {
			return
		}
		last = now
		el := now.Sub(start).Seconds()
		fmt.Fprintf(f, "\r\033[K%d records, %.1f s, %.2f M records/s", records, el, float64(records)/el/1e6)
	}
}

func parsePorts(s string) ([]uint16, error) {
	if s == "" {
		return nil, nil
	}
	var out []uint16
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.ParseUint(strings.TrimSpace(f), 10, 16)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("%q is not a UDP port (1-65535)", f)
		}
		out = append(out, uint16(n))
	}
	return out, nil
}

func parseGroups(s string) ([]netip.Addr, error) {
	if s == "" {
		return nil, nil
	}
	var out []netip.Addr
	for _, f := range strings.Split(s, ",") {
		a, err := netip.ParseAddr(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address", f)
		}
		out = append(out, a)
	}
	return out, nil
}
