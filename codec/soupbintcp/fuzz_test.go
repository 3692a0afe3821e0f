package soupbintcp_test

import (
	"bytes"
	"testing"

	"github.com/tickwire/tickwire/codec/soupbintcp"
)

// FuzzFramer feeds a stream to a Framer cut at the split points given (each
// byte of splits is the size of the next chunk, 0 an empty Feed; the rest
// of the stream is one last chunk). The packets delivered, the error and the
// bytes left buffered must equal those of framing the stream whole with
// Parse; packets lying inside a chunk must not be copied; nothing may panic.
func FuzzFramer(f *testing.F) {
	s := testStream()
	f.Add(s, []byte{})
	f.Add(s, []byte{1, 1, 1, 1, 1})
	f.Add(s, []byte{2, 52, 3, 40, 0, 0, 200, 7})
	f.Add(s[:len(s)-1], []byte{100, 100})
	f.Add(append(soupbintcp.AppendEmpty(nil, 'H'), 0, 0, 'S'), []byte{3, 1})
	f.Add(soupbintcp.AppendSequenced(nil, make([]byte, 1000)), []byte{1, 255, 255, 255})
	f.Add([]byte{}, []byte{0})

	f.Fuzz(func(t *testing.T, stream, splits []byte) {
		rest := stream
		var chunks [][]byte
		for _, n := range splits {
			n := min(int(n), len(rest))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		chunks = append(chunks, rest)
		checkSame(t, "fuzz", stream, chunks)
	})
}

// FuzzLogin parses arbitrary bytes as each login packet (parsing must never
// panic, and a packet accepted must re-encode to one that parses to the same
// value), then builds login packets from arbitrary field values:
// parse(append(x)) must give x back, with NUL bytes of the Alpha fields
// sent as spaces. Numbers must round-trip through AppendNum and ParseNum.
func FuzzLogin(f *testing.F) {
	req := soupbintcp.LoginRequest{Username: user, Password: pass, Session: sess, Seq: 1}
	f.Add(req.Append(nil), []byte("USER01"), []byte("PASS"), []byte("1234"), uint64(1), uint32(0), false)
	req.V41, req.HeartbeatTimeout = true, 15000
	f.Add(req.Append(nil), []byte("u"), []byte(""), []byte("   "), uint64(0), uint32(15000), true)
	f.Add(soupbintcp.LoginAccepted{Session: sess, Seq: 123456789012}.Append(nil), []byte{0}, []byte{}, []byte{}, ^uint64(0), uint32(99999), true)
	f.Add(soupbintcp.AppendLoginRejected(nil, soupbintcp.RejectNotAuthorized), []byte{}, []byte{}, []byte{}, uint64(5), uint32(1<<31), false)
	f.Add([]byte("00000000000000000042"), []byte{}, []byte{}, []byte{}, uint64(42), uint32(42), true)

	f.Fuzz(func(t *testing.T, data, username, password, session []byte, seq uint64, hb uint32, v41 bool) {
		// Arbitrary bytes, framed or not.
		for _, p := range []soupbintcp.Packet{soupbintcp.Packet(data), framed(data)} {
			if r, err := soupbintcp.ParseLoginRequest(p); err == nil {
				b := r.Append(nil)
				if len(b) != len(p) {
					t.Fatalf("login request of %d bytes re-encoded to %d", len(p), len(b))
				}
				if back, err := soupbintcp.ParseLoginRequest(b); err != nil || back != normalize(r) {
					t.Fatalf("re-encoded login request: %+v, %v; want %+v", back, err, normalize(r))
				}
			}
			if a, err := soupbintcp.ParseLoginAccepted(p); err == nil {
				b := a.Append(nil)
				if back, err := soupbintcp.ParseLoginAccepted(b); err != nil || back.Seq != a.Seq || len(b) != len(p) {
					t.Fatalf("re-encoded login accepted: %+v, %v; want %+v", back, err, a)
				}
			}
			if r, err := soupbintcp.ParseLoginRejected(p); err == nil {
				if b := soupbintcp.AppendLoginRejected(nil, r); !bytes.Equal(b, p) {
					t.Fatalf("login rejected % x re-encoded to % x", p, b)
				}
			}
		}
		if v, err := soupbintcp.ParseNum(data); err == nil {
			if back, err := soupbintcp.ParseNum(soupbintcp.AppendNum(nil, v, 20)); err != nil || back != v {
				t.Fatalf("ParseNum(%q) = %d does not round-trip: %d, %v", data, v, back, err)
			}
		}

		// Arbitrary field values.
		r := soupbintcp.LoginRequest{Seq: seq, V41: v41}
		copy(r.Username[:], username)
		copy(r.Password[:], password)
		copy(r.Session[:], session)
		if v41 {
			r.HeartbeatTimeout = hb % (soupbintcp.MaxHeartbeatTimeout + 1)
		}
		b := r.Append(nil)
		p, n, err := soupbintcp.Parse(b)
		if err != nil || n != len(b) {
			t.Fatalf("Parse(login request) = %d, %v", n, err)
		}
		back, err := soupbintcp.ParseLoginRequest(p)
		if err != nil || back != normalize(r) {
			t.Fatalf("login request round trip:\n got %+v, %v\nwant %+v", back, err, normalize(r))
		}
		a := soupbintcp.LoginAccepted{Session: r.Session, Seq: seq}
		ab := a.Append(nil)
		if backA, err := soupbintcp.ParseLoginAccepted(ab); err != nil || backA.Seq != seq || backA.Session != normalize(r).Session {
			t.Fatalf("login accepted round trip: %+v, %v", backA, err)
		}
	})
}

// framed returns data behind a Packet Length that matches it (truncated to
// the largest packet), as a Framer would deliver it.
func framed(data []byte) soupbintcp.Packet {
	data = data[:min(len(data), soupbintcp.MaxLength)]
	return soupbintcp.Packet(append([]byte{byte(len(data) >> 8), byte(len(data))}, data...))
}

// normalize returns r as it reads back after Append: NUL bytes in the Alpha
// fields sent as spaces, the heartbeat timeout only with V41.
func normalize(r soupbintcp.LoginRequest) soupbintcp.LoginRequest {
	for _, a := range [][]byte{r.Username[:], r.Password[:], r.Session[:]} {
		for i, c := range a {
			if c == 0 {
				a[i] = ' '
			}
		}
	}
	if !r.V41 {
		r.HeartbeatTimeout = 0
	}
	return r
}
