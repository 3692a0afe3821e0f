package live

import (
	"sync"
	"time"

	"github.com/tickwire/tickwire/internal/latency"
)

// Lines of Stats' per-line counters.
const (
	LineA        = lineA
	LineB        = lineB
	LineRecovery = lineRecovery // the re-request answers' socket
	NumLines     = numLines
)

// LineNames names the lines, for logs and metrics: "A", "B", "recovery".
var LineNames = [NumLines]string{"A", "B", "recovery"}

// Stats are the handler's counters, as of their last publication: the
// goroutine that applies messages publishes them once a second and when Run
// returns, so that reading them never stops or slows it. Counters count
// from the start of Run.
type Stats struct {
	At    time.Time // when they were published (zero: never)
	State State     // the data's state, as last reported to Hooks.Status

	Packets     [NumLines]uint64 // datagrams received, by line
	KernelDrops [NumLines]uint64 // datagrams the kernel dropped (socket buffer full), by line
	Faults      uint64           // datagrams refused as malformed, foreign or untrusted (see the log)

	Messages    uint64 // ITCH messages applied to the book, each once
	Duplicates  uint64 // packets that delivered nothing new (the other line's copies, mostly)
	Gaps        uint64 // holes given up: messages lost for good
	GapMessages uint64 // messages those holes held

	Rerequests        uint64 // re-request packets sent
	RequestedMessages uint64
	Recovered         uint64 // messages recovered by re-request
	Snapshots         uint64 // books rebuilt from a GLIMPSE snapshot

	BookAnomalies uint64 // messages the book could not apply as they said (unknown reference, ...)
	Stale         bool   // the books may be wrong
	Ended         bool   // the session ended
}

// Stage latencies the handler records, in Stages' order.
const (
	StageReceive = iota // kernel receive -> datagram read by tickwire
	StageBook           // datagram read -> its messages applied to the book (framing, decoding, arbitration, book)
	StageToBook         // kernel receive -> book updated (the two above)
	numStages
)

// StageNames name the stages, for metrics and tables.
var StageNames = [numStages]string{"receive", "book", "receive_to_book"}

// stats is what the handler publishes: Stats and the stages.
type stats struct {
	mu     sync.Mutex
	pub    Stats
	stages [numStages]*latency.Histogram
}

func newStats() *stats {
	s := &stats{}
	for i := range s.stages {
		s.stages[i] = latency.New()
	}
	return s
}

// publish makes st and the stages visible to readers (on the goroutine
// that applies messages).
func (s *stats) publish(st *Stats) {
	for _, h := range s.stages {
		h.Publish()
	}
	s.mu.Lock()
	s.pub = *st
	s.mu.Unlock()
}

// Stats returns the counters as last published. Safe from any goroutine.
func (h *Handler) Stats() Stats {
	h.st.mu.Lock()
	defer h.st.mu.Unlock()
	return h.st.pub
}

// Stage returns the latency histogram of stage i (StageReceive...), for
// readers (Snapshot, MergeInto). Safe from any goroutine.
func (h *Handler) Stage(i int) *latency.Histogram { return h.st.stages[i] }

// BatchReceived returns the kernel receive time (ns since the epoch) of the
// oldest datagram applied since the last Flush, or 0: for a publisher, in
// Hooks.Flush, to measure from the wire to its subscribers.
func (h *Handler) BatchReceived() int64 { return h.batchRecv }
