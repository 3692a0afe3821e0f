package feed_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tickwire/tickwire/codec/glimpse"
	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/feed"
)

// snapshotMsgs returns a small well-formed snapshot ending with G(next).
func snapshotMsgs(next uint64) [][]byte {
	hdr := itch.Header{Locate: 1, Tracking: 2, Timestamp: 34_200_000_000_000}
	return [][]byte{
		(&itch.SystemEventMsg{Header: itch.Header{Timestamp: hdr.Timestamp}, EventCode: 'Q'}).Append(nil),
		(&itch.StockDirectoryMsg{Header: hdr, Stock: itch.Alpha8("AAPL"), MarketCategory: 'Q'}).Append(nil),
		(&itch.StockTradingActionMsg{Header: hdr, Stock: itch.Alpha8("AAPL"), TradingState: 'T'}).Append(nil),
		(&itch.AddOrderMsg{Header: hdr, Ref: 7, Side: itch.Buy, Shares: 100, Stock: itch.Alpha8("AAPL"), Price: 1_500_000}).Append(nil),
		(&itch.AddOrderMPIDMsg{Header: hdr, Ref: 8, Side: itch.Sell, Shares: 300, Stock: itch.Alpha8("AAPL"),
			Price: 1_500_100, Attribution: itch.Alpha4("GSCO")}).Append(nil),
		glimpse.AppendEndOfSnapshot(nil, next),
	}
}

func TestSnapshotLoader(t *testing.T) {
	msgs := snapshotMsgs(12345)
	var applied [][]byte
	l := feed.NewSnapshotLoader(func(m []byte) { applied = append(applied, append([]byte(nil), m...)) })
	for i, m := range msgs {
		if l.Done() || l.Next() != 0 {
			t.Fatalf("done before G (message %d)", i+1)
		}
		done, err := l.Message(m)
		if err != nil || done != (i == len(msgs)-1) {
			t.Fatalf("message %d: done %v, err %v", i+1, done, err)
		}
	}
	if !l.Done() || l.Next() != 12345 || l.Count() != uint64(len(msgs)) {
		t.Fatalf("Done %v Next %d Count %d", l.Done(), l.Next(), l.Count())
	}
	if len(applied) != len(msgs)-1 {
		t.Fatalf("applied %d messages, want %d", len(applied), len(msgs)-1)
	}
	for i := range applied {
		if !bytes.Equal(applied[i], msgs[i]) {
			t.Fatalf("applied message %d = % x, want % x", i+1, applied[i], msgs[i])
		}
	}
	l.Reset()
	if l.Done() || l.Next() != 0 || l.Count() != 0 {
		t.Fatal("Reset left state behind")
	}
	if done, err := l.Message(glimpse.AppendEndOfSnapshot(nil, 1)); !done || err != nil || l.Next() != 1 {
		t.Fatalf("empty snapshot after Reset: %v %v, Next %d", done, err, l.Next())
	}
}

func TestSnapshotLoaderRejects(t *testing.T) {
	good := snapshotMsgs(99)
	g := good[len(good)-1]
	add := good[3]
	tests := []struct {
		name  string
		msgs  [][]byte
		index int     // 1-based index of the rejected message
		err   error   // feed sentinel
		cause []error // codec sentinels also wrapped
	}{
		{"message after G", append(good[:len(good):len(good)], add), len(good) + 1, feed.ErrSnapshotEnded, nil},
		{"G after G", append(good[:len(good):len(good)], g), len(good) + 1, feed.ErrSnapshotEnded, nil},
		{"truncated G", [][]byte{good[0], g[:15]}, 2, feed.ErrSnapshotMalformed, []error{glimpse.ErrLength}},
		{"G type only", [][]byte{{'G'}}, 1, feed.ErrSnapshotMalformed, []error{glimpse.ErrLength}},
		{"G long", [][]byte{append(g[:21:21], ' ')}, 1, feed.ErrSnapshotMalformed, []error{glimpse.ErrLength}},
		{"G letters", [][]byte{[]byte("G" + strings.Repeat(" ", 17) + "abc")}, 1, feed.ErrSnapshotMalformed, []error{glimpse.ErrNumber}},
		{"G zero", [][]byte{glimpse.AppendEndOfSnapshot(nil, 0)}, 1, feed.ErrSnapshotMalformed, []error{glimpse.ErrNumber}},
		{"non-ITCH", [][]byte{good[0], []byte("Zhello, world"), g}, 2, feed.ErrSnapshotMalformed, []error{itch.ErrUnknownType}},
		{"SoupBinTCP framing left on", [][]byte{append([]byte{0, byte(len(add) + 1), 'S'}, add...)}, 1, feed.ErrSnapshotMalformed, []error{itch.ErrUnknownType}},
		{"short add", [][]byte{good[0], add[:30]}, 2, feed.ErrSnapshotMalformed, []error{itch.ErrLength}},
		{"empty", [][]byte{good[0], good[1], {}}, 3, feed.ErrSnapshotMalformed, []error{itch.ErrEmpty}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			applied := 0
			l := feed.NewSnapshotLoader(func([]byte) { applied++ })
			var err error
			for i, m := range tc.msgs {
				_, err = l.Message(m)
				if i+1 < tc.index && err != nil {
					t.Fatalf("message %d rejected early: %v", i+1, err)
				}
				if i+1 == tc.index {
					break
				}
			}
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			for _, c := range tc.cause {
				if !errors.Is(err, c) {
					t.Errorf("error %v does not wrap %v", err, c)
				}
			}
			if want := fmt.Sprintf(" %d", tc.index); !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name message %d", err, tc.index)
			}
			wantApplied := 0
			for _, m := range tc.msgs[:tc.index-1] {
				if len(m) > 0 && m[0] != glimpse.TypeEndOfSnapshot {
					wantApplied++
				}
			}
			if applied != wantApplied {
				t.Errorf("applied %d messages, want %d", applied, wantApplied)
			}
			// The failure is sticky: even a valid message is refused.
			if done, err2 := l.Message(add); done || err2 != err {
				t.Errorf("after the failure: %v, %v; want the same error", done, err2)
			}
			if applied != wantApplied {
				t.Error("a message was applied after the failure")
			}
		})
	}
}

// TestSnapshotLoaderNoAllocs proves Message allocates nothing on success.
func TestSnapshotLoaderNoAllocs(t *testing.T) {
	msgs := snapshotMsgs(1 << 40)
	n := 0
	l := feed.NewSnapshotLoader(func(m []byte) { n += len(m) })
	allocs := testing.AllocsPerRun(100, func() {
		l.Reset()
		for _, m := range msgs {
			if _, err := l.Message(m); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per snapshot, want 0", allocs)
	}
	if n == 0 {
		t.Fatal("nothing applied")
	}
}

// FuzzSnapshotLoader feeds arbitrary messages (u16 length-prefixed in the
// input): nothing panics, only messages passing itch.Check reach apply,
// errors are sticky, and done is reported exactly once, with Next > 0.
func FuzzSnapshotLoader(f *testing.F) {
	frame := func(msgs [][]byte) []byte {
		var b []byte
		for _, m := range msgs {
			b = binary.BigEndian.AppendUint16(b, uint16(len(m)))
			b = append(b, m...)
		}
		return b
	}
	good := snapshotMsgs(77)
	f.Add(frame(good))
	f.Add(frame(append(good[:len(good):len(good)], good[0])))
	f.Add(frame([][]byte{good[0], good[len(good)-1][:10]}))
	f.Add(frame([][]byte{[]byte("Zxyz")}))
	f.Add([]byte{0, 0})
	f.Add(frame([][]byte{good[0], glimpse.AppendEndOfSnapshot(nil, ^uint64(0))}))
	f.Add(frame([][]byte{good[0], glimpse.AppendEndOfSnapshot(nil, 1<<63)}))
	f.Add(frame([][]byte{good[3], good[4], good[3], good[4], good[3]}))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Small limits, so that the fuzzer reaches them.
		const maxOrders, maxBytes, maxSeq = 3, 400, 1 << 20
		l := feed.NewSnapshotLoader(func(m []byte) {
			if err := itch.Check(m); err != nil {
				t.Fatalf("applied a message failing Check: %v", err)
			}
		}, feed.WithSnapshotMaxOrders(maxOrders), feed.WithSnapshotMaxBytes(maxBytes), feed.WithSnapshotMaxSeq(maxSeq))
		var failed error
		dones := 0
		for len(data) >= 2 {
			n := int(binary.BigEndian.Uint16(data))
			data = data[2:]
			if n > len(data) {
				n = len(data)
			}
			done, err := l.Message(data[:n])
			data = data[n:]
			switch {
			case failed != nil:
				if err != failed || done {
					t.Fatalf("after failure %v: %v, %v", failed, done, err)
				}
			case err != nil:
				if !errors.Is(err, feed.ErrSnapshotMalformed) && !errors.Is(err, feed.ErrSnapshotEnded) &&
					!errors.Is(err, feed.ErrSnapshotSeq) && !errors.Is(err, feed.ErrSnapshotBytes) && !errors.Is(err, feed.ErrSnapshotOrders) {
					t.Fatalf("unexpected error %v", err)
				}
				failed = err
			case done:
				dones++
				if l.Next() == 0 || l.Next() > maxSeq {
					t.Fatalf("done with Next %d", l.Next())
				}
			}
		}
		if dones > 1 {
			t.Fatalf("done %d times", dones)
		}
		if l.Orders() > maxOrders || l.Bytes() > maxBytes {
			t.Fatalf("Orders %d, Bytes %d: beyond the limits", l.Orders(), l.Bytes())
		}
		if l.Done() != (dones == 1) {
			t.Fatalf("Done %v after %d dones", l.Done(), dones)
		}
	})
}

// endlessAdd returns the i-th Add Order of a snapshot that never ends.
func endlessAdd(dst []byte, i uint64) []byte {
	return (&itch.AddOrderMsg{Header: itch.Header{Locate: 1, Timestamp: 1}, Ref: i + 1, Side: itch.Buy,
		Shares: 100, Stock: itch.Alpha8("AAPL"), Price: 1_000_000 + uint32(i%1000)}).Append(dst)
}

// TestSnapshotLoaderLimits: a snapshot that never ends (valid adds, no 'G')
// fails at the order or byte limit, before applying the message that would
// exceed it, with an error naming the limit and the count reached.
func TestSnapshotLoaderLimits(t *testing.T) {
	status := snapshotMsgs(1)[:3] // S, R, H: not orders
	statusBytes := 0
	for _, m := range status {
		statusBytes += len(m)
	}
	tests := []struct {
		name    string
		opts    []feed.SnapshotOption
		err     error
		applied int // adds applied before the failure
		text    []string
	}{
		{"orders", []feed.SnapshotOption{feed.WithSnapshotMaxOrders(1000)}, feed.ErrSnapshotOrders, 1000,
			[]string{"order 1001", "limit 1000", "max_orders", fmt.Sprintf("message %d", len(status)+1001)}},
		{"bytes", []feed.SnapshotOption{feed.WithSnapshotMaxBytes(uint64(statusBytes + 36*500 + 20))}, feed.ErrSnapshotBytes, 500,
			[]string{fmt.Sprintf("%d bytes", statusBytes+36*501), fmt.Sprintf("limit %d", statusBytes+36*500+20), "max_bytes"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			adds := 0
			l := feed.NewSnapshotLoader(func(m []byte) {
				if m[0] == itch.TypeAddOrder {
					adds++
				}
			}, tc.opts...)
			for _, m := range status {
				if _, err := l.Message(m); err != nil {
					t.Fatal(err)
				}
			}
			var buf []byte
			var err error
			for i := uint64(0); i < 1_000_000 && err == nil; i++ {
				buf = endlessAdd(buf[:0], i)
				_, err = l.Message(buf)
			}
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			for _, s := range tc.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if adds != tc.applied || l.Orders() != uint64(tc.applied) {
				t.Fatalf("applied %d adds (Orders %d), want %d", adds, l.Orders(), tc.applied)
			}
			if l.Bytes() > l.Limits().MaxBytes {
				t.Fatalf("Bytes %d above the limit %d", l.Bytes(), l.Limits().MaxBytes)
			}
			if _, err2 := l.Message(snapshotMsgs(5)[5]); err2 != err {
				t.Fatalf("after the failure: %v", err2)
			}
			l.Reset()
			if l.Orders() != 0 || l.Bytes() != 0 {
				t.Fatal("Reset kept counts")
			}
		})
	}
	lim := feed.NewSnapshotLoader(func([]byte) {}).Limits()
	if lim != (feed.SnapshotLimits{MaxBytes: feed.DefaultSnapshotMaxBytes, MaxOrders: feed.DefaultSnapshotMaxOrders, MaxSeq: feed.DefaultSnapshotMaxSeq}) {
		t.Fatalf("default limits %+v", lim)
	}
	l := feed.NewSnapshotLoader(func([]byte) {}, feed.WithSnapshotMaxOrders(3))
	l.Reset()
	if l.Limits().MaxOrders != 3 {
		t.Fatal("Reset lost the limits")
	}
}

// TestSnapshotLoaderSeq: a 'G' naming a sequence number implausible on its
// face is refused (ErrSnapshotSeq), naming the number and the limit.
func TestSnapshotLoaderSeq(t *testing.T) {
	for _, tc := range []struct {
		seq, max uint64
		err      error
	}{
		{^uint64(0), 0, feed.ErrSnapshotSeq},
		{1<<63 + 1, 0, feed.ErrSnapshotSeq},
		{1 << 63, 0, feed.ErrSnapshotSeq},
		{feed.DefaultSnapshotMaxSeq + 1, 0, feed.ErrSnapshotSeq},
		{feed.DefaultSnapshotMaxSeq, 0, nil},
		{1001, 1000, feed.ErrSnapshotSeq},
		{1000, 1000, nil},
		{0, 0, feed.ErrSnapshotMalformed},
	} {
		l := feed.NewSnapshotLoader(func([]byte) {}, feed.WithSnapshotMaxSeq(tc.max))
		done, err := l.Message(glimpse.AppendEndOfSnapshot(nil, tc.seq))
		if !errors.Is(err, tc.err) || done != (tc.err == nil) {
			t.Errorf("G %d (max %d): %v, %v; want %v", tc.seq, tc.max, done, err, tc.err)
			continue
		}
		if tc.err == feed.ErrSnapshotSeq && (!strings.Contains(err.Error(), fmt.Sprint(tc.seq)) || l.Done() || l.Next() != 0) {
			t.Errorf("G %d: error %q, Done %v, Next %d", tc.seq, err, l.Done(), l.Next())
		}
	}
}
