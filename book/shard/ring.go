package shard

import (
	"encoding/binary"
	"runtime"
	"sync/atomic"
	"time"
)

// A record in a ring is a 16-byte header, the ITCH message's length (u32,
// then 4 bytes unused) and its feed sequence number (u64), then the
// message, padded to 8 bytes. A record never wraps: one that would not fit before
// the end of the ring is preceded by a skip record (length skipLen) that
// sends the reader back to the start.
const (
	recHeader = 16
	skipLen   = ^uint32(0)
	maxRecord = recHeader + 1<<16 // a message of 65535 bytes, the most ITCH framing allows
)

// pad rounds n up to a multiple of 8.
func pad(n uint64) uint64 { return (n + 7) &^ 7 }

// spinLoads is how many times the producer polls the consumer's index
// before it parks (a few microseconds); a consumer polls for spinTime
// before it parks, checking the clock every spinLoads polls. Waking a
// parked side costs the other a system call, a few microseconds: a
// writer that parked between two datagrams of a steady feed made the
// producer pay that on nearly every datagram. An idle shard still parks,
// and costs no CPU.
const (
	spinLoads = 4096
	spinTime  = 200 * time.Microsecond
)

// ring is a single-producer single-consumer queue of records in a byte
// buffer: the ingest loop writes, the shard's writer reads. Each side's
// index is on its own cache line, so that the writer's stores do not
// invalidate the line the reader polls; each side caches the other's index
// and reloads it only when it must.
type ring struct {
	_    [64]byte
	head atomic.Uint64 // bytes written and published (producer)
	_    [56]byte
	tail atomic.Uint64 // bytes consumed (consumer)
	_    [56]byte
	// Parking: the consumer sets sleeping before it waits on wake, the
	// producer sets waiting before it waits on done (for space, or for
	// the consumer to catch up); each side clears the other's flag and
	// signals after publishing its index.
	sleeping atomic.Int32
	waiting  atomic.Int32
	_        [56]byte

	// The producer's: its unpublished head, and the tail it saw last.
	phead, ptail uint64
	_            [48]byte

	buf  []byte
	mask uint64
	wake chan struct{} // consumer parked: new records
	done chan struct{} // producer parked: records consumed
}

func newRing(size int) *ring {
	n := uint64(1)
	for n < uint64(size) || n < 4*maxRecord {
		n <<= 1
	}
	return &ring{buf: make([]byte, n), mask: n - 1, wake: make(chan struct{}, 1), done: make(chan struct{}, 1)}
}

// push appends one record, waiting for space when the ring is full. It does
// not publish it (see publish).
func (r *ring) push(seq uint64, msg []byte) {
	need := pad(recHeader + uint64(len(msg)))
	at := r.phead & r.mask
	skip := uint64(0)
	if at+need > uint64(len(r.buf)) {
		skip = uint64(len(r.buf)) - at
	}
	for r.phead+skip+need-r.ptail > uint64(len(r.buf)) {
		r.ptail = r.waitTail(r.phead + skip + need - uint64(len(r.buf)))
	}
	if skip > 0 {
		binary.LittleEndian.PutUint32(r.buf[at:], skipLen)
		r.phead += skip
		at = 0
	}
	b := r.buf[at : at+need]
	binary.LittleEndian.PutUint32(b, uint32(len(msg)))
	binary.LittleEndian.PutUint64(b[8:], seq)
	copy(b[recHeader:], msg)
	r.phead += need
}

// publish makes the records pushed so far visible to the consumer, and
// wakes it if it is parked.
func (r *ring) publish() {
	if r.head.Load() == r.phead {
		return
	}
	r.head.Store(r.phead)
	if r.sleeping.Load() != 0 && r.sleeping.CompareAndSwap(1, 0) {
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

// waitTail publishes what was pushed and waits until the consumer has
// consumed at least to; it returns the tail it saw.
func (r *ring) waitTail(to uint64) uint64 {
	r.publish()
	for i := 0; ; i++ {
		if t := r.tail.Load(); t >= to {
			return t
		}
		if i < spinLoads {
			continue
		}
		r.waiting.Store(1)
		if t := r.tail.Load(); t >= to {
			r.waiting.Store(0)
			return t
		}
		<-r.done
		i = 0
	}
}

// drained waits until the consumer has consumed everything pushed.
func (r *ring) drained() {
	r.ptail = r.waitTail(r.phead)
}

// consume is the consumer's loop: it hands each record to apply, in order,
// publishes its tail after each run of records, and parks when the ring
// stays empty, until stop is set.
func (r *ring) consume(stop *atomic.Bool, apply func(seq uint64, msg []byte)) {
	t := r.tail.Load()
	var idleSince time.Time
	for spins := 0; ; {
		h := r.head.Load()
		if h == t {
			if stop.Load() {
				return
			}
			if spins++; spins%spinLoads != 0 {
				continue
			}
			if now := time.Now(); idleSince.IsZero() {
				idleSince = now
				continue
			} else if now.Sub(idleSince) < spinTime {
				continue
			}
			idleSince = time.Time{}
			r.sleeping.Store(1)
			if r.head.Load() != t || stop.Load() {
				r.sleeping.Store(0)
				continue
			}
			<-r.wake
			spins = 0
			continue
		}
		spins, idleSince = 0, time.Time{}
		for t < h {
			at := t & r.mask
			n := binary.LittleEndian.Uint32(r.buf[at:])
			if n == skipLen {
				t += uint64(len(r.buf)) - at
				continue
			}
			apply(binary.LittleEndian.Uint64(r.buf[at+8:]), r.buf[at+recHeader:at+recHeader+uint64(n)])
			t += pad(recHeader + uint64(n))
		}
		r.tail.Store(t)
		if r.waiting.Load() != 0 && r.waiting.CompareAndSwap(1, 0) {
			select {
			case r.done <- struct{}{}:
			default:
			}
		}
	}
}

// stopConsumer wakes a parked consumer so that it sees stop.
func (r *ring) stopConsumer() {
	r.sleeping.Store(0)
	select {
	case r.wake <- struct{}{}:
	default:
	}
	runtime.Gosched()
}
