package glimpse_test

import (
	"bytes"
	"encoding/hex"
	"math"
	"strings"
	"testing"

	"github.com/tickwire/tickwire/codec/glimpse"
	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/codec/soupbintcp"
)

// unhex decodes hex digits, ignoring spaces (used to separate fields).
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad test hex %q: %v", s, err)
	}
	return b
}

func TestEndOfSnapshot(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		seq  uint64
		err  error
	}{
		{"canonical", "47 " + strings.Repeat("20", 14) + "313233343536", 123456, nil},
		{"one", "47 " + strings.Repeat("20", 19) + "31", 1, nil},
		{"zero", "47 " + strings.Repeat("20", 19) + "30", 0, nil},
		{"leading zeros", "47 " + strings.Repeat("30", 17) + "393939", 999, nil},
		{"left-justified", "47 3432" + strings.Repeat("20", 18), 42, nil},
		{"max", "47 3138343436373434303733373039353531363135", math.MaxUint64, nil},
		{"overflow", "47 3138343436373434303733373039353531363136", 0, glimpse.ErrNumber},
		{"blank", "47 " + strings.Repeat("20", 20), 0, glimpse.ErrNumber},
		{"letter", "47 " + strings.Repeat("20", 19) + "41", 0, glimpse.ErrNumber},
		{"inner space", "47 " + strings.Repeat("20", 17) + "312032", 0, glimpse.ErrNumber},
		{"NUL padding", "47 " + strings.Repeat("00", 19) + "31", 0, glimpse.ErrNumber},
		{"binary sequence", "47 0000000000000001" + strings.Repeat("00", 12), 0, glimpse.ErrNumber},
		{"wrong type", "53 " + strings.Repeat("20", 19) + "31", 0, glimpse.ErrType},
		{"short", "47 " + strings.Repeat("20", 18) + "31", 0, glimpse.ErrLength},
		{"long", "47 " + strings.Repeat("20", 20) + "31", 0, glimpse.ErrLength},
		{"type only", "47", 0, glimpse.ErrLength},
		{"empty", "", 0, glimpse.ErrLength},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := unhex(t, tc.hex)
			m, err := glimpse.ParseEndOfSnapshot(b)
			if err != tc.err {
				t.Fatalf("ParseEndOfSnapshot = %v, want %v", err, tc.err)
			}
			if err != nil {
				if m != nil {
					t.Fatalf("ParseEndOfSnapshot returned %x with an error", m)
				}
				// The unchecked view reports the same number fault.
				if tc.err == glimpse.ErrNumber {
					if _, err := glimpse.EndOfSnapshot(b).Seq(); err != glimpse.ErrNumber {
						t.Fatalf("Seq on the unchecked view = %v, want ErrNumber", err)
					}
				}
				return
			}
			if &m[0] != &b[0] || len(m) != glimpse.LenEndOfSnapshot {
				t.Fatal("EndOfSnapshot does not alias its input")
			}
			seq, err := m.Seq()
			if seq != tc.seq || err != nil {
				t.Fatalf("Seq() = %d, %v; want %d", seq, err, tc.seq)
			}
		})
	}
	if _, err := glimpse.EndOfSnapshot([]byte{'G', ' '}).Seq(); err != glimpse.ErrLength {
		t.Errorf("Seq on a 2-byte view = %v, want ErrLength", err)
	}
}

func TestAppendEndOfSnapshot(t *testing.T) {
	for _, tc := range []struct {
		seq uint64
		hex string
	}{
		{1, "47 " + strings.Repeat("20", 19) + "31"},
		{123456, "47 " + strings.Repeat("20", 14) + "313233343536"},
		{math.MaxUint64, "47 3138343436373434303733373039353531363135"},
	} {
		want := unhex(t, tc.hex)
		got := glimpse.AppendEndOfSnapshot([]byte("x"), tc.seq)
		if got[0] != 'x' || !bytes.Equal(got[1:], want) {
			t.Errorf("AppendEndOfSnapshot(%d):\n got % x\nwant x % x", tc.seq, got, want)
		}
		m, err := glimpse.ParseEndOfSnapshot(got[1:])
		if err != nil {
			t.Fatal(err)
		}
		if seq, err := m.Seq(); seq != tc.seq || err != nil {
			t.Errorf("round trip %d -> %d, %v", tc.seq, seq, err)
		}
	}
}

// snapshotStream is a small GLIMPSE session as the server sends it after
// Login Accepted: ITCH messages in Sequenced Data packets, then 'G'.
func snapshotStream(next uint64) []byte {
	h := itch.Header{Locate: 1, Timestamp: 36_000_000_000_000}
	var s []byte
	s = soupbintcp.AppendSequenced(s, (&itch.SystemEventMsg{Header: itch.Header{Timestamp: 1}, EventCode: 'Q'}).Append(nil))
	s = soupbintcp.AppendSequenced(s, (&itch.AddOrderMsg{Header: h, Ref: 11, Side: itch.Buy, Shares: 100, Stock: itch.Alpha8("AAPL"), Price: 1_900_000}).Append(nil))
	s = soupbintcp.AppendSequenced(s, (&itch.AddOrderMsg{Header: h, Ref: 12, Side: itch.Sell, Shares: 200, Stock: itch.Alpha8("AAPL"), Price: 1_900_100}).Append(nil))
	return soupbintcp.AppendSequenced(s, glimpse.AppendEndOfSnapshot(nil, next))
}

// TestSnapshotSession frames a snapshot stream and finds the end of
// snapshot among the ITCH messages, as a recovery client does.
func TestSnapshotSession(t *testing.T) {
	var f soupbintcp.Framer
	var itchMsgs int
	var next uint64
	err := f.Feed(snapshotStream(4242), func(p soupbintcp.Packet) error {
		msg := p.Payload()
		if len(msg) > 0 && msg[0] == glimpse.TypeEndOfSnapshot {
			if itch.Check(msg) != itch.ErrUnknownType {
				t.Fatal("'G' is an ITCH type: the package doc is wrong")
			}
			m, err := glimpse.ParseEndOfSnapshot(msg)
			if err != nil {
				return err
			}
			next, _ = m.Seq()
			return nil
		}
		if err := itch.Check(msg); err != nil {
			return err
		}
		itchMsgs++
		return nil
	})
	if err != nil || itchMsgs != 3 || next != 4242 {
		t.Fatalf("err %v, %d ITCH messages, next %d", err, itchMsgs, next)
	}
}

func TestNoAllocs(t *testing.T) {
	buf := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(500, func() {
		b := glimpse.AppendEndOfSnapshot(buf[:0], 987654321)
		m, err := glimpse.ParseEndOfSnapshot(b)
		if err != nil {
			panic(err)
		}
		if seq, _ := m.Seq(); seq != 987654321 {
			panic("bad sequence")
		}
		if _, err := glimpse.ParseEndOfSnapshot(b[:5]); err == nil {
			panic("short message accepted")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocs per run, want 0", allocs)
	}
}
