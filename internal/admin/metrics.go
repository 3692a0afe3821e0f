package admin

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tickwire/tickwire/feed/live"
	"github.com/tickwire/tickwire/transport"
)

// collector makes the metrics from the figures at each scrape.
type collector struct {
	src Source
	rd  *reader
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("tickwire_"+name, help, labels, nil)
}

var (
	dPackets     = desc("packets_total", "Datagrams received, by line (A, B, recovery).", "line")
	dDrops       = desc("kernel_drops_total", "Datagrams the kernel dropped for a full socket buffer, by line.", "line")
	dFaults      = desc("faults_total", "Datagrams refused as malformed, foreign or untrusted.")
	dMessages    = desc("messages_total", "ITCH messages applied to the books, each once.")
	dDuplicates  = desc("duplicates_total", "Packets that delivered nothing new (the other line's copies).")
	dGaps        = desc("gaps_total", "Holes in the feed given up: messages lost for good.")
	dGapMsgs     = desc("gap_messages_total", "Messages the holes given up held.")
	dRerequests  = desc("rerequests_total", "Re-request packets sent.")
	dRecovered   = desc("recovered_messages_total", "Messages recovered by re-request.")
	dSnapshots   = desc("snapshots_total", "Books rebuilt from a GLIMPSE snapshot.")
	dAnomalies   = desc("book_anomalies_total", "Messages the book could not apply as they said.")
	dStale       = desc("books_stale", "1 when the books may be wrong (a gap given up, a failed rebuild).")
	dEnded       = desc("session_ended", "1 once the session has ended.")
	dSubscribers = desc("subscribers", "Subscriber connections open.")
	dConflations = desc("conflations_total", "Subscribers conflated (fell behind, resynchronised from snapshots).")
	dDisconnects = desc("client_disconnects_total", "Subscribers cut off, by reason.", "reason")
	dBuffered    = desc("subscriber_buffered_bytes", "Bytes handed to subscribers' sockets that the kernel has not taken yet (a backlog beyond it waits in the ring).")
	dNATSUp      = desc("nats_connected", "1 while connected to NATS with the stream and the bucket in place.")
	dNATSPub     = desc("nats_published_total", "Messages published into the JetStream stream (frames of updates, snapshot parts, frames for every subscriber).")
	dNATSBytes   = desc("nats_published_bytes_total", "Payload bytes of those messages.")
	dNATSDropped = desc("nats_dropped_total", "Frames not published (NATS disconnected or slow: too many awaiting acknowledgement); their instruments are repaired from a snapshot.")
	dNATSFailed  = desc("nats_failed_total", "Publishes JetStream refused or did not acknowledge in time.")
	dNATSRepairs = desc("nats_repairs_total", "Snapshots published into the stream to repair an instrument with a frame lost.")
	dNATSRounds  = desc("nats_snapshot_rounds_total", "Rounds of every instrument's snapshot into the key-value bucket completed.")
	dNATSPuts    = desc("nats_snapshot_puts_total", "Snapshot parts put into the bucket.")
	dNATSResyncs = desc("nats_resyncs_total", "Times the NATS publisher fell a ring behind the books, or the books were rebuilt (it resynchronised from snapshots).")
	dNATSDups    = desc("nats_duplicates_total", "Publishes the stream took as duplicates (a redundant handler's copies).")
	dNATSPending = desc("nats_pending", "Publishes awaiting JetStream's acknowledgement.")
	dNATSBehind  = desc("nats_behind_bytes", "Bytes of the books' ring the NATS publisher had not read at its last pass (it waits for JetStream rather than drop).")
	dNATSHeld    = desc("nats_held_total", "Passes of the NATS publisher that stopped reading the ring to wait for acknowledgements.")
	dStage       = desc("stage_latency_seconds", "Latency per stage: receive (kernel to tickwire), book (read to book updated), receive_to_book, publish (book updated to bytes written to a subscriber), end_to_end (kernel receive to bytes written).", "stage")
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{dPackets, dDrops, dFaults, dMessages, dDuplicates, dGaps, dGapMsgs, dRerequests,
		dRecovered, dSnapshots, dAnomalies, dStale, dEnded, dSubscribers, dConflations, dDisconnects, dBuffered, dStage,
		dNATSUp, dNATSPub, dNATSBytes, dNATSDropped, dNATSFailed, dNATSRepairs, dNATSRounds, dNATSPuts, dNATSResyncs, dNATSDups, dNATSPending, dNATSBehind, dNATSHeld} {
		ch <- d
	}
}

// stageBuckets are the histogram's upper bounds, in seconds: 1 us to 1 s,
// three per decade.
var stageBuckets = func() []float64 {
	var b []float64
	for d := 1e-6; d < 1.5; d *= 10 {
		b = append(b, d, 2*d, 5*d)
	}
	return b
}()

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := c.src.Handler.Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for line, name := range live.LineNames {
		counter(dPackets, st.Packets[line], name)
		counter(dDrops, st.KernelDrops[line], name)
	}
	counter(dFaults, st.Faults)
	counter(dMessages, st.Messages)
	counter(dDuplicates, st.Duplicates)
	counter(dGaps, st.Gaps)
	counter(dGapMsgs, st.GapMessages)
	counter(dRerequests, st.Rerequests)
	counter(dRecovered, st.Recovered)
	counter(dSnapshots, st.Snapshots)
	counter(dAnomalies, st.BookAnomalies)
	gauge(dStale, b2f(st.Stale))
	gauge(dEnded, b2f(st.Ended))
	if s := c.src.Server; s != nil {
		ss := s.Stats()
		gauge(dSubscribers, float64(ss.Clients))
		counter(dConflations, ss.Conflations)
		gauge(dBuffered, float64(ss.Buffered))
		for i, reason := range transport.DisconnectReasons {
			counter(dDisconnects, ss.Disconnects[i], reason)
		}
	}
	if np := c.src.NATS; np != nil {
		ns := np.Stats()
		gauge(dNATSUp, b2f(ns.Connected))
		counter(dNATSPub, ns.Published)
		counter(dNATSBytes, ns.Bytes)
		counter(dNATSDropped, ns.Dropped)
		counter(dNATSFailed, ns.Failed)
		counter(dNATSRepairs, ns.Repairs)
		counter(dNATSRounds, ns.Rounds)
		counter(dNATSPuts, ns.Puts)
		counter(dNATSResyncs, ns.Resyncs)
		counter(dNATSDups, ns.Duplicates)
		gauge(dNATSPending, float64(ns.Pending))
		gauge(dNATSBehind, float64(ns.Behind))
		counter(dNATSHeld, ns.Held)
	}
	c.rd.stages(func(hs []namedHist) { collectStages(ch, hs) })
}

// collectStages sends the stages' histograms.
func collectStages(ch chan<- prometheus.Metric, hs []namedHist) {
	for _, sh := range hs {
		buckets := make(map[float64]uint64, len(stageBuckets))
		var sum float64
		for _, bar := range sh.h.Distribution() {
			if bar.Count == 0 {
				continue
			}
			v := float64(bar.To) / 1e9
			sum += v * float64(bar.Count)
			for _, ub := range stageBuckets {
				if v <= ub {
					buckets[ub] += uint64(bar.Count)
				}
			}
		}
		ch <- prometheus.MustNewConstHistogram(dStage, uint64(sh.h.TotalCount()), sum, buckets, sh.name)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
