package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/tickwire/tickwire/feed/live"
	"github.com/tickwire/tickwire/feed/mcast"
	"github.com/tickwire/tickwire/internal/config"
)

// tickwire check --config FILE: everything tickwire run would refuse or
// regret, found without starting it: every key and value (config.Load: the
// interface and the CPU exist), the receive buffer the kernel would grant
// against feed.recv_buffer (net.core.rmem_max without CAP_NET_ADMIN), the
// lines' groups joined on the interface, and the TCP ports the daemon
// would listen on free. Exit 0, or 1 naming the key at fault.
func checkCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tickwire check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "configuration `FILE` to check")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *cfgPath == "" {
		fmt.Fprintln(stderr, "tickwire check: --config FILE is required")
		return 2
	}
	// config.Load's errors name the file already; checkRuntime's do not.
	cfg, err := config.Load(*cfgPath)
	if err == nil {
		if err = checkRuntime(cfg); err != nil {
			err = fmt.Errorf("%s: %w", *cfgPath, err)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "tickwire check: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "tickwire check: %s: ok\n", *cfgPath)
	return 0
}

// checkRuntime checks what only this machine can say about cfg.
func checkRuntime(cfg *config.Config) error {
	f := &cfg.Feed
	if f.SoupBinTCP.Server == "" {
		for _, l := range []struct {
			key  string
			line *live.Line
		}{{"feed.line_a", &f.LineA}, {"feed.line_b", &f.LineB}} {
			s, err := mcast.Listen(mcast.Config{Group: l.line.GroupAddr, Source: l.line.SourceAddr, Interface: f.Interface, RecvBuffer: f.RecvBuffer})
			if err != nil {
				return fmt.Errorf("%s: %v", l.key, err)
			}
			warnings := s.Warnings()
			s.Close()
			for _, w := range warnings {
				if strings.Contains(w, "receive buffer") {
					return fmt.Errorf("feed.recv_buffer: %s", w)
				}
			}
			if len(warnings) > 0 {
				return fmt.Errorf("%s: %s", l.key, warnings[0])
			}
		}
	}
	for _, p := range []struct{ key, addr string }{
		{"transport.listen", cfg.Transport.Listen}, {"admin.listen", cfg.Admin.Listen}, {"admin.pprof", cfg.Admin.Pprof}} {
		if p.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", p.addr)
		if err != nil {
			return fmt.Errorf("%s: %q cannot be listened on: %v", p.key, p.addr, err)
		}
		ln.Close()
	}
	return nil
}
