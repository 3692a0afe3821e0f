package live

import (
	"fmt"
	"io"
	"log/slog"
	"net/netip"

	"github.com/tickwire/tickwire/codec/moldudp64"
	"github.com/tickwire/tickwire/feed"
)

// fault is a kind of bad input counted per line: a feed.Verdict that is
// Bad, or one of the kinds the receive loop finds itself.
type fault uint8

const (
	faultNotMold   fault = iota + fault(feed.AfterEnd) + 1 // shorter than a MoldUDP64 header
	faultTruncated                                         // longer than feed.datagram_size: cut by the kernel (MSG_TRUNC)
	faultForeign                                           // on the recovery socket, not from the re-request server
	faultStageFull                                         // dropped while a snapshot was fetched: the staging buffer was full
	numFaults
)

// faultNames are each kind's words in a report's line and its code (the
// field fault of a structured report).
var faultNames = [numFaults]struct{ text, code string }{
	faultNotMold:             {"datagrams that are not MoldUDP64", "not_moldudp64"},
	faultTruncated:           {"datagrams truncated (longer than feed.datagram_size)", "truncated"},
	faultForeign:             {"datagrams not from the re-request server", "foreign"},
	faultStageFull:           {"datagrams dropped while a snapshot was fetched (staging buffer full)", "stage_full"},
	fault(feed.Malformed):    {"malformed MoldUDP64 packets (block lengths do not match the packet)", "malformed"},
	fault(feed.OtherSession): {"MoldUDP64 packets of another session", "other_session"},
	fault(feed.Implausible):  {"MoldUDP64 packets with an implausible sequence number (far from the feed's, not corroborated)", "implausible_seq"},
	fault(feed.Unsolicited):  {"re-request answers for nothing requested", "unsolicited"},
	fault(feed.AfterEnd):     {"MoldUDP64 packets after the end of the session", "after_end"},
}

func (k fault) String() string {
	if k < numFaults && faultNames[k].text != "" {
		return faultNames[k].text
	}
	return feed.Verdict(k).String()
}

// code names the kind in a structured report (the field fault).
func (k fault) code() string {
	if k < numFaults && faultNames[k].code != "" {
		return faultNames[k].code
	}
	return fmt.Sprintf("verdict_%d", uint8(k))
}

// lineCodes name the lines in a structured report (the field line).
var lineCodes = [numLines]string{"A", "B", "recovery"}

// faultLog counts bad input per line and kind, with the latest source
// address and sequence number of each, and the sequence number of the
// first since the last report. It is written per datagram by the receive
// loop: note allocates nothing.
type faultLog struct {
	c [numLines][numFaults]faultCount
}

type faultCount struct {
	n, reported uint64
	src         netip.AddrPort
	seq         uint64 // the latest's; 0: none (too short for a header)
	first       uint64 // the first's since the last report; 0: none
}

func (l *faultLog) note(line int, k fault, src netip.AddrPort, payload []byte) {
	c := &l.c[line][k]
	c.src = src
	c.seq = 0
	if len(payload) >= moldudp64.HeaderLen {
		c.seq = moldudp64.Packet(payload).Seq()
	}
	if c.n == c.reported {
		c.first = c.seq
	}
	c.n++
}

// sum returns the count of every kind over every line.
func (l *faultLog) sum() uint64 {
	var n uint64
	for k := range fault(numFaults) {
		n += l.total(k)
	}
	return n
}

// total returns the count of kind k over every line.
func (l *faultLog) total(k fault) uint64 {
	var n uint64
	for line := range l.c {
		n += l.c[line][k].n
	}
	return n
}

// pipelineFaults are the pipeline's counters of bad messages, compared
// once a second.
type pipelineFaults struct {
	malformedMsgs, unknownTypes, anomalies uint64
}

// attrWriter is a log writer that takes a line's fields too:
// internal/logging's Writer (logging.AttrWriter), which makes them fields of
// a text or JSON record.
type attrWriter interface {
	WriteAttrs(msg string, attrs ...slog.Attr)
}

// logf writes one report: msg as a line, and attrs as its fields when w
// takes them. It allocates; it is called once a second, never per packet.
func logf(w io.Writer, msg string, attrs ...slog.Attr) {
	if aw, ok := w.(attrWriter); ok {
		aw.WriteAttrs(msg, attrs...)
		return
	}
	io.WriteString(w, msg+"\n")
}

// report writes what arrived on each line since the last report, one
// report per line and kind: what it was, how many, on which line, the
// latest one's source and sequence number (fields line, fault, count,
// source, seq, and first_seq, the first one's since the last report).
func (l *faultLog) report(w io.Writer, period string) {
	for line := range l.c {
		for k := range l.c[line] {
			c := &l.c[line][k]
			d := c.n - c.reported
			if d == 0 {
				continue
			}
			c.reported = c.n
			attrs := []slog.Attr{slog.String("line", lineCodes[line]), slog.String("fault", fault(k).code()),
				slog.Uint64("count", d), slog.String("source", c.src.String())}
			where := fmt.Sprintf("latest from %s", c.src)
			if c.seq != 0 {
				where += fmt.Sprintf(", sequence %d", c.seq)
				attrs = append(attrs, slog.Uint64("seq", c.seq))
			}
			if c.first != 0 {
				attrs = append(attrs, slog.Uint64("first_seq", c.first))
			}
			logf(w, fmt.Sprintf("%s: %d %s %s; %s", lineNames[line], d, fault(k), period, where), attrs...)
		}
	}
}

// logFaults reports, at most once per call (the loop calls it once a
// second), the bad input that arrived since the last report (faultLog's
// report, then the pipeline's bad messages and the book's anomalies), then
// the kernel's drops per socket. It returns the pipeline's counts to
// compare with next time.
func (m *multicast) logFaults(prev pipelineFaults, period string) pipelineFaults {
	m.faults.report(m.stderr, period)
	st := m.p.Stats()
	an := m.p.Anomalies()
	now := pipelineFaults{st.Malformed, st.UnknownTypes, an.Total()}
	report := func(what, code string, d uint64, where string, attrs ...slog.Attr) {
		if d > 0 {
			attrs = append([]slog.Attr{slog.String("fault", code), slog.Uint64("count", d)}, attrs...)
			logf(m.stderr, fmt.Sprintf("%d %s %s%s", d, what, period, where), attrs...)
		}
	}
	if d := now.malformedMsgs - prev.malformedMsgs; d > 0 {
		where := ""
		var attrs []slog.Attr
		if n := len(st.MsgErrors); n > 0 {
			e := st.MsgErrors[n-1]
			where = "; latest: " + e.String()
			attrs = []slog.Attr{slog.Uint64("seq", e.Seq), slog.String("type", string(e.Type)), slog.Int("len", e.Len)}
			if e.Err != nil {
				attrs = append(attrs, slog.String("sample", e.Err.Error()))
			}
		}
		report("malformed ITCH messages", "malformed_itch", d, where, attrs...)
	}
	report("ITCH messages of unknown types (skipped)", "unknown_itch_type", now.unknownTypes-prev.unknownTypes, "")
	if d := now.anomalies - prev.anomalies; d > 0 {
		where := ""
		var attrs []slog.Attr
		if n := len(an.Records); n > 0 {
			r := an.Records[n-1]
			where = fmt.Sprintf("; latest recorded: sequence %d, %s, order %d, locate %d", r.Seq, r.Kind, r.Ref, r.Locate)
			attrs = []slog.Attr{slog.Uint64("seq", r.Seq), slog.String("kind", r.Kind.String()),
				slog.Uint64("order", r.Ref), slog.Int("locate", int(r.Locate))}
		}
		report("book anomalies", "book_anomaly", d, where, attrs...)
	}
	for line, s := range m.socks {
		if d := s.Drops(); d > m.drops[line] {
			logf(m.stderr, fmt.Sprintf("alarm: %s: the kernel dropped %d datagrams (socket buffer full; raise feed.recv_buffer and net.core.rmem_max)", lineNames[line], d-m.drops[line]),
				slog.String("line", lineCodes[line]), slog.String("fault", "kernel_drop"), slog.Uint64("count", d-m.drops[line]))
			m.drops[line] = d
		}
	}
	return now
}
