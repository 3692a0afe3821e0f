package soupbintcp_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/codec/soupbintcp"
)

// reference frames a whole stream with Parse: the packets (copied), the
// number of bytes of a trailing partial packet and the error that ends the
// stream (nil, or ErrZeroLength).
func reference(stream []byte) (pkts [][]byte, partial int, err error) {
	for {
		p, n, err := soupbintcp.Parse(stream)
		switch err {
		case nil:
			pkts = append(pkts, bytes.Clone(p))
			stream = stream[n:]
		case soupbintcp.ErrIncomplete:
			return pkts, len(stream), nil
		default:
			return pkts, 0, err
		}
	}
}

// feedChunks feeds chunks in order to a fresh Framer and returns copies of
// the packets delivered and the first error. On the way it checks that each
// packet has its capacity ending at its end, that it aliases its chunk
// whenever it lies entirely inside that chunk (zero copy), and that Buffered
// equals the bytes fed after the end of the last packet delivered (only a
// split packet is ever held). After an error, one more Feed must return the
// sticky error.
func feedChunks(t testing.TB, f *soupbintcp.Framer, chunks [][]byte) ([][]byte, error) {
	t.Helper()
	var pkts [][]byte
	fed, end := 0, 0 // stream offsets: bytes fed, end of the last packet
	for i, c := range chunks {
		cstart := fed
		err := f.Feed(c, func(p soupbintcp.Packet) error {
			start := end
			end += len(p)
			if cap(p) != len(p) || len(p) < soupbintcp.HeaderLen || int(p.Length())+2 != len(p) {
				t.Fatalf("packet at %d: len %d cap %d length field %d", start, len(p), cap(p), p.Length())
			}
			if start >= cstart && end <= cstart+len(c) && &p[0] != &c[start-cstart] {
				t.Fatalf("packet at stream offset %d lies inside chunk %d but was copied", start, i)
			}
			pkts = append(pkts, bytes.Clone(p))
			return nil
		})
		fed += len(c)
		if err != nil {
			if again := f.Feed([]byte{0, 1, 'H'}, func(soupbintcp.Packet) error {
				t.Fatal("packet delivered after an error")
				return nil
			}); again != err && again != soupbintcp.ErrStopped {
				t.Fatalf("Feed after %v returned %v", err, again)
			}
			return pkts, err
		}
		if f.Buffered() != fed-end {
			t.Fatalf("after chunk %d: Buffered() = %d, want %d (fed %d, last packet ends at %d)",
				i, f.Buffered(), fed-end, fed, end)
		}
	}
	return pkts, nil
}

// checkSame compares the result of feeding chunks with the reference.
func checkSame(t testing.TB, what string, stream []byte, chunks [][]byte) {
	t.Helper()
	want, partial, wantErr := reference(stream)
	var f soupbintcp.Framer
	got, err := feedChunks(t, &f, chunks)
	if err != wantErr {
		t.Fatalf("%s: error %v, want %v", what, err, wantErr)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d packets, want %d", what, len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("%s: packet %d\n got % x\nwant % x", what, i, got[i], want[i])
		}
	}
	if err == nil && f.Buffered() != partial {
		t.Fatalf("%s: Buffered() = %d at the end, want %d", what, f.Buffered(), partial)
	}
}

// testStream is a session-like stream with every packet type, empty
// payloads and ITCH messages of several sizes.
func testStream() []byte {
	h := itch.Header{Locate: 3, Timestamp: 34_200_000_000_000}
	var b []byte
	b = soupbintcp.LoginRequest{Username: user, Password: pass, Session: sess, Seq: 1, V41: true, HeartbeatTimeout: 1000}.Append(b)
	b = soupbintcp.LoginAccepted{Session: sess, Seq: 1}.Append(b)
	b = soupbintcp.AppendDebug(b, "hello")
	for i := range 12 {
		var m []byte
		switch i % 4 {
		case 0:
			m = (&itch.AddOrderMsg{Header: h, Ref: uint64(i), Side: itch.Buy, Shares: 100, Stock: itch.Alpha8("MSFT"), Price: 4_000_000}).Append(nil)
		case 1:
			m = (&itch.OrderExecutedMsg{Header: h, Ref: uint64(i - 1), Shares: 10, Match: uint64(i)}).Append(nil)
		case 2:
			m = (&itch.OrderDeleteMsg{Header: h, Ref: uint64(i - 2)}).Append(nil)
		case 3:
			m = (&itch.SystemEventMsg{Header: h, EventCode: 'O'}).Append(nil)
		}
		b = soupbintcp.AppendSequenced(b, m)
		if i%5 == 0 {
			b = soupbintcp.AppendEmpty(b, soupbintcp.TypeServerHeartbeat)
		}
	}
	b = soupbintcp.AppendSequenced(b, nil)
	b = soupbintcp.AppendUnsequenced(b, []byte{1, 2, 3})
	b = soupbintcp.AppendLoginRejected(b, soupbintcp.RejectSessionUnavailable)
	b = soupbintcp.AppendEmpty(b, soupbintcp.TypeClientHeartbeat)
	b = soupbintcp.AppendEmpty(b, soupbintcp.TypeLogoutRequest)
	b = soupbintcp.AppendSequenced(b, bytes.Repeat([]byte{0xab}, 300)) // length > 255: both length bytes matter
	return soupbintcp.AppendEmpty(b, soupbintcp.TypeEndOfSession)
}

func TestFramerWhole(t *testing.T) {
	s := testStream()
	want, partial, err := reference(s)
	if err != nil || partial != 0 || len(want) < 25 {
		t.Fatalf("reference: %d packets, %v, partial %d", len(want), err, partial)
	}
	checkSame(t, "whole", s, [][]byte{s})
}

func TestFramerEverySplit(t *testing.T) {
	s := testStream()
	for i := 0; i <= len(s); i++ {
		checkSame(t, "split", s, [][]byte{s[:i], s[i:]})
	}
	for i := 0; i <= len(s); i += 7 {
		for j := i; j <= len(s); j += 3 {
			checkSame(t, "two splits", s, [][]byte{s[:i], s[i:j], s[j:]})
		}
	}
	// One byte per Feed, with empty Feeds between them.
	var chunks [][]byte
	for i := range s {
		chunks = append(chunks, s[i:i+1], s[i:i])
	}
	checkSame(t, "bytewise", s, chunks)
	// Truncated streams end with the partial packet buffered.
	for n := 0; n <= len(s); n++ {
		checkSame(t, "truncated", s[:n], [][]byte{s[:n/2], s[n/2 : n]})
	}
}

// randomChunks cuts s at random points, with sizes from 0 to max.
func randomChunks(r *rand.Rand, s []byte, max int) [][]byte {
	var chunks [][]byte
	for len(s) > 0 {
		n := min(r.IntN(max+1), len(s))
		chunks = append(chunks, s[:n])
		s = s[n:]
	}
	return chunks
}

func TestFramerRandomSplits(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	s := testStream()
	for i := range 2000 {
		max := []int{1, 2, 3, 10, 50, 200, 1000}[i%7]
		checkSame(t, "random", s, randomChunks(r, s, max))
	}
	// The largest packet, between small ones, at random splits too.
	big := soupbintcp.AppendEmpty(nil, soupbintcp.TypeServerHeartbeat)
	big = soupbintcp.AppendSequenced(big, bytes.Repeat([]byte{7}, soupbintcp.MaxPayload))
	big = soupbintcp.AppendEmpty(big, soupbintcp.TypeServerHeartbeat)
	for _, cut := range []int{1, 2, 3, 4, 5, 100, 65536, 65537, 65538, len(big) - 1} {
		checkSame(t, "max packet", big, [][]byte{big[:cut], big[cut:]})
	}
	for range 20 {
		checkSame(t, "max packet random", big, randomChunks(r, big, 20000))
	}
}

func TestFramerThreeFeeds(t *testing.T) {
	msg := addOrder()
	s := soupbintcp.AppendSequenced(nil, msg)                     // 39 bytes
	s = soupbintcp.AppendEmpty(s, soupbintcp.TypeServerHeartbeat) // then 3 more
	var f soupbintcp.Framer
	var got [][]byte
	fn := func(p soupbintcp.Packet) error {
		got = append(got, bytes.Clone(p))
		return nil
	}
	// Half of the length field, then part of the payload, then the rest
	// with the next packet.
	steps := []struct {
		chunk    []byte
		buffered int
		packets  int
	}{
		{s[:1], 1, 0},
		{s[1:20], 20, 0},
		{s[20:], 0, 2},
	}
	for i, st := range steps {
		if err := f.Feed(st.chunk, fn); err != nil {
			t.Fatalf("Feed %d: %v", i, err)
		}
		if f.Buffered() != st.buffered || len(got) != st.packets {
			t.Fatalf("after Feed %d: Buffered %d packets %d; want %d, %d", i, f.Buffered(), len(got), st.buffered, st.packets)
		}
	}
	if p := soupbintcp.Packet(got[0]); p.Type() != 'S' || !bytes.Equal(p.Payload(), msg) {
		t.Fatalf("split packet % x", got[0])
	}
	if p := soupbintcp.Packet(got[1]); p.Type() != 'H' || len(p.Payload()) != 0 {
		t.Fatalf("second packet % x", got[1])
	}
}

func TestFramerZeroLength(t *testing.T) {
	good := soupbintcp.AppendEmpty(nil, soupbintcp.TypeServerHeartbeat)
	s := append(bytes.Clone(good), 0, 0, 'S')
	for i := 0; i <= len(s); i++ {
		checkSame(t, "zero length", s, [][]byte{s[:i], s[i:]})
	}

	var f soupbintcp.Framer
	n := 0
	count := func(soupbintcp.Packet) error { n++; return nil }
	if err := f.Feed(good[:2], count); err != nil { // a partial packet pending
		t.Fatal(err)
	}
	if err := f.Feed(append(good[2:], 0), count); err != nil || n != 1 || f.Buffered() != 1 {
		t.Fatalf("err %v, %d packets, Buffered %d", err, n, f.Buffered())
	}
	if err := f.Feed([]byte{0}, count); err != soupbintcp.ErrZeroLength { // completes a zero length field
		t.Fatalf("Feed = %v, want ErrZeroLength", err)
	}
	if err := f.Feed(good, count); err != soupbintcp.ErrZeroLength || n != 1 {
		t.Fatalf("Feed after ErrZeroLength = %v (%d packets), want ErrZeroLength", err, n)
	}
	f.Reset()
	if err := f.Feed(good, count); err != nil || n != 2 || f.Buffered() != 0 {
		t.Fatalf("after Reset: %v, %d packets, Buffered %d", err, n, f.Buffered())
	}
}

func TestFramerCallbackError(t *testing.T) {
	s := testStream()
	stop := errors.New("stop")
	for _, cut := range []int{0, 90, len(s)} { // the third packet (offset 87) in place, or split
		var f soupbintcp.Framer
		n := 0
		fn := func(soupbintcp.Packet) error {
			n++
			if n == 3 {
				return stop
			}
			return nil
		}
		err := f.Feed(s[:cut], fn)
		if err == nil {
			err = f.Feed(s[cut:], fn)
		}
		if err != stop || n != 3 {
			t.Fatalf("cut %d: Feed = %v after %d packets, want stop after 3", cut, err, n)
		}
		if err := f.Feed(s, fn); err != soupbintcp.ErrStopped || n != 3 {
			t.Fatalf("cut %d: Feed after stop = %v, want ErrStopped", cut, err)
		}
		f.Reset()
		n = 10
		if err := f.Feed(s, fn); err != nil {
			t.Fatalf("cut %d: after Reset: %v", cut, err)
		}
	}
}

func TestFramerReset(t *testing.T) {
	var f soupbintcp.Framer
	nop := func(soupbintcp.Packet) error { return nil }
	if err := f.Feed([]byte{0, 5, 'S', 1}, nop); err != nil || f.Buffered() != 4 {
		t.Fatalf("Feed: %v, Buffered %d", err, f.Buffered())
	}
	f.Reset()
	if f.Buffered() != 0 {
		t.Fatalf("Buffered after Reset = %d", f.Buffered())
	}
	checkSame(t, "after reset", testStream(), [][]byte{testStream()})
}

func TestFramerNoAllocs(t *testing.T) {
	s := testStream()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	chunks := randomChunks(rand.New(rand.NewPCG(seed, 1)), s, 40)
	f := new(soupbintcp.Framer)
	var total int
	fn := func(p soupbintcp.Packet) error {
		total += len(p.Payload()) + int(p.Type())
		return nil
	}
	allocs := testing.AllocsPerRun(200, func() {
		for _, c := range chunks {
			if err := f.Feed(c, fn); err != nil {
				panic(err)
			}
		}
		if _, _, err := soupbintcp.Parse(s); err != nil {
			panic(err)
		}
		if _, err := soupbintcp.ParseNum(s[:0]); err == nil {
			panic("empty number accepted")
		}
	})
	if allocs != 0 {
		t.Errorf("Framer.Feed: %v allocs per run, want 0", allocs)
	}
	if total == 0 || f.Buffered() != 0 {
		t.Errorf("nothing framed (total %d) or partial left (%d)", total, f.Buffered())
	}

	login := soupbintcp.LoginRequest{Username: user, Password: pass, Session: sess, Seq: 99, V41: true, HeartbeatTimeout: 500}
	buf := make([]byte, 0, 256)
	allocs = testing.AllocsPerRun(200, func() {
		b := login.Append(buf[:0])
		b = soupbintcp.LoginAccepted{Session: sess, Seq: 7}.Append(b)
		p, n, _ := soupbintcp.Parse(b)
		if r, err := soupbintcp.ParseLoginRequest(p); err != nil || r != login {
			panic("login round trip")
		}
		p, _, _ = soupbintcp.Parse(b[n:])
		if a, err := soupbintcp.ParseLoginAccepted(p); err != nil || a.Seq != 7 {
			panic("login accepted round trip")
		}
	})
	if allocs != 0 {
		t.Errorf("login encode/parse: %v allocs per run, want 0", allocs)
	}
}
