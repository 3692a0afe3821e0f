package gen

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/codec/moldudp64"
	"github.com/tickwire/tickwire/internal/capture"
)

// small is a quick session for tests: fewer heartbeats than a real day.
func small(seed uint64) Config {
	return Config{
		Seed: seed, Messages: 30_000, Instruments: 40, Heartbeat: 10e9,
		Form: capture.Form{File: capture.Pcap, Nano: true, Link: capture.LinkEthernet},
	}
}

type outputs struct {
	capA, capB, itch, books bytes.Buffer
}

func run(t *testing.T, cfg Config, split bool) (Summary, *outputs) {
	t.Helper()
	var o outputs
	out := Outputs{Capture: &o.capA, ITCH: &o.itch, Books: &o.books}
	if split {
		out.CaptureB = &o.capB
	}
	s, err := Generate(cfg, out)
	if err != nil {
		t.Fatal(err)
	}
	return s, &o
}

// readITCH splits a BinaryFILE into messages, checking each with codec/itch.
func readITCH(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var msgs [][]byte
	for len(b) > 0 {
		if len(b) < 2 {
			t.Fatal("truncated length field")
		}
		n := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+n {
			t.Fatal("truncated message")
		}
		m := b[2 : 2+n]
		if err := itch.Check(m); err != nil {
			t.Fatalf("message %d (%q): %v", len(msgs)+1, m[0], err)
		}
		msgs = append(msgs, m)
		b = b[2+n:]
	}
	return msgs
}

func TestDeterministic(t *testing.T) {
	cfg := small(7)
	cfg.Lines[0].Loss, cfg.Lines[1].Loss, cfg.Lines[0].Dup, cfg.Lines[1].Reorder = 0.02, 0.02, 0.01, 0.01
	cfg.Noise = 0.01
	s1, a := run(t, cfg, false)
	s2, b := run(t, cfg, false)
	if !bytes.Equal(a.capA.Bytes(), b.capA.Bytes()) || !bytes.Equal(a.itch.Bytes(), b.itch.Bytes()) || !bytes.Equal(a.books.Bytes(), b.books.Bytes()) {
		t.Fatal("same seed, different bytes")
	}
	if s1.String() != s2.String() {
		t.Fatalf("same seed, different summaries:\n%s\n%s", s1.String(), s2.String())
	}
	cfg.Seed = 8
	_, c := run(t, cfg, false)
	if bytes.Equal(a.itch.Bytes(), c.itch.Bytes()) {
		t.Fatal("different seeds, same messages")
	}
	// Line impairments draw from their own streams: the messages do not
	// depend on them.
	cfg.Seed = 7
	cfg.Lines[0].Loss, cfg.Noise = 0, 0
	_, d := run(t, cfg, false)
	if !bytes.Equal(a.itch.Bytes(), d.itch.Bytes()) || !bytes.Equal(a.books.Bytes(), d.books.Bytes()) {
		t.Fatal("changing a line's loss rate changed the messages")
	}
}

func TestMessages(t *testing.T) {
	cfg := small(11)
	s, o := run(t, cfg, false)
	msgs := readITCH(t, o.itch.Bytes())
	if len(msgs) != cfg.Messages || s.Messages != int64(cfg.Messages) || s.NextSeq != uint64(cfg.Messages)+1 {
		t.Fatalf("%d messages in the file, summary %d, want %d", len(msgs), s.Messages, cfg.Messages)
	}
	var count [256]int
	var events []byte
	var lastTs uint64
	lastRef := uint64(0)
	refs := map[uint64]bool{}
	locates := []uint16{}
	newRef := func(seq int, ref uint64) {
		if ref <= lastRef || refs[ref] {
			t.Fatalf("message %d: order reference %d not above %d or reused", seq, ref, lastRef)
		}
		refs[ref], lastRef = true, ref
	}
	for i, m := range msgs {
		im := itch.Message(m)
		count[im.Type()]++
		if ts := im.Timestamp(); ts < lastTs {
			t.Fatalf("message %d: timestamp %d before %d", i+1, ts, lastTs)
		} else {
			lastTs = ts
		}
		switch im.Type() {
		case 'S':
			events = append(events, m[11])
			if im.Locate() != 0 {
				t.Fatalf("system event with locate %d", im.Locate())
			}
		case 'R':
			locates = append(locates, im.Locate())
		case 'A':
			newRef(i+1, itch.AddOrder(m).Ref())
		case 'F':
			newRef(i+1, itch.AddOrderMPID(m).Ref())
		case 'U':
			newRef(i+1, itch.OrderReplace(m).NewRef())
		}
	}
	if string(events) != "OSQMEC" {
		t.Fatalf("system events %q, want OSQMEC", events)
	}
	if msgs[0][0] != 'S' || msgs[0][11] != 'O' || msgs[len(msgs)-1][0] != 'S' || msgs[len(msgs)-1][11] != 'C' {
		t.Fatal("the session does not start with S O and end with S C")
	}
	if len(locates) != cfg.Instruments || locates[0] == 0 || !slices.IsSorted(locates) || len(slices.Compact(slices.Clone(locates))) != len(locates) {
		t.Fatalf("directory locates %v", locates)
	}
	for _, ty := range itch.Types() {
		if count[ty] == 0 {
			t.Errorf("no %q message", ty)
		}
		if int64(count[ty]) != s.Types[ty] {
			t.Errorf("%q: %d in the file, summary %d", ty, count[ty], s.Types[ty])
		}
	}
	if s.TypesSeen() != 23 {
		t.Errorf("summary sees %d types", s.TypesSeen())
	}
	// The order-flow mix, roughly as specified.
	flow := float64(cfg.Messages)
	for _, c := range []struct {
		name   string
		n      int
		lo, hi float64
	}{
		{"A+F", count['A'] + count['F'], 0.40, 0.52},
		{"D", count['D'], 0.30, 0.38},
		{"E", count['E'], 0.035, 0.065},
		{"C", count['C'], 0.005, 0.02},
		{"X", count['X'], 0.02, 0.04},
		{"U", count['U'], 0.035, 0.065},
		{"F", count['F'], 0.02, 0.07},
		{"P", count['P'], 0.02, 0.07},
	} {
		if f := float64(c.n) / flow; f < c.lo || f > c.hi {
			t.Errorf("%s: %.3f of the messages, want %.3f..%.3f", c.name, f, c.lo, c.hi)
		}
	}
	// Some executions with price are not printable, and their price differs.
	var nonPrintable, otherPrice int
	prices := map[uint64]uint32{}
	for _, m := range msgs {
		switch m[0] {
		case 'A':
			prices[itch.AddOrder(m).Ref()] = itch.AddOrder(m).Price()
		case 'F':
			prices[itch.AddOrderMPID(m).Ref()] = itch.AddOrderMPID(m).Price()
		case 'U':
			prices[itch.OrderReplace(m).NewRef()] = itch.OrderReplace(m).Price()
		case 'C':
			c := itch.OrderExecutedWithPrice(m)
			if c.Printable() == 'N' {
				nonPrintable++
			}
			if c.ExecPrice() != prices[c.Ref()] {
				otherPrice++
			}
		}
	}
	if nonPrintable == 0 || otherPrice == 0 {
		t.Errorf("C messages: %d non-printable, %d at another price", nonPrintable, otherPrice)
	}
}

func TestTooFewMessages(t *testing.T) {
	_, err := Generate(Config{Messages: 100, Instruments: 40}, Outputs{})
	if !errors.Is(err, ErrTooFewMessages) {
		t.Fatalf("%v, want ErrTooFewMessages", err)
	}
	// The minimum works, with no flow at all, for one instrument too.
	for _, n := range []int{1, 3} {
		var it bytes.Buffer
		cfg := Config{Messages: 1, Instruments: n, Heartbeat: 60e9}
		minimum, err := MinMessages(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Messages = minimum - 1
		if _, err := Generate(cfg, Outputs{}); !errors.Is(err, ErrTooFewMessages) {
			t.Fatalf("%d instruments, %d messages: %v", n, cfg.Messages, err)
		}
		cfg.Messages = minimum
		if _, err := Generate(cfg, Outputs{ITCH: &it}); err != nil {
			t.Fatal(err)
		}
		if got := len(readITCH(t, it.Bytes())); got != minimum {
			t.Fatalf("%d messages, want %d", got, minimum)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for i, cfg := range []Config{
		{Session: "ELEVENBYTES"},
		{MaxPayload: 50},
		{Noise: 1},
		{Lines: [2]Line{{Loss: -0.1}}},
		{Lines: [2]Line{{}, {Dup: 1}}},
		{Lines: [2]Line{{Burst: 0.5}}},
		{Instruments: -1},
		{Lines: [2]Line{{Group: netip.MustParseAddrPort("[ff15::1]:1")}}},
		{Form: capture.Form{File: capture.Pcap, Link: 7}},
	} {
		if _, err := Generate(cfg, Outputs{}); err == nil {
			t.Errorf("config %d: no error", i)
		}
	}
	if _, err := Generate(Config{Messages: 5000, Instruments: 10}, Outputs{Capture: io.Discard}); !errors.Is(err, ErrConfig) {
		t.Errorf("capture without a form: %v", err)
	}
}

type jsonBook struct {
	Locate uint16      `json:"locate"`
	Symbol string      `json:"symbol"`
	Bids   [][3]uint64 `json:"bids"`
	Asks   [][3]uint64 `json:"asks"`
}

func parseBooks(t *testing.T, b []byte) []jsonBook {
	t.Helper()
	var out []jsonBook
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var bk jsonBook
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&bk); err != nil {
			t.Fatalf("line %d: %v", len(out)+1, err)
		}
		if bk.Bids == nil || bk.Asks == nil {
			t.Fatalf("line %d: a side is null, not []", len(out)+1)
		}
		out = append(out, bk)
	}
	return out
}

// referenceBooks replays the ITCH messages through a third, minimal model
// using codec/itch's views (the generator's model decodes raw offsets).
func referenceBooks(msgs [][]byte) map[uint16][2]map[uint32][2]uint64 {
	type ord struct {
		loc    uint16
		side   byte
		price  uint32
		shares uint32
	}
	orders := map[uint64]ord{}
	dir := map[uint16]bool{}
	for _, m := range msgs {
		switch m[0] {
		case 'R':
			dir[itch.Message(m).Locate()] = true
		case 'A':
			a := itch.AddOrder(m)
			orders[a.Ref()] = ord{a.Locate(), a.Side(), a.Price(), a.Shares()}
		case 'F':
			a := itch.AddOrderMPID(m)
			orders[a.Ref()] = ord{a.Locate(), a.Side(), a.Price(), a.Shares()}
		case 'E':
			e := itch.OrderExecuted(m)
			o := orders[e.Ref()]
			o.shares -= e.Shares()
			orders[e.Ref()] = o
		case 'C':
			e := itch.OrderExecutedWithPrice(m)
			o := orders[e.Ref()]
			o.shares -= e.Shares()
			orders[e.Ref()] = o
		case 'X':
			e := itch.OrderCancel(m)
			o := orders[e.Ref()]
			o.shares -= e.Shares()
			orders[e.Ref()] = o
		case 'D':
			delete(orders, itch.OrderDelete(m).Ref())
		case 'U':
			u := itch.OrderReplace(m)
			o := orders[u.OrigRef()]
			delete(orders, u.OrigRef())
			o.price, o.shares = u.Price(), u.Shares()
			orders[u.NewRef()] = o
		}
	}
	out := map[uint16][2]map[uint32][2]uint64{}
	for l := range dir {
		out[l] = [2]map[uint32][2]uint64{{}, {}}
	}
	for _, o := range orders {
		if o.shares == 0 {
			continue
		}
		if _, ok := out[o.loc]; !ok {
			out[o.loc] = [2]map[uint32][2]uint64{{}, {}}
		}
		k := 0
		if o.side == 'S' {
			k = 1
		}
		lv := out[o.loc][k][o.price]
		lv[0] += uint64(o.shares)
		lv[1]++
		out[o.loc][k][o.price] = lv
	}
	return out
}

func TestBooks(t *testing.T) {
	cfg := small(3)
	s, o := run(t, cfg, false)
	books := parseBooks(t, o.books.Bytes())
	msgs := readITCH(t, o.itch.Bytes())
	ref := referenceBooks(msgs)
	if len(books) != len(ref) || len(books) != cfg.Instruments {
		t.Fatalf("%d book lines, reference %d, directory %d", len(books), len(ref), cfg.Instruments)
	}
	symbols := map[uint16]string{}
	for _, m := range msgs {
		if m[0] == 'R' {
			symbols[itch.Message(m).Locate()] = string(itch.TrimAlpha(itch.StockDirectory(m).Stock()))
		}
	}
	orders, levels, nonEmpty := 0, 0, 0
	for i, b := range books {
		if i > 0 && b.Locate <= books[i-1].Locate {
			t.Fatalf("locate %d after %d", b.Locate, books[i-1].Locate)
		}
		if b.Symbol != symbols[b.Locate] || b.Symbol == "" {
			t.Fatalf("locate %d symbol %q, directory %q", b.Locate, b.Symbol, symbols[b.Locate])
		}
		for k, side := range [][][3]uint64{b.Bids, b.Asks} {
			for j, lv := range side {
				if lv[1] == 0 || lv[2] == 0 || lv[0] == 0 {
					t.Fatalf("%s side %d level %v: empty level listed", b.Symbol, k, lv)
				}
				if j > 0 && (k == 0 && lv[0] >= side[j-1][0] || k == 1 && lv[0] <= side[j-1][0]) {
					t.Fatalf("%s side %d: levels out of order at %v", b.Symbol, k, lv)
				}
				want := ref[b.Locate][k][uint32(lv[0])]
				if want != [2]uint64{lv[1], lv[2]} {
					t.Fatalf("%s side %d price %d: %v, reference %v", b.Symbol, k, lv[0], lv[1:], want)
				}
				orders += int(lv[2])
				levels++
			}
			if len(side) != len(ref[b.Locate][k]) {
				t.Fatalf("%s side %d: %d levels, reference %d", b.Symbol, k, len(side), len(ref[b.Locate][k]))
			}
		}
		if len(b.Bids) > 0 && len(b.Asks) > 0 {
			nonEmpty++
			if b.Bids[0][0] >= b.Asks[0][0] {
				t.Fatalf("%s: crossed book, bid %d ask %d", b.Symbol, b.Bids[0][0], b.Asks[0][0])
			}
		}
	}
	var viaJSON bytes.Buffer
	if err := writeBooks(&viaJSON, s.Books); err != nil || !bytes.Equal(viaJSON.Bytes(), o.books.Bytes()) {
		t.Fatalf("Summary.Books differ from the books file (%v)", err)
	}
	if orders != s.LiveOrders || levels != s.BookLevels || orders == 0 || nonEmpty < cfg.Instruments/4 {
		t.Fatalf("%d orders on %d levels (summary %d on %d), %d two-sided books", orders, levels, s.LiveOrders, s.BookLevels, nonEmpty)
	}
}

// frame is one capture record.
type frame struct {
	ts    int64
	iface int
	data  []byte
}

// readCapture reads a classic pcap or a pcapng file (minimal readers: the
// capture package has the thorough ones).
func readCapture(t *testing.T, b []byte) (capture.LinkType, []frame) {
	t.Helper()
	if binary.LittleEndian.Uint32(b) == 0x0A0D0D0A {
		return readNG(t, b)
	}
	var bo binary.ByteOrder = binary.LittleEndian
	nano := false
	switch binary.LittleEndian.Uint32(b) {
	case 0xA1B2C3D4:
	case 0xA1B23C4D:
		nano = true
	case 0xD4C3B2A1:
		bo = binary.BigEndian
	case 0x4D3CB2A1:
		bo, nano = binary.BigEndian, true
	default:
		t.Fatalf("magic %x", b[:4])
	}
	link := capture.LinkType(bo.Uint32(b[20:]) & 0xFFFF)
	var out []frame
	for off := 24; off < len(b); {
		sec, frac, capl := int64(bo.Uint32(b[off:])), int64(bo.Uint32(b[off+4:])), int(bo.Uint32(b[off+8:]))
		if !nano {
			frac *= 1000
		}
		out = append(out, frame{ts: sec*1e9 + frac, data: b[off+16 : off+16+capl]})
		off += 16 + capl
	}
	return link, out
}

func readNG(t *testing.T, b []byte) (capture.LinkType, []frame) {
	var bo binary.ByteOrder
	var link capture.LinkType
	ifaces := 0
	var out []frame
	for off := 0; off < len(b); {
		if binary.LittleEndian.Uint32(b[off:]) == 0x0A0D0D0A {
			if binary.LittleEndian.Uint32(b[off+8:]) == 0x1A2B3C4D {
				bo = binary.LittleEndian
			} else {
				bo = binary.BigEndian
			}
			ifaces = 0
		}
		typ, n := bo.Uint32(b[off:]), int(bo.Uint32(b[off+4:]))
		body := b[off+8 : off+n-4]
		switch typ {
		case 1:
			link = capture.LinkType(bo.Uint16(body))
			ifaces++
		case 6:
			i := int(bo.Uint32(body))
			if i >= ifaces {
				t.Fatalf("packet for undeclared interface %d", i)
			}
			units := int64(bo.Uint32(body[4:]))<<32 | int64(bo.Uint32(body[8:]))
			capl := int(bo.Uint32(body[12:]))
			out = append(out, frame{ts: units, iface: i, data: body[20 : 20+capl]}) // ns resolution
		}
		off += n
	}
	return link, out
}

// udp decodes a frame with gopacket; ok is false for anything but a whole
// UDP datagram.
func udp(link capture.LinkType, data []byte) (dst netip.AddrPort, payload []byte, ok bool) {
	var first gopacket.Decoder = layers.LinkType(link)
	if link == capture.LinkIPv4 {
		first = layers.LayerTypeIPv4
	}
	p := gopacket.NewPacket(data, first, gopacket.NoCopy)
	u, isUDP := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
	if !isUDP {
		return dst, nil, false
	}
	_, d := p.NetworkLayer().NetworkFlow().Endpoints()
	a, _ := netip.AddrFromSlice(d.Raw())
	return netip.AddrPortFrom(a, uint16(u.DstPort)), u.Payload, true
}

// lineCapture is what the capture holds for one line.
type lineCapture struct {
	seqs       map[uint64][]byte // message by sequence (first copy)
	records    int
	heartbeats int
	eos        int
	lastTs     int64
	maxNext    uint64
}

// splitLines decodes every feed packet of a capture by destination group,
// checking the MoldUDP64 framing, that timestamps never go backwards in the
// file, and that copies of a sequence carry the same message.
func splitLines(t *testing.T, cfg Config, b []byte) ([2]*lineCapture, int) {
	t.Helper()
	link, frames := readCapture(t, b)
	var lines [2]*lineCapture
	for i := range lines {
		lines[i] = &lineCapture{seqs: map[uint64][]byte{}}
	}
	other := 0
	var last int64
	session := cfg.session()
	for _, f := range frames {
		if f.ts < last {
			t.Fatalf("record at %d before the previous one at %d", f.ts, last)
		}
		last = f.ts
		dst, payload, ok := udp(link, f.data)
		li := -1
		for i, l := range cfg.Lines {
			if ok && dst == l.Group {
				li = i
			}
		}
		if li < 0 {
			other++
			continue
		}
		lc := lines[li]
		lc.records++
		lc.lastTs = f.ts
		p, err := moldudp64.Parse(payload)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(p.Session(), session[:]) {
			t.Fatalf("session %q", p.Session())
		}
		if len(payload) > cfg.MaxPayload {
			t.Fatalf("packet of %d bytes, max %d", len(payload), cfg.MaxPayload)
		}
		switch {
		case p.IsHeartbeat():
			lc.heartbeats++
		case p.IsEndOfSession():
			lc.eos++
		}
		lc.maxNext = max(lc.maxNext, p.NextSeq())
		bl := p.Blocks()
		seq := p.Seq()
		for {
			m, ok := bl.Next()
			if !ok {
				break
			}
			if prev, dup := lc.seqs[seq]; dup && !bytes.Equal(prev, m) {
				t.Fatalf("sequence %d: two different messages", seq)
			}
			lc.seqs[seq] = m
			seq++
		}
		if err := bl.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return lines, other
}

func TestCaptureLines(t *testing.T) {
	cfg := small(5)
	cfg.Lines[0] = Line{Loss: 0.05, Burst: 3, Dup: 0.02, Reorder: 0.02}
	cfg.Lines[1] = Line{Loss: 0.05, Dup: 0.02, Reorder: 0.02, Jitter: -1}
	s, o := run(t, cfg, false)
	msgs := readITCH(t, o.itch.Bytes())
	lines, other := splitLines(t, mustDefaults(t, cfg), o.capA.Bytes())
	if other != 0 {
		t.Fatalf("%d foreign records without noise", other)
	}
	for seq := uint64(1); seq <= uint64(len(msgs)); seq++ {
		a, inA := lines[0].seqs[seq]
		b, inB := lines[1].seqs[seq]
		if !inA && !inB {
			t.Fatalf("sequence %d on neither line", seq)
		}
		if inA && !bytes.Equal(a, msgs[seq-1]) || inB && !bytes.Equal(b, msgs[seq-1]) {
			t.Fatalf("sequence %d differs from the ITCH file", seq)
		}
	}
	for i, l := range lines {
		st := s.Lines[i]
		if l.records != int(st.Records) || st.Lost == 0 || st.Duplicated == 0 || st.Reordered == 0 {
			t.Fatalf("line %c: %d records, stats %+v", 'A'+i, l.records, st)
		}
		if l.maxNext != uint64(len(msgs))+1 || l.eos == 0 || l.heartbeats == 0 {
			t.Fatalf("line %c: next %d, %d end-of-session, %d heartbeats", 'A'+i, l.maxNext, l.eos, l.heartbeats)
		}
		if len(l.seqs) == len(msgs) {
			t.Fatalf("line %c lost nothing", 'A'+i)
		}
	}
	if len(s.DoubleLost) != 0 {
		t.Fatalf("double loss reported without AllowDoubleLoss: %v", s.DoubleLost)
	}
	// Capture times: midnight of the trading day (EST) plus the ITCH time
	// plus the line's delay.
	full := mustDefaults(t, cfg)
	midnight := full.midnight()
	first := itch.Message(msgs[0]).Timestamp()
	_, frames := readCapture(t, o.capA.Bytes())
	var firstData int64
	for _, f := range frames {
		if _, p, ok := udp(capture.LinkEthernet, f.data); ok && binary.BigEndian.Uint16(p[18:]) == 1 && binary.BigEndian.Uint64(p[10:]) == 1 {
			firstData = f.ts
			break
		}
	}
	if d := firstData - midnight - int64(first); d < 18_000 || d > 40_000 {
		t.Fatalf("first message captured %d ns after its ITCH time", d)
	}
}

func mustDefaults(t *testing.T, cfg Config) Config {
	c, err := cfg.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDoubleLoss(t *testing.T) {
	cfg := small(9)
	cfg.Lines[0].Loss, cfg.Lines[1].Loss = 0.1, 0.1
	cfg.Lines[0].Burst = 2
	cfg.AllowDoubleLoss = true
	s, o := run(t, cfg, false)
	lines, _ := splitLines(t, mustDefaults(t, cfg), o.capA.Bytes())
	var missing []Range
	lost := int64(0)
	for seq := uint64(1); seq <= uint64(cfg.Messages); seq++ {
		_, inA := lines[0].seqs[seq]
		_, inB := lines[1].seqs[seq]
		if inA || inB {
			continue
		}
		lost++
		if n := len(missing); n > 0 && missing[n-1].Last+1 == seq {
			missing[n-1].Last = seq
		} else {
			missing = append(missing, Range{seq, seq})
		}
	}
	if len(missing) == 0 {
		t.Fatal("no double loss at 10% on each line")
	}
	if !slices.Equal(missing, s.DoubleLost) || lost != s.LostMessages {
		t.Fatalf("missing from the capture %v (%d), reported %v (%d)", missing, lost, s.DoubleLost, s.LostMessages)
	}
	if !strings.Contains(s.String(), "lost on both lines") {
		t.Fatalf("summary does not report the loss: %s", s.String())
	}
}

func TestSplitLines(t *testing.T) {
	for _, file := range []capture.FileFormat{capture.Pcap, capture.PcapNG} {
		cfg := small(13)
		cfg.Form = capture.Form{File: file, Link: capture.LinkSLL2}
		cfg.IPv6 = true
		cfg.Lines[0].Loss, cfg.Lines[1].Loss = 0.03, 0.03
		_, o := run(t, cfg, true)
		full := mustDefaults(t, cfg)
		a, otherA := splitLines(t, full, o.capA.Bytes())
		b, otherB := splitLines(t, full, o.capB.Bytes())
		if otherA+otherB != 0 || a[1].records != 0 || b[0].records != 0 || a[0].records == 0 || b[1].records == 0 {
			t.Fatalf("%v: line A file has %d/%d records, line B file %d/%d", file, a[0].records, a[1].records, b[0].records, b[1].records)
		}
		for seq := uint64(1); seq <= uint64(cfg.Messages); seq++ {
			if _, ok := a[0].seqs[seq]; !ok {
				if _, ok := b[1].seqs[seq]; !ok {
					t.Fatalf("%v: sequence %d in neither file", file, seq)
				}
			}
		}
	}
}

func TestPcapNGInterfaces(t *testing.T) {
	cfg := small(17)
	cfg.Form = capture.Form{File: capture.PcapNG, Link: capture.LinkEthernet, VLAN: capture.Dot1Q}
	_, o := run(t, cfg, false)
	_, frames := readCapture(t, o.capA.Bytes())
	full := mustDefaults(t, cfg)
	for _, f := range frames {
		dst, _, ok := udp(capture.LinkEthernet, f.data)
		if !ok || dst != full.Lines[f.iface].Group {
			t.Fatalf("interface %d carries a datagram to %v", f.iface, dst)
		}
	}
}

func TestNoise(t *testing.T) {
	cfg := small(19)
	cfg.Noise = 0.05
	s, o := run(t, cfg, false)
	lines, other := splitLines(t, mustDefaults(t, cfg), o.capA.Bytes())
	noise := s.Lines[0].Noise + s.Lines[1].Noise
	if noise == 0 || other < int(noise) || other > 2*int(noise) {
		t.Fatalf("%d foreign records for %d noise events", other, noise)
	}
	for seq := uint64(1); seq <= uint64(cfg.Messages); seq++ {
		if _, ok := lines[0].seqs[seq]; !ok {
			t.Fatalf("sequence %d missing from lossless line A", seq)
		}
	}
}

func TestITCHGzip(t *testing.T) {
	cfg := small(23)
	cfg.Form = capture.Form{}
	var plain, gz bytes.Buffer
	if _, err := Generate(cfg, Outputs{ITCH: &plain}); err != nil {
		t.Fatal(err)
	}
	cfg.ITCHGzip = true
	if _, err := Generate(cfg, Outputs{ITCH: &gz}); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&gz)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, plain.Bytes()) {
		t.Fatal("gzip output differs from the plain file")
	}
}

func TestPacketSize(t *testing.T) {
	cfg := small(29)
	cfg.MaxPayload = 200
	cfg.BatchWindow = 1e9 // batch aggressively: packets fill up
	s, o := run(t, cfg, false)
	lines, _ := splitLines(t, mustDefaults(t, cfg), o.capA.Bytes())
	if s.Packets >= int64(cfg.Messages)/2 || len(lines[0].seqs) != cfg.Messages {
		t.Fatalf("%d packets for %d messages", s.Packets, cfg.Messages)
	}
}

func TestCommand(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	capPath := filepath.Join(dir, "day.pcapng")
	args := []string{"-messages", "20000", "-instruments", "30", "-seed", "4", "-format", "pcapng", "-link", "vlan",
		"-split-lines", "-loss-a", "0.01", "-loss-b", "0.01", "-noise", "-noise-rate", "0.01", "-junk", "-heartbeat", "30s",
		"-o", capPath, "-books", filepath.Join(dir, "books.jsonl"), "-itch", filepath.Join(dir, "day.itch.gz")}
	if code := Command(args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "tickwire gen: 20000 messages (23 types)") || strings.Count(stdout.String(), "\n") != 1 {
		t.Fatalf("summary %q", stdout.String())
	}
	for _, name := range []string{"day-A.pcapng", "day-B.pcapng", "books.jsonl", "day.itch.gz"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Size() == 0 {
			t.Fatalf("%s: %v", name, err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "day.itch.gz"))
	if len(b) < 2 || b[0] != 0x1F || b[1] != 0x8B {
		t.Fatal("-itch .gz is not gzip")
	}
	stdout.Reset()
	raw := filepath.Join(dir, "day.itch")
	if code := Command([]string{"-messages", "5000", "-instruments", "10", "-format", "itch", "-o", raw}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	b, _ = os.ReadFile(raw)
	if got := len(readITCH(t, b)); got != 5000 {
		t.Fatalf("%d messages in the raw file", got)
	}
	for _, bad := range [][]string{
		{"-format", "nope", "-o", filepath.Join(dir, "x")},
		{"-link", "token-ring", "-o", filepath.Join(dir, "x")},
		{"-nosuchflag"},
		{},
		{"-date", "yesterday", "-books", filepath.Join(dir, "x")},
	} {
		stderr.Reset()
		if code := Command(bad, &stdout, &stderr); code != 2 || stderr.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q", bad, code, stderr.String())
		}
	}
	if code := Command([]string{"-messages", "10", "-books", filepath.Join(dir, "x")}, &stdout, &stderr); code != 1 {
		t.Errorf("too few messages: exit %d", code)
	}
}

func BenchmarkGenerate(b *testing.B) {
	for _, bc := range []struct {
		name string
		out  func() Outputs
	}{
		{"books-only", func() Outputs { return Outputs{Books: io.Discard} }},
		{"pcap-AB", func() Outputs { return Outputs{Capture: io.Discard} }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := Config{Messages: 300_000, Instruments: 500, Form: capture.Form{File: capture.Pcap, Link: capture.LinkEthernet}}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Generate(cfg, bc.out()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cfg.Messages)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
