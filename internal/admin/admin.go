// Package admin serves the daemon's operator side on loopback: Prometheus
// metrics at /metrics and the same figures as JSON at /stats (for tickwire
// stats), on one listener, and net/http/pprof on a listener of its own.
//
// Every figure is read from what the live handler and the subscriber server
// publish for readers (live.Handler.Stats and Stage, transport.Server.Stats
// and Stage): a scrape never stops or slows the goroutine applying
// messages nor the event loops.
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tickwire/tickwire/feed/live"
	"github.com/tickwire/tickwire/internal/latency"
	"github.com/tickwire/tickwire/transport"
	"github.com/tickwire/tickwire/transport/natsjs"
)

// Source is what the figures are read from; Server may be nil (no
// subscriber server).
type Source struct {
	Handler *live.Handler
	Server  *transport.Server
	// NATS, if set, is the publisher into NATS JetStream.
	NATS *natsjs.Publisher
	// LogLevel, when set, is served at /loglevel: GET reads it, PUT or
	// POST ?level=debug|info|warn|error sets it.
	LogLevel *slog.LevelVar
}

// Admin is the running listeners.
type Admin struct {
	srvs  []*http.Server
	addrs []net.Addr
}

// Start serves /metrics and /stats on listen and, when pprofAddr is not
// empty, the profiles on pprofAddr. Either address may use port 0; Addrs
// says what was bound.
func Start(listen, pprofAddr string, src Source) (*Admin, error) {
	a := &Admin{}
	if listen != "" {
		reg := prometheus.NewRegistry()
		rd := newReader(src)
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), &collector{src: src, rd: rd})
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
		mux.HandleFunc("/stats", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(rd.figures())
		})
		if lv := src.LogLevel; lv != nil {
			mux.HandleFunc("/loglevel", func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPut || r.Method == http.MethodPost {
					var l slog.Level
					if err := l.UnmarshalText([]byte(r.URL.Query().Get("level"))); err != nil {
						http.Error(w, "level: want debug, info, warn or error", http.StatusBadRequest)
						return
					}
					lv.Set(l)
				}
				fmt.Fprintln(w, strings.ToLower(lv.Level().String()))
			})
		}
		if err := a.serve(listen, mux); err != nil {
			return nil, fmt.Errorf("admin.listen %s: %w", listen, err)
		}
	}
	if pprofAddr != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		if err := a.serve(pprofAddr, mux); err != nil {
			a.Close()
			return nil, fmt.Errorf("admin.pprof %s: %w", pprofAddr, err)
		}
	}
	return a, nil
}

func (a *Admin) serve(addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	a.srvs, a.addrs = append(a.srvs, s), append(a.addrs, ln.Addr())
	go s.Serve(ln)
	return nil
}

// Addrs returns the addresses bound: the metrics listener's first, then
// the profiles'.
func (a *Admin) Addrs() []net.Addr { return a.addrs }

// Close stops the listeners.
func (a *Admin) Close() error {
	if a == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var errs []error
	for _, s := range a.srvs {
		errs = append(errs, s.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

// Figures is what /stats returns.
type Figures struct {
	Feed    live.Stats             `json:"feed"`
	Server  *transport.ServerStats `json:"server,omitempty"`
	NATS    *natsjs.Stats          `json:"nats,omitempty"`
	Stages  []Stage                `json:"stages"`
	Runtime Runtime                `json:"runtime"`
}

// Runtime is the process's: the collector should not run during a session
// once warmed up, since nothing allocates in steady state.
type Runtime struct {
	GCCycles   uint32 `json:"gc_cycles"`
	HeapBytes  uint64 `json:"heap_bytes"`  // live heap after the last collection
	TotalAlloc uint64 `json:"total_alloc"` // bytes allocated since start
	Goroutines int    `json:"goroutines"`
}

// ReadRuntime reads the process's figures (it stops the world briefly:
// for a scrape or the summary, not a hot path).
func ReadRuntime() Runtime {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return Runtime{GCCycles: ms.NumGC, HeapBytes: ms.HeapAlloc, TotalAlloc: ms.TotalAlloc, Goroutines: runtime.NumGoroutine()}
}

// Stage is one stage's percentiles.
type Stage struct {
	Name string `json:"name"`
	latency.Quantiles
}

// Read gathers the figures from src (allocating its histograms: for a
// one-off, such as the summary; the listeners reuse theirs).
func Read(src Source) Figures { return newReader(src).figures() }

// reader reads the figures into histograms it keeps, so that a scrape
// allocates next to nothing in the daemon (a histogram is ~200 KiB).
type reader struct {
	mu    sync.Mutex
	src   Source
	hists []namedHist
}

func newReader(src Source) *reader {
	r := &reader{src: src}
	for _, name := range live.StageNames {
		r.hists = append(r.hists, namedHist{name, latency.NewEmpty()})
	}
	if src.Server != nil {
		for _, name := range transport.StageNames {
			r.hists = append(r.hists, namedHist{name, latency.NewEmpty()})
		}
	}
	return r
}

// stages fills the histograms and calls fn with them, under the reader's
// lock.
func (r *reader) stages(fn func([]namedHist)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(live.StageNames)
	for i, h := range r.hists {
		h.h.Reset()
		if i < n {
			r.src.Handler.Stage(i).MergeInto(h.h)
		} else {
			r.src.Server.MergeStage(i-n, h.h)
		}
	}
	fn(r.hists)
}

func (r *reader) figures() Figures {
	f := Figures{Feed: r.src.Handler.Stats(), Runtime: ReadRuntime()}
	r.stages(func(hs []namedHist) {
		for _, st := range hs {
			f.Stages = append(f.Stages, Stage{Name: st.name, Quantiles: latency.QuantilesOf(st.h)})
		}
	})
	if r.src.Server != nil {
		s := r.src.Server.Stats()
		f.Server = &s
	}
	if r.src.NATS != nil {
		s := r.src.NATS.Stats()
		f.NATS = &s
	}
	return f
}

type namedHist struct {
	name string
	h    *hdrhistogram.Histogram
}

// WriteStages writes stages as a table of percentiles in microseconds,
// one row per stage that recorded anything.
func WriteStages(w io.Writer, stages []Stage) {
	fmt.Fprintf(w, "%-16s %10s %9s %9s %9s %9s %9s %9s\n", "stage (us)", "count", "p50", "p90", "p99", "p99.9", "p99.99", "max")
	us := func(ns int64) string { return fmt.Sprintf("%.1f", float64(ns)/1e3) }
	for _, s := range stages {
		if s.Count == 0 {
			continue
		}
		fmt.Fprintf(w, "%-16s %10d %9s %9s %9s %9s %9s %9s\n", s.Name, s.Count, us(s.P50), us(s.P90), us(s.P99), us(s.P999), us(s.P9999), us(s.MaxNs))
	}
}

// WriteRuntime writes r as one line.
func WriteRuntime(w io.Writer, r Runtime) {
	fmt.Fprintf(w, "runtime     %d GC cycles since start, heap %.1f MiB, %.1f MiB allocated in all, %d goroutines\n",
		r.GCCycles, float64(r.HeapBytes)/(1<<20), float64(r.TotalAlloc)/(1<<20), r.Goroutines)
}
