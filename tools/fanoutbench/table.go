package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tickwire/tickwire/tools/benchtable/report"
)

// table is the run's results, printed side by side.
type table struct {
	cfg        config
	nats, tw   *result
	js         []*jsResult // the JetStream runs, by servers
	notes      []string
	loadBefore float64 // the 1-minute load average before the run, and after
	loadAfter  float64
	elapsed    time.Duration
}

// logf prints progress to stderr (not in quiet runs).
func (t *table) logf(format string, args ...any) {
	if !t.cfg.quiet {
		fmt.Fprintf(os.Stderr, "fanoutbench: "+format+"\n", args...)
	}
}

func rate(v float64) string { return fmt.Sprintf("%.2fM/s", v/1e6) }

func dur(ns int64) string {
	d := time.Duration(ns)
	switch {
	case d < 10*time.Microsecond:
		return fmt.Sprintf("%.1fus", float64(ns)/1e3)
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fus", float64(ns)/1e3)
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(ns)/1e6)
	}
	return fmt.Sprintf("%.2fs", float64(ns)/1e9)
}

func pq(q quantiles) string {
	if q.n == 0 {
		return "-"
	}
	return fmt.Sprintf("%s / %s (n=%d)", dur(q.p50), dur(q.p99), q.n)
}

func kib(b float64) string { return fmt.Sprintf("%.1f KiB", b/1024) }

func yes(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

func slow(d time.Duration, action string) string {
	if d < 0 {
		return action
	}
	return fmt.Sprintf("%s after %s", action, dur(int64(d)))
}

// checks are the targets of issue 9, in order, with what tickwire measured.
func (t *table) checks() []report.Check {
	n, w := t.nats, t.tw
	us := func(q quantiles, ns int64) string {
		if q.n == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f", float64(ns)/1e3)
	}
	perConn := func(b float64) string {
		if w.idle.n == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f", b/1024)
	}
	stalled := "-"
	if w.slowAfter >= 0 {
		stalled = fmt.Sprintf("%.2f", w.slowAfter.Seconds())
	}
	return []report.Check{
		{What: "fan-out, tickwire / NATS delivered", Unit: "x", Measured: fmt.Sprintf("%.2f", w.delivered/n.delivered), Target: ">= 2", Met: w.delivered >= 2*n.delivered},
		{What: "lost by any subscriber", Unit: "", Measured: w.lost, Target: "none", Met: strings.HasPrefix(w.lost, "none")},
		{What: "book to decoded p99", Unit: "us", Measured: us(w.lat, w.lat.p99), Target: "<= 1000", Met: w.lat.n > 0 && w.lat.p99 <= 1e6},
		{What: "book to bytes written p50", Unit: "us", Measured: us(w.wrote, w.wrote.p50), Target: "<= 5", Met: w.wrote.n > 0 && w.wrote.p50 <= 5e3},
		{What: "book to bytes written p99", Unit: "us", Measured: us(w.wrote, w.wrote.p99), Target: "<= 50", Met: w.wrote.n > 0 && w.wrote.p99 <= 50e3},
		{What: "idle connection, Go heap+stacks after GC", Unit: "KiB/conn", Measured: perConn(w.idle.goBytes), Target: "<= 8", Met: w.idle.n > 0 && w.idle.goBytes <= 8<<10},
		{What: "idle connection, RSS before GC", Unit: "KiB/conn", Measured: perConn(w.idle.rssBytes), Target: "<= 8", Met: w.idle.n > 0 && w.idle.rssBytes <= 8<<10},
		{What: "stalled subscriber conflated or cut off after it stops reading", Unit: "s", Measured: stalled, Target: "<= 1", Met: w.slowAfter >= 0 && w.slowAfter <= time.Second},
	}
}

// report is the run's figures for tools/benchtable.
func (t *table) report() *report.Fanout {
	c := t.cfg
	var js []report.FanoutJS
	for _, j := range t.js {
		js = append(js, j.report())
	}
	return &report.Fanout{JetStream: js, Subscribers: c.subs, Instruments: c.instruments, Rate: c.rate, Idle: c.idle, Loops: c.loops,
		GOMAXPROCS: runtime.GOMAXPROCS(0), ElapsedSeconds: t.elapsed.Seconds(), LoadBefore: t.loadBefore, LoadAfter: t.loadAfter,
		NATS: t.nats.report(), Tickwire: t.tw.report(), Checks: t.checks()}
}

// report is one system's figures for tools/benchtable.
func (r *result) report() report.FanoutSystem {
	q := func(q quantiles) report.Quantiles {
		return report.Quantiles{P50: q.p50, P99: q.p99, Max: q.max, N: q.n}
	}
	return report.FanoutSystem{Delivered: r.delivered, Published: r.published, Lost: r.lost, Decoded: q(r.lat), Wrote: q(r.wrote),
		IdleConns: r.idle.n, IdleGo: r.idle.goBytes, IdleRSS: r.idle.rssBytes, IdleErr: r.idleErr,
		SlowAfterSeconds: r.slowAfter.Seconds(), SlowAction: r.slowAction}
}

func (t *table) print(out io.Writer) {
	c, n, w := t.cfg, t.nats, t.tw
	fmt.Fprintf(out, "fan-out on loopback, %d subscribers of all %d instruments/subjects, GOMAXPROCS=%d, %d CPUs, %s, run took %s\n",
		c.subs, c.instruments, runtime.GOMAXPROCS(0), runtime.NumCPU(), runtime.Version(), t.elapsed.Round(time.Second))
	fmt.Fprintf(out, "load average before / after: %.2f / %.2f (other processes share the machine)\n", t.loadBefore, t.loadAfter)
	fmt.Fprintf(out, "paced runs: %d/s in packets every %v\nNATS: embedded nats-server v2.15.3, nats.go v1.56.0, %d-byte messages, each subscriber on bench.*\n", c.rate, tick, natsMsgSize)
	fmt.Fprintf(out, "tickwire: book.Book -> transport.Publisher -> gnet server (%d loop(s)) -> client.Dial at DepthTop; 1 update (LevelChanged) per ITCH message, %d messages per Flush unpaced\n\n", c.loops, c.batch)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	row := func(cells ...string) { fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t") }
	row("", "NATS", "tickwire")
	row("delivered, all subscribers", rate(n.delivered), rate(w.delivered))
	row("publisher / writer rate", rate(n.published), rate(w.published))
	row("lost", n.lost, w.lost)
	row(fmt.Sprintf("publish to decoded p50 / p99 at %dk/s", c.rate/1000), pq(n.lat), pq(w.lat))
	row("book updated to bytes written p50 / p99", "-", pq(w.wrote))
	row("  to the first connection of a pass", "-", pq(w.firstWrote))
	row("  a connection's turn in a pass (copy + write)", "-", fmt.Sprintf("%v mean", w.turn.Round(10*time.Nanosecond)))
	row(fmt.Sprintf("%d idle: Go heap+stacks per conn, after GC", c.idle), idleCell(n, true), idleCell(w, true))
	row(fmt.Sprintf("%d idle: RSS per conn, before GC", c.idle), idleCell(n, false), idleCell(w, false))
	row("  while they connect: decoded p50 / p99", "-", pq(w.idleLat))
	row("  while they connect: bytes written p50 / p99", "-", pq(w.idleWrote))
	row("subscriber stops reading (64 KiB rcvbuf)", slow(n.slowAfter, n.slowAction), slow(w.slowAfter, w.slowAction))
	row("  others' p50 / p99 before (paced run)", pq(n.lat), pq(w.lat))
	row("  others' p50 / p99 while it stalls, +1 s", pq(n.slowLat), pq(w.slowLat))
	row("  bytes written p50 / p99 while it stalls", "-", pq(w.slowWrote))
	tw.Flush()
	fmt.Fprintln(out)
	fmt.Fprintln(out, "targets (issue 9):")
	for _, m := range t.checks() {
		fmt.Fprintf(out, "  %s: %s (target %s), %s\n", m.What, withUnit(m.Measured, m.Unit), withUnit(m.Target, m.Unit), yes(m.Met))
	}
	t.printJS(out)
	for _, s := range t.notes {
		fmt.Fprintln(out, "note: "+s)
	}
	fmt.Fprintln(out, "note: bytes written is the oldest update of each write, counted for every frame of it (an upper bound per update)")
}

// withUnit is v followed by its unit.
func withUnit(v, unit string) string {
	switch {
	case unit == "" || v == "-":
		return v
	case unit == "x":
		return v + unit
	}
	return v + " " + unit
}

func idleCell(r *result, goHeap bool) string {
	if r.idleErr != "" {
		return "failed: " + r.idleErr
	}
	if goHeap {
		return kib(r.idle.goBytes)
	}
	return kib(r.idle.rssBytes)
}

// printJS prints the JetStream runs beside the direct TCP fan-out.
func (t *table) printJS(out io.Writer) {
	if len(t.js) == 0 {
		return
	}
	c, w := t.cfg, t.tw
	fmt.Fprintf(out, "\nthrough NATS JetStream (issue 12): the same feed, transport/natsjs publishing each instrument's updates into a stream (file storage, as many replicas as servers; batches of an instrument's updates, %v linger) and %d client.DialNATS subscribers of every instrument at the Orders depth; beside the direct TCP fan-out above\n\n",
		2*time.Millisecond, c.subs)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	row := func(cells ...string) { fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t") }
	head := []string{"", "tickwire TCP"}
	for _, j := range t.js {
		head = append(head, j.name())
	}
	row(head...)
	cells := func(tcp string, f func(j *jsResult) string) []string {
		r := []string{tcp}
		for _, j := range t.js {
			r = append(r, f(j))
		}
		return r
	}
	row(append([]string{"updates delivered, all subscribers"}, cells(rate(w.delivered), func(j *jsResult) string { return rate(j.delivered) })...)...)
	row(append([]string{"updates published, no subscriber (JetStream: acknowledged)"}, cells("-", func(j *jsResult) string { return rate(j.solo) })...)...)
	row(append([]string{"updates published, subscribers reading"}, cells(rate(w.published), func(j *jsResult) string { return rate(j.published) })...)...)
	row(append([]string{"  NATS messages into the stream"}, cells("-", func(j *jsResult) string { return fmt.Sprintf("%.1fk/s", j.msgs/1e3) })...)...)
	row(append([]string{"paced run's rate (JetStream: the highest tried with a median within 50 ms)"}, cells(fmt.Sprintf("%d/s", c.rate), func(j *jsResult) string { return fmt.Sprintf("%d/s", j.rate) })...)...)
	row(append([]string{"book to the server (core subscriber) p50 / p99"}, cells("-", func(j *jsResult) string { return pq(j.toServer) })...)...)
	row(append([]string{"book to stored and acknowledged p50 / p99"}, cells("-", func(j *jsResult) string { return pq(j.toAck) })...)...)
	row(append([]string{"book to bytes written (TCP) p50 / p99"}, cells(pq(w.wrote), func(*jsResult) string { return "-" })...)...)
	row(append([]string{"book to decoded by a subscriber p50 / p99"}, cells(pq(w.lat), func(j *jsResult) string { return pq(j.toClient) })...)...)
	row(append([]string{"  added by each hop, p50"}, cells(hops(0, w.wrote.p50, w.lat.p50), func(j *jsResult) string {
		return hops(j.toServer.p50, j.toAck.p50, j.toClient.p50)
	})...)...)
	row(append([]string{"updates per NATS message, paced"}, cells("-", func(j *jsResult) string { return fmt.Sprintf("%.2f", j.perMsg) })...)...)
	row(append([]string{"subscribers dialed until all are under way"}, cells("-", func(j *jsResult) string { return dur(int64(j.joined)) })...)...)
	row(append([]string{"stream bytes per update"}, cells("-", func(j *jsResult) string { return fmt.Sprintf("%.0f B", j.perUpdate) })...)...)
	row(append([]string{"lost"}, cells(w.lost, func(j *jsResult) string { return j.lost })...)...)
	tw.Flush()
	for _, j := range t.js {
		if len(j.tried) > 0 {
			fmt.Fprintf(out, "note: %s: paced rates tried first: %s\n", j.name(), strings.Join(j.tried, ", "))
		}
	}
	fmt.Fprintln(out, "note: hops are cumulative from the book's update (its ITCH timestamp is the time it was applied); the server hop includes the publisher's batching (linger), the acknowledgement the stream's storage and replication, the subscriber the consumer's delivery and the client's decoding")
}

// name is a JetStream run's column.
func (j *jsResult) name() string {
	if j.nodes == 1 {
		return "JetStream, 1 server"
	}
	return fmt.Sprintf("JetStream, %d-node cluster (R%d)", j.nodes, j.nodes)
}

// hops is what each hop adds to the one before: "+a / +b / +c".
func hops(ns ...int64) string {
	var parts []string
	prev := int64(0)
	for _, v := range ns {
		if v == 0 {
			parts = append(parts, "-")
			continue
		}
		if v >= prev {
			parts = append(parts, "+"+dur(v-prev))
		} else {
			parts = append(parts, "-"+dur(prev-v))
		}
		prev = v
	}
	return strings.Join(parts, " / ")
}

// report is a JetStream run's figures for tools/benchtable.
func (j *jsResult) report() report.FanoutJS {
	q := func(q quantiles) report.Quantiles {
		return report.Quantiles{P50: q.p50, P99: q.p99, Max: q.max, N: q.n}
	}
	return report.FanoutJS{Servers: j.nodes, Delivered: j.delivered, Published: j.published, Alone: j.solo, Rate: j.rate, Messages: j.msgs, Lost: j.lost,
		ToServer: q(j.toServer), ToAck: q(j.toAck), ToClient: q(j.toClient), UpdatesPerMessage: j.perMsg, StreamBytesPerUpdate: j.perUpdate,
		JoinedSeconds: j.joined.Seconds()}
}
