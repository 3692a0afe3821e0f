package gen

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/tickwire/tickwire/internal/capture"
)

// Outputs are the destinations of one generation; nil ones are not
// produced. Generate writes them from the calling goroutine only and does
// not close them.
type Outputs struct {
	// Capture receives both lines in one file, or line A when CaptureB is
	// set.
	Capture io.Writer
	// CaptureB receives line B as a separate capture (a second host).
	CaptureB io.Writer
	// ITCH receives the raw ITCH BinaryFILE of every message (gzip when
	// Config.ITCHGzip).
	ITCH io.Writer
	// Books receives the expected final books as JSON Lines.
	Books io.Writer
}

// Summary describes a generated session. It belongs to the caller (no slice
// in it is shared with the generator).
type Summary struct {
	Messages    int64
	Types       [256]int64 // messages by type byte
	Instruments int
	NextSeq     uint64 // sequence number after the last message
	First, Last uint64 // ITCH timestamps of the first and last message

	Packets      int64 // MoldUDP64 packets with messages sent by the source
	Heartbeats   int64
	EndOfSession int64
	Lines        [2]LineStats
	// DoubleLost lists the sequence ranges lost on both lines (only with
	// Config.AllowDoubleLoss), ascending; LostMessages is their total.
	DoubleLost   []Range
	LostMessages int64

	LiveOrders     int   // orders left on the books at the end
	PeakLive       int   // most orders live at once, after any message
	BookLevels     int   // price levels left on the books
	ExecutedShares int64 // shares executed by E, C and crosses
	CaptureBytes   [2]int64
	ITCHBytes      int64 // uncompressed

	// Books are the expected final books, as written to Outputs.Books: one
	// per instrument of the directory or with orders, in locate order.
	Books []Book
}

// TypesSeen returns the number of distinct message types generated.
func (s *Summary) TypesSeen() int {
	n := 0
	for _, c := range s.Types {
		if c > 0 {
			n++
		}
	}
	return n
}

// String is a one-line summary.
func (s *Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d messages (%d types), %d instruments, seq 1-%d, %d packets + %d heartbeats + %d end-of-session",
		s.Messages, s.TypesSeen(), s.Instruments, s.NextSeq-1, s.Packets, s.Heartbeats, s.EndOfSession)
	for i, l := range s.Lines {
		if l.Records == 0 && l.Lost == 0 {
			continue
		}
		fmt.Fprintf(&b, "; line %c: %d records, %d lost, %d dup, %d reordered, %d noise", 'A'+i, l.Records, l.Lost, l.Duplicated, l.Reordered, l.Noise)
	}
	if len(s.DoubleLost) > 0 {
		fmt.Fprintf(&b, "; lost on both lines: %d messages in", s.LostMessages)
		for i, r := range s.DoubleLost {
			if i == 8 {
				fmt.Fprintf(&b, " ... (%d ranges)", len(s.DoubleLost))
				break
			}
			fmt.Fprintf(&b, " %d-%d", r.First, r.Last)
		}
	}
	fmt.Fprintf(&b, "; books: %d orders on %d levels, peak %d live orders", s.LiveOrders, s.BookLevels, s.PeakLive)
	if s.CaptureBytes[0]+s.CaptureBytes[1] > 0 {
		fmt.Fprintf(&b, "; capture %d bytes", s.CaptureBytes[0]+s.CaptureBytes[1])
	}
	if s.ITCHBytes > 0 {
		fmt.Fprintf(&b, "; itch %d bytes", s.ITCHBytes)
	}
	return b.String()
}

// session is one run of Generate.
type session struct {
	cfg    Config
	model  *model
	sender *sender
	wire   *wire
	itch   *bufio.Writer
	gz     *gzip.Writer
	caps   []*capture.Writer
	seq    uint64
	lastTs uint64
	sum    Summary
	lenBuf [2]byte
}

// Generate writes the session described by cfg to out and returns its
// summary. Every output is written completely (flushed) on success; on error
// the outputs hold a prefix. Generate keeps no global state: concurrent
// calls with distinct outputs are safe.
func Generate(cfg Config, out Outputs) (Summary, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Summary{}, err
	}
	if (out.Capture != nil || out.CaptureB != nil) && cfg.Form.File == 0 {
		return Summary{}, fmt.Errorf("%w: a capture output needs Config.Form", ErrConfig)
	}
	if out.CaptureB != nil && out.Capture == nil {
		return Summary{}, fmt.Errorf("%w: CaptureB without Capture", ErrConfig)
	}
	s := &session{cfg: cfg, model: newModel()}
	if err := s.open(out); err != nil {
		return Summary{}, err
	}
	if err := s.run(); err != nil {
		return s.sum, err
	}
	if err := s.close(out); err != nil {
		return s.sum, err
	}
	return s.sum, nil
}

func (s *session) open(out Outputs) error {
	cfg := &s.cfg
	if out.ITCH != nil {
		w := out.ITCH
		if cfg.ITCHGzip {
			gz, err := gzip.NewWriterLevel(w, gzip.DefaultCompression)
			if err != nil {
				return err
			}
			s.gz, w = gz, gz
		}
		s.itch = bufio.NewWriterSize(w, 1<<20)
	}
	if out.Capture == nil {
		return nil
	}
	w := &wire{allowDouble: cfg.AllowDoubleLoss, noise: cfg.Noise, epoch: cfg.midnight(), tie: newRNG(cfg.Seed, 4)}
	for i := range w.lines {
		w.lines[i] = lineSim{cfg: cfg.Lines[i], r: newRNG(cfg.Seed, uint64(2+i))}
	}
	w.minLat = min(cfg.Lines[0].Latency, cfg.Lines[1].Latency)
	for k := capture.Noise(0); k < capture.NumNoise; k++ {
		if cfg.Form.NoiseSupported(k) {
			w.kinds = append(w.kinds, k)
		}
	}
	if out.CaptureB != nil {
		for i, dst := range []io.Writer{out.Capture, out.CaptureB} {
			form := cfg.Form
			if form.File == capture.PcapNG && len(form.Interfaces) == 0 {
				form.Interfaces = []capture.Interface{{Name: []string{"ens1f0", "ens2f0"}[i], TSResol: capture.ResolNano}}
			}
			cw, err := capture.NewWriter(dst, form)
			if err != nil {
				return err
			}
			s.caps = append(s.caps, cw)
			w.writers[i] = cw
		}
	} else {
		form := cfg.Form
		if form.File == capture.PcapNG && len(form.Interfaces) == 0 {
			form.Interfaces = []capture.Interface{{Name: "ens1f0", TSResol: capture.ResolNano}, {Name: "ens1f1", TSResol: capture.ResolNano}}
		}
		cw, err := capture.NewWriter(out.Capture, form)
		if err != nil {
			return err
		}
		s.caps = append(s.caps, cw)
		w.writers = [2]*capture.Writer{cw, cw}
		if form.File == capture.PcapNG && len(form.Interfaces) >= 2 {
			w.iface = [2]int{0, 1}
		}
	}
	s.wire = w
	s.sender = &sender{session: cfg.session(), max: cfg.MaxPayload, window: uint64(cfg.BatchWindow), hb: uint64(cfg.Heartbeat),
		next: 1, wire: w, buf: make([]byte, 0, cfg.MaxPayload+64)}
	return nil
}

// emit takes one generated message in sequence order.
func (s *session) emit(ts uint64, msg []byte) error {
	if ts < s.lastTs { // a multi-message event overlapping the next one
		ts = s.lastTs
		binary.BigEndian.PutUint16(msg[5:], uint16(ts>>32))
		binary.BigEndian.PutUint32(msg[7:], uint32(ts))
	}
	s.lastTs = ts
	s.seq++
	if s.seq == 1 {
		s.sum.First = ts
	}
	s.sum.Last = ts
	s.sum.Types[msg[0]]++
	s.model.apply(s.seq, msg)
	s.sum.PeakLive = max(s.sum.PeakLive, len(s.model.orders))
	if s.itch != nil {
		binary.BigEndian.PutUint16(s.lenBuf[:], uint16(len(msg)))
		if _, err := s.itch.Write(s.lenBuf[:]); err != nil {
			return err
		}
		if _, err := s.itch.Write(msg); err != nil {
			return err
		}
		s.sum.ITCHBytes += int64(2 + len(msg))
	}
	if s.sender != nil {
		return s.sender.add(ts, msg)
	}
	return nil
}

func (s *session) run() error {
	cfg := &s.cfg
	mr := newRNG(cfg.Seed, 1)
	specs := universe(&mr, cfg.Instruments)
	m := newMarket(&mr, specs, s.emit)
	if cfg.Live > 0 {
		m.setLive(cfg.Live)
	}
	p := newPlan(m)
	if cfg.Messages < p.fixed {
		return fmt.Errorf("%w: %d messages, the schedule for %d instruments needs at least %d", ErrTooFewMessages, cfg.Messages, cfg.Instruments, p.fixed)
	}
	s.sum.Instruments = len(specs)
	var f filler
	si := 0
	for _, b := range flowBuckets(cfg.Messages - p.fixed) {
		for _, t := range f.fill(&mr, b) {
			for si < len(p.specials) && p.specials[si].t <= t {
				if err := m.special(p.specials[si], &p); err != nil {
					return err
				}
				si++
			}
			i := m.z.pick(&mr)
			if m.insts[i].state == 'H' { // no orders before an IPO's quotation period
				i = m.z.byRank(0)
			}
			if err := m.flow(t, i); err != nil {
				return err
			}
		}
	}
	for ; si < len(p.specials); si++ {
		if err := m.special(p.specials[si], &p); err != nil {
			return err
		}
	}
	if s.seq != uint64(cfg.Messages) {
		return fmt.Errorf("%w: generated %d messages, want %d", ErrInternal, s.seq, cfg.Messages)
	}
	s.sum.Messages = int64(s.seq)
	s.sum.NextSeq = s.seq + 1
	s.sum.ExecutedShares = int64(m.executed)
	if s.model.anomalies > 0 {
		return fmt.Errorf("%w: %d book anomalies, first %s", ErrInternal, s.model.anomalies, s.model.first)
	}
	return s.crossCheck(m)
}

// MinMessages returns the number of messages the day's fixed schedule needs
// for cfg's instruments (directory, trading actions, system events, crosses
// and the other scheduled events): the smallest valid Config.Messages.
func MinMessages(cfg Config) (int, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return 0, err
	}
	mr := newRNG(cfg.Seed, 1)
	m := newMarket(&mr, universe(&mr, cfg.Instruments), nil)
	p := newPlan(m)
	return p.fixed, nil
}

// crossCheck compares the generator's own books with the model's.
func (s *session) crossCheck(m *market) error {
	books := s.model.books()
	byLoc := make(map[uint16]*Book, len(books))
	for i := range books {
		byLoc[books[i].Locate] = &books[i]
		s.sum.BookLevels += len(books[i].Bids) + len(books[i].Asks)
	}
	s.sum.LiveOrders = len(s.model.orders)
	live := 0
	for i := range m.insts {
		in := &m.insts[i]
		live += len(in.live)
		b := byLoc[in.locate]
		if b == nil {
			return fmt.Errorf("%w: locate %d missing from the model", ErrInternal, in.locate)
		}
		for k, want := range [2][]Level{b.Bids, b.Asks} {
			side := &in.sides[k]
			got := make([]Level, 0, len(side.levels))
			for p, l := range side.levels {
				got = append(got, Level{Price: p, Shares: l.shares, Orders: uint32(l.count)})
			}
			slices.SortFunc(got, func(a, b Level) int {
				if k == 0 {
					return cmpU32(b.Price, a.Price)
				}
				return cmpU32(a.Price, b.Price)
			})
			if !slices.Equal(got, want) {
				return fmt.Errorf("%w: locate %d side %d: generator %v, model %v", ErrInternal, in.locate, k, got, want)
			}
			if len(got) > 0 && (!side.has || side.best != got[0].Price) {
				return fmt.Errorf("%w: locate %d side %d: best %d, levels start at %d", ErrInternal, in.locate, k, side.best, got[0].Price)
			}
		}
	}
	if live != len(s.model.orders) {
		return fmt.Errorf("%w: generator has %d live orders, model %d", ErrInternal, live, len(s.model.orders))
	}
	s.sum.Books = books
	return nil
}

func (s *session) close(out Outputs) error {
	if s.sender != nil {
		if err := s.sender.finish(s.cfg.EndOfSession); err != nil {
			return err
		}
		if err := s.wire.finish(); err != nil {
			return err
		}
		s.sum.Packets, s.sum.Heartbeats, s.sum.EndOfSession = s.sender.packets, s.sender.heartbeats, s.sender.eos
		for i := range s.wire.lines {
			s.sum.Lines[i] = s.wire.lines[i].stats
		}
		s.sum.DoubleLost, s.sum.LostMessages = s.wire.doubleLost, s.wire.lostMsgs
		for i, c := range s.caps {
			if err := c.Flush(); err != nil {
				return err
			}
			s.sum.CaptureBytes[i] = c.Bytes()
		}
	}
	if s.itch != nil {
		if err := s.itch.Flush(); err != nil {
			return err
		}
		if s.gz != nil {
			if err := s.gz.Close(); err != nil {
				return err
			}
		}
	}
	if out.Books != nil {
		if err := writeBooks(out.Books, s.sum.Books); err != nil {
			return err
		}
	}
	return nil
}
