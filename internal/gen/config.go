package gen

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/tickwire/tickwire/internal/capture"
)

// Line configures one multicast line (A or B) and its impairments. A Line is
// a plain value.
type Line struct {
	// Group is the destination group and port; the zero value means
	// 233.54.12.111:26477 for A and 233.54.12.112:26477 for B (IPv6:
	// [ff15::e936:c6f]:26477 and [ff15::e936:c70]:26477).
	Group netip.AddrPort
	// Source is the sender's address; the zero value means 10.200.1.1:47001
	// (A) and 10.200.2.1:47002 (B), or fd00:200:1::1 / fd00:200:2::1.
	Source netip.AddrPort
	// Loss is the probability that a loss burst starts at a packet.
	Loss float64
	// Burst is the mean loss burst length in packets (1 or more; 0 means 1).
	Burst float64
	// Dup is the probability that a packet is captured twice on the line.
	Dup float64
	// Reorder is the probability that a packet is held back behind the next
	// one to three packets of the line.
	Reorder float64
	// Latency is the base one-way delay from the sender to the capture point
	// in ns; 0 means 18 µs (A) and 23.5 µs (B).
	Latency int64
	// Jitter is the maximum extra delay in ns, uniform; 0 means 1 µs, a
	// negative value none.
	Jitter int64
}

// Config describes one synthetic session. The zero value of each field
// selects the default given in its comment. A Config is a plain value;
// Generate works on a copy.
type Config struct {
	// Seed selects the session; equal Configs write equal bytes.
	Seed uint64
	// Messages is the exact number of ITCH messages; 0 means 1,000,000.
	Messages int
	// Instruments is the number of Stock Directory entries; 0 means 500.
	Instruments int
	// Session is the MoldUDP64 session name, at most 10 bytes, right-padded
	// with spaces; "" means "TICKWIRE01".
	Session string
	// Date is the trading day (its year, month and day); the zero value
	// means 2026-03-02.
	Date time.Time
	// UTCOffset is the exchange's offset from UTC on Date, used to turn ITCH
	// times (ns since local midnight) into capture times; 0 means -5h (EST).
	UTCOffset time.Duration
	// MaxPayload bounds a MoldUDP64 packet (UDP payload) in bytes; 0 means
	// 1400. At least 72.
	MaxPayload int
	// BatchWindow is how long, in ns after a packet's first message, later
	// messages may join it; 0 means 5 µs.
	BatchWindow int64
	// Heartbeat is the idle interval after which a heartbeat is sent, in
	// ns; 0 means 1 s.
	Heartbeat int64
	// EndOfSession is the number of end-of-session packets sent after the
	// last message, one Heartbeat interval apart; 0 means 3.
	EndOfSession int
	// Lines configures line A (0) and line B (1).
	Lines [2]Line
	// AllowDoubleLoss lets a packet be lost on both lines; the lost
	// sequence ranges are then reported in Summary.DoubleLost. By default a
	// packet the loss draws drop on both lines is kept on one of them.
	AllowDoubleLoss bool
	// IPv6 selects IPv6 default addresses.
	IPv6 bool
	// Noise is the probability, per captured packet, that a noise event
	// (capture.Noise kinds the link supports) follows it on the line.
	Noise float64
	// Form is the capture form. For a single file with both lines and a
	// pcapng Form without Interfaces, two interfaces are declared (line A
	// on 0, line B on 1).
	Form capture.Form
	// ITCHGzip gzips the raw ITCH output.
	ITCHGzip bool
	// Live is the target peak of live orders; 0 keeps the default, each
	// instrument's book settling around restingDepth (150) orders. Live > 0
	// gives every instrument its share of Live in proportion to its
	// activity (the Zipf weight its flow is drawn with, so that every book
	// fills in the same fraction of its own flow): its flow leans to adds
	// while it holds fewer orders than its share and to deletes above it.
	// The books fill in about Live/0.55 flow messages, then hold near Live
	// to the end, so the peak is within a few percent of Live when Live is
	// well above Instruments (each book fluctuates by a few orders around
	// its share). From Instruments (one order each) to Messages/2 (the flow
	// must have room to build the books).
	Live int
}

// Defaults.
const (
	DefaultMessages    = 1_000_000
	DefaultInstruments = 500
	DefaultSession     = "TICKWIRE01"
	DefaultMaxPayload  = 1400
	DefaultPort        = 26477
	DefaultNoise       = 0.002       // noise events per captured packet (tickwire gen -noise)
	minPayload         = 20 + 2 + 50 // header + one block of the longest message
)

// withDefaults returns c with zero fields replaced by their defaults and
// checks the result.
func (c Config) withDefaults() (Config, error) {
	if c.Messages == 0 {
		c.Messages = DefaultMessages
	}
	if c.Instruments == 0 {
		c.Instruments = DefaultInstruments
	}
	if c.Session == "" {
		c.Session = DefaultSession
	}
	if c.Date.IsZero() {
		c.Date = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	}
	if c.UTCOffset == 0 {
		c.UTCOffset = -5 * time.Hour
	}
	if c.MaxPayload == 0 {
		c.MaxPayload = DefaultMaxPayload
	}
	if c.BatchWindow == 0 {
		c.BatchWindow = 5_000
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = 1_000_000_000
	}
	if c.EndOfSession == 0 {
		c.EndOfSession = 3
	}
	for i := range c.Lines {
		l := &c.Lines[i]
		if !l.Group.IsValid() {
			if c.IPv6 {
				l.Group = netip.AddrPortFrom(netip.MustParseAddr([]string{"ff15::e936:c6f", "ff15::e936:c70"}[i]), DefaultPort)
			} else {
				l.Group = netip.AddrPortFrom(netip.AddrFrom4([4]byte{233, 54, 12, byte(111 + i)}), DefaultPort)
			}
		}
		if !l.Source.IsValid() {
			if c.IPv6 {
				l.Source = netip.AddrPortFrom(netip.MustParseAddr([]string{"fd00:200:1::1", "fd00:200:2::1"}[i]), uint16(47001+i))
			} else {
				l.Source = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 200, byte(1 + i), 1}), uint16(47001+i))
			}
		}
		if l.Burst == 0 {
			l.Burst = 1
		}
		if l.Latency == 0 {
			l.Latency = []int64{18_000, 23_500}[i]
		}
		if l.Jitter == 0 {
			l.Jitter = 1_000
		} else if l.Jitter < 0 {
			l.Jitter = 0
		}
	}
	return c, c.check()
}

func (c *Config) check() error {
	bad := func(f string, a ...any) error { return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(f, a...)) }
	switch {
	case c.Messages < 0:
		return bad("messages %d", c.Messages)
	case c.Instruments < 1 || c.Instruments > 60000:
		return bad("instruments %d (1..60000)", c.Instruments)
	case len(c.Session) > 10:
		return bad("session %q longer than 10 bytes", c.Session)
	case c.MaxPayload < minPayload || c.MaxPayload > 65507:
		return bad("max payload %d (%d..65507)", c.MaxPayload, minPayload)
	case c.BatchWindow < 0 || c.Heartbeat < 0 || c.EndOfSession < 0:
		return bad("negative batch window, heartbeat or end-of-session count")
	case c.Noise < 0 || c.Noise >= 1:
		return bad("noise rate %v", c.Noise)
	case c.Live < 0 || c.Live > 0 && (c.Live < c.Instruments || c.Live > c.Messages/2):
		return bad("live orders %d (0, or %d instruments to half of %d messages)", c.Live, c.Instruments, c.Messages)
	}
	for i, l := range c.Lines {
		name := "AB"[i : i+1]
		for _, p := range []struct {
			n string
			v float64
		}{{"loss", l.Loss}, {"dup", l.Dup}, {"reorder", l.Reorder}} {
			if p.v < 0 || p.v >= 1 {
				return bad("line %s %s rate %v", name, p.n, p.v)
			}
		}
		if l.Burst < 1 {
			return bad("line %s burst %v", name, l.Burst)
		}
		if l.Latency < 0 {
			return bad("line %s latency %d", name, l.Latency)
		}
		if l.Group.Addr().Is6() != l.Source.Addr().Is6() {
			return bad("line %s mixes IPv4 and IPv6 addresses", name)
		}
	}
	if c.Form.File != 0 {
		if err := c.Form.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// session returns the 10-byte MoldUDP64 session name.
func (c *Config) session() [10]byte {
	s := [10]byte{' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '}
	copy(s[:], c.Session)
	return s
}

// midnight returns the trading day's local midnight in ns since the epoch.
func (c *Config) midnight() int64 {
	y, m, d := c.Date.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Add(-c.UTCOffset).UnixNano()
}
