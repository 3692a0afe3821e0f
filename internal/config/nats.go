package config

import (
	"regexp"
	"strings"
	"time"
)

// NATS configures publishing into NATS JetStream (transport/natsjs): off
// when URL is empty. The names and limits are natsjs.Config's.
type NATS struct {
	// URL is a NATS server, or a comma-separated list of a cluster's.
	URL string `yaml:"url"`
	// Prefix is the subjects' first token; Stream the JetStream stream
	// of the updates; KV the key-value bucket of the snapshots.
	Prefix string `yaml:"prefix"`
	Stream string `yaml:"stream"`
	KV     string `yaml:"kv"`
	// Replicas of the stream and the bucket (3 on a cluster of three).
	Replicas int `yaml:"replicas"`
	// MaxBytes and MaxAge limit the stream (0: none).
	MaxBytes int64         `yaml:"max_bytes"`
	MaxAge   time.Duration `yaml:"max_age"`
	// Duplicates is the stream's duplicate window.
	Duplicates time.Duration `yaml:"duplicates"`
	// SnapshotEvery is how often every instrument's snapshot goes into
	// the bucket; History how many of them the bucket keeps per symbol.
	SnapshotEvery time.Duration `yaml:"snapshot_every"`
	History       int           `yaml:"history"`
	// Linger is how long an instrument's updates may wait to go out
	// together in one NATS message (0: not at all, a message per
	// instrument at each batch of the feed).
	Linger time.Duration `yaml:"linger"`
	// Credentials is a .creds file (a user JWT and its nkey seed); NKey a
	// file holding an nkey seed; TLS the servers' CA and, for mutual TLS,
	// a client certificate and key (PEM files).
	Credentials string  `yaml:"credentials"`
	NKey        string  `yaml:"nkey"`
	TLS         NATSTLS `yaml:"tls"`
}

// NATSTLS names the files of the connection's TLS.
type NATSTLS struct {
	CA   string `yaml:"ca"`
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

var natsName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func (n *NATS) validate() error {
	if n.URL == "" {
		return nil
	}
	for _, u := range strings.Split(n.URL, ",") {
		if !strings.HasPrefix(u, "nats://") && !strings.HasPrefix(u, "tls://") {
			return bad("nats.url", "%q: want nats://host:port or tls://host:port, comma-separated", u)
		}
	}
	for _, v := range []struct{ key, s string }{{"nats.prefix", n.Prefix}, {"nats.stream", n.Stream}, {"nats.kv", n.KV}} {
		if !natsName.MatchString(v.s) {
			return bad(v.key, "%q: want letters, digits, '-' and '_'", v.s)
		}
	}
	if n.Replicas < 1 || n.Replicas > 5 {
		return bad("nats.replicas", "%d: want 1 to 5", n.Replicas)
	}
	if n.MaxBytes < 0 {
		return bad("nats.max_bytes", "%d: want 0 (no limit) or more", n.MaxBytes)
	}
	if n.MaxAge < 0 {
		return bad("nats.max_age", "%v: want 0 (no limit) or more", n.MaxAge)
	}
	if err := duration("nats.duplicates", n.Duplicates, time.Second, 24*time.Hour, false); err != nil {
		return err
	}
	if err := duration("nats.snapshot_every", n.SnapshotEvery, 100*time.Millisecond, 24*time.Hour, false); err != nil {
		return err
	}
	if err := duration("nats.linger", n.Linger, 0, 100*time.Millisecond, false); err != nil {
		return err
	}
	if n.History < 1 || n.History > 64 {
		return bad("nats.history", "%d: want 1 to 64", n.History)
	}
	if n.Credentials != "" && n.NKey != "" {
		return bad("nats.nkey", "set with nats.credentials: one or the other")
	}
	if (n.TLS.Cert == "") != (n.TLS.Key == "") {
		return bad("nats.tls", "cert and key go together")
	}
	return nil
}
