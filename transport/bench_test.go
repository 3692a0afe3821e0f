package transport

import (
	"testing"

	"github.com/tickwire/tickwire/transport/tw"
)

// updatesPerFrame is the frame size of the benchmarks: a burst of updates
// as one ITCH packet of a busy instrument produces.
const updatesPerFrame = 64

// encodeUpdates encodes a frame of n updates in the mix of a typical ITCH
// session: adds, deletes, executions, cancels, replaces and level changes.
func encodeUpdates(e *Encoder, seq uint64, n int) []byte {
	e.Begin(seq)
	for i := range n {
		s := Stamp{FeedSeq: seq*1000 + uint64(i), Timestamp: 34_200_000_000_000 + uint64(i), Locate: 13}
		ref := uint64(i) + 1
		switch i % 8 {
		case 0, 1, 2:
			e.OrderAdded(s, ref, tw.SideBuy, 1_500_000, 100, nil)
		case 3, 4:
			e.OrderDeleted(s, ref)
		case 5:
			e.OrderExecuted(s, ref, uint64(i), 100, 0, false, true)
		case 6:
			e.OrderReplaced(s, ref, ref+1, tw.SideSell, 1_510_000, 200)
		case 7:
			e.LevelChanged(s, tw.SideBuy, 1_500_000, 1000, 3)
		}
	}
	out, err := e.Finish()
	if err != nil {
		panic(err)
	}
	return out
}

// consume reads every update of f as a client would and returns a digest.
func consume(f *Frame) uint64 {
	var (
		m   Message
		add tw.OrderAddedFields
		del tw.OrderDeletedFields
		ex  tw.OrderExecutedFields
		rp  tw.OrderReplacedFields
		lc  tw.LevelChangedFields
	)
	sum := f.StreamSeq()
	for i := range f.Len() {
		f.Message(i, &m)
		switch m.Type() {
		case tw.BodyOrderAdded:
			add.Init(m.Fields(tw.BodyOrderAdded))
			sum += add.OrderRef() + uint64(add.Price()) + uint64(add.Shares()) + uint64(add.Side())
		case tw.BodyOrderDeleted:
			del.Init(m.Fields(tw.BodyOrderDeleted))
			sum += del.OrderRef()
		case tw.BodyOrderExecuted:
			ex.Init(m.Fields(tw.BodyOrderExecuted))
			sum += ex.OrderRef() + uint64(ex.Shares()) + ex.MatchNumber()
		case tw.BodyOrderReplaced:
			rp.Init(m.Fields(tw.BodyOrderReplaced))
			sum += rp.OldRef() + rp.NewRef() + uint64(rp.Price()) + uint64(rp.Shares())
		case tw.BodyLevelChanged:
			lc.Init(m.Fields(tw.BodyLevelChanged))
			sum += lc.Shares() + uint64(lc.Price()) + uint64(lc.OrderCount())
		}
		s, _ := m.Stamp()
		sum += s.FeedSeq + s.Timestamp + uint64(s.Locate)
	}
	return sum
}

func TestNoAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	e := NewEncoder(0)
	encodeUpdates(e, 1, updatesPerFrame) // grow the buffers once
	if n := testing.AllocsPerRun(100, func() { encodeUpdates(e, 2, updatesPerFrame) }); n != 0 {
		t.Errorf("encoding a frame of %d updates: %v allocations, want 0", updatesPerFrame, n)
	}
	frame := encodeUpdates(e, 3, updatesPerFrame)
	r := NewFrameReader(0)
	half := len(frame) / 2
	if n := testing.AllocsPerRun(100, func() {
		// whole, then split in two so that the scratch path runs too
		f, _, ok, err := r.Next(frame)
		if !ok || err != nil || consume(&f) == 0 {
			t.Fatal(ok, err)
		}
		if _, _, ok, err := r.Next(frame[:half]); ok || err != nil {
			t.Fatal(ok, err)
		}
		f, _, ok, err = r.Next(frame[half:])
		if !ok || err != nil || consume(&f) == 0 {
			t.Fatal(ok, err)
		}
	}); n != 0 {
		t.Errorf("reading and decoding a frame of %d updates: %v allocations, want 0", updatesPerFrame, n)
	}
}

// BenchmarkEncode reports the cost of encoding one update (ns/update) in
// frames of updatesPerFrame.
func BenchmarkEncode(b *testing.B) {
	e := NewEncoder(0)
	frame := encodeUpdates(e, 1, updatesPerFrame)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		encodeUpdates(e, 2, updatesPerFrame)
	}
	reportPerUpdate(b)
}

// BenchmarkDecode reports the cost per update of cutting a frame from the
// stream, validating it and reading every field of its updates.
func BenchmarkDecode(b *testing.B) {
	frame := encodeUpdates(NewEncoder(0), 1, updatesPerFrame)
	r := NewFrameReader(0)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	var sum uint64
	for b.Loop() {
		f, _, _, _ := r.Next(frame)
		sum += consume(&f)
	}
	reportPerUpdate(b)
	if sum == 0 {
		b.Fatal("nothing decoded")
	}
}

// BenchmarkValidate reports the share of Validate in BenchmarkDecode.
func BenchmarkValidate(b *testing.B) {
	frame := encodeUpdates(NewEncoder(0), 1, updatesPerFrame)[PrefixSize:]
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Validate(frame); err != nil {
			b.Fatal(err)
		}
	}
	reportPerUpdate(b)
}

func reportPerUpdate(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*updatesPerFrame), "ns/update")
}
