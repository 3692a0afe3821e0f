package moldudp64_test

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/codec/moldudp64"
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

// session "SESSION001" in hex.
const sessionHex = "53455353494f4e303031"

var session = moldudp64.MakeSession("SESSION001")

func TestHeader(t *testing.T) {
	// Hand-built from PROTOCOLS.md §4: session, sequence 0x0102030405060708,
	// count 3, then three blocks of 2, 0 and 1 bytes.
	b := unhex(t, sessionHex+" 0102030405060708 0003 0002 aabb 0000 0001 cc")
	p, err := moldudp64.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(p.Session()) != "SESSION001" || cap(p.Session()) != 10 {
		t.Errorf("Session %q cap %d", p.Session(), cap(p.Session()))
	}
	if p.Seq() != 0x0102030405060708 || p.Count() != 3 || p.Messages() != 3 {
		t.Errorf("Seq %#x Count %d Messages %d", p.Seq(), p.Count(), p.Messages())
	}
	if p.IsHeartbeat() || p.IsEndOfSession() {
		t.Error("data packet reported as heartbeat or end of session")
	}
	if p.NextSeq() != 0x0102030405060708+3 {
		t.Errorf("NextSeq %#x", p.NextSeq())
	}

	// The encoders must produce the same bytes.
	enc := moldudp64.AppendHeader(nil, session, 0x0102030405060708, 3)
	enc = moldudp64.AppendBlock(enc, []byte{0xaa, 0xbb})
	enc = moldudp64.AppendBlock(enc, nil)
	enc = moldudp64.AppendBlock(enc, []byte{0xcc})
	if !bytes.Equal(enc, b) {
		t.Errorf("encoders:\n got % x\nwant % x", enc, b)
	}

	// A block aliases the packet and its capacity ends with the block.
	it := p.Blocks()
	blk, ok := it.Next()
	if !ok || &blk[0] != &b[22] || cap(blk) != 2 {
		t.Fatalf("first block %x ok %v cap %d does not alias the packet", blk, ok, cap(blk))
	}
}

func TestHeartbeatAndEndOfSession(t *testing.T) {
	hb := moldudp64.AppendHeartbeat(nil, session, 42)
	if !bytes.Equal(hb, unhex(t, sessionHex+" 000000000000002a 0000")) {
		t.Fatalf("heartbeat % x", hb)
	}
	p, _ := moldudp64.Parse(hb)
	if !p.IsHeartbeat() || p.IsEndOfSession() || p.Messages() != 0 || p.NextSeq() != 42 {
		t.Errorf("heartbeat: hb %v eos %v messages %d next %d", p.IsHeartbeat(), p.IsEndOfSession(), p.Messages(), p.NextSeq())
	}

	eos := moldudp64.AppendEndOfSession(nil, session, 1000)
	if !bytes.Equal(eos, unhex(t, sessionHex+" 00000000000003e8 ffff")) {
		t.Fatalf("end of session % x", eos)
	}
	p, _ = moldudp64.Parse(eos)
	if p.IsHeartbeat() || !p.IsEndOfSession() || p.Count() != 0xffff || p.Messages() != 0 || p.NextSeq() != 1000 {
		t.Errorf("end of session: hb %v eos %v messages %d next %d", p.IsHeartbeat(), p.IsEndOfSession(), p.Messages(), p.NextSeq())
	}
}

func TestParseShort(t *testing.T) {
	full := moldudp64.AppendHeartbeat(nil, session, 1)
	for n := 0; n < moldudp64.HeaderLen; n++ {
		if p, err := moldudp64.Parse(full[:n]); err != moldudp64.ErrShortPacket || p != nil {
			t.Errorf("Parse(%d bytes) = %v, %v; want nil, ErrShortPacket", n, p, err)
		}
		// A Packet converted without Parse still iterates safely.
		it := moldudp64.Packet(full[:n]).Blocks()
		if _, ok := it.Next(); ok || it.Err() != moldudp64.ErrShortPacket {
			t.Errorf("Blocks on %d bytes: ok %v err %v", n, ok, it.Err())
		}
	}
	if _, err := moldudp64.Parse(full); err != nil {
		t.Errorf("Parse(20 bytes) = %v", err)
	}
}

func TestBlocks(t *testing.T) {
	tests := []struct {
		name   string
		hex    string   // the whole packet
		blocks []string // hex of the blocks Next returns
		err    error    // Err after Next returned false
		offset int      // Offset after iteration
	}{
		{"heartbeat", sessionHex + " 0000000000000001 0000", nil, nil, 20},
		{"end of session", sessionHex + " 0000000000000001 ffff", nil, nil, 20},
		{"one block", sessionHex + " 0000000000000001 0001 0003 aabbcc", []string{"aabbcc"}, nil, 25},
		{"three blocks", sessionHex + " 0000000000000001 0003 0001 aa 0002 bbcc 0001 dd",
			[]string{"aa", "bbcc", "dd"}, nil, 30},
		{"zero-length blocks are legal", sessionHex + " 0000000000000001 0002 0000 0000",
			[]string{"", ""}, nil, 24},
		{"zero-length block between others", sessionHex + " 0000000000000001 0003 0001 aa 0000 0001 bb",
			[]string{"aa", "", "bb"}, nil, 28},
		{"truncated block data", sessionHex + " 0000000000000001 0002 0001 aa 0005 bbcc",
			[]string{"aa"}, moldudp64.ErrTruncatedBlock, 23},
		{"truncated first block", sessionHex + " 0000000000000001 0001 ffff 00",
			nil, moldudp64.ErrTruncatedBlock, 20},
		{"truncated length field", sessionHex + " 0000000000000001 0002 0001 aa 00",
			[]string{"aa"}, moldudp64.ErrTruncatedBlock, 23},
		{"fewer blocks than count", sessionHex + " 0000000000000001 0003 0001 aa 0001 bb",
			[]string{"aa", "bb"}, moldudp64.ErrCountMismatch, 26},
		{"count but no blocks", sessionHex + " 0000000000000001 0001",
			nil, moldudp64.ErrCountMismatch, 20},
		{"more blocks than count", sessionHex + " 0000000000000001 0001 0001 aa 0001 bb",
			[]string{"aa"}, moldudp64.ErrCountMismatch, 23},
		{"trailing byte", sessionHex + " 0000000000000001 0001 0001 aa ff",
			[]string{"aa"}, moldudp64.ErrTrailingBytes, 23},
		{"trailing partial block", sessionHex + " 0000000000000001 0001 0001 aa 0005 bb",
			[]string{"aa"}, moldudp64.ErrTrailingBytes, 23},
		{"heartbeat with trailing bytes", sessionHex + " 0000000000000001 0000 00",
			nil, moldudp64.ErrTrailingBytes, 20},
		{"heartbeat with a block", sessionHex + " 0000000000000001 0000 0001 aa",
			nil, moldudp64.ErrCountMismatch, 20},
		{"end of session with a block", sessionHex + " 0000000000000001 ffff 0001 aa",
			nil, moldudp64.ErrCountMismatch, 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := unhex(t, tc.hex)
			p, err := moldudp64.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			it := p.Blocks()
			var got []string
			for blk, ok := it.Next(); ok; blk, ok = it.Next() {
				got = append(got, hex.EncodeToString(blk))
				if it.N() != len(got) {
					t.Fatalf("N() = %d after %d blocks", it.N(), len(got))
				}
				// Mid-iteration, Err looks one block ahead: nil, or the final verdict.
				if err := it.Err(); err != nil && err != tc.err {
					t.Fatalf("Err() after %d blocks = %v, final want %v", len(got), err, tc.err)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.blocks) {
				t.Errorf("blocks %q, want %q", got, tc.blocks)
			}
			if err := it.Err(); err != tc.err {
				t.Errorf("Err() = %v, want %v", err, tc.err)
			}
			if it.Offset() != tc.offset {
				t.Errorf("Offset() = %d, want %d", it.Offset(), tc.offset)
			}
			if _, ok := it.Next(); ok {
				t.Error("Next returned a block after the end")
			}
			if err := p.Validate(); err != tc.err {
				t.Errorf("Validate() = %v, want %v", err, tc.err)
			}
		})
	}
}

func TestSetCount(t *testing.T) {
	b := moldudp64.AppendHeader(nil, session, 7, 0)
	for i := 0; i < 5; i++ {
		b = moldudp64.AppendBlock(b, []byte{byte(i)})
	}
	moldudp64.SetCount(b, 5)
	p, _ := moldudp64.Parse(b)
	if p.Count() != 5 || p.Validate() != nil || p.NextSeq() != 12 {
		t.Fatalf("count %d validate %v next %d", p.Count(), p.Validate(), p.NextSeq())
	}
}

func TestAppendBlockTooLong(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("AppendBlock accepted a 65536-byte message")
		}
	}()
	b := moldudp64.AppendBlock(nil, make([]byte, moldudp64.MaxBlockLen)) // the longest legal block
	if len(b) != 2+moldudp64.MaxBlockLen || b[0] != 0xff || b[1] != 0xff {
		t.Fatalf("max block header % x", b[:2])
	}
	moldudp64.AppendBlock(nil, make([]byte, moldudp64.MaxBlockLen+1))
}

func TestRequest(t *testing.T) {
	r := moldudp64.Request{Session: session, Seq: 0x0102030405060708, Count: 0x0a0b}
	want := unhex(t, sessionHex+" 0102030405060708 0a0b")
	got := r.Append([]byte("x"))
	if !bytes.Equal(got[1:], want) || got[0] != 'x' {
		t.Fatalf("Append:\n got % x\nwant x % x", got, want)
	}
	back, err := moldudp64.ParseRequest(want)
	if err != nil || back != r {
		t.Fatalf("ParseRequest = %+v, %v; want %+v", back, err, r)
	}
	for _, n := range []int{0, 1, 19, 21, 40} {
		b := make([]byte, n)
		if _, err := moldudp64.ParseRequest(b); err != moldudp64.ErrRequestLength {
			t.Errorf("ParseRequest(%d bytes) = %v, want ErrRequestLength", n, err)
		}
	}
}

func TestMakeSession(t *testing.T) {
	for in, want := range map[string]string{
		"":            "          ",
		"ABC":         "ABC       ",
		"0000012345":  "0000012345",
		"01234567890": "0123456789",
	} {
		if got := moldudp64.MakeSession(in); string(got[:]) != want {
			t.Errorf("MakeSession(%q) = %q, want %q", in, got, want)
		}
	}
}

// itchPacket builds a packet of real ITCH messages (add, execute, delete,
// replace, a zero-length block) starting at seq.
func itchPacket(seq uint64) []byte {
	h := itch.Header{Locate: 1, Tracking: 0, Timestamp: 34_200_000_000_000}
	msgs := [][]byte{
		(&itch.AddOrderMsg{Header: h, Ref: 1, Side: itch.Buy, Shares: 100, Stock: itch.Alpha8("AAPL"), Price: 1_234_500}).Append(nil),
		(&itch.OrderExecutedMsg{Header: h, Ref: 1, Shares: 40, Match: 9}).Append(nil),
		(&itch.OrderReplaceMsg{Header: h, OrigRef: 1, NewRef: 2, Shares: 60, Price: 1_234_600}).Append(nil),
		{},
		(&itch.OrderDeleteMsg{Header: h, Ref: 2}).Append(nil),
	}
	b := moldudp64.AppendHeader(nil, session, seq, uint16(len(msgs)))
	for _, m := range msgs {
		b = moldudp64.AppendBlock(b, m)
	}
	return b
}

func TestNoAllocs(t *testing.T) {
	b := itchPacket(1)
	var sum int
	allocs := testing.AllocsPerRun(1000, func() {
		p, err := moldudp64.Parse(b)
		if err != nil {
			panic(err)
		}
		it := p.Blocks()
		for m, ok := it.Next(); ok; m, ok = it.Next() {
			sum += len(m)
		}
		if it.Err() != nil || p.Validate() != nil {
			panic("valid packet rejected")
		}
		// The error paths allocate nothing either.
		bad := moldudp64.Packet(b[:len(b)-1]).Blocks()
		for _, ok := bad.Next(); ok; _, ok = bad.Next() {
		}
		if bad.Err() == nil {
			panic("truncated packet accepted")
		}
		r, _ := moldudp64.ParseRequest(b[:moldudp64.RequestLen])
		sum += int(r.Count)
	})
	if allocs != 0 {
		t.Errorf("Parse + Blocks iteration: %v allocs per run, want 0", allocs)
	}
	if sum == 0 {
		t.Error("nothing iterated")
	}
}
