// Command loadtest measures the live handler on loopback multicast: for each
// packet size and poll mode, it plays a session with `tickwire sim` at
// increasing message rates against `tickwire run`, the two processes pinned
// to different cores, and reports for each rate whether the handler lost
// anything (kernel socket drops, gaps) and its kernel-receive-to-book
// latency percentiles. The highest rate with no loss is the loss-free rate.
//
//	go run ./tools/loadtest -tickwire bin/tickwire
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

func main() {
	var (
		tickwire = flag.String("tickwire", "bin/tickwire", "tickwire binary")
		messages = flag.Int("messages", 2_000_000, "messages per run")
		rates    = flag.String("rates", "1e6,2e6,5e6,10e6,0", "message rates to try (0: as fast as the sender can)")
		payloads = flag.String("payloads", "1400,300", "MoldUDP64 packet sizes, bytes")
		polls    = flag.String("poll", "busy,epoll", "handler poll modes")
		dir      = flag.String("dir", filepath.Join(os.TempDir(), "tickwire-load"), "work directory")
	)
	flag.Parse()
	if err := run(*tickwire, *messages, *rates, *payloads, *polls, *dir); err != nil {
		fmt.Fprintf(os.Stderr, "loadtest: %v\n", err)
		os.Exit(1)
	}
}

var (
	reDrops   = regexp.MustCompile(`drops: line A (\d+), line B (\d+)`)
	reGaps    = regexp.MustCompile(`gaps +(\d+) \((\d+) messages`)
	reLatency = regexp.MustCompile(`p50 ([\d.]+) us, p99 ([\d.]+) us, p99.9 ([\d.]+) us, max ([\d.]+) us`)
	reSimRate = regexp.MustCompile(`in ([\d.]+) s \((\d+) msg/s\)`)
)

func run(tickwire string, messages int, rates, payloads, polls, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	session := filepath.Join(dir, fmt.Sprintf("session-%d.itch", messages))
	if _, err := os.Stat(session); err != nil {
		out, err := exec.Command(tickwire, "gen", "-messages", strconv.Itoa(messages), "-instruments", "300",
			"-seed", "11", "-format", "itch", "-o", session).CombinedOutput()
		if err != nil {
			return fmt.Errorf("gen: %v\n%s", err, out)
		}
	}
	fmt.Printf("%-8s %-6s %12s %12s %10s %6s %10s %10s %10s %10s\n",
		"payload", "poll", "target/s", "sent/s", "drops", "gaps", "p50 us", "p99 us", "p99.9 us", "max us")
	for _, payload := range strings.Split(payloads, ",") {
		for _, poll := range strings.Split(polls, ",") {
			best := 0.0
			for _, r := range strings.Split(rates, ",") {
				res, err := once(tickwire, session, dir, payload, poll, r)
				if err != nil {
					return err
				}
				fmt.Printf("%-8s %-6s %12s %12.0f %10d %6d %10s %10s %10s %10s\n", payload, poll, r, res.sent,
					res.drops, res.gaps, res.lat[0], res.lat[1], res.lat[2], res.lat[3])
				if res.drops == 0 && res.gaps == 0 && res.sent > best {
					best = res.sent
				}
			}
			fmt.Printf("  -> %s B packets, %s: highest loss-free rate %.2f M msg/s\n", payload, poll, best/1e6)
		}
	}
	return nil
}

type result struct {
	sent        float64
	drops, gaps uint64
	lat         [4]string
}

func once(tickwire, session, dir, payload, poll, rate string) (result, error) {
	var res result
	port := 20000 + rand.IntN(20000)
	a := fmt.Sprintf("239.78.%d.1:%d", rand.IntN(250), port)
	b := fmt.Sprintf("239.78.%d.2:%d", rand.IntN(250), port)
	cfg := filepath.Join(dir, "load.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`feed:
  interface: lo
  line_a: {group: %s}
  line_b: {group: %s}
  poll: %s
  cpu: 1
  recv_buffer: 4194304
  hold: {packets: 65536, bytes: 134217728}
  rerequest: {max_age: 2s}
book: {orders: 262144, instruments: 1024}
`, a, b, poll)), 0o644); err != nil {
		return res, err
	}
	h := exec.Command(tickwire, "run", "-config", cfg, "-exit-on-end", "-top", "0")
	var hout strings.Builder
	h.Stdout, h.Stderr = &hout, &hout
	if err := h.Start(); err != nil {
		return res, err
	}
	time.Sleep(300 * time.Millisecond)
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
	case <-time.After(30 * time.Second):
		h.Process.Kill()
		<-done
	}
	out := hout.String()
	if m := reSimRate.FindStringSubmatch(string(sout)); m != nil {
		res.sent, _ = strconv.ParseFloat(m[2], 64)
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
	if !strings.Contains(out, "session     ended") {
		res.gaps++ // the handler did not account for the whole session
	}
	return res, nil
}
