package pipeline

import (
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/tickwire/tickwire/book"
	"github.com/tickwire/tickwire/internal/affinity"
	"github.com/tickwire/tickwire/internal/latency"
	"github.com/tickwire/tickwire/replay"
)

// Group replays one input with several pipelines in parallel, one per
// shard. Each shard reads and arbitrates the whole input itself and applies
// only the instruments it owns (stock locate modulo the number of shards) to
// its own book, on its own goroutine locked to its own OS thread and, when
// the machine has the CPUs, pinned to CPU (shard mod NumCPU). Nothing is
// shared between shards while they run: no locks, no queues, no cache lines
// bouncing between cores, and the result is the same for any number of
// shards, since every shard sees the same input in the same order.
//
// Reading the input once per shard costs a few nanoseconds per message per
// shard (framing, arbitration, the type and locate check); the book work it
// divides costs several times that.
//
// A Group is not safe for concurrent use; its pipelines are read only after
// Run returns.
type Group struct {
	P      []*Pipeline
	Format replay.Format
}

// NewGroup returns a group of shards pipelines configured by cfg (its Shard
// and Shards fields are set per pipeline).
func NewGroup(cfg Config, shards int) (*Group, error) {
	if shards < 1 {
		shards = 1
	}
	g := &Group{}
	for i := 0; i < shards; i++ {
		c := cfg
		c.Shard, c.Shards = i, shards
		p, err := New(c)
		if err != nil {
			return nil, err
		}
		g.P = append(g.P, p)
	}
	return g, nil
}

// Run replays the captures at paths on every shard and waits for all of
// them. progress, if not nil, is called from shard 0. It returns the first
// shard's error (shards see the same input, so they fail alike).
func (g *Group) Run(paths []string, pin bool, progress func(records uint64)) error {
	errs := make([]error, len(g.P))
	formats := make([]replay.Format, len(g.P))
	var wg sync.WaitGroup
	for i, p := range g.P {
		var prog func(uint64)
		if i == 0 {
			prog = progress
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if pin && (len(g.P) > 1 || p.Books().Shards() > 1) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				// Failure (a restricted cpuset) leaves the thread
				// unpinned: pinning is an optimisation.
				_ = affinity.Place([]int{i % runtime.NumCPU()}, 0)
			}
			formats[i], errs[i] = p.ReplayFiles(paths, prog)
		}()
	}
	wg.Wait()
	for _, p := range g.P {
		p.Close() // sharded books: their writers are done, the books readable
	}
	g.Format = formats[0]
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// RecordLatency makes the shards record the latency stages
// (LatencyStageNames), each its own: the wall-time ones on every shard, the
// capture-time ones, with ITCH timestamps in loc, on shard 0 alone (every
// shard reads the same input). Call it before Run.
func (g *Group) RecordLatency(loc *time.Location) {
	for i, p := range g.P {
		p.RecordLatency(loc, i == 0)
	}
}

// Latency returns the stages recorded since RecordLatency, the shards'
// histograms merged (a packet's wall-time stages are counted once per
// shard), or nil without RecordLatency. Call it once Run has returned: it
// publishes the shards' histograms, which their goroutines no longer touch.
func (g *Group) Latency() *LatencyReport {
	if g.P[0].lat == nil {
		return nil
	}
	rep := &LatencyReport{}
	sum := latency.NewEmpty()
	for i, name := range LatencyStageNames {
		sum.Reset()
		for _, p := range g.P {
			if h := p.lat.stages[i]; h != nil {
				h.Publish()
				h.MergeInto(sum)
			}
		}
		rep.Stages = append(rep.Stages, LatencyStage{Name: name, Quantiles: latency.QuantilesOf(sum)})
	}
	if c := g.P[0].lat.cap; c != nil {
		ex := &rep.Stages[StageExchangeToCapture]
		rep.InRange, rep.Early, rep.Late, rep.Day = uint64(ex.Count), c.early, c.late, c.day
		if c.early+c.late > rep.InRange {
			ex.Quantiles = latency.Quantiles{}
		}
		rep.Unfilled = c.unfilled + uint64(len(c.holes))
	}
	return rep
}

// owner returns the pipeline that owns stock locate l.
func (g *Group) owner(l uint16) *Pipeline { return g.P[int(l)%len(g.P)] }

// Book returns the book holding stock locate l.
func (g *Group) Book(l uint16) *book.Book { return g.owner(l).BookOf(l) }

// Locates returns the instruments of every shard's book, ascending.
func (g *Group) Locates() []uint16 {
	var ls []uint16
	for _, p := range g.P {
		ls = p.Locates(ls)
	}
	slices.Sort(ls)
	return ls
}

// Lookup finds an instrument by symbol.
func (g *Group) Lookup(symbol string) (uint16, bool) {
	for _, l := range g.Locates() {
		if string(g.Book(l).Symbol(l)) == symbol {
			return l, true
		}
	}
	return 0, false
}

// LiveOrders returns the live orders of all shards.
func (g *Group) LiveOrders() int {
	n := 0
	for _, p := range g.P {
		n += p.LiveOrders()
	}
	return n
}

// Anomalies returns the anomalies of all shards, records in sequence order.
func (g *Group) Anomalies() book.Anomalies {
	all := make([]book.Anomalies, len(g.P))
	for i, p := range g.P {
		all[i] = p.Anomalies()
	}
	return book.MergeAnomalies(all...)
}

// Stats returns the counters of all shards: message counters are summed
// (each message is counted by the shard that owns it), feed and capture
// counters are shard 0's (every shard reads the same input).
func (g *Group) Stats() *Stats {
	if len(g.P) == 1 {
		return &g.P[0].st
	}
	st := g.P[0].st
	st.MsgErrors = slices.Clone(st.MsgErrors)
	for _, p := range g.P[1:] {
		st.Messages += p.st.Messages
		for t, c := range p.st.ByType {
			st.ByType[t] += c
		}
		st.UnknownTypes += p.st.UnknownTypes
		st.Malformed += p.st.Malformed
		st.MsgErrors = append(st.MsgErrors, p.st.MsgErrors...)
	}
	slices.SortFunc(st.MsgErrors, func(x, y MsgError) int {
		switch {
		case x.Seq < y.Seq:
			return -1
		case x.Seq > y.Seq:
			return 1
		}
		return 0
	})
	if len(st.MsgErrors) > maxRecorded {
		st.MsgErrors = st.MsgErrors[:maxRecorded]
	}
	return &st
}

// MessagesFor returns how many messages carried stock locate l.
func (g *Group) MessagesFor(l uint16) uint64 { return g.owner(l).byLocate[l] }
