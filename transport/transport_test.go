package transport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/tickwire/tickwire/transport/tw"
)

// encodeAll encodes a frame holding one message of every type.
func encodeAll(t testing.TB, e *Encoder, seq uint64) []byte {
	t.Helper()
	s := Stamp{FeedSeq: 1000, Timestamp: 34_200_000_000_000, Locate: 7}
	e.Begin(seq)
	e.Hello(ProtocolVersion, []byte("secret"), []byte("strat-1"))
	e.HelloReply(true, nil, ProtocolVersion, 1000)
	e.Subscribe(false, [][]byte{[]byte("AAPL"), []byte("MSFT")}, []uint16{7, 9}, false, tw.DepthTopN, 5)
	e.Subscribe(true, nil, nil, true, 0, 0)
	e.Snapshot(&SnapshotHead{Locate: 7, Stock: []byte("AAPL"), FeedSeq: 999, Timestamp: 1, TradingState: tw.TradingStateCodeTrading, RegSho: tw.RegShoActionNoTest, Depth: tw.DepthOrders, Suspect: true},
		[]BookOrder{{1, 1_500_000, 100}, {2, 1_490_000, 200}}, []BookOrder{{3, 1_510_000, 300}},
		nil, []BookLevel{{Shares: 5, Price: 6, OrderCount: 7}})
	e.OrderAdded(s, 42, tw.SideBuy, 1_500_000, 100, []byte("GSCO"))
	e.OrderAdded(s, 43, tw.SideSell, 1_510_000, 200, nil)
	e.OrderExecuted(s, 42, 77, 50, 1_500_100, true, true)
	e.OrderCancelled(s, 42, 10)
	e.OrderReplaced(s, 43, 44, tw.SideSell, 1_505_000, 150)
	e.OrderDeleted(s, 44)
	e.LevelChanged(s, tw.SideBuy, 1_500_000, 0, 0)
	e.Trade(s, 78, 0, tw.SideBuy, 1_500_000, 1_000_000, tw.CrossKindOpening)
	e.TradeBroken(s, 78)
	e.TradingState(s, tw.TradingStateCodeHalted, []byte("LUDP"))
	e.RegSho(s, tw.RegShoActionActivated)
	e.LuldCollar(s, 1, 2, 3, 4)
	e.MwcbLevels(Stamp{FeedSeq: 5}, 10, 20, 30)
	e.MwcbBreach(Stamp{FeedSeq: 6}, 2)
	e.Heartbeat(1001)
	e.Status(tw.FeedStateConflated, []byte("slow"), 1001, 0)
	e.ServerError(tw.ErrorCodeSlowConsumer, []byte("bye"))
	out, err := e.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var allTypes = []tw.Body{
	tw.BodyHello, tw.BodyHelloReply, tw.BodySubscribe, tw.BodyUnsubscribe, tw.BodySnapshot,
	tw.BodyOrderAdded, tw.BodyOrderAdded, tw.BodyOrderExecuted, tw.BodyOrderCancelled,
	tw.BodyOrderReplaced, tw.BodyOrderDeleted, tw.BodyLevelChanged, tw.BodyTrade, tw.BodyTradeBroken,
	tw.BodyTradingState, tw.BodyRegSho, tw.BodyLuldCollar, tw.BodyMwcbLevels, tw.BodyMwcbBreach,
	tw.BodyHeartbeat, tw.BodyStatus, tw.BodyServerError,
}

func TestRoundTrip(t *testing.T) {
	e := NewEncoder(1024)
	out := encodeAll(t, e, 3)
	r := NewFrameReader(0)
	f, n, ok, err := r.Next(out)
	if err != nil || !ok || n != len(out) {
		t.Fatalf("Next: n=%d ok=%v err=%v, want %d true nil", n, ok, err, len(out))
	}
	if f.StreamSeq() != 3 || f.Len() != len(allTypes) {
		t.Fatalf("stream seq %d, %d messages; want 3, %d", f.StreamSeq(), f.Len(), len(allTypes))
	}
	var m Message
	for i, want := range allTypes {
		if got := f.Message(i, &m).Type(); got != want {
			t.Errorf("message %d: type %v, want %v", i, got, want)
		}
		if st, ok := m.Stamp(); ok != isUpdate(want) || (ok && st.Locate != 7 && st.Locate != 0) {
			t.Errorf("message %d: stamp %+v %v", i, st, ok)
		}
	}
	var oa tw.OrderAddedFields
	oa.Init(f.Message(5, &m).Fields(tw.BodyOrderAdded))
	if mpid := m.Mpid(); string(mpid) != "GSCO" || oa.OrderRef() != 42 || oa.Price() != 1_500_000 || oa.Shares() != 100 || oa.Side() != tw.SideBuy {
		t.Errorf("OrderAdded: %q ref %d price %d shares %d", mpid, oa.OrderRef(), oa.Price(), oa.Shares())
	}
	if oa.Init(f.Message(6, &m).Fields(tw.BodyOrderAdded)); m.Mpid() != nil || oa.Side() != tw.SideSell {
		t.Errorf("OrderAdded without MPID: %q side %v", m.Mpid(), oa.Side())
	}
	var ex tw.OrderExecutedFields
	if ex.Init(f.Message(7, &m).Fields(tw.BodyOrderExecuted)); ex.OrderRef() != 42 || ex.MatchNumber() != 77 || !ex.WithPrice() || ex.Price() != 1_500_100 {
		t.Errorf("OrderExecuted: match %d price %d", ex.MatchNumber(), ex.Price())
	}
	var del tw.OrderDeletedFields
	if del.Init(f.Message(7, &m).Fields(tw.BodyOrderDeleted)); del.OrderRef() != 0 {
		t.Error("Fields of the wrong type are not zeros")
	}
	var rp tw.OrderReplacedFields
	if rp.Init(f.Message(9, &m).Fields(tw.BodyOrderReplaced)); rp.OldRef() != 43 || rp.NewRef() != 44 {
		t.Errorf("OrderReplaced: %d -> %d", rp.OldRef(), rp.NewRef())
	}
	var tr tw.TradeFields
	if tr.Init(f.Message(12, &m).Fields(tw.BodyTrade)); tr.Shares() != 1_000_000 || tr.Cross() != tw.CrossKindOpening {
		t.Errorf("Trade: shares %d cross %v", tr.Shares(), tr.Cross())
	}
	var ts tw.TradingState
	if initTable(f.Message(14, &m), tw.BodyTradingState, &ts) || ts.State() != tw.TradingStateCodeHalted || string(ts.Reason()) != "LUDP" {
		t.Errorf("TradingState: %v %q", ts.State(), ts.Reason())
	}
	var snap tw.Snapshot
	var bo tw.BookOrder
	var bl tw.BookLevel
	if initTable(f.Message(4, &m), tw.BodySnapshot, &snap) || string(snap.Stock()) != "AAPL" || snap.BidOrdersLength() != 2 || !snap.Suspect() ||
		!snap.BidOrders(&bo, 1) || bo.OrderRef() != 2 || snap.AskLevelsLength() != 1 || !snap.AskLevels(&bl, 0) || bl.OrderCount() != 7 {
		t.Errorf("Snapshot: %q %d bids", snap.Stock(), snap.BidOrdersLength())
	}
	var sub tw.Subscribe
	if initTable(f.Message(2, &m), tw.BodySubscribe, &sub) || sub.StocksLength() != 2 || string(sub.Stocks(1)) != "MSFT" || sub.Locates(1) != 9 || sub.N() != 5 {
		t.Errorf("Subscribe: %d stocks", sub.StocksLength())
	}
	var st tw.Status
	if initTable(f.Message(20, &m), tw.BodyStatus, &st) || st.State() != tw.FeedStateConflated || st.FeedSeq() != 1001 {
		t.Errorf("Status: %v %d", st.State(), st.FeedSeq())
	}
	if f.Message(len(allTypes), &m).Type() != tw.BodyNONE {
		t.Error("Message past the end is not NONE")
	}
}

// TestSplit feeds a stream of frames cut at every pair of points and in
// single bytes: the frames must come out whole and in order.
func TestSplit(t *testing.T) {
	e := NewEncoder(1024)
	var stream []byte
	for seq := uint64(1); seq <= 3; seq++ {
		stream = append(stream, encodeAll(t, e, seq)...)
	}
	check := func(t *testing.T, pieces [][]byte) {
		r := NewFrameReader(0)
		want := uint64(1)
		for _, p := range pieces {
			for len(p) > 0 {
				f, n, ok, err := r.Next(p)
				if err != nil {
					t.Fatal(err)
				}
				p = p[n:]
				if ok {
					if f.StreamSeq() != want || f.Len() != len(allTypes) {
						t.Fatalf("frame %d: seq %d len %d", want, f.StreamSeq(), f.Len())
					}
					want++
				}
			}
		}
		if want != 4 || r.Buffered() != 0 {
			t.Fatalf("%d frames, %d bytes left over", want-1, r.Buffered())
		}
	}
	ones := make([][]byte, len(stream))
	for i := range stream {
		ones[i] = stream[i : i+1]
	}
	check(t, ones)
	for i := 0; i < len(stream); i += 29 {
		for j := i; j < len(stream); j += 31 {
			check(t, [][]byte{stream[:i], stream[i:j], stream[j:]})
		}
	}
}

func TestReaderErrors(t *testing.T) {
	good := encodeAll(t, NewEncoder(0), 1)
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"oversized", []byte{1, 0, 0x10, 0}, ErrFrameTooLarge}, // MaxFrameSize+1
		{"too small", []byte{4, 0, 0, 0, 0, 0, 0, 0}, ErrBadFrame},
		{"no identifier", append([]byte{12, 0, 0, 0}, make([]byte, 12)...), ErrBadFrame},
		{"root outside", append([]byte{12, 0, 0, 0, 0xff, 0xff, 0, 0, 'T', 'W', 'P', '1'}, make([]byte, 4)...), ErrBadFrame},
		{"truncated body", func() []byte {
			b := bytes.Clone(good)
			// The frame now ends early: offsets point past its end.
			binary.LittleEndian.PutUint32(b, binary.LittleEndian.Uint32(b)-8)
			return b[:len(b)-8]
		}(), ErrBadFrame},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewFrameReader(0)
			_, _, ok, err := r.Next(tc.in)
			if !errors.Is(err, tc.want) || ok {
				t.Fatalf("got ok=%v err=%v, want %v", ok, err, tc.want)
			}
			if _, _, _, again := r.Next(good); again != err {
				t.Fatalf("error not sticky: %v", again)
			}
		})
	}
}

// TestCorrupt flips every byte of a valid frame in turn: Validate may accept
// or refuse, but whatever it accepts must be readable without a panic.
func TestCorrupt(t *testing.T) {
	good := encodeAll(t, NewEncoder(0), 1)[PrefixSize:]
	for i := range good {
		for _, x := range []byte{0xff} {
			b := bytes.Clone(good)
			b[i] ^= x
			readAll(b)
		}
	}
}

// TestRandomCorrupt overwrites random bytes of a valid frame: whatever
// Validate accepts must be readable without a panic.
func TestRandomCorrupt(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	good := encodeAll(t, NewEncoder(0), 1)[PrefixSize:]
	accepted := 0
	for range 2500 {
		b := bytes.Clone(good)
		for range 1 + rng.IntN(4) {
			b[rng.IntN(len(b))] = byte(rng.Uint32())
		}
		if Validate(b) == nil {
			accepted++
		}
		readAll(b)
	}
	t.Logf("%d of 2500 corrupted frames passed Validate and were read", accepted)
}

// readAll opens b and reads every field a client could read; it must never
// panic, whatever b holds.
func readAll(b []byte) int {
	f, err := Open(b)
	if err != nil {
		return 0
	}
	sum := int(f.StreamSeq())
	var m Message
	for i := 0; i < f.Len(); i++ {
		f.Message(i, &m)
		if s, ok := m.Stamp(); ok {
			sum += int(s.FeedSeq) + int(s.Locate) + int(s.Timestamp)
		}
		sum += readBody(&m)
	}
	return sum
}

// initTable points dst at m's table and reports whether m is NOT of type t.
func initTable(m *Message, t tw.Body, dst interface {
	Init([]byte, flatbuffers.UOffsetT)
}) bool {
	tab := m.Table()
	dst.Init(tab.Bytes, tab.Pos)
	return m.Type() != t
}
