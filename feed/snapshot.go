package feed

import (
	"errors"
	"fmt"

	"github.com/tickwire/tickwire/codec/glimpse"
	"github.com/tickwire/tickwire/codec/itch"
)

// Errors of SnapshotLoader. They are sentinels: compare with errors.Is. (They
// sit beside the loader because it lives in its own file.)
var (
	// ErrSnapshotMalformed reports a snapshot message that is not a whole
	// ITCH 5.0 message of a known type nor a valid end-of-snapshot 'G':
	// empty, unknown type, wrong length, or a 'G' whose sequence number is
	// malformed or 0. The error also wraps the codec's sentinel
	// (itch.ErrUnknownType, itch.ErrLength, glimpse.ErrLength, ...) and
	// names the message index.
	ErrSnapshotMalformed = errors.New("feed: malformed snapshot message")
	// ErrSnapshotEnded reports a message after the end-of-snapshot 'G'.
	ErrSnapshotEnded = errors.New("feed: message after end of snapshot")
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
// Message allocates nothing on success. A SnapshotLoader is not safe for
// concurrent use.
type SnapshotLoader struct {
	apply func(msg []byte)
	n     uint64 // messages consumed, including a failed one
	next  uint64 // from 'G'; 0 until it arrived
	err   error  // sticky failure
}

// NewSnapshotLoader returns a loader handing each ITCH message of the
// snapshot to apply. The msg passed to apply is the caller's slice given to
// Message: valid only during the call, not retained by the loader.
func NewSnapshotLoader(apply func(msg []byte)) *SnapshotLoader {
	return &SnapshotLoader{apply: apply}
}

// Message consumes the next snapshot message, type byte first (for a
// SoupBinTCP Sequenced Data packet, its payload). It returns done = true for
// the end-of-snapshot 'G', after which Next is valid. A malformed message
// returns ErrSnapshotMalformed and any message after 'G' ErrSnapshotEnded,
// each naming the message index; apply is not called for them. msg is not
// retained.
func (l *SnapshotLoader) Message(msg []byte) (done bool, err error) {
	if l.err != nil {
		return false, l.err
	}
	l.n++
	if l.next != 0 {
		return l.fail(fmt.Errorf("%w: message %d", ErrSnapshotEnded, l.n))
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
		l.next = next
		return true, nil
	}
	if err := itch.Check(msg); err != nil {
		return l.fail(fmt.Errorf("%w %d: %w", ErrSnapshotMalformed, l.n, err))
	}
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

// Reset prepares the loader for another snapshot with the same callback.
func (l *SnapshotLoader) Reset() { *l = SnapshotLoader{apply: l.apply} }
