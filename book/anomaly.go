package book

import (
	"cmp"
	"slices"
)

// AnomalyKind classifies a fault of the feed met while applying a message.
// On a gap-free feed none occurs; after a gap, a late join or a corrupt
// stream they do, and the book stays internally consistent (see the package
// documentation, Anomalies, for the policy of each kind).
type AnomalyKind uint8

// Anomaly kinds.
const (
	// AnomalyUnknownRef: E, C, X, D or U names a reference that is not live.
	// The message is ignored.
	AnomalyUnknownRef AnomalyKind = iota
	// AnomalyDuplicateRef: A, F or U adds a reference that is already live.
	// The live order is kept and the add dropped (a U still removes its
	// original).
	AnomalyDuplicateRef
	// AnomalyOverExecution: E or C executes more shares than remain. The
	// order is removed.
	AnomalyOverExecution
	// AnomalyOverCancel: X cancels more shares than remain. The order is
	// removed.
	AnomalyOverCancel
	// AnomalyZeroShares: A, F or U with zero shares. The add is dropped (a U
	// still removes its original).
	AnomalyZeroShares
	// AnomalyBadSide: A or F whose Buy/Sell Indicator is neither 'B' nor 'S'.
	// The add is dropped.
	AnomalyBadSide
	// AnomalyCapacity: an add when the slab already holds 2^31-1 orders.
	// The add is dropped.
	AnomalyCapacity

	// NumAnomalyKinds is the number of kinds: the length of Anomalies.Counts.
	NumAnomalyKinds
)

var anomalyNames = [NumAnomalyKinds]string{
	AnomalyUnknownRef:    "unknown-ref",
	AnomalyDuplicateRef:  "duplicate-ref",
	AnomalyOverExecution: "over-execution",
	AnomalyOverCancel:    "over-cancel",
	AnomalyZeroShares:    "zero-shares",
	AnomalyBadSide:       "bad-side",
	AnomalyCapacity:      "capacity",
}

// String returns the kind's name, e.g. "unknown-ref".
func (k AnomalyKind) String() string {
	if k < NumAnomalyKinds {
		return anomalyNames[k]
	}
	return "unknown-anomaly"
}

// MaxAnomalyRecords is the number of anomalies recorded in detail: the first
// ones of the day (or since Reset). Later ones are only counted.
const MaxAnomalyRecords = 64

// Anomaly records one fault.
type Anomaly struct {
	Seq    uint64      // transport sequence number of the message
	Kind   AnomalyKind //
	Ref    uint64      // order reference concerned (the new reference of a U for duplicate-ref and zero-shares)
	Locate uint16      // stock locate: the order's when it is known, else the message's
}

// Anomalies summarises the faults met so far.
type Anomalies struct {
	// Counts holds the number of anomalies of each kind.
	Counts [NumAnomalyKinds]uint64
	// Records holds the first MaxAnomalyRecords anomalies in order. It is a
	// copy owned by the caller (nil when there are none).
	Records []Anomaly
}

// Total returns the number of anomalies of all kinds.
func (a *Anomalies) Total() uint64 {
	var n uint64
	for _, c := range a.Counts {
		n += c
	}
	return n
}

// anomalyLog is the Book's record of anomalies.
type anomalyLog struct {
	counts [NumAnomalyKinds]uint64
	n      int
	recs   [MaxAnomalyRecords]Anomaly
}

// anomaly counts a fault of kind k and marks the instrument as suspect.
// Off the hot path: it runs only on faults.
func (b *Book) anomaly(seq uint64, k AnomalyKind, ref uint64, locate uint16) {
	a := &b.anomalies
	a.counts[k]++
	if a.n < MaxAnomalyRecords {
		a.recs[a.n] = Anomaly{Seq: seq, Kind: k, Ref: ref, Locate: locate}
		a.n++
	}
	b.instrument(locate).faults++
}

// AnomalyTotal returns the number of anomalies of all kinds, allocating
// nothing.
func (b *Book) AnomalyTotal() uint64 {
	var n uint64
	for _, c := range b.anomalies.counts {
		n += c
	}
	return n
}

// Anomalies returns the anomaly counts and the first MaxAnomalyRecords
// records. Records is a fresh copy; it allocates only when there are any.
func (b *Book) Anomalies() Anomalies {
	a := Anomalies{Counts: b.anomalies.counts}
	if n := b.anomalies.n; n > 0 {
		a.Records = make([]Anomaly, n)
		copy(a.Records, b.anomalies.recs[:n])
	}
	return a
}

// Faults returns the number of anomalies attributed to locate: the messages
// naming it that could not be applied as sent, and the duplicate adds that
// hit one of its orders. A non-zero count means its book may differ from the
// exchange's (typically after a gap) until it is rebuilt, e.g. from a
// snapshot.
func (b *Book) Faults(locate uint16) uint64 {
	if int(locate) >= len(b.inst) {
		return 0
	}
	return b.inst[locate].faults
}

// MergeAnomalies returns the anomalies of several books (shards of one
// feed) as one: the counts summed, the records in sequence order, the first
// MaxAnomalyRecords of them kept.
func MergeAnomalies(all ...Anomalies) Anomalies {
	var a Anomalies
	for _, b := range all {
		for k, c := range b.Counts {
			a.Counts[k] += c
		}
		a.Records = append(a.Records, b.Records...)
	}
	slices.SortStableFunc(a.Records, func(x, y Anomaly) int { return cmp.Compare(x.Seq, y.Seq) })
	if len(a.Records) > MaxAnomalyRecords {
		a.Records = a.Records[:MaxAnomalyRecords]
	}
	return a
}
