package natsjs

import (
	"strconv"
	"strings"
)

// Token returns s as one NATS subject token and key-value key token: the
// bytes A-Z, a-z, 0-9, '-' and '_' as they are, every other byte (a space,
// '.', '*', '>', '=', anything non-printable) as '=' and two upper-case hex
// digits; trailing spaces (ITCH's padding) dropped, and an empty s as "=".
// The mapping is one to one, so two symbols never share a subject.
func Token(s []byte) string {
	for len(s) > 0 && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	if len(s) == 0 {
		return "="
	}
	var b strings.Builder
	b.Grow(len(s))
	const hex = "0123456789ABCDEF"
	for _, c := range s {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
			b.WriteByte(c)
		default:
			b.WriteByte('=')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// Untoken reverses Token; ok is false for a string Token never returns.
func Untoken(t string) (s []byte, ok bool) {
	if t == "=" {
		return nil, true
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
			s = append(s, c)
		case c == '=' && i+2 < len(t):
			v, err := strconv.ParseUint(t[i+1:i+3], 16, 8)
			if err != nil || t[i+1:i+3] != strings.ToUpper(t[i+1:i+3]) {
				return nil, false
			}
			s = append(s, byte(v))
			i += 2
		default:
			return nil, false
		}
	}
	return s, len(s) > 0
}

// feedToken is the subject token of the frames for every subscriber
// (Status, the market-wide circuit breaker). It starts with '_', as no
// ITCH stock (alphanumeric) does.
const feedToken = "_feed"

// Subjects of a prefix and a session (each already a token or tokens).
type Subjects struct {
	Prefix  string
	Session string
}

// Instrument returns the subject of a symbol's updates and in-stream
// snapshots: <prefix>.<session>.<symbol token>.
func (s Subjects) Instrument(symbolToken string) string {
	return s.Prefix + "." + s.Session + "." + symbolToken
}

// Feed returns the subject of the frames for every subscriber.
func (s Subjects) Feed() string { return s.Prefix + "." + s.Session + "." + feedToken }

// All returns the wildcard of every subject of the session.
func (s Subjects) All() string { return s.Prefix + "." + s.Session + ".>" }

// locateToken is the token of an instrument whose symbol is not known (its
// orders came before its Stock Directory): "_" and its locate.
func locateToken(loc uint16) string { return "_" + strconv.Itoa(int(loc)) }
