package live

import (
	"net/netip"
	"time"
)

// Config is the live handler's configuration: the feed: and book: sections
// of tickwire's YAML configuration (internal/config embeds it, inline), the
// one place each setting is declared. Every key is documented in
// tickwire.example.yaml at the repository root.
//
// The fields tagged yaml:"-" (GroupAddr, SourceAddr, ServerAddr) are the
// parsed forms of the address strings beside them. New reads only those:
// internal/config's validation sets them (and names the key of a bad
// value); a Config built in code sets them itself.
type Config struct {
	Feed Feed `yaml:"feed"`
	Book Book `yaml:"book"`
}

// Feed describes one MoldUDP64 feed received on two lines, or (when
// SoupBinTCP.Server is set) one SoupBinTCP session.
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
	// DatagramSize is the receive slot size in bytes: a datagram longer
	// than this is truncated (counted as such, and lost). Default
	// DefaultDatagramSize, for jumbo frames.
	DatagramSize int `yaml:"datagram_size"`
	// PollSpin, with poll epoll, is how long the receive loop polls
	// without sleeping before it sleeps in epoll_wait (mcast.Poller.SetSpin).
	PollSpin time.Duration `yaml:"poll_spin"`
	// EndQuiet is how long a line must be silent before it is no longer
	// counted among the lines that must agree on the end of session.
	EndQuiet time.Duration `yaml:"end_quiet"`
}

// Defaults and bounds of the keys that need a name in code.
const (
	// DefaultDatagramSize receives an Ethernet jumbo frame (up to 9216
	// bytes) whole.
	DefaultDatagramSize = 9216
	// MinDatagramSize is the UDP payload of a standard 1500-byte Ethernet
	// frame over IPv4 (1500 − 20 IP − 8 UDP): a smaller slot would
	// truncate datagrams every network delivers.
	MinDatagramSize = 1472
	// MaxDatagramSize is the largest UDP payload an IPv4 datagram can
	// carry (65535 − 20 − 8): a larger slot is never filled.
	MaxDatagramSize = 65507
	// HeartbeatInterval is the MoldUDP64 heartbeat interval of an idle
	// line: feed.end_quiet must exceed it, or a live line falls silent
	// between two heartbeats.
	HeartbeatInterval = time.Second
	// SoupSilenceTimeout is how long a silent SoupBinTCP server is
	// tolerated: feed.soupbintcp.packet_timeout beyond it never fires first.
	SoupSilenceTimeout = 15 * time.Second
)

// SoupFeed, when Server is set, takes the feed over SoupBinTCP instead of
// multicast: ITCH messages in Sequenced Data packets, sequenced by the
// session (line_a and line_b are then not used).
type SoupFeed struct {
	Server   string `yaml:"server"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// Session to log in to; empty: the server's current session.
	Session string `yaml:"session"`
	// PacketTimeout is how long a SoupBinTCP packet may take to arrive
	// whole once its first byte has: a server (or an attacker) that
	// starts a packet and stalls is dropped after it.
	PacketTimeout time.Duration `yaml:"packet_timeout"`

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
	// MaxBytes and MaxOrders bound a snapshot: one larger (in message
	// bytes, or in orders live at its end) is refused rather than held.
	MaxBytes  int64 `yaml:"max_bytes"`
	MaxOrders int   `yaml:"max_orders"`

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
	// Shards spreads the books over this many writers (package
	// book/shard): the receive loop applies shard 0 itself, and each other
	// shard has a writer thread of its own, fed by the receive loop
	// through a ring. 1, the default: the receive loop applies every
	// message.
	Shards int `yaml:"shards"`
	// CPUs pins the writers of shards 1, 2... to CPUs[0], CPUs[1]...
	// (fewer entries: the rest unpinned; shard 0 runs on feed.cpu).
	CPUs []int `yaml:"cpus"`
	// Map assigns symbols to shards; the others go by xxhash of the
	// symbol modulo Shards.
	Map map[string]int `yaml:"map"`
}

// Default returns the defaults every key falls back to. Its feed has no
// interface and no lines: those have no default.
func Default() Config {
	return Config{
		Feed: Feed{
			Poll:         "epoll",
			MaxJump:      1 << 24,
			CPU:          -1,
			RecvBuffer:   16 << 20,
			DatagramSize: DefaultDatagramSize,
			EndQuiet:     3 * time.Second,
			Hold:         Hold{Packets: 4096, Bytes: 8 << 20},
			Snapshot:     Snapshot{Timeout: 30 * time.Second, MaxBytes: 2 << 30, MaxOrders: 20_000_000},
			SoupBinTCP:   SoupFeed{PacketTimeout: 5 * time.Second},
			Rerequest: Rerequest{FillTime: 2 * time.Millisecond, MaxOutstanding: 8, MaxCount: 500,
				Timeout: 50 * time.Millisecond, Backoff: 2, MaxRetries: 5, MaxAge: 5 * time.Second},
		},
		Book: Book{Orders: 1 << 16, Instruments: 1 << 14, Shards: 1},
	}
}
