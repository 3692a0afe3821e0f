package live

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/tickwire/tickwire/codec/moldudp64"
	"github.com/tickwire/tickwire/internal/logging"
)

// noteSome notes three truncated packets on line A (sequences 7, 8, 9, the
// latest from src) and one runt on line B.
func noteSome(l *faultLog, src netip.AddrPort) {
	sess := moldudp64.MakeSession("TICKWIRE01")
	for seq := uint64(7); seq <= 9; seq++ {
		p := moldudp64.AppendHeader(nil, sess, seq, 0)
		l.note(0, faultTruncated, src, p)
	}
	l.note(1, faultNotMold, src, []byte{1, 2})
}

// TestFaultReportText: to a plain writer, a report is the line it always
// was, once per line and kind, and nothing when nothing came since.
func TestFaultReportText(t *testing.T) {
	src := netip.MustParseAddrPort("10.1.2.3:26477")
	var l faultLog
	noteSome(&l, src)
	var out bytes.Buffer
	l.report(&out, "in the last second")
	want := "line A: 3 datagrams truncated (longer than feed.datagram_size) in the last second; latest from 10.1.2.3:26477, sequence 9\n" +
		"line B: 1 datagrams that are not MoldUDP64 in the last second; latest from 10.1.2.3:26477\n"
	if out.String() != want {
		t.Errorf("report:\n%s\nwant:\n%s", out.String(), want)
	}
	out.Reset()
	l.report(&out, "in the last second")
	if out.Len() != 0 {
		t.Errorf("a second report with nothing new: %q", out.String())
	}
}

// TestFaultReportJSON: through internal/logging's JSON format, a report
// carries its fields (line, fault, count, source, seq, first_seq) beside
// the line as the message; the plain format prints the line alone.
func TestFaultReportJSON(t *testing.T) {
	src := netip.MustParseAddrPort("10.1.2.3:26477")
	var out bytes.Buffer
	lg, err := logging.New(&out, "json", slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	var l faultLog
	noteSome(&l, src)
	l.report(lg.Writer("tickwire run"), "in the last second")
	noteSome(&l, src) // the next report's first_seq is the first since this one
	l.report(lg.Writer("tickwire run"), "in the last second")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d records:\n%s", len(lines), out.String())
	}
	type record struct {
		Msg, Component, Line, Fault, Source string
		Count, Seq                          uint64
		FirstSeq                            *uint64 `json:"first_seq"`
	}
	var a, b record
	if err := json.Unmarshal([]byte(lines[0]), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &b); err != nil {
		t.Fatal(err)
	}
	if a.Line != "A" || a.Fault != "truncated" || a.Count != 3 || a.Source != src.String() || a.Seq != 9 ||
		a.FirstSeq == nil || *a.FirstSeq != 7 || a.Component != "tickwire run" || !strings.HasPrefix(a.Msg, "line A: 3 datagrams truncated") {
		t.Errorf("line A: %s", lines[0])
	}
	if b.Line != "B" || b.Fault != "not_moldudp64" || b.Count != 1 || b.Source != src.String() || b.Seq != 0 || b.FirstSeq != nil {
		t.Errorf("line B (no header: no seq, no first_seq): %s", lines[1])
	}
	if err := json.Unmarshal([]byte(lines[2]), &a); err != nil || a.FirstSeq == nil || *a.FirstSeq != 7 || a.Count != 3 {
		t.Errorf("second report: %s", lines[2])
	}

	out.Reset()
	plain, err := logging.New(&out, "plain", slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	noteSome(&l, src)
	l.report(plain.Writer("tickwire run"), "in the last second")
	if first, _, _ := strings.Cut(out.String(), "\n"); first != "tickwire run: line A: 3 datagrams truncated (longer than feed.datagram_size) in the last second; latest from 10.1.2.3:26477, sequence 9" {
		t.Errorf("plain: %q", first)
	}
}

// TestFaultNoteNoAllocs: noting a fault, which the receive loop does per
// datagram, allocates nothing.
func TestFaultNoteNoAllocs(t *testing.T) {
	src := netip.MustParseAddrPort("10.1.2.3:26477")
	p := moldudp64.AppendHeader(nil, moldudp64.MakeSession("TICKWIRE01"), 7, 0)
	var l faultLog
	if a := testing.AllocsPerRun(1000, func() { l.note(0, faultTruncated, src, p) }); a != 0 {
		t.Errorf("%v allocations per note", a)
	}
}
