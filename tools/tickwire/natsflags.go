package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/tickwire/tickwire/client"
)

// natsFlags adds the flags of a subscription through NATS JetStream to
// fs; the returned function dials, once fs is parsed: through NATS when
// --nats is set, else the daemon at addr.
func natsFlags(fs *flag.FlagSet) func(ctx context.Context, addr string, opts ...client.Option) (*client.Client, error) {
	url := fs.String("nats", "", "subscribe through NATS JetStream at `URL` (the daemon's nats.url; a comma-separated list for a cluster) instead of the daemon")
	prefix := fs.String("nats-prefix", "", "the daemon's nats.prefix (default tickwire)")
	stream := fs.String("nats-stream", "", "the daemon's nats.stream (default TICKWIRE)")
	kv := fs.String("nats-kv", "", "the daemon's nats.kv (default tickwire_books)")
	session := fs.String("nats-session", "", "the feed `SESSION` to follow (default the latest published)")
	creds := fs.String("nats-creds", "", "NATS credentials `FILE` (.creds)")
	domain := fs.String("nats-domain", "", "the JetStream `DOMAIN` of the servers the daemon publishes into (through a leaf node without JetStream: the hub's)")
	from := fs.String("from", "", "with --nats, where to start: start (the session's beginning), a feed sequence `SEQ`, or an exchange time HH:MM[:SS[.fff]]; default the latest snapshots")
	return func(ctx context.Context, addr string, opts ...client.Option) (*client.Client, error) {
		if *url == "" {
			if *from != "" {
				return nil, fmt.Errorf("--from needs --nats")
			}
			return client.Dial(ctx, addr, opts...)
		}
		f, err := parseFrom(*from)
		if err != nil {
			return nil, fmt.Errorf("--from: %w", err)
		}
		no := client.NATSOptions{Prefix: *prefix, Stream: *stream, KV: *kv, Session: *session, From: f, Domain: *domain}
		if *creds != "" {
			no.Options = append(no.Options, nats.UserCredentials(*creds))
		}
		return client.DialNATS(ctx, *url, append(opts, client.WithNATS(no))...)
	}
}

// parseFrom reads --from.
func parseFrom(s string) (client.From, error) {
	switch {
	case s == "":
		return client.From{}, nil
	case s == "start":
		return client.FromStart(), nil
	case !strings.Contains(s, ":"):
		seq, err := strconv.ParseUint(s, 10, 64)
		if err != nil || seq == 0 {
			return client.From{}, fmt.Errorf("%q: want start, a feed sequence (1 or more) or HH:MM[:SS[.fff]]", s)
		}
		return client.FromSeq(seq), nil
	}
	parts := strings.Split(s, ":")
	if len(parts) > 3 {
		return client.From{}, fmt.Errorf("%q: want HH:MM[:SS[.fff]]", s)
	}
	var ns uint64
	for i, p := range parts {
		limit, unit := 24.0, 3600e9
		if i == 1 {
			limit, unit = 60, 60e9
		} else if i == 2 {
			limit, unit = 60, 1e9
		}
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || v < 0 || v >= limit || (i < 2 && strings.Contains(p, ".")) {
			return client.From{}, fmt.Errorf("%q: want HH:MM[:SS[.fff]]", s)
		}
		ns += uint64(v * unit)
	}
	return client.FromTime(ns), nil
}
