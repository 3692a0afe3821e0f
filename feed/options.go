package feed

// Options configures an Arbiter. Build it with the With functions; fields
// left unset take the defaults below.
type Options struct {
	// Session, when SessionSet, is the only session accepted; otherwise the
	// first well-formed packet fixes it.
	Session    [10]byte
	SessionSet bool

	// MaxJump, when not 0, guards against a well-formed packet with a wild
	// sequence number (a corrupt or rogue sender): once the feed has
	// started, a packet (or heartbeat) starting more than MaxJump beyond
	// every sequence known so far is dropped and counted as Implausible,
	// unless it is corroborated: by a packet of another line starting
	// within MaxJump of it, or by the same line continuing it contiguously
	// (a genuine jump, such as a single-line late join, keeps going). The
	// packet that first showed the jump is dropped; its messages come from
	// the other line or recovery. Without the guard such a packet opens a
	// hole up to it, which is requested and finally given up as an enormous
	// gap, after which every genuine packet is a duplicate.
	MaxJump uint64

	// Start is the first sequence expected. Default 1, the first sequence of
	// every MoldUDP64 session. 0 joins mid-session: the first well-formed
	// data packet (its sequence) or heartbeat (the sequence it announces)
	// sets it, and nothing before it is reported as a gap.
	Start uint64

	// HoldPackets is the most packets held at once while a hole is open.
	// Default DefaultHoldPackets. 0 holds nothing: every hole is a gap as soon
	// as it is seen (a single line without a second copy to wait for).
	// Values above MaxHoldPackets are reduced to it.
	HoldPackets int

	// HoldBytes is the most packet bytes (MoldUDP64 header included) held at
	// once. Default DefaultHoldBytes. 0 holds nothing, like HoldPackets 0.
	HoldBytes int

	// HoldTime is how long, in nanoseconds of the now argument, a held packet
	// or a tail revealed by a heartbeat may wait for a hole below it to
	// fill. Default DefaultHoldTime. 0 or less disables the time limit: holes
	// are then given up only by the packet and byte limits and Close.
	HoldTime int64

	// PacketSize is the size of each preallocated hold buffer; a longer packet
	// is held in a buffer allocated for it. Default DefaultPacketSize (a
	// 1500-byte MTU carries at most 1472 bytes of UDP payload).
	PacketSize int

	// Requester, when not nil, turns recovery on: holes that no line fills
	// within Recovery.FillTime are requested from the re-request server
	// through it, and given up as gaps only when recovery fails (see
	// RecoveryConfig). HoldTime is then ignored; HoldPackets and HoldBytes
	// still bound what is held, and must not be 0 for recovery to help.
	Requester Requester
	// Recovery configures recovery; its zero fields take the defaults.
	Recovery RecoveryConfig
	// RecoveryLine, when RecoveryLineSet, is the line number the caller
	// passes the datagrams of the recovery socket on. Packets on it are
	// taken only as answers to requests in flight, and only for the range
	// requested: the rest of such a packet is dropped, a packet answering
	// nothing is dropped and counted as Unsolicited, and its heartbeats and
	// end-of-session packets announce nothing. Unset, every line is a
	// multicast line (and answers are taken from any).
	RecoveryLine    int
	RecoveryLineSet bool
	// Quiet is how long (nanoseconds of the now argument) a line that has
	// sent nothing plausible is still counted as live. It decides two
	// things:
	//   - the end of the session: it is reached when every live line's
	//     latest end-of-session packet announces the same sequence and
	//     every message before it is accounted for (a line silent longer
	//     than Quiet does not hold the end back);
	//   - a jump beyond MaxJump: it is taken only when it is corroborated
	//     and no line has carried the current sequence for longer than
	//     Quiet (while the old sequence goes on, a far packet is rogue).
	// Default DefaultQuiet; it must exceed the heartbeat interval.
	Quiet int64

	holdPacketsSet, holdBytesSet, holdTimeSet, startSet bool
}

// Option configures an Arbiter in NewArbiter.
type Option func(*Options)

// Defaults and bounds of the Options.
const (
	DefaultHoldPackets = 1024
	DefaultHoldBytes   = 2 << 20
	DefaultHoldTime    = 100_000_000 // 100 ms
	DefaultPacketSize  = 2048
	DefaultQuiet       = 3_000_000_000 // 3 s: three missed heartbeats
	MaxHoldPackets     = 1 << 20
	// MaxPacketSize bounds PacketSize: no UDP payload is longer.
	MaxPacketSize = 1 << 16
)

// WithSession accepts only packets of session s (Options.Session).
func WithSession(s [10]byte) Option {
	return func(o *Options) { o.Session, o.SessionSet = s, true }
}

// WithMaxJump sets Options.MaxJump.
func WithMaxJump(n uint64) Option {
	return func(o *Options) { o.MaxJump = n }
}

// WithStart sets the first sequence expected (Options.Start); 0 joins the
// session at the first packet seen.
func WithStart(seq uint64) Option {
	return func(o *Options) { o.Start, o.startSet = seq, true }
}

// WithRecoveryLine names the line that carries the recovery socket's
// datagrams (Options.RecoveryLine).
func WithRecoveryLine(line int) Option {
	return func(o *Options) { o.RecoveryLine, o.RecoveryLineSet = line, true }
}

// WithQuiet sets how long a silent line still counts as live
// (Options.Quiet); 0 or less keeps the default.
func WithQuiet(ns int64) Option {
	return func(o *Options) { o.Quiet = ns }
}

// WithHoldPackets sets the most packets held at once (Options.HoldPackets).
func WithHoldPackets(n int) Option {
	return func(o *Options) { o.HoldPackets, o.holdPacketsSet = n, true }
}

// WithHoldBytes sets the most bytes held at once (Options.HoldBytes).
func WithHoldBytes(n int) Option {
	return func(o *Options) { o.HoldBytes, o.holdBytesSet = n, true }
}

// WithHoldTime sets how long, in nanoseconds of the now argument, a hole may
// stay open (Options.HoldTime); 0 or less disables the limit.
func WithHoldTime(ns int64) Option {
	return func(o *Options) { o.HoldTime, o.holdTimeSet = ns, true }
}

// WithPacketSize sets the size of each preallocated hold buffer
// (Options.PacketSize).
func WithPacketSize(n int) Option {
	return func(o *Options) { o.PacketSize = n }
}

// WithRecovery turns on gap recovery by re-requests sent through req, as cfg
// configures (Options.Requester, Options.Recovery). A nil req leaves recovery
// off. Values of cfg out of range are brought into range (see
// RecoveryConfig; RecoveryConfig.Validate reports them).
func WithRecovery(req Requester, cfg RecoveryConfig) Option {
	return func(o *Options) { o.Requester, o.Recovery = req, cfg }
}

// resolve applies the defaults and bounds.
func (o *Options) resolve() {
	if o.Requester != nil {
		o.Recovery.resolve()
	}
	if !o.startSet {
		o.Start = 1
	}
	if !o.holdPacketsSet {
		o.HoldPackets = DefaultHoldPackets
	}
	o.HoldPackets = min(max(o.HoldPackets, 0), MaxHoldPackets)
	if !o.holdBytesSet {
		o.HoldBytes = DefaultHoldBytes
	}
	o.HoldBytes = max(o.HoldBytes, 0)
	if !o.holdTimeSet {
		o.HoldTime = DefaultHoldTime
	}
	if o.Quiet <= 0 {
		o.Quiet = DefaultQuiet
	}
	if o.PacketSize <= 0 {
		o.PacketSize = DefaultPacketSize
	}
	o.PacketSize = min(o.PacketSize, MaxPacketSize)
	if o.HoldPackets == 0 || o.HoldBytes == 0 {
		o.HoldPackets, o.HoldBytes = 0, 0
	}
}
