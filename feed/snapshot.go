package feed

import (
	"fmt"

	"github.com/tickwire/tickwire/codec/glimpse"
	"github.com/tickwire/tickwire/codec/itch"
)

// SnapshotLoader consumes a GLIMPSE 5.0 snapshot (PROTOCOLS.md §6, package
// codec/glimpse), one message at a time in the order served: every ITCH
// message is handed to the apply callback (which typically applies it to a
// fresh book.Book), and the end-of-snapshot 'G' ends the snapshot and records
// the sequence number from which to apply the real-time feed (Next).
//
// Messages are counted from 1 (the index named in errors). Every known ITCH
// 5.0 type is passed on, not only those GLIMPSE lists, so that a newer
// revision of the snapshot does not break loading; an unknown type is
// ErrSnapshotMalformed, since a snapshot cannot be skipped over safely. After
// an error the loader stays failed (every later call returns the same error)
// until Reset: the partial state the callback built must be discarded and
// the snapshot requested again.
//
// The loader bounds what a server can make the caller hold (SnapshotLimits):
// a snapshot longer than MaxBytes or with more than MaxOrders orders fails
// with ErrSnapshotBytes or ErrSnapshotOrders before the message that would
// exceed the limit is applied, and a 'G' naming a sequence number above
// MaxSeq fails with ErrSnapshotSeq. Whether 'G' agrees with the real-time
// feed's sequence numbers is for the caller to check.
//
// Message allocates nothing on success. A SnapshotLoader is not safe for
// concurrent use.
type SnapshotLoader struct {
	apply  func(msg []byte)
	lim    SnapshotLimits
	n      uint64 // messages consumed, including a failed one
	bytes  uint64 // bytes of the messages accepted
	orders uint64 // Add Order messages accepted
	next   uint64 // from 'G'; 0 until it arrived
	err    error  // sticky failure
}

// SnapshotLimits bounds one snapshot. A zero field takes its default.
type SnapshotLimits struct {
	// MaxBytes bounds the bytes of all messages of the snapshot, 'G'
	// included, as received (type byte first, no framing). Default
	// DefaultSnapshotMaxBytes. Configuration: feed.snapshot.max_bytes.
	MaxBytes uint64
	// MaxOrders bounds the Add Order messages ('A', 'F'): the orders of the
	// book built. Default DefaultSnapshotMaxOrders. Configuration:
	// feed.snapshot.max_orders.
	MaxOrders uint64
	// MaxSeq is the largest sequence number a 'G' may carry. Default
	// DefaultSnapshotMaxSeq.
	MaxSeq uint64
}

// Defaults of SnapshotLimits.
//
// A NASDAQ book holds a few million open displayed orders at its busiest;
// 20 million is several times that. Each is a 36-byte 'A' or a 40-byte 'F',
// so 20 million orders are at most 800 MB, and 2 GiB leaves room for the
// status messages (about 12,000 instruments, a few hundred bytes each) with
// a margin of more than 2: a genuine snapshot reaches neither limit, while a
// snapshot that never ends is stopped within seconds at a memory cost the
// caller can plan for (what it keeps per message is its own: copying each
// message into its own allocation costs about twice the bytes).
//
// A TotalView-ITCH day numbers of the order of 10^9 messages, well under
// 2^32; 2^40 (about 1.1·10^12) is a thousand times more, and far enough
// below 2^63 that sequence arithmetic on it cannot overflow.
const (
	DefaultSnapshotMaxBytes  = 2 << 30
	DefaultSnapshotMaxOrders = 20_000_000
	DefaultSnapshotMaxSeq    = 1 << 40
)

// SnapshotOption configures a SnapshotLoader in NewSnapshotLoader.
type SnapshotOption func(*SnapshotLimits)

// WithSnapshotMaxBytes sets SnapshotLimits.MaxBytes; 0 keeps the default.
func WithSnapshotMaxBytes(n uint64) SnapshotOption {
	return func(l *SnapshotLimits) { l.MaxBytes = n }
}

// WithSnapshotMaxOrders sets SnapshotLimits.MaxOrders; 0 keeps the default.
func WithSnapshotMaxOrders(n uint64) SnapshotOption {
	return func(l *SnapshotLimits) { l.MaxOrders = n }
}

// WithSnapshotMaxSeq sets SnapshotLimits.MaxSeq; 0 keeps the default.
func WithSnapshotMaxSeq(n uint64) SnapshotOption {
	return func(l *SnapshotLimits) { l.MaxSeq = n }
}

// NewSnapshotLoader returns a loader handing each ITCH message of the
// snapshot to apply, within the limits opts set (SnapshotLimits; without
// options, the defaults). The msg passed to apply is the caller's slice
// given to Message: valid only during the call, not retained by the loader.
func NewSnapshotLoader(apply func(msg []byte), opts ...SnapshotOption) *SnapshotLoader {
	var lim SnapshotLimits
	for _, o := range opts {
		o(&lim)
	}
	if lim.MaxBytes == 0 {
		lim.MaxBytes = DefaultSnapshotMaxBytes
	}
	if lim.MaxOrders == 0 {
		lim.MaxOrders = DefaultSnapshotMaxOrders
	}
	if lim.MaxSeq == 0 {
		lim.MaxSeq = DefaultSnapshotMaxSeq
	}
	return &SnapshotLoader{apply: apply, lim: lim}
}

// Limits returns the loader's limits, defaults filled in.
func (l *SnapshotLoader) Limits() SnapshotLimits { return l.lim }

// Message consumes the next snapshot message, type byte first (for a
// SoupBinTCP Sequenced Data packet, its payload). It returns done = true for
// the end-of-snapshot 'G', after which Next is valid. A malformed message
// returns ErrSnapshotMalformed, any message after 'G' ErrSnapshotEnded, a
// message beyond a limit ErrSnapshotBytes or ErrSnapshotOrders and a 'G'
// above MaxSeq ErrSnapshotSeq, each naming the message index; apply is not
// called for them. msg is not retained.
func (l *SnapshotLoader) Message(msg []byte) (done bool, err error) {
	if l.err != nil {
		return false, l.err
	}
	l.n++
	if l.next != 0 {
		return l.fail(fmt.Errorf("%w: message %d", ErrSnapshotEnded, l.n))
	}
	if b := l.bytes + uint64(len(msg)); b > l.lim.MaxBytes {
		return l.fail(fmt.Errorf("%w: message %d would bring the snapshot to %d bytes, limit %d (max_bytes); %d orders so far",
			ErrSnapshotBytes, l.n, b, l.lim.MaxBytes, l.orders))
	}
	if len(msg) > 0 && msg[0] == glimpse.TypeEndOfSnapshot {
		m, err := glimpse.ParseEndOfSnapshot(msg)
		if err != nil {
			return l.fail(fmt.Errorf("%w %d: %w", ErrSnapshotMalformed, l.n, err))
		}
		next, _ := m.Seq()
		if next == 0 {
			return l.fail(fmt.Errorf("%w %d: %w (sequence number 0)", ErrSnapshotMalformed, l.n, glimpse.ErrNumber))
		}
		if next > l.lim.MaxSeq {
			return l.fail(fmt.Errorf("%w: message %d: 'G' carries %d, above the limit %d", ErrSnapshotSeq, l.n, next, l.lim.MaxSeq))
		}
		l.bytes += uint64(len(msg))
		l.next = next
		return true, nil
	}
	if err := itch.Check(msg); err != nil {
		return l.fail(fmt.Errorf("%w %d: %w", ErrSnapshotMalformed, l.n, err))
	}
	if t := msg[0]; t == itch.TypeAddOrder || t == itch.TypeAddOrderMPID {
		if l.orders == l.lim.MaxOrders {
			return l.fail(fmt.Errorf("%w: message %d would be order %d, limit %d (max_orders); %d bytes so far",
				ErrSnapshotOrders, l.n, l.orders+1, l.lim.MaxOrders, l.bytes))
		}
		l.orders++
	}
	l.bytes += uint64(len(msg))
	l.apply(msg)
	return false, nil
}

func (l *SnapshotLoader) fail(err error) (bool, error) {
	l.err = err
	return false, err
}

// Next returns the sequence number carried by the end-of-snapshot message:
// the first real-time TotalView-ITCH message to apply (messages below it are
// already reflected and must be dropped; see codec/glimpse for this
// reading). It is 0 until the snapshot is done.
func (l *SnapshotLoader) Next() uint64 { return l.next }

// Done reports whether the end-of-snapshot message has been consumed.
func (l *SnapshotLoader) Done() bool { return l.next != 0 }

// Count returns the number of messages consumed, including 'G' and a
// message that failed.
func (l *SnapshotLoader) Count() uint64 { return l.n }

// Bytes returns the bytes of the messages accepted so far ('G' included).
func (l *SnapshotLoader) Bytes() uint64 { return l.bytes }

// Orders returns the Add Order messages ('A', 'F') accepted so far.
func (l *SnapshotLoader) Orders() uint64 { return l.orders }

// Reset prepares the loader for another snapshot with the same callback and
// limits.
func (l *SnapshotLoader) Reset() { *l = SnapshotLoader{apply: l.apply, lim: l.lim} }
