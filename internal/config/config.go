// Package config reads the handler's YAML configuration (tickwire run
// --config FILE). Every key is documented in tickwire.example.yaml at the
// repository root. Unknown keys are refused, and a wrong value is refused at
// start with an error naming the key and why.
package config

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tickwire/tickwire/book/shard"
	"github.com/tickwire/tickwire/feed/live"
)

// Config is the whole handler configuration. The feed: and book:
// sections are the live handler's own configuration (live.Config), declared
// there once; this package reads and validates them.
type Config struct {
	live.Config `yaml:",inline"`
	// Transport is the subscriber server (redistribution to strategy
	// clients).
	Transport Transport `yaml:"transport"`
	// BooksOnExit, when set, is where the final books are written as JSON
	// Lines on a clean shutdown (SIGTERM, SIGINT, end of session).
	BooksOnExit string `yaml:"books_on_exit"`
	// Admin is the operator's side: metrics and profiles.
	Admin Admin `yaml:"admin"`
	// Log is the daemon's log.
	Log Log `yaml:"log"`
	// NATS is publishing into NATS JetStream (off without a URL).
	NATS NATS `yaml:"nats"`
}

// Transport configures the server strategy clients subscribe to.
type Transport struct {
	// Listen is the TCP address:port the server listens on; empty turns
	// the server off. A non-loopback address needs a token or TLS.
	Listen string `yaml:"listen"`
	// Token, when set, must be presented in every client's Hello
	// (compared in constant time).
	Token string `yaml:"token"`
	TLS   TLS    `yaml:"tls"`
	// SlowConsumer is what happens to a client that falls behind by more
	// than QueueBytes for longer than SlowAfter, or reads nothing for
	// SlowAfter with bytes waiting for it: conflate (its queued
	// updates dropped, a fresh snapshot of its instruments sent, and a
	// Status saying so) or disconnect (with a reason).
	SlowConsumer string        `yaml:"slow_consumer"`
	QueueBytes   int           `yaml:"queue_bytes"`
	SlowAfter    time.Duration `yaml:"slow_after"`
	// HelloTimeout is how long a new connection has to send its Hello.
	HelloTimeout time.Duration `yaml:"hello_timeout"`
	// MaxClients bounds the connections served at once.
	MaxClients int `yaml:"max_clients"`
	// CPUs are the CPUs the event loops run on (none: any but feed.cpu),
	// and Nice their niceness, 0 to 19: above the feed's, they yield to
	// it on a CPU they share (feed.cpu is kept clear of them either way).
	CPUs []int `yaml:"cpus"`
	Nice int   `yaml:"nice"`

	ListenAddr netip.AddrPort `yaml:"-"`
	TLSConfig  *tls.Config    `yaml:"-"` // from TLS, once loaded
}

// Log configures the daemon's log (internal/logging).
type Log struct {
	// Format is plain (lines, as on a terminal), text or json (log/slog).
	Format string `yaml:"format"`
	// Level is debug, info, warn or error; admin.listen's /loglevel
	// changes it while the daemon runs.
	Level string `yaml:"level"`
}

func (l *Log) validate() error {
	switch l.Format {
	case "plain", "text", "json":
	default:
		return bad("log.format", "%q: want plain, text or json", l.Format)
	}
	switch l.Level {
	case "debug", "info", "warn", "error":
	default:
		return bad("log.level", "%q: want debug, info, warn or error", l.Level)
	}
	return nil
}

// Admin configures the operator's listeners, each on a loopback address
// only, each off when empty.
type Admin struct {
	// Listen serves /metrics (Prometheus) and /stats (JSON, for tickwire
	// stats).
	Listen string `yaml:"listen"`
	// Pprof serves net/http/pprof's profiles, on a listener of its own,
	// never the metrics one.
	Pprof string `yaml:"pprof"`

	ListenAddr, PprofAddr netip.AddrPort `yaml:"-"`
}

func (a *Admin) validate() error {
	for _, l := range []struct {
		key string
		v   string
		dst *netip.AddrPort
	}{{"admin.listen", a.Listen, &a.ListenAddr}, {"admin.pprof", a.Pprof, &a.PprofAddr}} {
		if l.v == "" {
			continue
		}
		ap, err := netip.ParseAddrPort(l.v)
		if err != nil {
			return bad(l.key, "%q is not an address:port", l.v)
		}
		if !ap.Addr().Unmap().IsLoopback() {
			return bad(l.key, "%q is not a loopback address: the admin listeners serve this host alone", l.v)
		}
		*l.dst = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	if a.Listen != "" && a.Listen == a.Pprof {
		return bad("admin.pprof", "%q is admin.listen's address: profiles get a listener of their own", a.Pprof)
	}
	return nil
}

// TLS names the server's certificate (chain) and private key files (PEM):
// set, the server speaks TLS 1.2 or later only.
type TLS struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// DefaultTransportListen is the subscriber server's address when the
// configuration does not name one: none, so that a daemon serves nobody
// (and takes no port) unless asked; tickwire.example.yaml and the clients'
// default address use 127.0.0.1:27100.
const DefaultTransportListen = ""

// Load reads and validates the configuration file at path.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse reads and validates a configuration.
func Parse(r io.Reader) (*Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	c := Default()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(data, err)
	}
	// A second document ("---") would be ignored silently.
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w YAML: more than one document (---)", ErrInvalid)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Default returns the defaults every key falls back to.
func Default() *Config {
	return &Config{
		Config: live.Default(),
		Transport: Transport{Listen: DefaultTransportListen, SlowConsumer: "conflate", QueueBytes: 4 << 20,
			SlowAfter: 500 * time.Millisecond, HelloTimeout: 5 * time.Second, MaxClients: 16384},
		Log: Log{Format: "plain", Level: "info"},
		NATS: NATS{Prefix: "tickwire", Stream: "TICKWIRE", KV: "tickwire_books", Replicas: 1,
			Duplicates: 2 * time.Minute, SnapshotEvery: time.Minute, History: 8, Linger: 2 * time.Millisecond},
	}
}

// lineRE matches the "line N: " that yaml.v3 puts before each error.
var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// unknownRE matches yaml.v3's complaint about a key KnownFields refuses.
var unknownRE = regexp.MustCompile(`^field \S+ not found in type \S+$`)

// yamlError turns what yaml.v3 says of data into an ErrInvalid naming the
// key and the fault once: "config: invalid feed.rerequest.timeout (line 3):
// cannot unmarshal !!str `abc` into time.Duration", "config: invalid
// feed.nosuch (line 3): unknown key". A syntax error, where no key can be
// named, reads "config: invalid YAML (line 3): ...". Several faults (yaml.v3
// reports every field it could not decode) are joined with "; ".
func yamlError(data []byte, err error) error {
	msgs := []string{err.Error()}
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msgs = te.Errors
	}
	keys := lineKeys(data)
	for i, m := range msgs {
		what := "YAML"
		if sm := lineRE.FindStringSubmatch(m); sm != nil {
			line, _ := strconv.Atoi(sm[1])
			if k, ok := keys[line]; ok {
				what = k
			}
			what += " (line " + sm[1] + ")"
			m = m[len(sm[0]):]
		} else {
			m = strings.TrimPrefix(m, "yaml: ")
		}
		if unknownRE.MatchString(m) {
			m = "unknown key"
		}
		msgs[i] = what + ": " + m
	}
	return fmt.Errorf("%w %s", ErrInvalid, strings.Join(msgs, "; "))
}

// lineKeys maps each line of data to the dotted key on it
// ("feed.rerequest.timeout"); it is empty if data is not well-formed YAML.
func lineKeys(data []byte) map[int]string {
	keys := map[int]string{}
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil {
		return keys
	}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i].Value
				if path != "" {
					k = path + "." + k
				}
				keys[n.Content[i].Line] = k
				if n.Content[i+1].Line != n.Content[i].Line {
					keys[n.Content[i+1].Line] = k
				}
				walk(n.Content[i+1], k)
			}
		}
	}
	walk(&root, "")
	return keys
}

// bad reports the value of key refused, and why: "config: invalid
// feed.recv_buffer: -5 bytes: want 64 KiB to 1 GiB".
func bad(key, format string, args ...any) error {
	return fmt.Errorf("%w %s: %s", ErrInvalid, key, fmt.Sprintf(format, args...))
}

// alpha checks a SoupBinTCP or MoldUDP64 Alpha field: at most n
// printable ASCII characters (spaces pad it on the wire). secret leaves
// the value out of the error.
func alpha(key, v string, n int, secret bool) error {
	show := fmt.Sprintf("%q ", v)
	if secret {
		show = ""
	}
	if len(v) > n {
		return bad(key, "%sis longer than %d characters (Alpha(%d))", show, n, n)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < ' ' || v[i] > '~' {
			return bad(key, "%shas a character that is not printable ASCII (Alpha)", show)
		}
	}
	return nil
}

// server parses a server's address:port: a unicast address (not
// unspecified, multicast or the IPv4 broadcast address) and a port other
// than 0; IPv4 only when v4 (the MoldUDP64 re-request socket is IPv4).
func server(key, v string, v4 bool) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(v)
	if err != nil {
		return ap, bad(key, "%q is not an address:port", v)
	}
	a := ap.Addr().Unmap()
	switch {
	case ap.Port() == 0:
		return ap, bad(key, "%q: port 0", v)
	case a.IsMulticast() || a.IsUnspecified() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return ap, bad(key, "%q is not a unicast address", v)
	case v4 && !a.Is4():
		return ap, bad(key, "%q is not an IPv4 address (the request socket is IPv4)", v)
	case a.Zone() != "":
		return ap, bad(key, "%q: zoned addresses are not supported", v)
	}
	return netip.AddrPortFrom(a, ap.Port()), nil
}

// duration checks that d lies in (lo, hi] when open, [lo, hi] otherwise.
func duration(key string, d, lo, hi time.Duration, open bool) error {
	if d < lo || (open && d == lo) || d > hi {
		low := "at least " + lo.String()
		if open {
			low = "more than " + lo.String()
		}
		return bad(key, "%v: want %s and at most %v", d, low, hi)
	}
	return nil
}

func (c *Config) validate() error {
	f := &c.Feed
	if err := alpha("feed.session", f.Session, 10, false); err != nil {
		return err
	}
	if sf := &f.SoupBinTCP; sf.Server != "" {
		ap, err := server("feed.soupbintcp.server", sf.Server, false)
		if err != nil {
			return err
		}
		sf.ServerAddr = ap
		for _, a := range []struct {
			key, v string
			n      int
			secret bool
		}{
			{"feed.soupbintcp.username", sf.Username, 6, false},
			{"feed.soupbintcp.password", sf.Password, 10, true},
			{"feed.soupbintcp.session", sf.Session, 10, false},
		} {
			if err := alpha(a.key, a.v, a.n, a.secret); err != nil {
				return err
			}
		}
	}
	if err := duration("feed.soupbintcp.packet_timeout", f.SoupBinTCP.PacketTimeout, 100*time.Millisecond, live.SoupSilenceTimeout, false); err != nil {
		return err
	}
	for _, l := range []struct {
		key  string
		line *live.Line
	}{{"feed.line_a", &f.LineA}, {"feed.line_b", &f.LineB}} {
		if f.SoupBinTCP.Server != "" && l.line.Group == "" {
			continue // a SoupBinTCP feed needs no multicast lines
		}
		ap, err := netip.ParseAddrPort(l.line.Group)
		if err != nil {
			return bad(l.key+".group", "%q is not an address:port (%v)", l.line.Group, err)
		}
		if !ap.Addr().IsMulticast() || !ap.Addr().Is4() {
			return bad(l.key+".group", "%s is not an IPv4 multicast group", ap.Addr())
		}
		if ap.Port() == 0 {
			return bad(l.key+".group", "port 0")
		}
		l.line.GroupAddr = ap
		if l.line.Source != "" {
			a, err := netip.ParseAddr(l.line.Source)
			if err != nil || !a.Is4() || a.IsMulticast() || a.IsUnspecified() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
				return bad(l.key+".source", "%q is not a unicast IPv4 source address", l.line.Source)
			}
			l.line.SourceAddr = a
		}
	}
	if f.LineA.GroupAddr == f.LineB.GroupAddr && f.LineA.GroupAddr.IsValid() {
		return bad("feed.line_b.group", "same group and port as line_a")
	}
	if f.Interface == "" {
		return bad("feed.interface", "required (the interface the groups are joined on, e.g. lo or ens1f0)")
	}
	ssm := f.LineA.SourceAddr.IsValid() || f.LineB.SourceAddr.IsValid()
	if err := checkInterface(f.Interface, ssm); err != nil {
		return bad("feed.interface", "%q: %v", f.Interface, err)
	}
	if f.RecvBuffer < 64<<10 || f.RecvBuffer > 1<<30 {
		return bad("feed.recv_buffer", "%d bytes: want 64 KiB to 1 GiB", f.RecvBuffer)
	}
	if f.DatagramSize < live.MinDatagramSize || f.DatagramSize > live.MaxDatagramSize {
		return bad("feed.datagram_size", "%d bytes: want %d (a 1500-byte Ethernet frame's UDP payload) to %d (the largest UDP payload over IPv4)",
			f.DatagramSize, live.MinDatagramSize, live.MaxDatagramSize)
	}
	if f.Poll != "epoll" && f.Poll != "busy" {
		return bad("feed.poll", "%q: want epoll or busy", f.Poll)
	}
	if err := duration("feed.poll_spin", f.PollSpin, 0, 10*time.Millisecond, false); err != nil {
		return err
	}
	if f.MaxJump != 0 && f.MaxJump < 1<<16 {
		return bad("feed.max_jump", "%d: want 0 (off) or at least 65536: a smaller guard takes the loss of a single packet (up to 65534 messages) for a wild sequence number", f.MaxJump)
	}
	if f.CPU < -1 {
		return bad("feed.cpu", "%d: want a CPU number, or -1 for unpinned", f.CPU)
	}
	if f.CPU >= 0 {
		if err := checkCPU(f.CPU); err != nil {
			return bad("feed.cpu", "%d: %v", f.CPU, err)
		}
	}
	if err := duration("feed.end_quiet", f.EndQuiet, live.HeartbeatInterval, time.Minute, true); err != nil {
		return err
	}
	if f.Hold.Packets < 16 || f.Hold.Packets > 1<<20 {
		return bad("feed.hold.packets", "%d: want 16 to 1048576", f.Hold.Packets)
	}
	if f.Hold.Bytes < 64<<10 || f.Hold.Bytes > 4<<30 {
		return bad("feed.hold.bytes", "%d: want 64 KiB to 4 GiB", f.Hold.Bytes)
	}
	r := &f.Rerequest
	if r.Server != "" {
		ap, err := server("feed.rerequest.server", r.Server, true)
		if err != nil {
			return err
		}
		r.ServerAddr = ap
	}
	switch {
	case r.FillTime <= 0:
		return bad("feed.rerequest.fill_time", "%v: must be positive", r.FillTime)
	case r.MaxOutstanding < 1 || r.MaxOutstanding > 1024:
		return bad("feed.rerequest.max_outstanding", "%d: want 1 to 1024", r.MaxOutstanding)
	case r.MaxCount < 1 || r.MaxCount > 0xFFFE:
		return bad("feed.rerequest.max_count", "%d: want 1 to 65534", r.MaxCount)
	case r.Timeout <= 0:
		return bad("feed.rerequest.timeout", "%v: must be positive", r.Timeout)
	case !(r.Backoff >= 1) || math.IsInf(r.Backoff, 0): // also NaN
		return bad("feed.rerequest.backoff", "%v: want a finite 1 or more", r.Backoff)
	case r.MaxRetries < 0 || r.MaxRetries > 1000:
		return bad("feed.rerequest.max_retries", "%d: want 0 to 1000", r.MaxRetries)
	case r.MaxAge <= r.FillTime:
		return bad("feed.rerequest.max_age", "%v: must exceed fill_time (%v)", r.MaxAge, r.FillTime)
	case r.MaxAge > 10*time.Minute:
		return bad("feed.rerequest.max_age", "%v: want at most 10m (the feed stalls on a hole this long)", r.MaxAge)
	case r.Timeout >= r.MaxAge:
		return bad("feed.rerequest.timeout", "%v: must be below max_age (%v), or no request is ever retried", r.Timeout, r.MaxAge)
	}
	sn := &f.Snapshot
	if sn.Server != "" {
		ap, err := server("feed.snapshot.server", sn.Server, false)
		if err != nil {
			return err
		}
		sn.ServerAddr = ap
		if err := alpha("feed.snapshot.username", sn.Username, 6, false); err != nil {
			return err
		}
		if err := alpha("feed.snapshot.password", sn.Password, 10, true); err != nil {
			return err
		}
	}
	if err := duration("feed.snapshot.timeout", sn.Timeout, 0, time.Hour, true); err != nil {
		return err
	}
	if sn.MaxBytes < 1<<20 || sn.MaxBytes > 64<<30 {
		return bad("feed.snapshot.max_bytes", "%d: want 1 MiB to 64 GiB", sn.MaxBytes)
	}
	if sn.MaxOrders < 1 || sn.MaxOrders > 1<<31-1 {
		return bad("feed.snapshot.max_orders", "%d: want 1 to 2147483647 (the book's limit)", sn.MaxOrders)
	}
	if c.Book.Orders < 1 || c.Book.Orders > 1<<30 {
		return bad("book.orders", "%d: want 1 to 2^30", c.Book.Orders)
	}
	if c.Book.Instruments < 1 || c.Book.Instruments > 1<<16 {
		return bad("book.instruments", "%d: want 1 to 65536", c.Book.Instruments)
	}
	if err := c.validateShards(); err != nil {
		return err
	}
	if c.BooksOnExit != "" {
		if err := checkOutput(c.BooksOnExit); err != nil {
			return bad("books_on_exit", "%q: %v", c.BooksOnExit, err)
		}
	}
	if err := c.Admin.validate(); err != nil {
		return err
	}
	if err := c.Log.validate(); err != nil {
		return err
	}
	if err := c.Transport.validate(); err != nil {
		return err
	}
	if err := c.NATS.validate(); err != nil {
		return err
	}
	for _, cpu := range c.Transport.CPUs {
		if cpu == c.Feed.CPU {
			return bad("transport.cpus", "%d is feed.cpu: the feed's writer has its CPU to itself", cpu)
		}
	}
	return nil
}

// validateShards checks book.shards, book.cpus and book.map.
func (c *Config) validateShards() error {
	b := &c.Book
	if b.Shards < 1 || b.Shards > shard.MaxShards {
		return bad("book.shards", "%d: want 1 to %d", b.Shards, shard.MaxShards)
	}
	if len(b.CPUs) > 0 && b.Shards == 1 {
		return bad("book.cpus", "with one shard the receive loop applies the book: pin it with feed.cpu")
	}
	if len(b.CPUs) > b.Shards-1 {
		return bad("book.cpus", "%d CPUs for the %d writers of %d shards (the receive loop applies shard 0, on feed.cpu)", len(b.CPUs), b.Shards-1, b.Shards)
	}
	seen := map[int]bool{}
	for _, cpu := range b.CPUs {
		if err := checkCPU(cpu); err != nil {
			return bad("book.cpus", "%d: %v", cpu, err)
		}
		if cpu == c.Feed.CPU {
			return bad("book.cpus", "%d is feed.cpu: the receive loop has its CPU to itself", cpu)
		}
		if seen[cpu] {
			return bad("book.cpus", "%d given twice: each writer has its CPU to itself", cpu)
		}
		if slices.Contains(c.Transport.CPUs, cpu) {
			return bad("book.cpus", "%d is in transport.cpus: each writer has its CPU to itself", cpu)
		}
		seen[cpu] = true
	}
	for sym, i := range b.Map {
		if len(sym) == 0 || len(sym) > 8 {
			return bad("book.map", "%q: a symbol has 1 to 8 characters", sym)
		}
		if i < 0 || i >= b.Shards {
			return bad("book.map", "%s: shard %d of %d (shards count from 0)", sym, i, b.Shards)
		}
	}
	return nil
}

func (t *Transport) validate() error {
	if t.Listen != "" {
		ap, err := netip.ParseAddrPort(t.Listen)
		if err != nil {
			return bad("transport.listen", "%q is not an address:port", t.Listen)
		}
		a := ap.Addr().Unmap()
		if a.IsMulticast() || a.Zone() != "" {
			return bad("transport.listen", "%q: want a unicast address without a zone", t.Listen)
		}
		if !a.IsLoopback() && t.Token == "" && t.TLS.Cert == "" {
			return bad("transport.listen", "%q is not a loopback address: set transport.tls or transport.token to serve beyond this host", t.Listen)
		}
		t.ListenAddr = netip.AddrPortFrom(a, ap.Port())
	}
	if len(t.Token) > 256 {
		return bad("transport.token", "longer than 256 bytes")
	}
	for i := 0; i < len(t.Token); i++ {
		if t.Token[i] < ' ' || t.Token[i] > '~' {
			return bad("transport.token", "has a character that is not printable ASCII")
		}
	}
	switch {
	case t.TLS.Cert == "" && t.TLS.Key == "":
	case t.TLS.Cert == "":
		return bad("transport.tls.cert", "missing: transport.tls.key needs the certificate it goes with")
	case t.TLS.Key == "":
		return bad("transport.tls.key", "missing: transport.tls.cert needs its private key")
	default:
		pair, err := tls.LoadX509KeyPair(t.TLS.Cert, t.TLS.Key)
		if err != nil {
			return bad("transport.tls", "%v", err)
		}
		t.TLSConfig = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}
	if t.SlowConsumer != "conflate" && t.SlowConsumer != "disconnect" {
		return bad("transport.slow_consumer", "%q: want conflate or disconnect", t.SlowConsumer)
	}
	if t.QueueBytes < 64<<10 || t.QueueBytes > 1<<30 {
		return bad("transport.queue_bytes", "%d: want 64 KiB to 1 GiB", t.QueueBytes)
	}
	if err := duration("transport.slow_after", t.SlowAfter, 0, time.Minute, true); err != nil {
		return err
	}
	if err := duration("transport.hello_timeout", t.HelloTimeout, 0, time.Minute, true); err != nil {
		return err
	}
	if t.MaxClients < 1 || t.MaxClients > 1<<20 {
		return bad("transport.max_clients", "%d: want 1 to 1048576", t.MaxClients)
	}
	for _, cpu := range t.CPUs {
		if err := checkCPU(cpu); err != nil {
			return bad("transport.cpus", "%d: %v", cpu, err)
		}
	}
	if t.Nice < 0 || t.Nice > 19 {
		return bad("transport.nice", "%d: want 0 (the feed's priority) to 19", t.Nice)
	}
	return nil
}
