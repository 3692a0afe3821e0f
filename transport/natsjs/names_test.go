package natsjs

import (
	"bytes"
	"testing"

	"github.com/tickwire/tickwire/transport"
)

func TestToken(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"AAPL    ", "AAPL"}, {"BRK.A", "BRK=2EA"}, {"A*B>C", "A=2AB=3EC"}, {"", "="}, {"   ", "="},
		{"X=Y", "X=3DY"}, {"ZVZZT", "ZVZZT"}, {"a b", "a=20b"},
	} {
		if got := Token([]byte(c.in)); got != c.want {
			t.Errorf("Token(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// FuzzToken: Token is one to one (Untoken reverses it) and its output is
// a single subject and key token.
func FuzzToken(f *testing.F) {
	for _, s := range []string{"AAPL", "BRK.A", "a b", "=", "*>", "\x00\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		tok := Token(s)
		for i := 0; i < len(tok); i++ {
			c := tok[i]
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '=') {
				t.Fatalf("Token(%q) = %q: byte %q is not a token's", s, tok, c)
			}
		}
		back, ok := Untoken(tok)
		if want := bytes.TrimRight(s, " "); !ok || !bytes.Equal(back, want) {
			t.Fatalf("Untoken(Token(%q)) = %q, %v", s, back, ok)
		}
	})
}

// FuzzOpenFrame: a NATS message's bytes, whatever they are, are refused
// with an error or open as a frame whose every message reads.
func FuzzOpenFrame(f *testing.F) {
	e := transport.NewEncoder(1 << 10)
	e.Begin(1)
	e.Heartbeat(7)
	fr, _ := e.Finish()
	f.Add(fr)
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := OpenFrame(b)
		if err != nil {
			return
		}
		var m transport.Message
		for i := range fr.Len() {
			fr.Message(i, &m).Stamp()
		}
	})
}
