package natsjs

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tickwire/tickwire/transport"
)

// Source reads what a Publisher wrote: the sessions of the stream, the
// bucket's snapshots, the point of the stream a time or a feed sequence
// falls at. Its methods are safe for concurrent use.
type Source struct {
	NC     *nats.Conn
	JS     jetstream.JetStream
	Prefix string // default "tickwire"
	Stream string // default "TICKWIRE"
	KV     string // default "tickwire_books"
	// Domain is the JetStream domain of the servers holding the stream,
	// for a client of a leaf node or another domain ("": the local one).
	Domain string
}

// apiPrefix is the subject prefix of JetStream's API for s.Domain.
func (s *Source) apiPrefix() string {
	if s.Domain == "" {
		return "$JS.API."
	}
	return "$JS." + s.Domain + ".API."
}

func (s *Source) defaults() { defaultNames(&s.Prefix, &s.Stream, &s.KV) }

// defaultNames fills in the default prefix, stream and bucket names.
func defaultNames(prefix, stream, kv *string) {
	for _, d := range []struct {
		v   *string
		def string
	}{{prefix, "tickwire"}, {stream, "TICKWIRE"}, {kv, "tickwire_books"}} {
		if *d.v == "" {
			*d.v = d.def
		}
	}
}

// directGet makes one JetStream direct get request of stream and returns
// its messages (a batch or multi-last request may have several): none for
// "no results".
func (s *Source) directGet(ctx context.Context, stream string, req map[string]any) ([]*nats.Msg, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	inbox := s.NC.NewRespInbox()
	sub, err := s.NC.SubscribeSync(inbox)
	if err != nil {
		return nil, err
	}
	defer sub.Unsubscribe()
	if err := s.NC.PublishRequest(s.apiPrefix()+"DIRECT.GET."+stream, inbox, body); err != nil {
		return nil, err
	}
	_, batch := req["batch"]
	_, multi := req["multi_last"]
	var out []*nats.Msg
	for {
		m, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			return nil, fmt.Errorf("natsjs: direct get from %s: %w", stream, err)
		}
		switch st := m.Header.Get("Status"); st {
		case "":
			out = append(out, m)
			if !batch && !multi {
				return out, nil
			}
		case "204": // end of the batch
			return out, nil
		case "404":
			return out, nil
		case "413":
			return nil, errTooMany
		default:
			return nil, fmt.Errorf("natsjs: direct get from %s: status %s %s", stream, st, m.Header.Get("Description"))
		}
	}
}

var errTooMany = errors.New("natsjs: too many results")

// LatestSession returns the session of the last message published under
// the prefix.
func (s *Source) LatestSession(ctx context.Context) (string, error) {
	s.defaults()
	ms, err := s.directGet(ctx, s.Stream, map[string]any{"last_by_subj": s.Prefix + ".>"})
	if err != nil {
		return "", err
	}
	if len(ms) == 0 {
		return "", fmt.Errorf("%w %s under %s.>", ErrNoSession, s.Stream, s.Prefix)
	}
	tok := strings.Split(ms[0].Header.Get("Nats-Subject"), ".")
	if len(tok) < 3 {
		return "", fmt.Errorf("%w %s: subject %q", ErrNoSession, s.Stream, ms[0].Header.Get("Nats-Subject"))
	}
	return tok[1], nil
}

// LastFeed returns the session's last frame for every subscriber (a
// Status, the market-wide circuit breaker), nil if none.
func (s *Source) LastFeed(ctx context.Context, session string) (*nats.Msg, error) {
	s.defaults()
	ms, err := s.directGet(ctx, s.Stream, map[string]any{"last_by_subj": Subjects{Prefix: s.Prefix, Session: session}.Feed()})
	if err != nil || len(ms) == 0 {
		return nil, err
	}
	return ms[0], nil
}

// Snapshot is an instrument's snapshot as the bucket holds it.
type Snapshot struct {
	Locate uint16
	Token  string    // the symbol's Token, the key
	Seq    uint64    // the feed sequence it is as of
	Round  time.Time // when its round began (HeaderRound)
	Frames [][]byte  // its parts' frames, size-prefixed, in order
}

// Snapshots returns the bucket's snapshots of the session for the symbols
// (their Tokens; nil: every key), the latest of each or, when upTo is not
// zero, the latest stored at or before upTo. A symbol without one is left
// out.
func (s *Source) Snapshots(ctx context.Context, session string, tokens []string, upTo time.Time) ([]Snapshot, error) {
	s.defaults()
	if tokens == nil {
		kv, err := s.JS.KeyValue(ctx, s.KV)
		if err != nil {
			return nil, fmt.Errorf("natsjs: bucket %s: %w", s.KV, err)
		}
		keys, err := kv.Keys(ctx)
		if err != nil && !errors.Is(err, jetstream.ErrNoKeysFound) {
			return nil, fmt.Errorf("natsjs: bucket %s: %w", s.KV, err)
		}
		for _, k := range keys {
			if !strings.Contains(k, ".") {
				tokens = append(tokens, k)
			}
		}
	}
	var out []Snapshot
	for chunk := 256; len(tokens) > 0; {
		n := min(chunk, len(tokens))
		got, err := s.snapshots(ctx, session, tokens[:n], upTo)
		if errors.Is(err, errTooMany) && n > 1 {
			chunk = max(1, n/2) // many parts: fewer symbols a request
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
		tokens = tokens[n:]
	}
	return out, nil
}

func (s *Source) snapshots(ctx context.Context, session string, tokens []string, upTo time.Time) ([]Snapshot, error) {
	kvp := "$KV." + s.KV + "."
	var subjects []string
	for _, t := range tokens {
		subjects = append(subjects, kvp+t, kvp+t+".*")
	}
	req := map[string]any{"multi_last": subjects}
	if !upTo.IsZero() {
		req["up_to_time"] = upTo.UTC()
	}
	ms, err := s.directGet(ctx, "KV_"+s.KV, req)
	if err != nil {
		return nil, err
	}
	type part struct {
		m     *nats.Msg
		i, of int
	}
	byKey := map[string][]part{}
	for _, m := range ms {
		if op := m.Header.Get("KV-Operation"); op != "" {
			continue // a deleted part
		}
		if m.Header.Get(HeaderSession) != session {
			continue // another day's
		}
		key := strings.TrimPrefix(m.Header.Get("Nats-Subject"), kvp)
		tok, _, _ := strings.Cut(key, ".")
		i, of, ok := parsePart(m.Header.Get(HeaderPart))
		if !ok {
			return nil, fmt.Errorf("%w: key %s: part %q", ErrSnapshot, key, m.Header.Get(HeaderPart))
		}
		byKey[tok] = append(byKey[tok], part{m, i, of})
	}
	var out []Snapshot
	for _, tok := range tokens {
		parts := byKey[tok]
		var head *part
		for i := range parts {
			if parts[i].i == 0 {
				head = &parts[i]
			}
		}
		if head == nil {
			continue
		}
		sn := Snapshot{Token: tok}
		seq := head.m.Header.Get(HeaderSeq)
		sn.Seq, _ = strconv.ParseUint(seq, 10, 64)
		loc, err := strconv.ParseUint(head.m.Header.Get(HeaderLocate), 10, 16)
		if err != nil {
			return nil, fmt.Errorf("%w: key %s: locate %q", ErrSnapshot, tok, head.m.Header.Get(HeaderLocate))
		}
		sn.Locate = uint16(loc)
		r, _ := strconv.ParseInt(head.m.Header.Get(HeaderRound), 10, 64)
		sn.Round = time.Unix(0, r)
		sn.Frames = make([][]byte, head.of)
		for _, p := range parts {
			if p.of != head.of || p.m.Header.Get(HeaderSeq) != seq || p.i >= head.of {
				continue // from another snapshot: this one is being replaced
			}
			sn.Frames[p.i] = p.m.Data
		}
		if slices.ContainsFunc(sn.Frames, func(f []byte) bool { return f == nil }) {
			// Mid-replacement: the previous round's parts are gone and the
			// new ones not all in. Its updates come from the stream: the
			// instrument starts from an older point, or the stream's start.
			continue
		}
		out = append(out, sn)
	}
	return out, nil
}

// parsePart reads HeaderPart's "i/n".
func parsePart(s string) (i, n int, ok bool) {
	a, b, found := strings.Cut(s, "/")
	if !found {
		return 0, 0, false
	}
	i, e1 := strconv.Atoi(a)
	n, e2 := strconv.Atoi(b)
	return i, n, e1 == nil && e2 == nil && i >= 0 && i < n && n <= 1<<16
}

// Find returns when (on the NATS server's clock) the first update of the
// session for which reached(feed sequence, exchange timestamp) holds was
// stored, with a binary search of the stream (reached must be monotonic:
// false, then true); zero if none does yet.
func (s *Source) Find(ctx context.Context, session string, reached func(seq, ts uint64) bool) (time.Time, error) {
	s.defaults()
	st, err := s.JS.Stream(ctx, s.Stream)
	if err != nil {
		return time.Time{}, fmt.Errorf("natsjs: stream %s: %w", s.Stream, err)
	}
	info := st.CachedInfo()
	subj := Subjects{Prefix: s.Prefix, Session: session}.All()
	lo, hi := info.State.FirstSeq, info.State.LastSeq+1
	var found time.Time
	for lo < hi {
		mid := lo + (hi-lo)/2
		// The first update at or after mid (feed frames carry no sequence).
		var m *nats.Msg
		at := mid
		for m == nil && at < hi {
			ms, err := s.directGet(ctx, s.Stream, map[string]any{"seq": at, "next_by_subj": subj})
			if err != nil {
				return time.Time{}, err
			}
			if len(ms) == 0 {
				break
			}
			seq, _ := strconv.ParseUint(ms[0].Header.Get("Nats-Sequence"), 10, 64)
			if ms[0].Header.Get(HeaderSeq) != "" {
				m = ms[0]
			}
			at = seq + 1
		}
		if m == nil {
			hi = mid
			continue
		}
		seq, _ := strconv.ParseUint(m.Header.Get(HeaderSeq), 10, 64)
		ts, _ := strconv.ParseUint(m.Header.Get(HeaderTime), 10, 64)
		if reached(seq, ts) {
			found, _ = time.Parse(time.RFC3339Nano, m.Header.Get("Nats-Time-Stamp"))
			hi = mid
		} else {
			lo = at
		}
	}
	return found, nil
}

// OpenFrame validates a frame read from NATS (size-prefixed, the whole
// message) and opens it: a message's bytes are treated as hostile.
func OpenFrame(b []byte) (transport.Frame, error) {
	if len(b) < transport.PrefixSize || int(binary.LittleEndian.Uint32(b)) != len(b)-transport.PrefixSize {
		return transport.Frame{}, fmt.Errorf("%w: a message of %d bytes is not one whole frame", ErrFrame, len(b))
	}
	if len(b)-transport.PrefixSize > transport.MaxFrameSize {
		return transport.Frame{}, fmt.Errorf("%w: %d bytes, above %d", ErrFrame, len(b), transport.MaxFrameSize)
	}
	return transport.Open(b[transport.PrefixSize:])
}
