package live

import (
	"fmt"
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

func (k fault) String() string {
	switch k {
	case faultNotMold:
		return "datagrams that are not MoldUDP64"
	case faultTruncated:
		return "datagrams truncated (longer than feed.datagram_size)"
	case faultForeign:
		return "datagrams not from the re-request server"
	case faultStageFull:
		return "datagrams dropped while a snapshot was fetched (staging buffer full)"
	case fault(feed.Malformed):
		return "malformed MoldUDP64 packets (block lengths do not match the packet)"
	case fault(feed.OtherSession):
		return "MoldUDP64 packets of another session"
	case fault(feed.Implausible):
		return "MoldUDP64 packets with an implausible sequence number (far from the feed's, not corroborated)"
	case fault(feed.Unsolicited):
		return "re-request answers for nothing requested"
	case fault(feed.AfterEnd):
		return "MoldUDP64 packets after the end of the session"
	}
	return feed.Verdict(k).String()
}

// faultLog counts bad input per line and kind, with the latest source
// address and sequence number of each.
type faultLog struct {
	c [numLines][numFaults]faultCount
}

type faultCount struct {
	n, reported uint64
	src         netip.AddrPort
	seq         uint64 // 0: none (too short for a header)
}

func (l *faultLog) note(line int, k fault, src netip.AddrPort, payload []byte) {
	c := &l.c[line][k]
	c.n++
	c.src = src
	c.seq = 0
	if len(payload) >= moldudp64.HeaderLen {
		c.seq = moldudp64.Packet(payload).Seq()
	}
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

// logFaults reports, at most once per call (the loop calls it once a
// second), the bad input that arrived since the last report: what it was,
// how many, on which line, and the latest one's source and sequence
// number; then the kernel's drops per socket. It returns the pipeline's
// counts to compare with next time.
func (m *multicast) logFaults(prev pipelineFaults, period string) pipelineFaults {
	for line := range m.faults.c {
		for k := range m.faults.c[line] {
			c := &m.faults.c[line][k]
			if d := c.n - c.reported; d > 0 {
				c.reported = c.n
				where := fmt.Sprintf("latest from %s", c.src)
				if c.seq != 0 {
					where += fmt.Sprintf(", sequence %d", c.seq)
				}
				fmt.Fprintf(m.stderr, "%s: %d %s %s; %s\n", lineNames[line], d, fault(k), period, where)
			}
		}
	}
	st := m.p.Stats()
	an := m.p.Anomalies()
	now := pipelineFaults{st.Malformed, st.UnknownTypes, an.Total()}
	report := func(what string, d uint64, where string) {
		if d > 0 {
			fmt.Fprintf(m.stderr, "%d %s %s%s\n", d, what, period, where)
		}
	}
	if d := now.malformedMsgs - prev.malformedMsgs; d > 0 {
		where := ""
		if n := len(st.MsgErrors); n > 0 {
			where = "; latest: " + st.MsgErrors[n-1].String()
		}
		report("malformed ITCH messages", d, where)
	}
	report("ITCH messages of unknown types (skipped)", now.unknownTypes-prev.unknownTypes, "")
	if d := now.anomalies - prev.anomalies; d > 0 {
		where := ""
		if n := len(an.Records); n > 0 {
			r := an.Records[n-1]
			where = fmt.Sprintf("; latest recorded: sequence %d, %s, order %d, locate %d", r.Seq, r.Kind, r.Ref, r.Locate)
		}
		report("book anomalies", d, where)
	}
	for line, s := range m.socks {
		if d := s.Drops(); d > m.drops[line] {
			fmt.Fprintf(m.stderr, "alarm: %s: the kernel dropped %d datagrams (socket buffer full; raise feed.recv_buffer and net.core.rmem_max)\n", lineNames[line], d-m.drops[line])
			m.drops[line] = d
		}
	}
	return now
}
