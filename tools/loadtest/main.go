// Command loadtest measures the live handler on loopback multicast: for each
// packet size and poll mode, it plays a session with `tickwire sim` at
// increasing message rates against `tickwire run`, the two processes pinned
// to different cores, and reports for each rate whether the handler lost
// anything (kernel socket drops, gaps) and its kernel-receive-to-book
// latency percentiles. The highest rate with no loss is the loss-free rate.
//
//	go run ./tools/loadtest -tickwire bin/tickwire
//
// With -flood it reproduces a sustained flood instead: -packets datagrams
// per line at -pps datagrams per second per line, -runs times for each
// poll mode and receive buffer, and reports how many runs lost datagrams
// in the kernel (socket buffer full) and had gaps:
//
//	go run ./tools/loadtest -flood -packets 1000000 -pps 80000 -runs 6 -poll epoll,busy
//
// With -json FILE (not with -flood) it also writes every run, with the
// handler's per-stage latencies from its exit summary, and the loss-free
// rates to FILE as a report.Live, for tools/benchtable. `make bench` runs a
// short form: 2,000,000 messages at a few rates, 1400-byte packets, busy
// poll, a few subscribers.
package main

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tickwire/tickwire/internal/admin"
	"github.com/tickwire/tickwire/tools/benchtable/report"
)

func main() {
	var (
		tickwire = flag.String("tickwire", "bin/tickwire", "tickwire binary")
		messages = flag.Int("messages", 2_000_000, "messages per run")
		rates    = flag.String("rates", "1e6,2e6,5e6,10e6,0", "message rates to try (0: as fast as the sender can)")
		payloads = flag.String("payloads", "1400,300", "MoldUDP64 packet sizes, bytes")
		polls    = flag.String("poll", "busy,epoll", "handler poll modes")
		dir      = flag.String("dir", filepath.Join(os.TempDir(), "tickwire-load"), "work directory")
		recvBufs = flag.String("recv-buffers", "16777216", "feed.recv_buffer values to try, bytes")
		flood    = flag.Bool("flood", false, "flood mode: -packets at -pps per line, -runs times (-payloads' first size)")
		packets  = flag.Int("packets", 1_000_000, "flood: datagrams per line per run")
		pps      = flag.Float64("pps", 80_000, "flood: datagrams per second per line")
		runs     = flag.Int("runs", 6, "flood: runs per poll mode and receive buffer")
		jsonOut  = flag.String("json", "", "also write the runs to this `FILE` as JSON (for tools/benchtable; not with -flood)")
	)
	flag.IntVar(&subscribers, "subscribers", 0, "subscribers of every instrument attached to the handler (transport), each mirror compared with the handler's books")
	flag.StringVar(&subDepth, "depth", "levels", "the subscribers' depth: orders or levels (mirrors compared), top or N (counted)")
	flag.IntVar(&subNice, "sub-nice", 19, "niceness of the subscribers' process (0: the handler's priority)")
	flag.IntVar(&loopNice, "loop-nice", 10, "the handler's transport.nice: its event loops yield to the feed (and the sender) on the CPU they share")
	flag.StringVar(&attachAddr, "attach", "", "run as the subscribers' process, against the handler at this address (internal)")
	flag.StringVar(&booksFile, "books", "", "with -attach: the handler's books to compare the mirrors with (internal)")
	flag.Parse()
	if attachAddr != "" {
		if err := runAttached(); err != nil {
			fmt.Fprintf(os.Stderr, "loadtest: subscribers: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if *flood {
		payload := strings.Split(*payloads, ",")[0]
		if err := runFlood(*tickwire, *dir, payload, *polls, *recvBufs, *packets, *pps, *runs); err != nil {
			fmt.Fprintf(os.Stderr, "loadtest: %v\n", err)
			os.Exit(1)
		}
		return
	}
	rep, err := run(*tickwire, *messages, *rates, *payloads, *polls, *recvBufs, *dir)
	if err == nil && *jsonOut != "" {
		err = report.Write(*jsonOut, rep)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "loadtest: %v\n", err)
		os.Exit(1)
	}
}

var (
	reDrops      = regexp.MustCompile(`drops: line A (\d+), line B (\d+)`)
	reGaps       = regexp.MustCompile(`gaps +(\d+) \((\d+) messages`)
	reLatency    = regexp.MustCompile(`p50 ([\d.]+) us, p99 ([\d.]+) us, p99.9 ([\d.]+) us, max ([\d.]+) us`)
	reSimRate    = regexp.MustCompile(`in ([\d.]+) s \((\d+) msg/s\)`)
	reSimPackets = regexp.MustCompile(`messages in (\d+) packets`)
)

// genSession returns the path of a generated session of the given number
// of messages in dir, generating it the first time.
func genSession(tickwire, dir string, messages int) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	session := filepath.Join(dir, fmt.Sprintf("session-%d.itch", messages))
	if _, err := os.Stat(session); err != nil {
		out, err := exec.Command(tickwire, "gen", "-messages", strconv.Itoa(messages), "-instruments", "300",
			"-seed", "11", "-format", "itch", "-o", session).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("gen: %v\n%s", err, out)
		}
	}
	return session, nil
}

// run plays the session at each rate for each packet size and poll mode,
// prints the runs and returns them.
func run(tickwire string, messages int, rates, payloads, polls, recvBufs, dir string) (*report.Live, error) {
	rep := &report.Live{Messages: messages, Subscribers: subscribers, LoadBefore: report.LoadAvg()}
	if subscribers > 0 {
		rep.Depth = subDepth
	}
	session, err := genSession(tickwire, dir, messages)
	if err != nil {
		return nil, err
	}
	recvBuf := strings.Split(recvBufs, ",")[0]
	rep.RecvBuffer = recvBuf
	if subscribers > 0 {
		fmt.Printf("%d subscribers of every instrument at depth %s attached, in a process of their own at nice %d; the handler's event loops at nice %d\n", subscribers, subDepth, subNice, loopNice)
	}
	fmt.Printf("%-8s %-6s %12s %12s %10s %6s %10s %10s %10s %10s %s\n",
		"payload", "poll", "target/s", "sent/s", "drops", "gaps", "p50 us", "p99 us", "p99.9 us", "max us", subsHeader())
	for _, payload := range strings.Split(payloads, ",") {
		for _, poll := range strings.Split(polls, ",") {
			best := 0.0
			size, _ := strconv.Atoi(payload)
			for _, r := range strings.Split(rates, ",") {
				res, err := once(tickwire, session, dir, payload, poll, r, recvBuf)
				if err != nil {
					return nil, err
				}
				fmt.Printf("%-8s %-6s %12s %12.0f %10d %6d %10s %10s %10s %10s %s\n", payload, poll, r, res.sent,
					res.drops, res.gaps, res.lat[0], res.lat[1], res.lat[2], res.lat[3], res.subs)
				lossFree := res.drops == 0 && res.gaps == 0 && !res.subsBad
				if lossFree && res.sent > best {
					best = res.sent
				}
				asked, _ := strconv.ParseFloat(r, 64)
				rep.Runs = append(rep.Runs, report.LiveRun{Payload: size, Poll: poll, Rate: asked, Sent: res.sent, Drops: res.drops,
					Gaps: res.gaps, Subscribers: res.subs, SubscribersBad: res.subsBad, LossFree: lossFree, Stages: res.stages})
			}
			fmt.Printf("  -> %s B packets, %s: highest loss-free rate %.2f M msg/s\n", payload, poll, best/1e6)
			rep.LossFree = append(rep.LossFree, report.LossFree{Payload: size, Poll: poll, Rate: best})
		}
	}
	rep.LoadAfter = report.LoadAvg()
	return rep, nil
}

type result struct {
	sent        float64 // messages per second
	packets     uint64  // datagrams per line
	elapsed     float64 // seconds the sender took
	drops, gaps uint64
	cpu         float64 // seconds of CPU the handler used
	lat         [4]string
	subs        string // the subscribers' outcome
	subsBad     bool   // a subscriber failed or was cut off, or its mirror differs (a conflation is not a fault)
	stages      []admin.Stage
}

func once(tickwire, session, dir, payload, poll, rate, recvBuf string) (result, error) {
	var res result
	port := 20000 + rand.IntN(20000)
	a := fmt.Sprintf("239.78.%d.1:%d", rand.IntN(250), port)
	b := fmt.Sprintf("239.78.%d.2:%d", rand.IntN(250), port)
	cfg := filepath.Join(dir, "load.yaml")
	// poll "epoll:50us" is epoll with feed.poll_spin 50us.
	spin := "0s"
	if m, d, ok := strings.Cut(poll, ":"); ok {
		poll, spin = m, d
	}
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`feed:
  interface: lo
  line_a: {group: %s}
  line_b: {group: %s}
  poll: %s
  poll_spin: %s
  cpu: 1
  recv_buffer: %s
  hold: {packets: 65536, bytes: 134217728}
  rerequest: {max_age: 2s}
book: {orders: 262144, instruments: 1024}
%s%s`, a, b, poll, spin, recvBuf, transportConfig(dir), adminConfig())), 0o644); err != nil {
		return res, err
	}
	h := exec.Command(tickwire, "run", "-config", cfg, "-exit-on-end", "-top", "0")
	var hout strings.Builder
	h.Stdout, h.Stderr = &hout, &hout
	if err := h.Start(); err != nil {
		return res, err
	}
	time.Sleep(300 * time.Millisecond)
	att, err := attach(&hout, dir)
	if err != nil {
		h.Process.Kill()
		return res, err
	}
	sim := exec.Command("taskset", "-c", "0", tickwire, "sim", "-itch", session, "-group-a", a, "-group-b", b,
		"-rate", rate, "-payload", payload, "-lag-b", "0", "-end-interval", "50ms")
	sout, err := sim.CombinedOutput()
	if err != nil {
		h.Process.Kill()
		return res, fmt.Errorf("sim: %v\n%s", err, sout)
	}
	done := make(chan error, 1)
	go func() { done <- h.Wait() }()
	select {
	case <-done:
	case <-time.After(30*time.Second + time.Duration(subscribers)*time.Second):
		h.Process.Kill()
		<-done
	}
	if ps := h.ProcessState; ps != nil {
		res.cpu = (ps.UserTime() + ps.SystemTime()).Seconds()
	}
	out := hout.String()
	if os.Getenv("LOADTEST_DEBUG") != "" {
		fmt.Fprintf(os.Stderr, "handler:\n%s\nsim:\n%s\n", out, sout)
	}
	if m := reSimRate.FindStringSubmatch(string(sout)); m != nil {
		res.elapsed, _ = strconv.ParseFloat(m[1], 64)
		res.sent, _ = strconv.ParseFloat(m[2], 64)
	}
	if m := reSimPackets.FindStringSubmatch(string(sout)); m != nil {
		res.packets, _ = strconv.ParseUint(m[1], 10, 64)
	}
	if m := reDrops.FindStringSubmatch(out); m != nil {
		x, _ := strconv.ParseUint(m[1], 10, 64)
		y, _ := strconv.ParseUint(m[2], 10, 64)
		res.drops = x + y
	}
	if m := reGaps.FindStringSubmatch(out); m != nil {
		res.gaps, _ = strconv.ParseUint(m[1], 10, 64)
	}
	res.lat = [4]string{"-", "-", "-", "-"}
	if m := reLatency.FindStringSubmatch(out); m != nil {
		copy(res.lat[:], m[1:5])
	}
	res.stages = parseStages(out)
	if !strings.Contains(out, "session     ended") {
		res.gaps++ // the handler did not account for the whole session
	}
	res.subs, res.subsBad = att.finish()
	return res, nil
}

// parseStages reads back the per-stage table the handler's exit summary
// ends with (admin.WriteStages: the stages /stats serves, in microseconds
// to one decimal); nil when out has none.
func parseStages(out string) []admin.Stage {
	_, table, ok := strings.Cut(out, "stage (us)")
	if !ok {
		return nil
	}
	var stages []admin.Stage
	for _, line := range strings.Split(table, "\n")[1:] {
		st, ok := parseStage(strings.Fields(line))
		if !ok {
			break
		}
		stages = append(stages, st)
	}
	return stages
}

// parseStage reads one row of the stage table: name, count, then p50,
// p90, p99, p99.9, p99.99 and max in microseconds.
func parseStage(f []string) (admin.Stage, bool) {
	st := admin.Stage{}
	if len(f) != 8 {
		return st, false
	}
	st.Name = f[0]
	var err error
	if st.Count, err = strconv.ParseInt(f[1], 10, 64); err != nil {
		return st, false
	}
	for i, dst := range []*int64{&st.P50, &st.P90, &st.P99, &st.P999, &st.P9999, &st.MaxNs} {
		us, err := strconv.ParseFloat(f[2+i], 64)
		if err != nil {
			return st, false
		}
		*dst = int64(math.Round(us * 1e3))
	}
	return st, true
}

// runFlood plays packets datagrams per line at pps datagrams per second per
// line, runs times for each poll mode and receive buffer, and counts the
// runs that lost datagrams in the kernel or had gaps.
func runFlood(tickwire, dir, payload, polls, recvBufs string, packets int, pps float64, runs int) error {
	size, err := strconv.Atoi(payload)
	if err != nil {
		return fmt.Errorf("payload %q: %v", payload, err)
	}
	// Messages per datagram, from packing a small session as sim does:
	// blocks (2-byte length + message) after the 20-byte header, up to
	// the payload bound.
	cal, err := genSession(tickwire, dir, 200_000)
	if err != nil {
		return err
	}
	perPacket, err := messagesPerPacket(cal, size)
	if err != nil {
		return err
	}
	messages := int(float64(packets) * perPacket)
	session, err := genSession(tickwire, dir, messages)
	if err != nil {
		return err
	}
	rate := strconv.FormatFloat(pps*perPacket, 'f', 0, 64)
	fmt.Printf("flood: %d B datagrams, %.2f messages each: %d messages a run, %s msg/s for %.0f datagrams/s per line\n",
		size, perPacket, messages, rate, pps)
	fmt.Printf("%-12s %10s %4s %10s %10s %10s %6s %8s %10s %10s %10s\n",
		"poll", "recv_buf", "run", "dgrams", "dgrams/s", "drops", "gaps", "cpu s", "p50 us", "p99.9 us", "max us")
	// The settings take turns run by run, so that a load the machine's
	// other users put on it falls on all of them alike.
	type setting struct{ poll, rb string }
	var settings []setting
	for _, poll := range strings.Split(polls, ",") {
		for _, rb := range strings.Split(recvBufs, ",") {
			settings = append(settings, setting{poll, rb})
		}
	}
	lost := make([]int, len(settings))
	var cpu = make([]float64, len(settings))
	for i := range runs {
		for j, st := range settings {
			res, err := once(tickwire, session, dir, payload, st.poll, rate, st.rb)
			if err != nil {
				return err
			}
			pr := 0.0
			if res.elapsed > 0 {
				pr = float64(res.packets) / res.elapsed
			}
			fmt.Printf("%-12s %10s %4d %10d %10.0f %10d %6d %8.2f %10s %10s %10s\n", st.poll, st.rb, i+1, res.packets, pr,
				res.drops, res.gaps, res.cpu, res.lat[0], res.lat[2], res.lat[3])
			if res.drops > 0 || res.gaps > 0 {
				lost[j]++
			}
			cpu[j] += res.cpu
		}
	}
	for j, st := range settings {
		fmt.Printf("  -> %s, recv_buffer %s: %d of %d runs lost datagrams or had gaps; handler CPU %.2f s a run\n",
			st.poll, st.rb, lost[j], runs, cpu[j]/float64(runs))
	}
	return nil
}

// messagesPerPacket packs the raw ITCH file at path (BinaryFILE: 2-byte
// big-endian length, then the message) into MoldUDP64 datagrams of at
// most size bytes, greedily as the simulator does, and returns the mean
// messages per datagram.
func messagesPerPacket(path string, size int) (float64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	var msgs, pkts int
	used := 0 // bytes of the datagram being filled; 0 = none open
	for off := 0; off+2 <= len(data); {
		n := int(data[off])<<8 | int(data[off+1])
		off += 2 + n
		if used == 0 || used+2+n > size {
			pkts++
			used = 20
		}
		used += 2 + n
		msgs++
	}
	if pkts == 0 {
		return 0, fmt.Errorf("%s: no messages", path)
	}
	return float64(msgs) / float64(pkts), nil
}

// adminConfig is the handler's admin section when LOADTEST_PPROF names a
// loopback address to serve profiles on, so that a run can be profiled
// while it goes (go tool pprof http://ADDR/debug/pprof/profile?seconds=5).
func adminConfig() string {
	if addr := os.Getenv("LOADTEST_PPROF"); addr != "" {
		return fmt.Sprintf("admin: {pprof: %q}\n", addr)
	}
	return ""
}
