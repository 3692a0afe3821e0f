package soupbintcp_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"strings"
	"testing"

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

// Hand-built fields of the login packets (PROTOCOLS.md §5), in hex.
const (
	userHex    = "555345523031"                                  // "USER01"
	passHex    = "50415353202020202020"                          // "PASS" + 6 spaces
	sessHex    = "20202020202031323334"                          // 6 spaces + "1234"
	blankHex   = "20202020202020202020"                          // 10 spaces: current session
	seq1Hex    = "20202020202020202020202020202020202020" + "31" // Num(20) 1
	seq0Hex    = "20202020202020202020202020202020202020" + "30" // Num(20) 0
	seqBigHex  = "2020202020202020" + "313233343536373839303132" // Num(20) 123456789012
	seqMaxHex  = "3138343436373434303733373039353531363135"      // Num(20) 2^64-1, no padding
	hb15000Hex = "3135303030"                                    // Num(5) 15000
)

var (
	user = soupbintcp.Username("USER01")
	pass = soupbintcp.Password("PASS")
	sess = soupbintcp.Session("1234")
)

// addOrder is a real ITCH Add Order message (36 bytes).
func addOrder() []byte {
	h := itch.Header{Locate: 7, Tracking: 1, Timestamp: 34_200_000_000_123}
	return (&itch.AddOrderMsg{Header: h, Ref: 42, Side: itch.Buy, Shares: 100,
		Stock: itch.Alpha8("AAPL"), Price: 1_234_500}).Append(nil)
}

func TestEncodeParse(t *testing.T) {
	msg := addOrder()
	tests := []struct {
		name    string
		hex     string // the whole packet
		enc     []byte // what the encoder produced
		typ     byte
		payload string // hex
	}{
		{"login request 3.00", "002f 4c" + userHex + passHex + sessHex + seq1Hex,
			soupbintcp.LoginRequest{Username: user, Password: pass, Session: sess, Seq: 1}.Append(nil),
			'L', userHex + passHex + sessHex + seq1Hex},
		{"login request 4.1", "0034 4c" + userHex + passHex + sessHex + seq1Hex + hb15000Hex,
			soupbintcp.LoginRequest{Username: user, Password: pass, Session: sess, Seq: 1, HeartbeatTimeout: 15000, V41: true}.Append(nil),
			'L', userHex + passHex + sessHex + seq1Hex + hb15000Hex},
		{"login request current session, new messages only", "002f 4c" + userHex + passHex + blankHex + seq0Hex,
			soupbintcp.LoginRequest{Username: user, Password: pass}.Append(nil), // zero Session is sent as spaces
			'L', userHex + passHex + blankHex + seq0Hex},
		{"login accepted", "001f 41" + sessHex + seqBigHex,
			soupbintcp.LoginAccepted{Session: sess, Seq: 123456789012}.Append(nil),
			'A', sessHex + seqBigHex},
		{"login accepted max sequence", "001f 41" + sessHex + seqMaxHex,
			soupbintcp.LoginAccepted{Session: sess, Seq: math.MaxUint64}.Append(nil),
			'A', sessHex + seqMaxHex},
		{"login rejected not authorized", "0002 4a 41",
			soupbintcp.AppendLoginRejected(nil, soupbintcp.RejectNotAuthorized), 'J', "41"},
		{"login rejected session unavailable", "0002 4a 53",
			soupbintcp.AppendLoginRejected(nil, soupbintcp.RejectSessionUnavailable), 'J', "53"},
		{"sequenced data", "0025 53" + hex.EncodeToString(msg),
			soupbintcp.AppendSequenced(nil, msg), 'S', hex.EncodeToString(msg)},
		{"sequenced data empty", "0001 53", soupbintcp.AppendSequenced(nil, nil), 'S', ""},
		{"unsequenced data", "0004 55 616263", soupbintcp.AppendUnsequenced(nil, []byte("abc")), 'U', "616263"},
		{"server heartbeat", "0001 48", soupbintcp.AppendEmpty(nil, soupbintcp.TypeServerHeartbeat), 'H', ""},
		{"end of session", "0001 5a", soupbintcp.AppendEmpty(nil, soupbintcp.TypeEndOfSession), 'Z', ""},
		{"client heartbeat", "0001 52", soupbintcp.AppendEmpty(nil, soupbintcp.TypeClientHeartbeat), 'R', ""},
		{"logout request", "0001 4f", soupbintcp.AppendEmpty(nil, soupbintcp.TypeLogoutRequest), 'O', ""},
		{"debug", "0006 2b 68656c6c6f", soupbintcp.AppendDebug(nil, "hello"), '+', "68656c6c6f"},
		{"generic", "0003 53 aabb", soupbintcp.AppendPacket(nil, 'S', []byte{0xaa, 0xbb}), 'S', "aabb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := unhex(t, tc.hex)
			if !bytes.Equal(tc.enc, want) {
				t.Fatalf("encoder:\n got % x\nwant % x", tc.enc, want)
			}
			// Parse reads it back from the front of a longer buffer.
			buf := append(bytes.Clone(want), 0x00, 0x05, 'S')
			p, n, err := soupbintcp.Parse(buf)
			if err != nil || n != len(want) {
				t.Fatalf("Parse = %d, %v; want %d, nil", n, err, len(want))
			}
			if len(p) != len(want) || cap(p) != len(want) || &p[0] != &buf[0] {
				t.Fatalf("Packet len %d cap %d does not alias the buffer", len(p), cap(p))
			}
			if p.Type() != tc.typ || int(p.Length()) != len(want)-2 {
				t.Errorf("Type %q Length %d", p.Type(), p.Length())
			}
			if got := hex.EncodeToString(p.Payload()); got != tc.payload {
				t.Errorf("Payload %s, want %s", got, tc.payload)
			}
			if soupbintcp.TypeName(p.Type()) == "Unknown" {
				t.Errorf("TypeName(%q) unknown", p.Type())
			}
		})
	}
}

func TestAppendExtends(t *testing.T) {
	dst := []byte("xy")
	b := soupbintcp.LoginAccepted{Session: sess, Seq: 5}.Append(dst)
	b = soupbintcp.AppendEmpty(b, soupbintcp.TypeServerHeartbeat)
	if string(b[:2]) != "xy" || len(b) != 2+33+3 {
		t.Fatalf("append did not extend dst: % x", b)
	}
}

func TestParseLoginRequest(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want soupbintcp.LoginRequest
		err  error
	}{
		{"3.00", "002f 4c" + userHex + passHex + sessHex + seq1Hex,
			soupbintcp.LoginRequest{Username: user, Password: pass, Session: sess, Seq: 1}, nil},
		{"4.1", "0034 4c" + userHex + passHex + sessHex + seqBigHex + hb15000Hex,
			soupbintcp.LoginRequest{Username: user, Password: pass, Session: sess, Seq: 123456789012, HeartbeatTimeout: 15000, V41: true}, nil},
		{"leading zeros", "002f 4c" + userHex + passHex + sessHex + strings.Repeat("30", 19) + "37",
			soupbintcp.LoginRequest{Username: user, Password: pass, Session: sess, Seq: 7}, nil},
		{"left-justified number", "002f 4c" + userHex + passHex + sessHex + "3132" + strings.Repeat("20", 18),
			soupbintcp.LoginRequest{Username: user, Password: pass, Session: sess, Seq: 12}, nil},
		{"4.1 padded timeout", "0034 4c" + userHex + passHex + sessHex + seq0Hex + "2020203530",
			soupbintcp.LoginRequest{Username: user, Password: pass, Session: sess, HeartbeatTimeout: 50, V41: true}, nil},
		{"blank sequence", "002f 4c" + userHex + passHex + sessHex + strings.Repeat("20", 20),
			soupbintcp.LoginRequest{}, soupbintcp.ErrNumber},
		{"letter in sequence", "002f 4c" + userHex + passHex + sessHex + strings.Repeat("20", 19) + "41",
			soupbintcp.LoginRequest{}, soupbintcp.ErrNumber},
		{"inner space", "002f 4c" + userHex + passHex + sessHex + strings.Repeat("20", 17) + "312032",
			soupbintcp.LoginRequest{}, soupbintcp.ErrNumber},
		{"sequence overflows 64 bits", "002f 4c" + userHex + passHex + sessHex + "3138343436373434303733373039353531363136",
			soupbintcp.LoginRequest{}, soupbintcp.ErrNumber},
		{"bad timeout", "0034 4c" + userHex + passHex + sessHex + seq1Hex + "2d31202020",
			soupbintcp.LoginRequest{}, soupbintcp.ErrNumber},
		{"length 48", "0030 4c" + userHex + passHex + sessHex + seq1Hex + "20",
			soupbintcp.LoginRequest{}, soupbintcp.ErrLength},
		{"length 46", "002e 4c" + userHex + passHex + sessHex + strings.Repeat("20", 18) + "31",
			soupbintcp.LoginRequest{}, soupbintcp.ErrLength},
		{"length field disagrees", "0030 4c" + userHex + passHex + sessHex + seq1Hex,
			soupbintcp.LoginRequest{}, soupbintcp.ErrLength},
		{"wrong type", "002f 41" + userHex + passHex + sessHex + seq1Hex,
			soupbintcp.LoginRequest{}, soupbintcp.ErrType},
		{"header only", "0001 4c", soupbintcp.LoginRequest{}, soupbintcp.ErrLength},
		{"short", "00", soupbintcp.LoginRequest{}, soupbintcp.ErrLength},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := soupbintcp.ParseLoginRequest(soupbintcp.Packet(unhex(t, tc.hex)))
			if err != tc.err || got != tc.want {
				t.Fatalf("ParseLoginRequest = %+v, %v\nwant %+v, %v", got, err, tc.want, tc.err)
			}
		})
	}
}

func TestParseLoginAccepted(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want soupbintcp.LoginAccepted
		err  error
	}{
		{"ok", "001f 41" + sessHex + seq1Hex, soupbintcp.LoginAccepted{Session: sess, Seq: 1}, nil},
		{"right-padded session, zero-padded sequence", "001f 41" + "31323334202020202020" + strings.Repeat("30", 17) + "393939",
			soupbintcp.LoginAccepted{Session: [10]byte([]byte("1234      ")), Seq: 999}, nil},
		{"bad sequence", "001f 41" + sessHex + strings.Repeat("20", 19) + "00", soupbintcp.LoginAccepted{}, soupbintcp.ErrNumber},
		{"long", "0020 41" + sessHex + seq1Hex + "20", soupbintcp.LoginAccepted{}, soupbintcp.ErrLength},
		{"short", "001e 41" + sessHex + strings.Repeat("20", 18) + "31", soupbintcp.LoginAccepted{}, soupbintcp.ErrLength},
		{"wrong type", "001f 53" + sessHex + seq1Hex, soupbintcp.LoginAccepted{}, soupbintcp.ErrType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := soupbintcp.ParseLoginAccepted(soupbintcp.Packet(unhex(t, tc.hex)))
			if err != tc.err || got != tc.want {
				t.Fatalf("ParseLoginAccepted = %+v, %v\nwant %+v, %v", got, err, tc.want, tc.err)
			}
		})
	}
	a, _ := soupbintcp.ParseLoginAccepted(soupbintcp.Packet(unhex(t, "001f 41"+"31323334202020202020"+seq1Hex)))
	if string(soupbintcp.TrimSession(a.Session[:])) != string(soupbintcp.TrimSession(sess[:])) {
		t.Errorf("session names differ after TrimSession: %q vs %q", a.Session, sess)
	}
}

func TestParseLoginRejected(t *testing.T) {
	tests := []struct {
		hex    string
		reason byte
		name   string
		err    error
	}{
		{"0002 4a 41", 'A', "not authorized", nil},
		{"0002 4a 53", 'S', "session not available", nil},
		{"0002 4a 58", 'X', "unknown reason", nil},
		{"0001 4a", 0, "", soupbintcp.ErrLength},
		{"0003 4a 4141", 0, "", soupbintcp.ErrLength},
		{"0002 41 41", 0, "", soupbintcp.ErrType},
	}
	for _, tc := range tests {
		r, err := soupbintcp.ParseLoginRejected(soupbintcp.Packet(unhex(t, tc.hex)))
		if r != tc.reason || err != tc.err {
			t.Errorf("ParseLoginRejected(%s) = %q, %v; want %q, %v", tc.hex, r, err, tc.reason, tc.err)
		}
		if err == nil && soupbintcp.RejectReason(r) != tc.name {
			t.Errorf("RejectReason(%q) = %q, want %q", r, soupbintcp.RejectReason(r), tc.name)
		}
	}
}

func TestLoginRoundTrip(t *testing.T) {
	for _, r := range []soupbintcp.LoginRequest{
		{Username: user, Password: pass, Session: sess, Seq: 0},
		{Username: user, Password: pass, Session: soupbintcp.Session(""), Seq: math.MaxUint64},
		{Username: user, Password: pass, Session: sess, Seq: 10, HeartbeatTimeout: 0, V41: true},
		{Username: user, Password: pass, Session: sess, Seq: 10, HeartbeatTimeout: soupbintcp.MaxHeartbeatTimeout, V41: true},
	} {
		b := r.Append(nil)
		p, n, err := soupbintcp.Parse(b)
		if err != nil || n != len(b) {
			t.Fatalf("Parse: %d %v", n, err)
		}
		back, err := soupbintcp.ParseLoginRequest(p)
		if err != nil || back != r {
			t.Errorf("round trip %+v -> %+v, %v", r, back, err)
		}
	}
}

func TestLoginRequestTimeoutTooLarge(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Append accepted a 6-digit heartbeat timeout")
		}
	}()
	soupbintcp.LoginRequest{V41: true, HeartbeatTimeout: soupbintcp.MaxHeartbeatTimeout + 1}.Append(nil)
}

func TestLoginRequestTimeoutIgnoredWithout41(t *testing.T) {
	b := soupbintcp.LoginRequest{HeartbeatTimeout: 1 << 30}.Append(nil)
	if len(b) != 2+soupbintcp.LenLoginRequest {
		t.Fatalf("3.00 login with a timeout set is %d bytes", len(b))
	}
}

func TestNum(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		err  error
	}{
		{"0", 0, nil},
		{"   42", 42, nil},
		{"42   ", 42, nil},
		{"  42  ", 42, nil},
		{"00000000000000000042", 42, nil},
		{"18446744073709551615", math.MaxUint64, nil},
		{"18446744073709551616", 0, soupbintcp.ErrNumber},
		{"99999999999999999999", 0, soupbintcp.ErrNumber},
		{"000000000000000000000000018446744073709551615", math.MaxUint64, nil},
		{"", 0, soupbintcp.ErrNumber},
		{"     ", 0, soupbintcp.ErrNumber},
		{"4 2", 0, soupbintcp.ErrNumber},
		{"+42", 0, soupbintcp.ErrNumber},
		{"-1", 0, soupbintcp.ErrNumber},
		{"42\x00", 0, soupbintcp.ErrNumber},
		{"\t42", 0, soupbintcp.ErrNumber},
		{"4a", 0, soupbintcp.ErrNumber},
		{"/", 0, soupbintcp.ErrNumber},
		{":", 0, soupbintcp.ErrNumber},
	} {
		got, err := soupbintcp.ParseNum([]byte(tc.in))
		if got != tc.want || err != tc.err {
			t.Errorf("ParseNum(%q) = %d, %v; want %d, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
	for _, tc := range []struct {
		v     uint64
		width int
		want  string
	}{
		{0, 5, "    0"},
		{99999, 5, "99999"},
		{1, 20, "                   1"},
		{math.MaxUint64, 20, "18446744073709551615"},
	} {
		if got := string(soupbintcp.AppendNum(nil, tc.v, tc.width)); got != tc.want {
			t.Errorf("AppendNum(%d, %d) = %q, want %q", tc.v, tc.width, got, tc.want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("AppendNum(100000, 5) did not panic")
		}
	}()
	soupbintcp.AppendNum(nil, 100000, 5)
}

func TestSessionHelpers(t *testing.T) {
	for in, want := range map[string]string{
		"":             "          ",
		"1234":         "      1234",
		"  1234 ":      "      1234",
		"0000012345":   "0000012345",
		"ABCDEFGHIJKL": "ABCDEFGHIJ",
	} {
		if got := soupbintcp.Session(in); string(got[:]) != want {
			t.Errorf("Session(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"":           "",
		"          ": "",
		"      1234": "1234",
		"1234      ": "1234",
		"  12 34   ": "12 34",
	} {
		b := []byte(in)
		got := soupbintcp.TrimSession(b)
		if string(got) != want {
			t.Errorf("TrimSession(%q) = %q, want %q", in, got, want)
		}
		if len(got) > 0 && (&got[0] != &b[strings.Index(in, want)]) {
			t.Errorf("TrimSession(%q) does not alias its input", in)
		}
	}
	if u := soupbintcp.Username("ABCDEFGH"); string(u[:]) != "ABCDEF" {
		t.Errorf("Username = %q", u)
	}
	if u := soupbintcp.Username("AB"); string(u[:]) != "AB    " {
		t.Errorf("Username = %q", u)
	}
	if p := soupbintcp.Password("secret"); string(p[:]) != "secret    " {
		t.Errorf("Password = %q", p)
	}
}

func TestAppendOversize(t *testing.T) {
	// The largest payload fits: Packet Length 0xFFFF, MaxPacket bytes.
	b := soupbintcp.AppendSequenced(nil, make([]byte, soupbintcp.MaxPayload))
	if len(b) != soupbintcp.MaxPacket || b[0] != 0xff || b[1] != 0xff {
		t.Fatalf("max packet: %d bytes, length % x", len(b), b[:2])
	}
	p, n, err := soupbintcp.Parse(b)
	if err != nil || n != soupbintcp.MaxPacket || len(p.Payload()) != soupbintcp.MaxPayload {
		t.Fatalf("Parse(max packet) = %d, %v", n, err)
	}
	for name, f := range map[string]func(){
		"sequenced":   func() { soupbintcp.AppendSequenced(nil, make([]byte, soupbintcp.MaxPayload+1)) },
		"unsequenced": func() { soupbintcp.AppendUnsequenced(nil, make([]byte, soupbintcp.MaxPayload+1)) },
		"debug":       func() { soupbintcp.AppendDebug(nil, strings.Repeat("x", soupbintcp.MaxPayload+1)) },
		"empty login": func() { soupbintcp.AppendEmpty(nil, soupbintcp.TypeLoginAccepted) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func TestParseErrors(t *testing.T) {
	full := soupbintcp.AppendSequenced(nil, addOrder())
	for n := 0; n < len(full); n++ {
		if p, k, err := soupbintcp.Parse(full[:n]); err != soupbintcp.ErrIncomplete || p != nil || k != 0 {
			t.Errorf("Parse(%d of %d bytes) = %v, %d, %v; want ErrIncomplete", n, len(full), p, k, err)
		}
	}
	for _, b := range [][]byte{{0, 0}, {0, 0, 'S'}, {0, 0, 0, 1, 'H'}} {
		if p, k, err := soupbintcp.Parse(b); err != soupbintcp.ErrZeroLength || p != nil || k != 0 {
			t.Errorf("Parse(% x) = %v, %d, %v; want ErrZeroLength", b, p, k, err)
		}
	}
	if !errors.Is(soupbintcp.ErrZeroLength, soupbintcp.ErrZeroLength) || !strings.HasPrefix(soupbintcp.ErrZeroLength.Error(), "soupbintcp: ") {
		t.Error("error prefix")
	}
}

func TestTypeName(t *testing.T) {
	for _, c := range "+AJSHZLURO" {
		if soupbintcp.TypeName(byte(c)) == "Unknown" {
			t.Errorf("TypeName(%q) unknown", c)
		}
	}
	if soupbintcp.TypeName('x') != "Unknown" {
		t.Error("TypeName('x') known")
	}
}
