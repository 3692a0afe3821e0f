package feed

import (
	"strconv"
	"strings"
	"testing"

	"github.com/tickwire/tickwire/codec/moldudp64"
)

// run plays a script on a and returns nothing; steps are separated by ';'.
// A step is "close", "tick @T", or a line letter (A-D, or Z for a line beyond
// MaxLines) followed by a packet and an optional time "@T" (nanoseconds; the
// time stays until changed):
//
//	S x N        data packet carrying S..S+N-1 ("4x2")
//	hb:S         heartbeat announcing S
//	eos:S        end of session announcing S
//	other:SxN    data packet of another session
//	otherbad:SxN data packet of another session, last block truncated
//	bad:SxN      last block truncated
//	few:SxN      header count N, only N-1 blocks
//	extra:SxN    a stray byte after the blocks
//	hbx:S        heartbeat with a stray byte after the header
//	short        10 bytes
func run(t *testing.T, a *Arbiter, script string) {
	t.Helper()
	var now int64
	for step := range strings.SplitSeq(script, ";") {
		f := strings.Fields(step)
		if len(f) == 0 {
			continue
		}
		if at := f[len(f)-1]; strings.HasPrefix(at, "@") {
			n, err := strconv.ParseInt(at[1:], 10, 64)
			if err != nil {
				t.Fatalf("step %q: %v", step, err)
			}
			now = n
			f = f[:len(f)-1]
		}
		switch f[0] {
		case "close":
			a.Close()
			continue
		case "tick":
			a.Tick(now)
			continue
		}
		if len(f) != 2 || len(f[0]) != 1 {
			t.Fatalf("bad step %q", step)
		}
		line := int(f[0][0] - 'A')
		if f[0] == "Z" {
			line = 1<<32 + 1 // beyond MaxLines, and beyond int32
		}
		a.Packet(line, now, scriptPacket(t, f[1]))
	}
}

func scriptPacket(t *testing.T, spec string) moldudp64.Packet {
	t.Helper()
	if spec == "short" {
		return moldudp64.Packet(testSession[:])
	}
	kind, arg, ok := strings.Cut(spec, ":")
	if !ok {
		kind, arg = "data", spec
	}
	var seq uint64
	var count int
	var err error
	if s, n, isData := strings.Cut(arg, "x"); isData {
		seq, err = strconv.ParseUint(s, 10, 64)
		if err == nil {
			count, err = strconv.Atoi(n)
		}
	} else {
		seq, err = strconv.ParseUint(arg, 10, 64)
	}
	if err != nil {
		t.Fatalf("bad packet %q: %v", spec, err)
	}
	switch kind {
	case "data":
		return buildPacket(seq, count)
	case "hb":
		return heartbeat(testSession, seq, moldudp64.Heartbeat)
	case "eos":
		return heartbeat(testSession, seq, moldudp64.EndOfSession)
	case "hbx":
		return append(heartbeat(testSession, seq, moldudp64.Heartbeat), 0)
	case "other":
		return appendPacket(nil, otherSession, seq, count, pad3)
	case "bad":
		p := buildPacket(seq, count)
		return p[:len(p)-1]
	case "few":
		p := buildPacket(seq, count)
		return p[:len(p)-(2+testMsgLen)]
	case "otherbad":
		p := appendPacket(nil, otherSession, seq, count, pad3)
		return p[:len(p)-1]
	case "extra":
		return append(buildPacket(seq, count), 0)
	}
	t.Fatalf("bad packet %q", spec)
	return nil
}

func TestArbiter(t *testing.T) {
	tests := []struct {
		name   string
		opts   []Option
		script string
		want   string
		check  func(t *testing.T, s Stats)
	}{
		{
			name:   "in order single line",
			script: "A 1x3; A 4x2; A 6x5",
			want:   "1-10",
			check: func(t *testing.T, s Stats) {
				expect(t, "packets", s.Packets, 3)
				expect(t, "A messages", s.Lines[0].Messages, 10)
				expect(t, "held", s.Held, 0)
				expect(t, "duplicates", s.Duplicates, 0)
			},
		},
		{
			name:   "A and B identical interleaved",
			script: "A 1x3; B 1x3; A 4x3; B 4x3; B 7x1; A 7x1",
			want:   "1-7",
			check: func(t *testing.T, s Stats) {
				expect(t, "A messages", s.Lines[0].Messages, 6)
				expect(t, "B messages", s.Lines[1].Messages, 1)
				expect(t, "A duplicates", s.Lines[0].Duplicates, 1)
				expect(t, "B duplicates", s.Lines[1].Duplicates, 2)
				expect(t, "held", s.Held, 0)
			},
		},
		{
			name:   "B lagging by several packets",
			script: "A 1x2; A 3x2; A 5x2; A 7x2; B 1x2; A 9x2; B 3x2; B 5x2; B 7x2; B 9x2",
			want:   "1-10",
			check: func(t *testing.T, s Stats) {
				expect(t, "B duplicates", s.Lines[1].Duplicates, 5)
				expect(t, "B messages", s.Lines[1].Messages, 0)
				expect(t, "held", s.Held, 0)
			},
		},
		{
			name:   "loss on A filled by lagging B",
			script: "A 1x2; A 5x2; A 7x2; B 1x2; B 3x2; B 5x2; B 7x2; A 9x1",
			want:   "1-9",
			check: func(t *testing.T, s Stats) {
				expect(t, "held", s.Held, 2)
				expect(t, "max held", s.MaxHeldPackets, 2)
				expect(t, "A messages", s.Lines[0].Messages, 7)
				expect(t, "B messages", s.Lines[1].Messages, 2)
				expect(t, "B duplicates", s.Lines[1].Duplicates, 3)
				expect(t, "gaps", s.Gaps, 0)
				expect(t, "held now", s.HeldPackets, 0)
				expect(t, "held bytes now", s.HeldBytes, 0)
			},
		},
		{
			name:   "loss on both lines is a gap after the hold time",
			script: "A 1x2 @0; B 1x2; A 5x2 @10; B 5x2 @20; A 7x1 @100000010; B 7x1 @100000011",
			want:   "1-2 gap 3+2 5-7",
			check: func(t *testing.T, s Stats) {
				expect(t, "gaps", s.Gaps, 1)
				expect(t, "gap messages", s.GapMessages, 2)
				expect(t, "held", s.Held, 2)
				expect(t, "duplicates", s.Duplicates, 3)
			},
		},
		{
			name:   "reorder within a line",
			script: "A 1x2; A 5x2; A 3x2; A 8x1; A 7x1; A 9x1",
			want:   "1-9",
			check: func(t *testing.T, s Stats) {
				expect(t, "held", s.Held, 2)
				expect(t, "gaps", s.Gaps, 0)
			},
		},
		{
			name:   "partial overlaps are kept and trimmed",
			script: "A 1x2; A 6x4; B 8x5; B 4x4; A 3x1",
			want:   "1-12",
			check: func(t *testing.T, s Stats) {
				expect(t, "held", s.Held, 3)
				expect(t, "trimmed", s.Trimmed, 2)
				expect(t, "duplicates", s.Duplicates, 0)
				expect(t, "A messages", s.Lines[0].Messages, 1+2+2)
				expect(t, "B messages", s.Lines[1].Messages, 4+3)
			},
		},
		{
			name:   "held packet inside a newer one is dropped",
			script: "A 1x2; A 6x2; B 5x5; A 8x2; B 3x2",
			want:   "1-9",
			check: func(t *testing.T, s Stats) {
				expect(t, "held", s.Held, 2)
				expect(t, "A duplicates", s.Lines[0].Duplicates, 2)
				expect(t, "B messages", s.Lines[1].Messages, 7)
			},
		},
		{
			name:   "held packet inside a delivered one is dropped",
			script: "A 1x2; A 5x2; A 8x2; B 3x6; A 3x2",
			want:   "1-9",
			check: func(t *testing.T, s Stats) {
				expect(t, "A duplicates", s.Lines[0].Duplicates, 2)
				expect(t, "A messages", s.Lines[0].Messages, 2+1)
				expect(t, "B messages", s.Lines[1].Messages, 6)
				expect(t, "trimmed", s.Trimmed, 1)
			},
		},
		{
			name:   "copies of held packets are duplicates",
			script: "A 1x1; A 3x2; B 3x2; B 4x1; A 5x2; B 6x1; B 2x1; B 5x2",
			want:   "1-6",
			check: func(t *testing.T, s Stats) {
				expect(t, "held", s.Held, 2)
				expect(t, "duplicates", s.Duplicates, 4)
				expect(t, "max held", s.MaxHeldPackets, 2)
			},
		},
		{
			name:   "retransmission on the same line",
			script: "A 1x3; A 1x3; A 2x3; A 5x1",
			want:   "1-5",
			check: func(t *testing.T, s Stats) {
				expect(t, "duplicates", s.Duplicates, 1)
				expect(t, "trimmed", s.Trimmed, 1)
			},
		},
		{
			name:   "heartbeat reveals a lost tail filled later",
			script: "A 1x3; A hb:6; B 4x2; B hb:6; close",
			want:   "1-5",
			check: func(t *testing.T, s Stats) {
				expect(t, "heartbeats", s.Heartbeats, 2)
				expect(t, "A heartbeats", s.Lines[0].Heartbeats, 1)
				expect(t, "gaps", s.Gaps, 0)
			},
		},
		{
			name:   "lost tail never filled is a gap at close",
			script: "A 1x3; A hb:6; B hb:6; A hb:6 @50000000; close",
			want:   "1-3 gap 4+2",
		},
		{
			name:   "lost tail is a gap after the hold time",
			script: "A 1x3 @0; A hb:6 @1000; B hb:7 @2000; A hb:7 @3000; tick @100001000; tick @100001001; tick @100002000; tick @100002001; A 7x1",
			want:   "1-3 gap 4+2 gap 6+1 7",
		},
		{
			name:   "tail and held packets given up each at its time",
			script: "A 1x1 @0; A hb:4 @0; A 6x1 @50; tick @100000001; tick @100000050; tick @100000051",
			want:   "1 gap 2+2 gap 4+2 6",
		},
		{
			name:   "stale heartbeat reveals nothing",
			script: "A 1x5; B hb:3; B hb:6; close",
			want:   "1-5",
		},
		{
			name:   "end of session",
			script: "A 1x3; A eos:4; B 1x3; B eos:4; close",
			want:   "1-3",
			check: func(t *testing.T, s Stats) {
				expect(t, "end of session", s.EndOfSession, 2)
				expect(t, "B end of session", s.Lines[1].EndOfSession, 1)
			},
		},
		{
			name:   "end of session reveals a lost tail",
			script: "A 1x3; A eos:6; close",
			want:   "1-3 gap 4+2",
		},
		{
			name:   "other session dropped",
			script: "A 1x3; B other:4x2; A 4x2; B other:1x9",
			want:   "1-5",
			check: func(t *testing.T, s Stats) {
				expect(t, "other session", s.OtherSession, 2)
				expect(t, "B other session", s.Lines[1].OtherSession, 2)
			},
		},
		{
			name:   "session fixed by option",
			opts:   []Option{WithSession(otherSession)},
			script: "A 1x3; B other:1x3",
			want:   "1-3",
			check: func(t *testing.T, s Stats) {
				expect(t, "other session", s.OtherSession, 1)
			},
		},
		{
			name:   "malformed packet filled by the other line",
			script: "A 1x2; A bad:3x2; B 3x2; A 5x1; B few:5x2; A extra:6x1; B 6x1; A 0x1; A 18446744073709551615x2",
			want:   "1-6",
			check: func(t *testing.T, s Stats) {
				expect(t, "malformed", s.Malformed, 5)
				expect(t, "A malformed", s.Lines[0].Malformed, 4)
				expect(t, "held", s.Held, 0)
			},
		},
		{
			name:   "malformed first packet does not fix the session",
			script: "B short; A hbx:5; B otherbad:1x2; A 1x2; B other:1x2",
			want:   "1-2",
			check: func(t *testing.T, s Stats) {
				expect(t, "malformed", s.Malformed, 3)
				expect(t, "other session", s.OtherSession, 1)
			},
		},
		{
			name:   "hold limit by packets",
			opts:   []Option{WithHoldPackets(2)},
			script: "A 1x1; A 3x1; A 4x1; A 5x1; A 2x1",
			want:   "1 gap 2+1 3-5",
			check: func(t *testing.T, s Stats) {
				expect(t, "max held", s.MaxHeldPackets, 2)
				expect(t, "held", s.Held, 2)
				expect(t, "duplicates", s.Duplicates, 1)
			},
		},
		{
			name:   "hold limit gives up only the hole below the new packet",
			opts:   []Option{WithHoldPackets(1)},
			script: "A 1x1; A 5x1; A 3x1; close",
			want:   "1 gap 2+1 3 gap 4+1 5",
		},
		{
			name:   "hold limit gives up holes until the packet fits",
			opts:   []Option{WithHoldPackets(2)},
			script: "A 1x1; A 3x1; A 5x1; A 7x1",
			want:   "1 gap 2+1 3",
			check: func(t *testing.T, s Stats) {
				expect(t, "held now", s.HeldPackets, 2)
			},
		},
		{
			name:   "hold limit by bytes",
			opts:   []Option{WithHoldBytes(2 * packetLen(1))},
			script: "A 1x1; A 3x1; A 4x1; A 5x1; close",
			want:   "1 gap 2+1 3-5",
			check: func(t *testing.T, s Stats) {
				expect(t, "max held bytes", s.MaxHeldBytes, 2*packetLen(1))
			},
		},
		{
			name:   "packet larger than the byte limit is never held",
			opts:   []Option{WithHoldBytes(packetLen(2))},
			script: "A 1x1; A 3x3; A 6x1",
			want:   "1 gap 2+1 3-6",
			check: func(t *testing.T, s Stats) {
				expect(t, "held", s.Held, 0)
			},
		},
		{
			name:   "packet larger than a hold buffer",
			opts:   []Option{WithPacketSize(packetLen(1))},
			script: "A 1x1; A 5x3; A 3x1; A 4x1; A 2x1",
			want:   "1-7",
			check: func(t *testing.T, s Stats) {
				expect(t, "held", s.Held, 3)
			},
		},
		{
			// Line B, still live, has not gone past the hole: it may be
			// a rogue packet's, and waits until B does or falls silent.
			name:   "a hole waits for every live line to pass it",
			opts:   []Option{WithHoldTime(100), WithQuiet(1000)},
			script: "A 1x1 @0; A 3x1 @10; B 2x1 @50; A 5x1 @60; A 6x1 @160; A 7x1 @161; tick @1000; B 6x1 @1040; tick @1045",
			want:   "1-3 gap 4+1 5-7",
		},
		{
			name:   "hold limit by time",
			opts:   []Option{WithHoldTime(100), WithQuiet(105)},
			script: "A 1x1 @0; A 3x1 @10; B 2x1 @50; A 5x1 @60; A 6x1 @160; A 7x1 @161",
			want:   "1-3 gap 4+1 5-7",
			check: func(t *testing.T, s Stats) {
				expect(t, "gaps", s.Gaps, 1)
			},
		},
		{
			name:   "hold time measured from the oldest held packet",
			opts:   []Option{WithHoldTime(100)},
			script: "A 1x1 @0; A 6x1 @10; A 4x1 @20; A 2x1 @31; tick @132",
			want:   "1-2 gap 3+1 4 gap 5+1 6",
		},
		{
			name:   "no hole given up while next moves",
			opts:   []Option{WithHoldTime(100)},
			script: "A 1x1 @0; A 6x1 @10; A 2x1 @100; tick @111; A 3x1 @190; tick @205; A 4x1 @250; tick @291; tick @351",
			want:   "1-4 gap 5+1 6",
		},
		{
			name:   "time going backwards expires nothing",
			opts:   []Option{WithHoldTime(100)},
			script: "A 1x1 @1000; A 3x1 @2000; A 4x1 @-9223372036854775808; tick @2100; B 2x1 @2100",
			want:   "1-4",
		},
		{
			name:   "no hold time",
			opts:   []Option{WithHoldTime(0)},
			script: "A 1x1 @0; A 3x1 @10; A hb:5 @20; tick @9223372036854775807; B 2x1; close",
			want:   "1-3 gap 4+1",
		},
		{
			name:   "close with pending holes",
			script: "A 1x1; A 3x2; A 7x1; B hb:10; close; A 10x1",
			want:   "1 gap 2+1 3-4 gap 5+2 7 gap 8+2 10",
			check: func(t *testing.T, s Stats) {
				expect(t, "gaps", s.Gaps, 3)
				expect(t, "gap messages", s.GapMessages, 5)
				expect(t, "held now", s.HeldPackets, 0)
			},
		},
		{
			name:   "hold nothing",
			opts:   []Option{WithHoldPackets(0)},
			script: "A 1x1; A 3x1; A hb:6; A 6x1; A 5x1",
			want:   "1 gap 2+1 3 gap 4+2 6",
		},
		{
			name:   "join mid-session",
			opts:   []Option{WithStart(0)},
			script: "B 100x2; A 99x2; A 102x1",
			want:   "100-102",
		},
		{
			name:   "join mid-session at a heartbeat",
			opts:   []Option{WithStart(0)},
			script: "A hb:0; A hb:50; A 51x1; A 50x1",
			want:   "50-51",
		},
		{
			name:   "capture starting mid-session",
			opts:   []Option{WithStart(1)},
			script: "A 100x2 @0; A 102x1 @200000000",
			want:   "gap 1+99 100-102",
		},
		{
			name:   "line beyond MaxLines",
			script: "Z 1x2; Z 4x1; A 3x1",
			want:   "1-4",
			check: func(t *testing.T, s Stats) {
				expect(t, "packets", s.Packets, 3)
				expect(t, "messages", s.Messages, 4)
				expect(t, "held", s.Held, 1)
				expect(t, "A messages", s.Lines[0].Messages, 1)
				expect(t, "B messages", s.Lines[1].Messages, 0)
				expect(t, "B held", s.Lines[1].Held, 0)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{t: t}
			a := NewArbiter(r, tt.opts...)
			run(t, a, tt.script)
			if got := r.String(); got != tt.want {
				t.Errorf("script %q\n got %q\nwant %q", tt.script, got, tt.want)
			}
			s := a.Stats()
			if s.Messages != r.msgs {
				t.Errorf("Stats.Messages %d, handler saw %d", s.Messages, r.msgs)
			}
			if s.Gaps != uint64(len(r.gaps)) {
				t.Errorf("Stats.Gaps %d, handler saw %d", s.Gaps, len(r.gaps))
			}
			if tt.check != nil {
				tt.check(t, s)
			}
		})
	}
}

func expect[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestArbiterNextAndSession(t *testing.T) {
	r := &recorder{t: t}
	a := NewArbiter(r)
	if _, ok := a.Session(); ok {
		t.Fatal("session fixed before any packet")
	}
	expect(t, "next", a.Next(), 1)
	a.Packet(0, 0, buildPacket(1, 4))
	expect(t, "next", a.Next(), 5)
	s, ok := a.Session()
	if !ok || s != testSession {
		t.Fatalf("session %q %v, want %q", s, ok, testSession)
	}
	a.Packet(0, 0, buildPacket(7, 1))
	expect(t, "next while holding", a.Next(), 5)
	a.Close()
	expect(t, "next after close", a.Next(), 8)
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
		want Options
	}{
		{"defaults", nil, Options{Start: 1, HoldPackets: DefaultHoldPackets, HoldBytes: DefaultHoldBytes, HoldTime: DefaultHoldTime, PacketSize: DefaultPacketSize, Quiet: DefaultQuiet}},
		{"negative limits hold nothing", []Option{WithHoldPackets(-1), WithHoldTime(-1), WithPacketSize(-1)},
			Options{Start: 1, HoldTime: -1, PacketSize: DefaultPacketSize, Quiet: DefaultQuiet}},
		{"no bytes holds nothing", []Option{WithHoldBytes(0)}, Options{Start: 1, HoldTime: DefaultHoldTime, PacketSize: DefaultPacketSize, Quiet: DefaultQuiet}},
		{"bounds", []Option{WithHoldPackets(MaxHoldPackets + 1), WithPacketSize(MaxPacketSize + 1), WithStart(0), WithSession(testSession)},
			Options{Session: testSession, SessionSet: true, HoldPackets: MaxHoldPackets, HoldBytes: DefaultHoldBytes, HoldTime: DefaultHoldTime, PacketSize: MaxPacketSize, Quiet: DefaultQuiet}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o Options
			for _, opt := range tt.opts {
				opt(&o)
			}
			o.resolve()
			o.holdPacketsSet, o.holdBytesSet, o.holdTimeSet, o.startSet = false, false, false, false
			if o != tt.want {
				t.Errorf("got %+v\nwant %+v", o, tt.want)
			}
		})
	}
}
