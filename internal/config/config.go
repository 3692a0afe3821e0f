// Package config reads the handler's YAML configuration (tickwire run
// --config FILE). Every key is documented in tickwire.example.yaml at the
// repository root. Unknown keys are refused, and a wrong value is refused at
// start with an error naming the key and why.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ErrInvalid wraps every validation error.
var ErrInvalid = errors.New("config")

// Config is the whole handler configuration.
type Config struct {
	Feed Feed `yaml:"feed"`
	Book Book `yaml:"book"`
	// BooksOnExit, when set, is where the final books are written as JSON
	// Lines on a clean shutdown (SIGTERM, SIGINT, end of session).
	BooksOnExit string `yaml:"books_on_exit"`
}

// Feed describes one MoldUDP64 feed received on two lines.
type Feed struct {
	Session    string    `yaml:"session"`
	Interface  string    `yaml:"interface"`
	LineA      Line      `yaml:"line_a"`
	LineB      Line      `yaml:"line_b"`
	RecvBuffer int       `yaml:"recv_buffer"`
	Poll       string    `yaml:"poll"`
	MaxJump    uint64    `yaml:"max_jump"`
	CPU        int       `yaml:"cpu"`
	Hold       Hold      `yaml:"hold"`
	Rerequest  Rerequest `yaml:"rerequest"`
	Snapshot   Snapshot  `yaml:"snapshot"`
	SoupBinTCP SoupFeed  `yaml:"soupbintcp"`
}

// SoupFeed, when Server is set, takes the feed over SoupBinTCP instead of
// multicast: ITCH messages in Sequenced Data packets, sequenced by the
// session (line_a and line_b are then not used).
type SoupFeed struct {
	Server   string `yaml:"server"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// Session to log in to; empty: the server's current session.
	Session string `yaml:"session"`

	ServerAddr netip.AddrPort `yaml:"-"`
}

// Snapshot configures the GLIMPSE snapshot server (SoupBinTCP): the book
// is built from it at start (a late join) and rebuilt from it when gap
// recovery fails.
type Snapshot struct {
	Server   string        `yaml:"server"`
	Username string        `yaml:"username"`
	Password string        `yaml:"password"`
	Timeout  time.Duration `yaml:"timeout"`

	ServerAddr netip.AddrPort `yaml:"-"`
}

// Line is one multicast line.
type Line struct {
	Group  string `yaml:"group"`
	Source string `yaml:"source"`

	GroupAddr  netip.AddrPort `yaml:"-"`
	SourceAddr netip.Addr     `yaml:"-"`
}

// Hold bounds what waits ahead of a hole.
type Hold struct {
	Packets int `yaml:"packets"`
	Bytes   int `yaml:"bytes"`
}

// Rerequest configures gap recovery from the MoldUDP64 re-request server.
type Rerequest struct {
	Server         string        `yaml:"server"`
	FillTime       time.Duration `yaml:"fill_time"`
	MaxOutstanding int           `yaml:"max_outstanding"`
	MaxCount       int           `yaml:"max_count"`
	Timeout        time.Duration `yaml:"timeout"`
	Backoff        float64       `yaml:"backoff"`
	MaxRetries     int           `yaml:"max_retries"`
	MaxAge         time.Duration `yaml:"max_age"`

	ServerAddr netip.AddrPort `yaml:"-"`
}

// Book sizes the order book.
type Book struct {
	Orders      int `yaml:"orders"`
	Instruments int `yaml:"instruments"`
}

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
		return nil, fmt.Errorf("%w: %s", ErrInvalid, nameKeys(data, err))
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Default returns the defaults every key falls back to.
func Default() *Config {
	return &Config{
		Feed: Feed{
			Poll:       "epoll",
			MaxJump:    1 << 24,
			CPU:        -1,
			RecvBuffer: 4 << 20,
			Hold:       Hold{Packets: 4096, Bytes: 8 << 20},
			Snapshot:   Snapshot{Timeout: 30 * time.Second},
			Rerequest: Rerequest{FillTime: 2 * time.Millisecond, MaxOutstanding: 8, MaxCount: 500,
				Timeout: 50 * time.Millisecond, Backoff: 2, MaxRetries: 5, MaxAge: 5 * time.Second},
		},
		Book: Book{Orders: 1 << 16, Instruments: 1 << 14},
	}
}

// lineRE matches the "line N: " that yaml.v3 puts before each error.
var lineRE = regexp.MustCompile(`line (\d+): `)

// nameKeys rewrites yaml.v3's "line N: cannot unmarshal ..." errors to name
// the key at that line ("feed.rerequest.timeout (line N): ...").
func nameKeys(data []byte, err error) string {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil {
		return err.Error()
	}
	keys := map[int]string{}
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
	return lineRE.ReplaceAllStringFunc(err.Error(), func(m string) string {
		line, _ := strconv.Atoi(lineRE.FindStringSubmatch(m)[1])
		if k, ok := keys[line]; ok {
			return k + " (" + strings.TrimSuffix(m, ": ") + "): "
		}
		return m
	})
}

func bad(key, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalid, key, fmt.Sprintf(format, args...))
}

func (c *Config) validate() error {
	f := &c.Feed
	if len(f.Session) > 10 {
		return bad("feed.session", "%q is longer than 10 characters", f.Session)
	}
	if sf := &f.SoupBinTCP; sf.Server != "" {
		ap, err := netip.ParseAddrPort(sf.Server)
		if err != nil || ap.Port() == 0 || ap.Addr().IsMulticast() {
			return bad("feed.soupbintcp.server", "%q is not a unicast address:port", sf.Server)
		}
		sf.ServerAddr = ap
		switch {
		case len(sf.Username) > 6:
			return bad("feed.soupbintcp.username", "%q is longer than 6 characters (SoupBinTCP Alpha(6))", sf.Username)
		case len(sf.Password) > 10:
			return bad("feed.soupbintcp.password", "longer than 10 characters (SoupBinTCP Alpha(10))")
		case len(sf.Session) > 10:
			return bad("feed.soupbintcp.session", "%q is longer than 10 characters", sf.Session)
		}
	}
	for _, l := range []struct {
		key  string
		line *Line
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
			if err != nil || !a.Is4() || a.IsMulticast() {
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
	if f.RecvBuffer < 64<<10 || f.RecvBuffer > 1<<30 {
		return bad("feed.recv_buffer", "%d bytes: want 64 KiB to 1 GiB", f.RecvBuffer)
	}
	if f.Poll != "epoll" && f.Poll != "busy" {
		return bad("feed.poll", "%q: want epoll or busy", f.Poll)
	}
	if f.CPU < -1 || f.CPU > 4095 {
		return bad("feed.cpu", "%d: want a CPU number, or -1 for unpinned", f.CPU)
	}
	if f.Hold.Packets < 16 || f.Hold.Packets > 1<<20 {
		return bad("feed.hold.packets", "%d: want 16 to 1048576", f.Hold.Packets)
	}
	if f.Hold.Bytes < 64<<10 || f.Hold.Bytes > 4<<30 {
		return bad("feed.hold.bytes", "%d: want 64 KiB to 4 GiB", f.Hold.Bytes)
	}
	r := &f.Rerequest
	if r.Server != "" {
		ap, err := netip.ParseAddrPort(r.Server)
		if err != nil || ap.Port() == 0 || ap.Addr().IsMulticast() {
			return bad("feed.rerequest.server", "%q is not a unicast address:port", r.Server)
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
	case r.Backoff < 1:
		return bad("feed.rerequest.backoff", "%v: want 1 or more", r.Backoff)
	case r.MaxRetries < 0:
		return bad("feed.rerequest.max_retries", "%d: negative", r.MaxRetries)
	case r.MaxAge <= r.FillTime:
		return bad("feed.rerequest.max_age", "%v: must exceed fill_time (%v)", r.MaxAge, r.FillTime)
	}
	sn := &f.Snapshot
	if sn.Server != "" {
		ap, err := netip.ParseAddrPort(sn.Server)
		if err != nil || ap.Port() == 0 || ap.Addr().IsMulticast() {
			return bad("feed.snapshot.server", "%q is not a unicast address:port", sn.Server)
		}
		sn.ServerAddr = ap
		if len(sn.Username) > 6 {
			return bad("feed.snapshot.username", "%q is longer than 6 characters (SoupBinTCP Alpha(6))", sn.Username)
		}
		if len(sn.Password) > 10 {
			return bad("feed.snapshot.password", "longer than 10 characters (SoupBinTCP Alpha(10))")
		}
	}
	if sn.Timeout <= 0 {
		return bad("feed.snapshot.timeout", "%v: must be positive", sn.Timeout)
	}
	if c.Book.Orders < 1 || c.Book.Orders > 1<<30 {
		return bad("book.orders", "%d: want 1 to 2^30", c.Book.Orders)
	}
	if c.Book.Instruments < 1 || c.Book.Instruments > 1<<16 {
		return bad("book.instruments", "%d: want 1 to 65536", c.Book.Instruments)
	}
	return nil
}
