// Command fanoutbench measures tickwire's subscriber fan-out beside an
// embedded NATS server in one run on loopback (issue 9, Performance): one
// publisher over 300 instruments (subjects) to 64 subscribers of all of
// them; delivered rate, latency at a paced 20k updates/s, bytes per idle
// connection, and how long a subscriber that stops reading lasts. The ratio
// of the two systems is what holds from machine to machine.
//
// Usage:
//
//	fanoutbench [-quick] [-subs 64] [-instruments 300] [-idle 10000] [-js 1,3] [-json FILE]
//
// Then (issue 12) the same feed through NATS JetStream: transport/natsjs
// publishing into a stream on one server and on a three-node cluster
// (three replicas), and as many client.DialNATS subscribers; the updates
// per second stored and delivered, and the latency from the book at each
// hop: the server routing it, the stream acknowledging it, a subscriber
// decoding it.
//
// With -json FILE it also writes the figures and the targets' verdicts to
// FILE as a report.Fanout, for tools/benchtable.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tickwire/tickwire/tools/benchtable/report"
)

// config is one run's sizes and durations.
type config struct {
	subs        int
	instruments int
	rate        int           // paced updates (messages) per second
	batch       int           // ITCH messages per Flush in the unpaced run (a MoldUDP64 packet's worth)
	window      time.Duration // each measured window
	idle        int           // idle connections
	slowMax     time.Duration // give up on the slow consumer after this
	loops       int           // the server's event loops
	jsNodes     []int         // the JetStream runs' servers (replicas as many); none: not run
	quiet       bool
}

func defaults(quick bool) config {
	c := config{subs: 64, instruments: 300, rate: 20_000, batch: 32, window: 3 * time.Second, idle: 10_000, slowMax: 25 * time.Second, loops: 1,
		jsNodes: []int{1, 3}}
	if quick {
		c.window, c.idle, c.slowMax = time.Second, 2_000, 8*time.Second
	}
	return c
}

func main() {
	if childMode() {
		return
	}
	quick := flag.Bool("quick", false, "a ~20 s smoke run: shorter windows, 2,000 idle connections")
	c := defaults(false)
	subs := flag.Int("subs", 0, "subscribers (default 64)")
	inst := flag.Int("instruments", 0, "instruments / subjects (default 300)")
	idle := flag.Int("idle", 0, "idle connections (default 10,000; 2,000 with -quick)")
	rate := flag.Int("rate", 0, "paced rate of the latency runs, per second (default 20,000)")
	batch := flag.Int("batch", 0, "ITCH messages per Flush in the unpaced run (default 32)")
	loops := flag.Int("loops", 0, "the server's event loops (default 1)")
	jsonOut := flag.String("json", "", "also write the figures to this `FILE` as JSON (for tools/benchtable)")
	js := flag.String("js", "1,3", "the JetStream runs: servers in each, comma-separated (a stream of as many replicas); \"\" for none")
	flag.Parse()
	c = defaults(*quick)
	c.jsNodes = nil
	for _, f := range strings.Split(*js, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > 5 {
			fmt.Fprintf(os.Stderr, "fanoutbench: -js %q: want numbers of servers from 1 to 5\n", *js)
			os.Exit(2)
		}
		c.jsNodes = append(c.jsNodes, n)
	}
	for _, o := range []struct{ dst, v *int }{{&c.subs, subs}, {&c.instruments, inst}, {&c.idle, idle}, {&c.rate, rate}, {&c.batch, batch}, {&c.loops, loops}} {
		if *o.v > 0 {
			*o.dst = *o.v
		}
	}
	t, err := run(c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fanoutbench:", err)
		os.Exit(1)
	}
	t.print(os.Stdout)
	if *jsonOut != "" {
		if err := report.Write(*jsonOut, t.report()); err != nil {
			fmt.Fprintln(os.Stderr, "fanoutbench:", err)
			os.Exit(1)
		}
	}
}

// run measures both systems and returns the table.
func run(c config) (*table, error) {
	t := &table{cfg: c, loadBefore: report.LoadAvg()}
	t.notes = append(t.notes, raiseNoFile(c))
	start := time.Now()
	n, err := runNATS(c, t.logf)
	if err != nil {
		return nil, fmt.Errorf("nats: %w", err)
	}
	w, err := runTickwire(c, t.logf)
	if err != nil {
		return nil, fmt.Errorf("tickwire: %w", err)
	}
	t.nats, t.tw = n, w
	for _, nodes := range c.jsNodes {
		j, err := runJetStream(c, nodes, t.logf)
		if err != nil {
			return nil, fmt.Errorf("jetstream on %d server(s): %w", nodes, err)
		}
		t.js = append(t.js, j)
	}
	t.elapsed, t.loadAfter = time.Since(start), report.LoadAvg()
	return t, nil
}

// raiseNoFile raises RLIMIT_NOFILE to its hard limit and says whether it is
// enough: the daemon's process holds one descriptor per connection (the
// idle clients run in a child process with its own).
func raiseNoFile(c config) string {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return "RLIMIT_NOFILE: " + err.Error()
	}
	r.Cur = r.Max
	err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r)
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r)
	need := uint64(c.idle + 4*c.subs + 256)
	switch {
	case err != nil:
		return fmt.Sprintf("RLIMIT_NOFILE: could not raise (%v), now %d; need about %d", err, r.Cur, need)
	case r.Cur < need:
		return fmt.Sprintf("RLIMIT_NOFILE %d is below the %d needed: the idle run will fail to connect them all", r.Cur, need)
	}
	return fmt.Sprintf("RLIMIT_NOFILE raised to %d (need about %d per process)", r.Cur, need)
}
