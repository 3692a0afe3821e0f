package feed

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tickwire/tickwire/codec/moldudp64"
)

var (
	testSession  = [10]byte{'2', '0', '2', '6', '0', '3', '1', '2', 'A', ' '}
	otherSession = [10]byte{'2', '0', '2', '6', '0', '3', '1', '1', 'A', ' '}
)

// appendMsg appends the test message of sequence seq: a type byte, the
// sequence (u64), then pad filler bytes. The recorder checks the sequence, so
// a message delivered under the wrong number is caught.
func appendMsg(dst []byte, seq uint64, pad int) []byte {
	dst = append(dst, 'T')
	dst = binary.BigEndian.AppendUint64(dst, seq)
	for i := range pad {
		dst = append(dst, byte(seq)+byte(i))
	}
	return dst
}

// testMsgLen is the length of the table tests' messages (pad 3).
const testMsgLen = 12

// packetLen is the size of a table-test packet carrying n messages.
func packetLen(n int) int { return moldudp64.HeaderLen + n*(2+testMsgLen) }

// appendPacket appends a downstream packet carrying seq..seq+count-1, each
// message padded by pad(seq) bytes.
func appendPacket(dst []byte, session [10]byte, seq uint64, count int, pad func(uint64) int) []byte {
	dst = moldudp64.AppendHeader(dst, session, seq, uint16(count))
	var m [64]byte
	for i := range count {
		s := seq + uint64(i)
		dst = moldudp64.AppendBlock(dst, appendMsg(m[:0], s, pad(s)))
	}
	return dst
}

func pad3(uint64) int { return 3 }

func buildPacket(seq uint64, count int) moldudp64.Packet {
	return appendPacket(nil, testSession, seq, count, pad3)
}

func heartbeat(session [10]byte, seq uint64, count uint16) moldudp64.Packet {
	return moldudp64.AppendHeader(nil, session, seq, count)
}

// recorder is a Handler that checks every message's content against its
// sequence and the continuity of messages and gaps, and logs them compactly:
// runs of messages as "first-last" (or "seq"), gaps as "gap first+count".
type recorder struct {
	t       testing.TB
	expect  uint64 // next sequence owed, 0 until the first event
	log     []string
	runFrom uint64
	runTo   uint64 // last sequence of the open run, 0 if none
	gaps    [][2]uint64
	msgs    uint64
	lax     bool // skip the content check (fuzzed packets with foreign content)
}

func (r *recorder) Message(seq uint64, msg []byte) {
	if r.expect != 0 && seq != r.expect {
		r.t.Errorf("message %d, expected %d", seq, r.expect)
	}
	if !r.lax && (len(msg) < 9 || msg[0] != 'T' || binary.BigEndian.Uint64(msg[1:9]) != seq) {
		r.t.Errorf("message %d carries %x", seq, msg)
	}
	r.expect = seq + 1
	r.msgs++
	if r.runTo != 0 && seq == r.runTo+1 {
		r.runTo = seq
		return
	}
	r.closeRun()
	r.runFrom, r.runTo = seq, seq
}

func (r *recorder) Gap(first, count uint64) {
	if r.expect != 0 && first != r.expect {
		r.t.Errorf("gap from %d, expected %d", first, r.expect)
	}
	if count == 0 {
		r.t.Errorf("empty gap at %d", first)
	}
	r.expect = first + count
	r.closeRun()
	r.log = append(r.log, fmt.Sprintf("gap %d+%d", first, count))
	r.gaps = append(r.gaps, [2]uint64{first, count})
}

func (r *recorder) closeRun() {
	if r.runTo == 0 {
		return
	}
	if r.runFrom == r.runTo {
		r.log = append(r.log, fmt.Sprint(r.runFrom))
	} else {
		r.log = append(r.log, fmt.Sprintf("%d-%d", r.runFrom, r.runTo))
	}
	r.runTo = 0
}

func (r *recorder) String() string {
	r.closeRun()
	return strings.Join(r.log, " ")
}

// countingHandler counts without allocating (allocation tests, benchmarks).
type countingHandler struct {
	msgs, gaps, bytes uint64
	last              uint64
}

func (c *countingHandler) Message(seq uint64, msg []byte) {
	c.msgs++
	c.bytes += uint64(len(msg))
	c.last = seq
}

func (c *countingHandler) Gap(first, count uint64) { c.gaps += count }

// testSeed returns the seed of a randomized test, FEED_SEED when set (to
// replay a run), else the clock, and logs it.
func testSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("FEED_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("FEED_SEED: %v", err)
		}
	}
	t.Logf("seed %d (FEED_SEED=%d replays it)", seed, seed)
	return seed
}
