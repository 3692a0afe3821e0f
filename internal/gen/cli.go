package gen

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tickwire/tickwire/internal/capture"
)

// formats maps --format values to capture forms (File, Nano, BigEndian).
var formats = map[string]capture.Form{
	"pcap":       {File: capture.Pcap},
	"pcap-ns":    {File: capture.Pcap, Nano: true},
	"pcap-be":    {File: capture.Pcap, BigEndian: true},
	"pcap-be-ns": {File: capture.Pcap, BigEndian: true, Nano: true},
	"pcapng":     {File: capture.PcapNG},
	"pcapng-be":  {File: capture.PcapNG, BigEndian: true},
}

// links maps --link values to link types and VLAN tagging.
var links = map[string]struct {
	link capture.LinkType
	vlan capture.VLAN
}{
	"ether": {capture.LinkEthernet, capture.NoVLAN},
	"vlan":  {capture.LinkEthernet, capture.Dot1Q},
	"qinq":  {capture.LinkEthernet, capture.QinQ},
	"sll":   {capture.LinkSLL, capture.NoVLAN},
	"sll2":  {capture.LinkSLL2, capture.NoVLAN},
	"raw":   {capture.LinkRaw, capture.NoVLAN},
	"ipv4":  {capture.LinkIPv4, capture.NoVLAN},
	"ipv6":  {capture.LinkIPv6, capture.NoVLAN},
}

var resolutions = map[string]byte{"us": capture.ResolMicro, "ns": capture.ResolNano, "bin30": capture.ResolBinary}

const usage = `usage: tickwire gen [flags]

Generates a synthetic TotalView-ITCH 5.0 session (deterministic by seed):
MoldUDP64 on lines A and B as a capture, or a raw ITCH BinaryFILE, and the
expected final books as JSON Lines.

  tickwire gen -messages 3000000 -o day.pcap -books day.books.jsonl
  tickwire gen -format pcapng -link vlan -split-lines -loss-a 0.01 -loss-b 0.01 -o day.pcapng
  tickwire gen -format itch.gz -o day.NASDAQ_ITCH50.gz
  tickwire gen -messages 10000000 -instruments 3000 -live 2000000 -format itch -o deep.itch

Flags:
`

// Command implements "tickwire gen": it parses args (without the command
// name), writes the requested files and prints a one-line summary on stdout.
// It returns the process exit code: 0 success, 1 failure, 2 usage error.
func Command(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	var (
		messages    = fs.Int("messages", DefaultMessages, "number of ITCH messages")
		instruments = fs.Int("instruments", DefaultInstruments, "number of Stock Directory instruments")
		live        = fs.Int("live", 0, "target peak of live orders, shared by the instruments in proportion to their activity (0: each book settles around 150 orders)")
		seed        = fs.Uint64("seed", 1, "random seed")
		format      = fs.String("format", "pcap", "output format: pcap, pcap-ns, pcap-be, pcap-be-ns, pcapng, pcapng-be, itch, itch.gz")
		link        = fs.String("link", "ether", "link type: ether, vlan, qinq, sll, sll2, raw, ipv4, ipv6")
		ipv6        = fs.Bool("ipv6", false, "IPv6 groups and sources")
		ipOptions   = fs.Bool("ip-options", false, "IPv4 header options / IPv6 hop-by-hop header")
		fcs         = fs.Bool("fcs", false, "Ethernet FCS trailer")
		snaplen     = fs.Int("snaplen", 0, "capture snap length (0: 262144)")
		junk        = fs.Bool("junk", false, "pcapng: unknown blocks and options to skip")
		sections    = fs.Int("sections", 0, "pcapng: start a new section every N packets, alternating byte order")
		tsresol     = fs.String("tsresol", "ns", "pcapng timestamp resolution: us, ns, bin30")
		blocks      = fs.String("blocks", "epb", "pcapng packet blocks: epb, pb, mixed")
		split       = fs.Bool("split-lines", false, "write line A and line B as two captures (-o gets -A/-B suffixes unless -out-b is given)")
		out         = fs.String("o", "", "output file (capture, or raw ITCH for -format itch)")
		outB        = fs.String("out-b", "", "line B capture file (implies -split-lines)")
		itchOut     = fs.String("itch", "", "also write the raw ITCH BinaryFILE here (.gz: gzip)")
		books       = fs.String("books", "", "expected final books (JSON Lines)")
		lossA       = fs.Float64("loss-a", 0, "line A packet loss rate")
		lossB       = fs.Float64("loss-b", 0, "line B packet loss rate")
		burst       = fs.Float64("burst", 1, "mean loss burst length in packets")
		dup         = fs.Float64("dup", 0, "duplication rate on each line")
		reorder     = fs.Float64("reorder", 0, "reordering rate on each line")
		latencyA    = fs.Duration("latency-a", 18*time.Microsecond, "line A base delay")
		latencyB    = fs.Duration("latency-b", 23500*time.Nanosecond, "line B base delay")
		jitter      = fs.Duration("jitter", time.Microsecond, "maximum extra delay per packet")
		allowDouble = fs.Bool("allow-double-loss", false, "let packets be lost on both lines (lost ranges are reported)")
		noise       = fs.Bool("noise", false, "add noise traffic: ARP, TCP, unrelated UDP, another group, IP fragments, IGMP")
		noiseRate   = fs.Float64("noise-rate", DefaultNoise, "noise events per captured packet, with -noise")
		payload     = fs.Int("payload", DefaultMaxPayload, "maximum MoldUDP64 packet size (UDP payload bytes)")
		session     = fs.String("session", DefaultSession, "MoldUDP64 session name (10 bytes)")
		groupA      = fs.String("group-a", "", "line A group:port (default 233.54.12.111:26477)")
		groupB      = fs.String("group-b", "", "line B group:port (default 233.54.12.112:26477)")
		date        = fs.String("date", "2026-03-02", "trading day")
		utcOffset   = fs.Duration("utc-offset", -5*time.Hour, "exchange offset from UTC on the trading day")
		heartbeat   = fs.Duration("heartbeat", time.Second, "heartbeat interval when idle")
		batch       = fs.Duration("batch", 5*time.Microsecond, "how long after a packet's first message later ones may join it (longer: fuller packets)")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(code int, f string, a ...any) int {
		fmt.Fprintf(stderr, "tickwire gen: "+f+"\n", a...)
		return code
	}
	if fs.NArg() > 0 {
		return fail(2, "unexpected argument %q", fs.Arg(0))
	}
	day, err := time.Parse("2006-01-02", *date)
	if err != nil {
		return fail(2, "-date: %v", err)
	}
	cfg := Config{
		Seed: *seed, Messages: *messages, Instruments: *instruments, Session: *session, Date: day,
		UTCOffset: *utcOffset, MaxPayload: *payload, Heartbeat: int64(*heartbeat), BatchWindow: int64(*batch), AllowDoubleLoss: *allowDouble,
		IPv6: *ipv6, Live: *live,
	}
	if *noise {
		cfg.Noise = *noiseRate
	}
	if *utcOffset == 0 {
		cfg.UTCOffset = time.Nanosecond // UTC; 0 would select the default
	}
	for i, l := range []struct {
		group   string
		loss    float64
		latency time.Duration
	}{{*groupA, *lossA, *latencyA}, {*groupB, *lossB, *latencyB}} {
		line := &cfg.Lines[i]
		if l.group != "" {
			ap, err := netip.ParseAddrPort(l.group)
			if err != nil {
				return fail(2, "-group-%c: %v", 'a'+i, err)
			}
			line.Group = ap
		}
		line.Loss, line.Burst, line.Dup, line.Reorder = l.loss, *burst, *dup, *reorder
		line.Latency, line.Jitter = max(int64(l.latency), 1), int64(*jitter)
		if *jitter == 0 {
			line.Jitter = -1
		}
	}
	if *out == "" && *books == "" && *itchOut == "" {
		return fail(2, "nothing to write: give -o, -itch or -books")
	}
	var outs Outputs
	var files []*os.File
	closeAll := func() error {
		var first error
		for _, f := range files {
			if err := f.Close(); err != nil && first == nil {
				first = err
			}
		}
		return first
	}
	create := func(path string) (io.Writer, error) {
		f, err := os.Create(path)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
		return f, nil
	}
	var written []string
	switch {
	case *out == "":
	case *format == "itch" || *format == "itch.gz":
		if outs.ITCH, err = create(*out); err != nil {
			return fail(1, "%v", err)
		}
		cfg.ITCHGzip = *format == "itch.gz"
		written = append(written, *out)
	default:
		base, ok := formats[*format]
		if !ok {
			return fail(2, "unknown -format %q", *format)
		}
		lk, ok := links[*link]
		if !ok {
			return fail(2, "unknown -link %q", *link)
		}
		form := base
		form.Link, form.VLAN, form.IPOptions, form.FCS, form.SnapLen = lk.link, lk.vlan, *ipOptions, *fcs, uint32(max(*snaplen, 0))
		if form.File == capture.PcapNG {
			r, ok := resolutions[*tsresol]
			if !ok {
				return fail(2, "unknown -tsresol %q", *tsresol)
			}
			form.Junk, form.SectionEvery, form.FlipByteOrder = *junk, *sections, *sections > 0
			switch *blocks {
			case "epb":
			case "pb":
				form.Blocks = capture.PB
			case "mixed":
				form.Blocks = capture.MixedBlocks
			default:
				return fail(2, "unknown -blocks %q", *blocks)
			}
			names := []string{"ens1f0", "ens1f1"}
			if *split || *outB != "" {
				names = names[:1]
			}
			for _, n := range names {
				form.Interfaces = append(form.Interfaces, capture.Interface{Name: n, TSResol: r})
			}
		}
		cfg.Form = form
		pathA, pathB := *out, *outB
		if *split && pathB == "" {
			ext := filepath.Ext(*out)
			stem := strings.TrimSuffix(*out, ext)
			pathA, pathB = stem+"-A"+ext, stem+"-B"+ext
		}
		if outs.Capture, err = create(pathA); err != nil {
			return fail(1, "%v", err)
		}
		written = append(written, pathA)
		if pathB != "" {
			if outs.CaptureB, err = create(pathB); err != nil {
				closeAll()
				return fail(1, "%v", err)
			}
			written = append(written, pathB)
		}
	}
	if *itchOut != "" {
		if outs.ITCH != nil {
			closeAll()
			return fail(2, "-itch with -format %s: one raw ITCH output only", *format)
		}
		if outs.ITCH, err = create(*itchOut); err != nil {
			closeAll()
			return fail(1, "%v", err)
		}
		cfg.ITCHGzip = strings.HasSuffix(*itchOut, ".gz")
		written = append(written, *itchOut)
	}
	if *books != "" {
		if outs.Books, err = create(*books); err != nil {
			closeAll()
			return fail(1, "%v", err)
		}
		written = append(written, *books)
	}
	start := time.Now()
	sum, err := Generate(cfg, outs)
	if cerr := closeAll(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(1, "%v", err)
	}
	fmt.Fprintf(stdout, "tickwire gen: %s; %.2fs; wrote %s\n", sum.String(), time.Since(start).Seconds(), strings.Join(written, ", "))
	return 0
}
