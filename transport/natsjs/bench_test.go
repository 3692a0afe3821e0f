package natsjs_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/transport/natsjs"
)

// serverChildEnv makes the test binary a nats-server with JetStream
// storing in the directory it names: it prints the server's URL and runs
// until its standard input closes. BenchmarkPublish runs the server so,
// out of its process, so that what it counts is the publisher's.
const serverChildEnv = "TICKWIRE_NATSJS_SERVER_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(serverChildEnv); dir != "" {
		ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, StoreDir: dir,
			NoLog: true, NoSigs: true})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		go ns.Start()
		if !ns.ReadyForConnections(10 * time.Second) {
			fmt.Fprintln(os.Stderr, "nats-server not ready")
			os.Exit(1)
		}
		fmt.Println(ns.ClientURL())
		io.Copy(io.Discard, os.Stdin)
		ns.Shutdown()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serverProcess runs a nats-server with JetStream in a child process and
// returns its URL.
func serverProcess(tb testing.TB) string {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serverChildEnv+"="+tb.TempDir())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		tb.Fatalf("the server process: %v", err)
	}
	return strings.TrimSpace(line)
}

// BenchmarkPublish measures the path from the book into JetStream, the
// server in a process of its own: one op is one ITCH message applied to
// the book (an order added at a better price on one of 300 instruments,
// or the one added before deleted: each an update of the book), flushed
// every 32 as the live handler flushes a packet, relayed by the
// transport.Publisher and the natsjs.Publisher and acknowledged by the
// stream (the timer stops once every publish is answered), the feed held
// back while 2,048 publishes await acknowledgement. allocs/op is
// the process's, nats.go's included: per update; allocs/natsmsg is the
// same per NATS message published, and updates/natsmsg the batching.
func BenchmarkPublish(b *testing.B) {
	for _, linger := range []time.Duration{2 * time.Millisecond, -1} {
		name := "linger=2ms"
		if linger < 0 {
			name = "linger=none"
		}
		b.Run(name, func(b *testing.B) {
			url := serverProcess(b)
			h := newHandler(b, natsjs.Config{URL: url, Linger: linger, SnapshotEvery: time.Hour})
			h.waitReady(b)
			const n = 300
			seq := uint64(0)
			var buf []byte
			apply := func(m []byte) {
				seq++
				h.book.Apply(seq, itch.Message(m))
			}
			for loc := 1; loc <= n; loc++ {
				hd := itch.Header{Locate: uint16(loc)}
				sym := itch.Alpha8(fmt.Sprintf("S%05d", loc))
				apply((&itch.StockDirectoryMsg{Header: hd, Stock: sym, MarketCategory: 'Q', RoundLotSize: 100}).Append(buf[:0]))
				apply((&itch.AddOrderMsg{Header: hd, Ref: uint64(loc), Side: itch.Buy, Shares: 100, Stock: sym, Price: 1_000_000}).Append(buf[:0]))
			}
			h.pub.Flush()
			up := make([]uint64, n+1)
			ref := uint64(1 << 32)
			step := func(i int) {
				loc := i%n + 1
				hd := itch.Header{Locate: uint16(loc), Timestamp: uint64(i)}
				if r := up[loc]; r != 0 {
					up[loc] = 0
					buf = (&itch.OrderDeleteMsg{Header: hd, Ref: r}).Append(buf[:0])
				} else {
					ref++
					up[loc] = ref
					buf = (&itch.AddOrderMsg{Header: hd, Ref: ref, Side: itch.Buy, Shares: 200, Price: 1_000_100}).Append(buf[:0])
				}
				apply(buf)
				if i%32 == 31 {
					h.pub.Flush()
					// Held to what the stream takes (else frames are
					// dropped and repaired, by design).
					for h.np.Stats().Pending > 2048 {
						time.Sleep(20 * time.Microsecond)
					}
				}
			}
			settle := func() {
				h.pub.Flush()
				for last, since := h.np.Stats().Published, time.Now(); time.Since(since) < 200*time.Millisecond || h.np.Stats().Pending > 0; time.Sleep(time.Millisecond) {
					if p := h.np.Stats().Published; p != last {
						last, since = p, time.Now()
					}
				}
			}
			for i := range 50_000 { // warm: the buffers and the batches grown
				step(i)
			}
			settle()
			st0 := h.np.Stats()
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				step(i)
			}
			settle()
			b.StopTimer()
			runtime.ReadMemStats(&ms1)
			st := h.np.Stats()
			if st.Dropped+st.Failed+st.Repairs != st0.Dropped+st0.Failed+st0.Repairs {
				b.Errorf("publisher: %+v", st)
			}
			if msgs := st.Published - st0.Published; msgs > 0 {
				b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(msgs), "allocs/natsmsg")
				b.ReportMetric(float64(b.N)/float64(msgs), "updates/natsmsg")
			}
		})
	}
}
