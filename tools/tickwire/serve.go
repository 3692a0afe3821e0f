package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/tickwire/tickwire/feed/live"
	"github.com/tickwire/tickwire/internal/admin"
	"github.com/tickwire/tickwire/internal/config"
	"github.com/tickwire/tickwire/transport"
	"github.com/tickwire/tickwire/transport/tw"
)

// subscribers is the daemon's subscriber server, fed through the live
// handler's hooks.
type subscribers struct {
	srv   *transport.Server
	pub   *transport.Publisher
	h     *live.Handler
	ended bool // the handler announced the end of the session
}

// serveSubscribers starts the server transport.listen names, or returns
// nil when it names none.
func serveSubscribers(t config.Transport, stderr io.Writer) (*subscribers, error) {
	if t.Listen == "" {
		return nil, nil
	}
	srv := transport.NewServer(transport.ServerConfig{Listen: t.ListenAddr.String(), Token: t.Token, TLS: t.TLSConfig,
		Disconnect: t.SlowConsumer == "disconnect", QueueBytes: t.QueueBytes, SlowAfter: t.SlowAfter,
		HelloTimeout: t.HelloTimeout, MaxClients: t.MaxClients, LoopCPUs: t.CPUs, LoopNice: t.Nice,
		Logf: func(format string, args ...any) { fmt.Fprintf(stderr, "subscribers: "+format+"\n", args...) }})
	if err := srv.Start(); err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "serving subscribers on %s\n", srv.Addr())
	return &subscribers{srv: srv, pub: srv.Publisher()}, nil
}

// startDaemon makes the live handler of cfg, logging to logw, with its
// subscriber server if the configuration has one (subs is nil otherwise).
func startDaemon(cfg *config.Config, logw io.Writer) (*subscribers, *live.Handler, error) {
	subs, err := serveSubscribers(cfg.Transport, logw)
	if err != nil {
		return nil, nil, err
	}
	h, err := live.New(cfg.Config, logw, subs.hooks())
	if err != nil {
		subs.close()
		return nil, nil, err
	}
	if subs != nil {
		subs.h = h
	}
	return subs, h, nil
}

// startAdmin serves the admin listeners cfg names (none: nil).
func startAdmin(cfg *config.Config, h *live.Handler, subs *subscribers, level *slog.LevelVar, logw io.Writer) (*admin.Admin, error) {
	if cfg.Admin.Listen == "" && cfg.Admin.Pprof == "" {
		return nil, nil
	}
	src := subs.source(h)
	src.LogLevel = level
	a, err := admin.Start(cfg.Admin.Listen, cfg.Admin.Pprof, src)
	if err != nil {
		return nil, err
	}
	for i, addr := range a.Addrs() {
		what := "metrics on http://%s/metrics, figures on http://%s/stats"
		if i == 1 || cfg.Admin.Listen == "" {
			what = "profiles on http://%s/debug/pprof/%.0s"
		}
		fmt.Fprintf(logw, "admin: "+what+"\n", addr, addr)
	}
	return a, nil
}

// source is what the admin figures are read from: h, and the server when
// there is one.
func (s *subscribers) source(h *live.Handler) admin.Source {
	src := admin.Source{Handler: h}
	if s != nil {
		src.Server = s.srv
	}
	return src
}

// writeStages writes the per-stage latency table of h and subs' server.
func writeStages(w io.Writer, h *live.Handler, subs *subscribers) {
	f := admin.Read(subs.source(h))
	admin.WriteStages(w, f.Stages)
	admin.WriteRuntime(w, f.Runtime)
}

// hooks returns the live handler's hooks that feed the server.
func (s *subscribers) hooks() live.Hooks {
	if s == nil {
		return live.Hooks{}
	}
	// The handler's books are known once New returned: bound at the
	// first hook, on the goroutine that applies messages.
	bound := false
	bind := func() {
		if !bound && s.h != nil {
			bound = true
			h := s.h
			s.pub.SetBooks(h.Book)
			s.pub.SetSuspect(func(loc uint16) bool { return h.Book(loc).Faults(loc) > 0 })
		}
	}
	return live.Hooks{
		Listener: s.pub,
		Flush: func() {
			bind()
			s.pub.SetOrigin(s.h.BatchReceived())
			s.pub.Flush()
		},
		Status: func(st live.State, reason string, seq uint64) {
			bind()
			s.ended = s.ended || st == live.EndOfSession
			s.pub.Status(feedState(st), reason, seq)
		},
	}
}

func feedState(s live.State) tw.FeedState {
	switch s {
	case live.Stale:
		return tw.FeedStateStale
	case live.Recovering:
		return tw.FeedStateRecovering
	case live.EndOfSession:
		return tw.FeedStateEndOfSession
	}
	return tw.FeedStateLive
}

// close tells the subscribers the session is over (that the daemon is
// shutting down, before the end of the session) and gives them up to 2 s to read what they were sent.
func (s *subscribers) close() {
	if s == nil {
		return
	}
	if !s.ended {
		s.pub.Status(tw.FeedStateEndOfSession, "the daemon is shutting down", 0)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s.srv.Finish(ctx)
}
