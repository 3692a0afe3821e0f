// Package report is the machine-readable output of tickwire's benchmark
// tools, as they write it with -json FILE and as tools/benchtable reads it:
// Replay (tools/replaybench), Live (tools/loadtest) and Fanout
// (tools/fanoutbench). The types are the files' schema; a tool fills one
// and calls Write, benchtable calls Read.
//
// Durations and latencies are in the unit their field names (Seconds, Ns);
// rates are per second. None of the types is safe for concurrent use.
package report

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/tickwire/tickwire/internal/admin"
)

// Replay is what replaybench measured: whole-process replays of one
// generated session against floor loops, and the Go benchmarks' headline
// figures it printed from -gobench.
type Replay struct {
	Messages    int     `json:"messages"`
	Instruments int     `json:"instruments"`
	Seed        uint64  `json:"seed"`           // the generator's -seed
	Live        int     `json:"live,omitempty"` // the generator's -live: the session's peak of live orders
	RawBytes    int64   `json:"raw_bytes"`
	PcapBytes   int64   `json:"pcap_bytes"`
	Runs        int     `json:"runs"` // runs of each case; the medians are reported
	GOMAXPROCS  int     `json:"gomaxprocs"`
	Floor       string  `json:"floor"` // what the floors are
	LoadBefore  float64 `json:"load_before"`
	LoadAfter   float64 `json:"load_after"`

	Cases     []ReplayCase `json:"cases"`
	Headlines []Headline   `json:"headlines,omitempty"`
}

// ReplayCase is one input replayed with a number of shards, beside its
// floor.
type ReplayCase struct {
	Input           string  `json:"input"`  // as printed: "raw ITCH file", "A/B Ethernet pcap"
	Format          string  `json:"format"` // "raw" or "pcap"
	Shards          int     `json:"shards"`
	Floor           string  `json:"floor"` // the floor program: floor (floor.c), floor_pcap (floor_pcap.c)
	FloorSeconds    float64 `json:"floor_seconds"`
	TickwireSeconds float64 `json:"tickwire_seconds"`
	Ratio           float64 `json:"ratio"`  // TickwireSeconds / FloorSeconds
	Target          float64 `json:"target"` // the bound on Ratio
	MessagesPerSec  float64 `json:"messages_per_second"`
	PeakRSSBytes    int64   `json:"peak_rss_bytes"`
}

// Headline is one figure of a go test -bench output with the issue's
// target for it: Bench (a benchmark name without the -GOMAXPROCS suffix,
// or a prefix of its sub-benchmarks) reported Value in Unit. Value is nil
// when the output has no such figure; Target is empty when the issue sets
// none, else "<= 6", ">= 2" or "0" (exactly).
type Headline struct {
	What   string   `json:"what"`
	Bench  string   `json:"bench"`
	Unit   string   `json:"unit"`
	Value  *float64 `json:"value"`
	Target string   `json:"target,omitempty"`
}

// Live is what loadtest measured: the live handler against the simulator
// on loopback multicast, run by run.
type Live struct {
	Messages    int     `json:"messages"` // per run
	Subscribers int     `json:"subscribers"`
	Depth       string  `json:"depth,omitempty"` // the subscribers'
	RecvBuffer  string  `json:"recv_buffer"`
	LoadBefore  float64 `json:"load_before"`
	LoadAfter   float64 `json:"load_after"`

	Runs     []LiveRun  `json:"runs"`
	LossFree []LossFree `json:"loss_free"`
}

// LiveRun is one run at one rate.
type LiveRun struct {
	Payload        int     `json:"payload"` // MoldUDP64 packet bound, bytes
	Poll           string  `json:"poll"`
	Rate           float64 `json:"rate"` // asked of the simulator, messages per second; 0: as fast as it can
	Sent           float64 `json:"sent"` // what it reached, messages per second
	Drops          uint64  `json:"drops"`
	Gaps           uint64  `json:"gaps"`
	Subscribers    string  `json:"subscribers,omitempty"` // their account
	SubscribersBad bool    `json:"subscribers_bad,omitempty"`
	LossFree       bool    `json:"loss_free"`
	// Stages are the handler's per-stage latencies at its exit, as its
	// admin /stats serves them (the summary's stage table, read back from
	// microseconds to one decimal).
	Stages []admin.Stage `json:"stages"`
}

// LossFree is the highest rate without loss of one packet size and poll
// mode; Rate 0 is none.
type LossFree struct {
	Payload int     `json:"payload"`
	Poll    string  `json:"poll"`
	Rate    float64 `json:"rate"` // messages per second reached
}

// Fanout is what fanoutbench measured: tickwire's subscriber fan-out beside
// an embedded NATS server, and the targets for it.
type Fanout struct {
	Subscribers    int     `json:"subscribers"`
	Instruments    int     `json:"instruments"`
	Rate           int     `json:"rate"` // the paced runs', messages per second
	Idle           int     `json:"idle"` // idle connections
	Loops          int     `json:"loops"`
	GOMAXPROCS     int     `json:"gomaxprocs"`
	ElapsedSeconds float64 `json:"elapsed_seconds"`
	LoadBefore     float64 `json:"load_before"`
	LoadAfter      float64 `json:"load_after"`

	NATS     FanoutSystem `json:"nats"`
	Tickwire FanoutSystem `json:"tickwire"`
	Checks   []Check      `json:"checks"`
	// JetStream is the same feed through NATS JetStream (issue 12), on
	// one server and on a cluster.
	JetStream []FanoutJS `json:"jetstream,omitempty"`
}

// FanoutJS is one JetStream run: transport/natsjs publishing into a stream
// of Servers replicas, read by Subscribers client.DialNATS subscribers.
type FanoutJS struct {
	Servers   int     `json:"servers"`
	Delivered float64 `json:"delivered"` // updates per second, all subscribers
	Published float64 `json:"published"` // updates per second acknowledged by the stream, subscribers reading
	Alone     float64 `json:"alone"`     // the same, no subscriber
	Messages  float64 `json:"messages"`  // NATS messages per second into the stream
	Rate      int     `json:"rate"`      // the paced run's updates per second
	Lost      string  `json:"lost"`
	// From the book's update, at the paced rate: routed by the server,
	// stored and acknowledged, decoded by a subscriber.
	ToServer             Quantiles `json:"to_server"`
	ToAck                Quantiles `json:"to_ack"`
	ToClient             Quantiles `json:"to_client"`
	UpdatesPerMessage    float64   `json:"updates_per_message"`
	StreamBytesPerUpdate float64   `json:"stream_bytes_per_update"`
	// JoinedSeconds is from the first subscriber's dial until all had
	// every update published.
	JoinedSeconds float64 `json:"joined_seconds"`
}

// FanoutSystem is one system's figures.
type FanoutSystem struct {
	Delivered float64   `json:"delivered"` // messages per second, all subscribers
	Published float64   `json:"published"` // the publisher's messages per second
	Lost      string    `json:"lost"`
	Decoded   Quantiles `json:"decoded"` // published to decoded by a subscriber, at the paced rate
	Wrote     Quantiles `json:"wrote"`   // book updated to bytes written (tickwire)
	IdleConns int       `json:"idle_conns"`
	IdleGo    float64   `json:"idle_go_bytes"`  // Go heap and stacks per idle connection, after GC
	IdleRSS   float64   `json:"idle_rss_bytes"` // resident set per idle connection, before GC
	IdleErr   string    `json:"idle_err,omitempty"`
	// SlowAfterSeconds is how long after a subscriber stopped reading it
	// was conflated or cut off (SlowAction); < 0: not within the run.
	SlowAfterSeconds float64 `json:"slow_after_seconds"`
	SlowAction       string  `json:"slow_action"`
}

// Quantiles are a latency's percentiles in nanoseconds, of N samples.
type Quantiles struct {
	P50 int64 `json:"p50_ns"`
	P99 int64 `json:"p99_ns"`
	Max int64 `json:"max_ns"`
	N   int64 `json:"n"`
}

// Check is one of the targets and whether a run met it: What
// measured Measured (in Unit; "-" when nothing was measured) against
// Target.
type Check struct {
	What     string `json:"what"`
	Unit     string `json:"unit"`
	Measured string `json:"measured"`
	Target   string `json:"target"`
	Met      bool   `json:"met"`
}

// Write writes v to path as indented JSON.
func Write(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// Read reads the JSON file at path into v.
func Read(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// LoadAvg is the machine's 1-minute load average, from /proc/loadavg (-1
// when it cannot be read).
func LoadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}
