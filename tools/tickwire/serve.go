package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tickwire/tickwire/feed/live"
	"github.com/tickwire/tickwire/internal/admin"
	"github.com/tickwire/tickwire/internal/config"
	"github.com/tickwire/tickwire/transport"
	"github.com/tickwire/tickwire/transport/natsjs"
	"github.com/tickwire/tickwire/transport/ring"
	"github.com/tickwire/tickwire/transport/tw"
)

// subscribers is the daemon's subscriber server, fed through the live
// handler's hooks.
type subscribers struct {
	srv   *transport.Server // nil: no TCP subscribers (NATS alone)
	pub   *transport.Publisher
	nats  *natsjs.Publisher // nil: no nats.url
	h     *live.Handler
	ended bool // the handler announced the end of the session
}

// serveSubscribers starts the server transport.listen names and the NATS
// publisher nats.url names, or returns nil when the configuration names
// neither.
func serveSubscribers(cfg *config.Config, stderr io.Writer) (*subscribers, error) {
	t := cfg.Transport
	if t.Listen == "" {
		if cfg.NATS.URL == "" {
			return nil, nil
		}
		s := &subscribers{pub: transport.NewPublisher(ring.New(64<<20), nil)}
		return s, s.startNATS(cfg.NATS, stderr)
	}
	srv := transport.NewServer(transport.ServerConfig{Listen: t.ListenAddr.String(), Token: t.Token, TLS: t.TLSConfig,
		Disconnect: t.SlowConsumer == "disconnect", QueueBytes: t.QueueBytes, SlowAfter: t.SlowAfter,
		HelloTimeout: t.HelloTimeout, MaxClients: t.MaxClients, LoopCPUs: t.CPUs, LoopNice: t.Nice,
		Logf: func(format string, args ...any) { fmt.Fprintf(stderr, "subscribers: "+format+"\n", args...) }})
	if err := srv.Start(); err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "serving subscribers on %s\n", srv.Addr())
	s := &subscribers{srv: srv, pub: srv.Publisher()}
	if cfg.NATS.URL != "" {
		if err := s.startNATS(cfg.NATS, stderr); err != nil {
			s.close()
			return nil, err
		}
	}
	return s, nil
}

// startNATS starts publishing the books into NATS JetStream.
func (s *subscribers) startNATS(n config.NATS, stderr io.Writer) error {
	var opts []nats.Option
	if n.Credentials != "" {
		opts = append(opts, nats.UserCredentials(n.Credentials))
	}
	if n.NKey != "" {
		o, err := nats.NkeyOptionFromSeed(n.NKey)
		if err != nil {
			return fmt.Errorf("nats.nkey: %w", err)
		}
		opts = append(opts, o)
	}
	if n.TLS.CA != "" {
		opts = append(opts, nats.RootCAs(n.TLS.CA))
	}
	if n.TLS.Cert != "" {
		opts = append(opts, nats.ClientCert(n.TLS.Cert, n.TLS.Key))
	}
	np, err := natsjs.Start(s.pub, natsjs.Config{URL: n.URL, Prefix: n.Prefix, Stream: n.Stream, KV: n.KV,
		Replicas: n.Replicas, MaxBytes: n.MaxBytes, MaxAge: n.MaxAge, Duplicates: n.Duplicates,
		SnapshotEvery: n.SnapshotEvery, History: n.History, Linger: linger(n.Linger), Options: opts,
		Logf: func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }})
	if err != nil {
		return err
	}
	s.nats = np
	fmt.Fprintf(stderr, "publishing into NATS at %s\n", n.URL)
	return nil
}

// linger is natsjs's Linger for the config's (0: none, which natsjs
// spells as negative).
func linger(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// startDaemon makes the live handler of cfg, logging to logw, with its
// subscriber server if the configuration has one (subs is nil otherwise).
func startDaemon(cfg *config.Config, logw io.Writer) (*subscribers, *live.Handler, error) {
	subs, err := serveSubscribers(cfg, logw)
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
	if s != nil && s.srv != nil {
		src.Server = s.srv
	}
	if s != nil && s.nats != nil {
		src.NATS = s.nats
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
	var session [10]byte
	bind := func() {
		if s.nats != nil && s.h != nil {
			if id, ok := s.h.SessionID(); ok && id != session {
				session = id
				s.nats.SetSession(id)
			}
		}
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
	if s.srv != nil {
		s.srv.Finish(ctx)
	} else {
		s.pub.Flush()
	}
	if s.nats != nil {
		// A publisher resynchronising (lapped by the ring while NATS was
		// slow) takes its snapshots at the writer's next Flush: the
		// writer has stopped, so Flush here until it has them.
		for deadline := time.Now().Add(5 * time.Second); !s.nats.Synced() && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			s.pub.Flush()
		}
		nctx, ncancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer ncancel()
		if err := s.nats.Close(nctx); err != nil {
			fmt.Fprintf(os.Stderr, "tickwire: nats: %v\n", err)
		}
		fmt.Fprintf(os.Stderr, "nats: %s\n", natsSummary(s.nats.Stats()))
	}
}

// natsSummary is the NATS publisher's counters in one line.
func natsSummary(st natsjs.Stats) string {
	return fmt.Sprintf("published %d messages (%d bytes), %d dropped, %d failed, %d instruments repaired, %d rounds of snapshots (%d parts), %d duplicates of another handler's",
		st.Published, st.Bytes, st.Dropped, st.Failed, st.Repairs, st.Rounds, st.Puts, st.Duplicates)
}
