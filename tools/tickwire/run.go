package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/tickwire/tickwire/internal/config"
	"github.com/tickwire/tickwire/internal/logging"
)

func runCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tickwire run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfgPath   = fs.String("config", "", "configuration `FILE` (see tickwire.example.yaml)")
		booksExit = fs.String("books-on-exit", "", "write the final books to `FILE` on a clean shutdown (overrides books_on_exit)")
		exitOnEnd = fs.Bool("exit-on-end", false, "exit once the session has ended and every message is accounted for")
		top       = fs.Int("top", 10, "instruments in the exit summary's top-of-book table")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "tickwire run: %v\n", err)
		return code
	}
	if *cfgPath == "" {
		return fail(2, errors.New("--config FILE is required"))
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return fail(2, err)
	}
	if *booksExit != "" {
		cfg.BooksOnExit = *booksExit
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	level, _ := logging.ParseLevel(cfg.Log.Level) // validated by config.Load
	lg, err := logging.New(stderr, cfg.Log.Format, level)
	if err != nil {
		return fail(2, err)
	}
	logw := lg.Writer("tickwire run")
	subs, h, err := startDaemon(cfg, logw)
	if err != nil {
		return fail(1, err)
	}
	defer h.Close()
	adm, err := startAdmin(cfg, h, subs, lg.Level, logw)
	if err != nil {
		subs.close()
		return fail(1, err)
	}
	defer adm.Close()

	stopping := notifySystemd(ctx, h, logw)
	start := time.Now()
	err = h.Run(ctx, *exitOnEnd)
	stopping()
	elapsed := time.Since(start)
	// Subscribers are told the session is over, and given a moment to
	// read the rest, before the summary and the books.
	subs.close()
	if !h.Started() {
		if err != nil {
			return fail(1, err)
		}
		return 0
	}
	h.WriteSummary(stdout, elapsed, *top)
	writeStages(stdout, h, subs)
	if err != nil {
		return fail(1, err)
	}
	if cfg.BooksOnExit != "" {
		if err := writeOutput(cfg.BooksOnExit, stdout, h.WriteBooks); err != nil {
			return fail(1, err)
		}
	}
	if *exitOnEnd && !h.Trusted() {
		return fail(1, errors.New("the session ended, but the books may be wrong (see the summary)"))
	}
	return 0
}

// writeOutput writes, with write, the file at path, or stdout when path is
// "-".
func writeOutput(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "-" {
		return write(stdout)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// prefixWriter puts prefix before each line written to w, the whole of
// one Write in one Write to w. It is safe for concurrent use.
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = p.buf[:0]
	for rest := b; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line = rest[:i+1]
		}
		p.buf = append(append(p.buf, p.prefix...), line...)
		rest = rest[len(line):]
	}
	if _, err := p.w.Write(p.buf); err != nil {
		return 0, err
	}
	return len(b), nil
}
