package pipeline

import (
	"errors"
	"fmt"
	"io"
	"net/netip"

	"github.com/tickwire/tickwire/book"
	"github.com/tickwire/tickwire/book/shard"
	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/codec/moldudp64"
	"github.com/tickwire/tickwire/feed"
	"github.com/tickwire/tickwire/internal/invariants"
	"github.com/tickwire/tickwire/replay"
)

// DefaultMaxJump is the MaxJump replay and the handler use unless told
// otherwise: about 15 seconds of NASDAQ's record peak rate.
const DefaultMaxJump = 1 << 24

// MaxLines bounds the number of distinct lines (file, destination) one
// pipeline tracks; datagrams of further lines are counted as foreign.
const MaxLines = feed.MaxLines

// maxRecorded bounds the message errors kept for the report, and
// maxGaps the gaps; the counters keep counting past them.
const (
	maxRecorded = 64
	maxGaps     = 4096
)

// Config selects the feed and sizes the tables.
type Config struct {
	// Ports and Groups, when set, select the feed's datagrams by UDP
	// destination port and destination (multicast group) address.
	Ports  []uint16
	Groups []netip.Addr
	// Session, when set, selects the MoldUDP64 session by name (trailing
	// spaces optional). Otherwise the first session whose packets carry
	// valid ITCH messages is chosen.
	Session string
	// AllowGaps goes on past sequence gaps instead of stopping at the first.
	AllowGaps bool
	// Orders and Instruments are capacity hints for the book.
	Orders, Instruments int
	// HoldPackets and HoldTime bound how long packets ahead of a hole wait
	// for the other line before the hole is declared a gap. HoldTime is
	// measured in capture time (ns), which keeps replay deterministic; 0
	// disables it, so that in a replay only memory (HoldPackets) bounds how
	// far ahead the other line may run.
	HoldPackets int
	HoldTime    int64
	// Start is the first sequence number expected: 0 or 1 from the start
	// of the session, N after a snapshot that reflects messages before N.
	Start uint64
	// MaxJump drops, unless another line corroborates it, a packet starting
	// more than this many messages beyond every sequence known (a wild
	// sequence number); 0 turns the guard off. See feed.Options.MaxJump.
	MaxJump uint64
	// HoldBytes bounds the bytes held ahead of holes (0: the feed's default).
	HoldBytes int
	// Requester, when set, turns on gap recovery (live feeds): holes are
	// re-requested as Recovery says before they are given up as gaps.
	Requester feed.Requester
	Recovery  feed.RecoveryConfig
	// Capture are the options of the capture readers ReplayFiles opens
	// (replay.WithVerifyChecksums).
	Capture []replay.Option
	// Options are further arbiter options (feed.WithRecoveryLine,
	// feed.WithQuiet), applied after those the fields above make.
	Options []feed.Option
	// Tap, when set, receives every message in sequence order before the
	// book does (the simulator uses it to take a capture's session). msg is
	// valid only during the call.
	Tap func(seq uint64, msg []byte)
	// Shard and Shards split the instruments between pipelines that each
	// read the whole input: this one applies only messages whose stock
	// locate is Shard modulo Shards (messages too short to carry a locate
	// belong to shard 0). Shards 0 or 1: one pipeline owns everything.
	Shard, Shards int
	// Writers, with Writers.Shards above 1, spreads this pipeline's books
	// over that many shards, each applied by its own writer (book/shard),
	// which this pipeline feeds: the live handler's. Its Book options'
	// Orders and Instruments are taken from the fields above. Not with
	// Shards above 1.
	Writers shard.Config
}

// Gap is a range of sequence numbers that no line carried.
type Gap struct {
	First, Count uint64
}

// GapError stops a replay at the first gap unless Config.AllowGaps is set.
type GapError struct {
	Gap
}

func (e *GapError) Error() string {
	return fmt.Sprintf("gap: %d message(s) missing from sequence %d (no line carried them)", e.Count, e.First)
}

// MsgError records a message that failed validation.
type MsgError struct {
	Seq  uint64
	Type byte
	Len  int
	Err  error
}

func (e MsgError) String() string {
	return fmt.Sprintf("sequence %d: type %q, %d bytes: %v", e.Seq, e.Type, e.Len, e.Err)
}

// Line describes one line of the feed as seen in the input.
type Line struct {
	Input int            // index of the capture file
	Dst   netip.AddrPort // destination (group and port)
}

// Stats are the pipeline's counters. Fields are written only by the
// goroutine that drives the pipeline.
type Stats struct {
	Datagrams     uint64 // UDP datagrams read from captures
	Filtered      uint64 // not of the selected ports/groups
	NotMoldUDP    uint64 // payload not a MoldUDP64 packet
	BeforeSession uint64 // MoldUDP64 packets seen before the ITCH session was identified
	OtherSession  uint64 // MoldUDP64 packets of other sessions
	ForeignLines  uint64 // datagrams of lines beyond MaxLines

	Messages     uint64 // ITCH messages delivered in sequence (each exactly once)
	ByType       [256]uint64
	UnknownTypes uint64 // skipped by their framing length
	Malformed    uint64 // known type with the wrong length, or empty
	MsgErrors    []MsgError

	Gaps        uint64
	GapMessages uint64
	GapList     []Gap

	FirstTime, LastTime int64 // capture time of the first and last datagram, ns since epoch

	Capture replay.Stats // what the capture readers read and skipped, summed over files
}

// Pipeline turns captures into books. It is not safe for concurrent use.
type Pipeline struct {
	cfg   Config
	books *shard.Set // the books (sharded with Config.Writers)
	book  *book.Book // the one book when there is one shard, else nil
	arb   *feed.Arbiter

	sessions *feed.SessionChooser[Line]

	lines []Line

	st       Stats
	byLocate []uint64 // messages per stock locate
	owned    []uint8  // with several shards: 1 for the locates this one owns
	seq      uint64   // ordinal for raw ITCH files
	err      error

	cross crossCheck // invariants build only

	snapshots uint64 // snapshot messages applied (Snapshot)
	restarts  uint64

	lat *recorder // latency stages (RecordLatency), nil: none recorded
}

// New returns a pipeline for cfg.
func New(cfg Config) (*Pipeline, error) {
	p := &Pipeline{
		cfg:      cfg,
		byLocate: make([]uint64, 1<<16),
		lines:    make([]Line, 0, MaxLines),
	}
	var bopts []book.Option
	if cfg.Orders > 0 {
		bopts = append(bopts, book.WithOrders(cfg.Orders))
	}
	if cfg.Instruments > 0 {
		bopts = append(bopts, book.WithInstruments(cfg.Instruments))
	}
	if cfg.Writers.Shards > 1 && cfg.Shards > 1 {
		return nil, fmt.Errorf("%d writer shards with %d reading shards: one or the other", cfg.Writers.Shards, cfg.Shards)
	}
	wc := cfg.Writers
	for _, o := range bopts {
		o(&wc.Book)
	}
	set, err := shard.New(wc)
	if err != nil {
		return nil, err
	}
	p.books = set
	if set.Shards() == 1 {
		p.book = set.Books()[0] // applied in place: no ring, no writer
	}
	var fopts []feed.Option
	if cfg.Session != "" {
		if len(cfg.Session) > 10 {
			return nil, fmt.Errorf("session %q: longer than 10 characters", cfg.Session)
		}
		fopts = append(fopts, feed.WithSession(feed.Alpha10(cfg.Session)))
	}
	p.sessions = feed.NewSessionChooser[Line](cfg.Session)
	if cfg.Shards < 1 {
		p.cfg.Shards = 1
	}
	if p.cfg.Shard < 0 || p.cfg.Shard >= p.cfg.Shards {
		return nil, fmt.Errorf("shard %d of %d: out of range", cfg.Shard, p.cfg.Shards)
	}
	if p.cfg.Shards > 1 {
		p.owned = make([]uint8, 1<<16)
		for l := range p.owned {
			if l%p.cfg.Shards == p.cfg.Shard {
				p.owned[l] = 1
			}
		}
	}
	if cfg.HoldPackets > 0 {
		fopts = append(fopts, feed.WithHoldPackets(cfg.HoldPackets))
	}
	fopts = append(fopts, feed.WithHoldTime(cfg.HoldTime))
	if cfg.HoldBytes > 0 {
		fopts = append(fopts, feed.WithHoldBytes(cfg.HoldBytes))
	}
	fopts = append(fopts, feed.WithMaxJump(cfg.MaxJump))
	if cfg.Start > 1 {
		fopts = append(fopts, feed.WithStart(cfg.Start))
	}
	if cfg.Requester != nil {
		if err := cfg.Recovery.Validate(); err != nil {
			return nil, err
		}
		fopts = append(fopts, feed.WithRecovery(cfg.Requester, cfg.Recovery))
	}
	p.arb = feed.NewArbiter(p, append(fopts, cfg.Options...)...)
	return p, nil
}

// Book returns the pipeline's book, nil when its books are sharded
// (Config.Writers): BookOf, Books and the other readers work either way.
func (p *Pipeline) Book() *book.Book { return p.book }

// Books returns the pipeline's books: one, or sharded (Config.Writers).
func (p *Pipeline) Books() *shard.Set { return p.books }

// BookOf returns the book holding stock locate l. With sharded books, read
// it only after Sync.
func (p *Pipeline) BookOf(l uint16) *book.Book { return p.books.Book(l) }

// Sync waits, with sharded books, until the writers have applied every
// message delivered so far and hands their changes to the listener
// (shard.Set.Sync); after it, until the next message, the books may be
// read. Without shards it does nothing: the book is applied in place.
func (p *Pipeline) Sync() { p.books.Sync() }

// SetListener sets the listener of the books' changes (book.Listener):
// called on the goroutine that applies messages, or with sharded books on
// the one that calls Sync.
func (p *Pipeline) SetListener(l book.Listener) { p.books.SetListener(l) }

// LiveOrders returns the orders live in the books (after Sync).
func (p *Pipeline) LiveOrders() int { return p.books.LiveOrders() }

// Locates appends the instruments of the books, ascending, to dst (after
// Sync).
func (p *Pipeline) Locates(dst []uint16) []uint16 { return p.books.Locates(dst) }

// Anomalies returns the books' anomalies (after Sync).
func (p *Pipeline) Anomalies() book.Anomalies { return p.books.Anomalies() }

// AnomalyTotal returns the number of the books' anomalies (after Sync).
func (p *Pipeline) AnomalyTotal() uint64 { return p.books.AnomalyTotal() }

// Close stops the writers of sharded books, once they have applied what
// they were handed; the books may still be read. Without shards it does
// nothing.
func (p *Pipeline) Close() { p.books.Close() }

// Stats returns the pipeline's counters.
func (p *Pipeline) Stats() *Stats { return &p.st }

// FeedStats returns the arbiter's counters.
func (p *Pipeline) FeedStats() feed.Stats { return p.arb.Stats() }

// Session returns the MoldUDP64 session replayed, if one was identified.
func (p *Pipeline) Session() (string, bool) {
	name, ok := p.sessions.Session()
	return string(itch.TrimAlpha(name[:])), ok
}

// SessionID returns the MoldUDP64 session as it came (10 bytes, padded),
// if one was identified; it does not allocate.
func (p *Pipeline) SessionID() ([10]byte, bool) { return p.sessions.Session() }

// Message implements feed.Handler: it validates one ITCH message and applies
// it to the book. msg is not retained.
func (p *Pipeline) Message(seq uint64, msg []byte) {
	if p.owns(msg) {
		p.apply(seq, msg)
	}
}

// owns reports whether msg is of an instrument this pipeline applies (all
// of them, unsharded).
func (p *Pipeline) owns(msg []byte) bool { return p.owned == nil || p.owned[locateOf(msg)] != 0 }

// Prefetching implements feed.Prefetcher: the arbiter hints the messages
// of a packet ahead of their delivery when the book is one large enough
// to gain by it (book.Book.Prefetching).
func (p *Pipeline) Prefetching() bool { return p.book != nil && p.book.Prefetching() }

// Prefetch implements feed.Prefetcher (book.Book.Prefetch), for the
// messages the pipeline owns.
func (p *Pipeline) Prefetch(msg []byte) {
	if p.owns(msg) {
		p.book.Prefetch(itch.Message(msg))
	}
}

// PrefetchOrder implements feed.Prefetcher (book.Book.PrefetchOrder).
func (p *Pipeline) PrefetchOrder(msg []byte) {
	if p.owns(msg) {
		p.book.PrefetchOrder(itch.Message(msg))
	}
}

// locateOf returns a message's stock locate, 0 for one too short to carry
// it (such messages belong to shard 0).
func locateOf(msg []byte) int {
	if len(msg) < 3 {
		return 0
	}
	return int(msg[1])<<8 | int(msg[2])
}

// apply counts, validates and applies one message this pipeline owns.
func (p *Pipeline) apply(seq uint64, msg []byte) {
	p.st.Messages++
	if p.cfg.Tap != nil {
		p.cfg.Tap(seq, msg)
	}
	if len(msg) == 0 {
		p.bad(seq, msg, itch.ErrEmpty)
		return
	}
	p.st.ByType[msg[0]]++
	if err := itch.Check(msg); err != nil {
		if err == itch.ErrUnknownType {
			p.st.UnknownTypes++
			return
		}
		p.bad(seq, msg, err)
		return
	}
	m := itch.Message(msg)
	p.byLocate[m.Locate()]++
	if p.book == nil {
		p.books.Apply(seq, m)
		return
	}
	p.book.Apply(seq, m)
	if invariants.Enabled {
		p.checkCrossed(seq, m) // a sharded book is read only after Sync
	}
}

func (p *Pipeline) bad(seq uint64, msg []byte, err error) {
	p.st.Malformed++
	if len(p.st.MsgErrors) < maxRecorded {
		var t byte
		if len(msg) > 0 {
			t = msg[0]
		}
		p.st.MsgErrors = append(p.st.MsgErrors, MsgError{Seq: seq, Type: t, Len: len(msg), Err: err})
	}
}

// Gap implements feed.Handler.
func (p *Pipeline) Gap(first, count uint64) {
	p.st.Gaps++
	p.st.GapMessages += count
	if len(p.st.GapList) < maxGaps {
		p.st.GapList = append(p.st.GapList, Gap{first, count})
	}
	if !p.cfg.AllowGaps && p.err == nil {
		p.err = &GapError{Gap{first, count}}
	}
}

// Datagram feeds one UDP datagram read from capture input (file index)
// through session selection and arbitration. d.Payload is not retained.
func (p *Pipeline) Datagram(input int, d *replay.Datagram) {
	p.st.Datagrams++
	if p.st.FirstTime == 0 {
		p.st.FirstTime = d.Time
	}
	p.st.LastTime = d.Time
	if !p.selected(d.Dst) {
		p.st.Filtered++
		return
	}
	pkt, v := p.accept(Line{input, d.Dst}, false, d.Time, d.Payload)
	if v != feed.Accepted {
		return
	}
	// Lines are assigned only to the selected session's datagrams, so that
	// other traffic cannot take their places.
	line := p.line(input, d.Dst)
	if line < 0 {
		p.st.ForeignLines++
		return
	}
	v = p.arb.Packet(line, d.Time, pkt)
	if p.lat != nil {
		p.lat.packet(line, d.Time, pkt, v)
	}
}

// Packet feeds one UDP payload received on line (a socket's) through
// session selection and arbitration at time now (ns), and returns what
// became of it: feed.Malformed for a payload that is not MoldUDP64,
// feed.OtherSession for another session's, feed.Duplicate while the
// session is not chosen yet, or the arbiter's verdict. payload is not
// retained.
func (p *Pipeline) Packet(line int, now int64, payload []byte) feed.Verdict {
	pkt, v := p.accept(Line{Input: line}, true, now, payload)
	if v != feed.Accepted {
		return v
	}
	v = p.arb.Packet(line, now, pkt)
	if p.book == nil {
		p.books.Commit() // the shards start on the datagram's messages
	}
	return v
}

// accept parses a MoldUDP64 packet and keeps it (feed.Accepted) if it
// belongs to the session, choosing the session when none was configured
// (feed.SessionChooser). The packet held while the session was chosen is
// fed to the arbiter first, on its own line (live: from Packet, whose Line
// is the socket's line; else a capture's).
func (p *Pipeline) accept(from Line, live bool, now int64, payload []byte) (moldudp64.Packet, feed.Verdict) {
	pkt, v, held := p.sessions.Accept(from, now, payload)
	switch v {
	case feed.Accepted:
	case feed.Malformed:
		p.st.NotMoldUDP++
		return nil, v
	default:
		p.st.BeforeSession, p.st.OtherSession = p.sessions.BeforeSession, p.sessions.OtherSession
		return nil, v
	}
	if held.Payload != nil {
		p.feedHeld(held, live)
	}
	return pkt, v
}

// feedHeld gives the arbiter the packet that was held while the session
// was chosen.
func (p *Pipeline) feedHeld(h feed.Held[Line], live bool) {
	if live {
		p.arb.Packet(h.Src.Input, h.At, h.Payload)
	} else if l := p.line(h.Src.Input, h.Src.Dst); l >= 0 {
		v := p.arb.Packet(l, h.At, h.Payload)
		if p.lat != nil {
			p.lat.captured(l, h.At, h.Payload, v)
		}
	} else {
		p.st.ForeignLines++
	}
}

// Snapshot applies one message of a snapshot (GLIMPSE: the directory,
// instrument states and every live order as an Add) to the book. Snapshot
// messages carry no feed sequence number; they are counted apart from the
// feed's. msg is not retained.
func (p *Pipeline) Snapshot(msg []byte) {
	p.snapshots++
	if err := itch.Check(msg); err != nil {
		p.bad(0, msg, err)
		return
	}
	if p.book == nil {
		p.books.Apply(0, itch.Message(msg))
		return
	}
	p.book.Apply(0, itch.Message(msg))
}

// ResetBook empties the books before a snapshot is applied to them.
func (p *Pipeline) ResetBook() {
	p.books.Sync()
	p.books.Reset()
}

// Restart restarts the feed at sequence next, the sequence a snapshot just
// applied with Snapshot ends at (GLIMPSE's G): what was held is dropped,
// packets before next are duplicates from now on (feed.Arbiter.Reset). The
// counters go on.
func (p *Pipeline) Restart(next uint64) {
	p.restarts++
	p.arb.Reset(next)
}

// Arbiter returns the pipeline's arbiter (its end of session, a refuted
// start, its counters).
func (p *Pipeline) Arbiter() *feed.Arbiter { return p.arb }

// SnapshotStats returns the snapshot messages applied and the restarts.
func (p *Pipeline) SnapshotStats() (messages, restarts uint64) { return p.snapshots, p.restarts }

// Tick runs the feed's timers (hold time, recovery) at time now (ns) when
// no packet arrives; a live receive loop calls it at least every
// millisecond or so.
func (p *Pipeline) Tick(now int64) { p.arb.Tick(now) }

// Finished reports whether the session has ended: every live line agreed
// on the end of session and every message before it was delivered or given
// up as a gap (feed.Arbiter.Ended).
func (p *Pipeline) Finished() bool { return p.arb.Ended() }

func (p *Pipeline) selected(dst netip.AddrPort) bool {
	if len(p.cfg.Ports) > 0 {
		ok := false
		for _, port := range p.cfg.Ports {
			if dst.Port() == port {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(p.cfg.Groups) > 0 {
		for _, g := range p.cfg.Groups {
			if dst.Addr() == g {
				return true
			}
		}
		return false
	}
	return true
}

func (p *Pipeline) line(input int, dst netip.AddrPort) int {
	for i := range p.lines {
		if p.lines[i].Input == input && p.lines[i].Dst == dst {
			return i
		}
	}
	if len(p.lines) == MaxLines {
		return -1
	}
	p.lines = append(p.lines, Line{input, dst})
	return len(p.lines) - 1
}

// ReplayFiles opens the captures at paths and replays them: packet captures
// merged in timestamp order, or raw ITCH files one after the other. It
// returns the format of the first file.
func (p *Pipeline) ReplayFiles(paths []string, progress func(records uint64)) (replay.Format, error) {
	var files []*replay.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	raw := 0
	for _, path := range paths {
		f, err := replay.Open(path, p.cfg.Capture...)
		if err != nil {
			return 0, err
		}
		files = append(files, f)
		if f.Format() == replay.FormatITCH || f.Format() == replay.FormatITCHGzip {
			raw++
		}
	}
	if len(files) == 0 {
		return 0, errors.New("no input")
	}
	format := files[0].Format()
	if raw != 0 && raw != len(files) {
		return format, errors.New("cannot mix raw ITCH files with packet captures in one replay")
	}
	if raw > 0 {
		for _, f := range files {
			if err := p.ReplayMessages(f.Messages(), progress); err != nil {
				return format, err
			}
		}
		return format, nil
	}
	readers := make([]*replay.PacketReader, len(files))
	for i, f := range files {
		readers[i] = f.Packets()
	}
	err := p.ReplayPackets(replay.Merge(readers...), progress)
	for _, r := range readers {
		addCaptureStats(&p.st.Capture, r.Stats())
	}
	return format, err
}

func addCaptureStats(dst *replay.Stats, s replay.Stats) {
	dst.Records += s.Records
	dst.Bytes += s.Bytes
	dst.Datagrams += s.Datagrams
	dst.ARP += s.ARP
	dst.LLC += s.LLC
	dst.OtherLink += s.OtherLink
	dst.TCP += s.TCP
	dst.ICMP += s.ICMP
	dst.IGMP += s.IGMP
	dst.OtherIP += s.OtherIP
	dst.Fragments += s.Fragments
	dst.Truncated += s.Truncated
	dst.Malformed += s.Malformed
	dst.Blocks += s.Blocks
	if dst.BadIPChecksum+dst.BadUDPChecksum == 0 {
		dst.FirstBadChecksumOffset = s.FirstBadChecksumOffset // of the first file with failures
	}
	dst.ChecksumDrops += s.ChecksumDrops
	dst.BadIPChecksum += s.BadIPChecksum
	dst.BadUDPChecksum += s.BadUDPChecksum
}

// progressEvery is how many records pass between progress callbacks.
const progressEvery = 1 << 16

// ReplayPackets drives the pipeline from merged captures until the end of
// input, a capture error or (unless AllowGaps) the first gap. progress, if
// not nil, is called now and then with the number of records read.
func (p *Pipeline) ReplayPackets(m *replay.Merger, progress func(records uint64)) error {
	var d replay.Datagram
	var n uint64
	if p.lat != nil {
		p.lat.begin()
	}
	for {
		input, err := m.Next(&d)
		if err != nil {
			if err == io.EOF {
				break
			}
			return err
		}
		p.Datagram(input, &d)
		if p.err != nil {
			return p.err
		}
		n++
		if progress != nil && n%progressEvery == 0 {
			progress(n)
		}
	}
	p.confirmLast()
	p.arb.Close()
	return p.err
}

// confirmLast takes, at the end of a capture, the session of a packet no
// second one came to confirm: a record has nothing else to go on.
func (p *Pipeline) confirmLast() {
	if h := p.sessions.Close(); h.Payload != nil {
		if l := p.line(h.Src.Input, h.Src.Dst); l >= 0 {
			p.arb.Packet(l, h.At, h.Payload)
		}
	}
}

// ReplayMessages drives the pipeline from a raw ITCH file, whose messages
// are sequenced by their ordinal. Several files continue the numbering.
//
// It reads a batch of messages at a time. A shard of several picks out the
// messages of the instruments it owns without a branch per message, then
// applies them: tested one by one, the ownership of a random mix of
// instruments is a branch mispredicted every other message, which cost a
// shard more than everything else it does with a message it does not own.
//
// When the book is large enough for it (book.Book.Prefetching, asked once
// a batch), the messages it applies are prefetched ahead within the batch:
// each message's table slot book.PrefetchAhead messages before it is
// applied and its order book.PrefetchOrderAhead before (book.Book.Prefetch,
// PrefetchOrder), so that a message's cache misses are in flight while the
// ones before it are applied. Sharded books (Config.Writers) are applied on
// their writers' goroutines and are not prefetched.
func (p *Pipeline) ReplayMessages(r *replay.ITCHReader, progress func(records uint64)) error {
	var batch [256][]byte
	var mine [256]uint8
	if p.lat != nil {
		p.lat.begin()
	}
	for {
		n, err := r.NextBatch(batch[:])
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		bk := p.book
		pf := bk != nil && bk.Prefetching()
		if p.owned == nil {
			msgs := batch[:n]
			if pf {
				for _, m := range msgs[:min(n, book.PrefetchAhead)] {
					bk.Prefetch(m)
				}
			}
			for i, m := range msgs {
				if pf {
					if j := i + book.PrefetchAhead; j < n {
						bk.Prefetch(msgs[j])
					}
					if j := i + book.PrefetchOrderAhead; j < n {
						bk.PrefetchOrder(msgs[j])
					}
				}
				p.apply(p.seq+uint64(i)+1, m)
			}
		} else {
			k := 0
			for i, m := range batch[:n] {
				mine[k] = uint8(i)
				k += int(p.owned[locateOf(m)])
			}
			own := mine[:k]
			if pf {
				for _, i := range own[:min(k, book.PrefetchAhead)] {
					bk.Prefetch(batch[i])
				}
			}
			for x, i := range own {
				if pf {
					if j := x + book.PrefetchAhead; j < k {
						bk.Prefetch(batch[own[j]])
					}
					if j := x + book.PrefetchOrderAhead; j < k {
						bk.PrefetchOrder(batch[own[j]])
					}
				}
				p.apply(p.seq+uint64(i)+1, batch[i])
			}
		}
		if p.lat != nil {
			p.lat.done()
		}
		before := p.seq
		p.seq += uint64(n)
		if progress != nil && p.seq/progressEvery != before/progressEvery {
			progress(p.seq)
		}
	}
}
