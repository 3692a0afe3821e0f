package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tickwire/tickwire/client"
	"github.com/tickwire/tickwire/transport/tw"
)

// subscribeCmd mirrors the daemon's books over the subscriber protocol and
// writes them, at the end of the session or on SIGTERM, in the books format
// of tickwire replay --books.
func subscribeCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tickwire subscribe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		addr      = fs.String("addr", "127.0.0.1:27100", "the daemon's subscriber `HOST:PORT` (transport.listen)")
		token     = fs.String("token", "", "the daemon's transport.token, if it has one")
		symbols   = fs.String("symbols", "all", "`A,B,...` stocks to subscribe to, or all")
		depth     = fs.String("depth", "levels", "orders, levels, top, or `N` levels")
		booksExit = fs.String("books-on-exit", "", "write the mirrored books to `FILE` at the end of the session or on SIGTERM")
		exitOnEnd = fs.Bool("exit-on-end", false, "exit 0 once the daemon announces the end of the session")
		quiet     = fs.Bool("quiet", false, "no status lines on stderr")
		tlsOpts   = tlsFlags(fs)
		dial      = natsFlags(fs)
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "tickwire subscribe: %v\n", err)
		return code
	}
	if fs.NArg() > 0 {
		return fail(2, fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	d, n, err := client.ParseDepth(*depth)
	if err != nil {
		return fail(2, fmt.Errorf("--depth: %w", err))
	}
	opts, err := tlsOpts()
	if err != nil {
		return fail(2, err)
	}
	opts = append(opts, client.WithToken(*token), client.WithDepth(d, n), client.WithName("tickwire subscribe"))
	if *symbols != "all" {
		var syms []string
		for _, s := range strings.Split(*symbols, ",") {
			if s = strings.TrimSpace(s); s != "" {
				syms = append(syms, s)
			}
		}
		if len(syms) == 0 {
			return fail(2, errors.New("--symbols: no stock named"))
		}
		opts = append(opts, client.WithSymbols(syms...))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dialCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	c, err := dial(dialCtx, *addr, opts...)
	cancel()
	if err != nil {
		return fail(1, err)
	}
	defer c.Close()
	status := func(format string, args ...any) {
		if !*quiet {
			fmt.Fprintf(stderr, "tickwire subscribe: "+format+"\n", args...)
		}
	}
	if err := c.NATSFallback(); err != nil {
		status("the bucket's snapshots did not answer (%v): replaying the session from the stream's start", err)
	}
	status("subscribed to %s at %s (depth %s)", *symbols, *addr, *depth)
	var updates, snapshots uint64
	err = c.Run(ctx, func(ev *client.Event) error {
		switch {
		case ev.Kind == client.EventReconnected:
			status("reconnected after: %v; resynchronising from fresh snapshots", ev.Err)
		case ev.Message.IsUpdate():
			updates++
		case ev.Message.Type() == tw.BodySnapshot:
			snapshots++
		case ev.Message.Type() == tw.BodyStatus:
			var s tw.Status
			t := ev.Message.Table()
			s.Init(t.Bytes, t.Pos)
			why := ""
			if r := s.Reason(); len(r) > 0 {
				why = " (" + string(r) + ")"
			}
			status("status: %s%s at feed sequence %d", tw.EnumNamesFeedState[s.State()], why, s.FeedSeq())
		}
		return nil
	})
	ended := c.Ended()
	status("%d snapshots, %d updates; session %s", snapshots, updates, map[bool]string{true: "ended", false: "not ended"}[ended])
	if *booksExit != "" {
		if werr := writeMirror(*booksExit, c.Book()); werr != nil {
			return fail(1, werr)
		}
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return fail(1, err)
	}
	if ended && !*exitOnEnd {
		// Without --exit-on-end the mirror stays up until SIGTERM.
		<-ctx.Done()
	}
	return 0
}

// writeMirror writes a mirror's books to path.
func writeMirror(path string, b *client.Book) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := b.WriteBooks(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
