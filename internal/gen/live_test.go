package gen

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tickwire/tickwire/codec/itch"
)

// liveSession is the deep session the Config.Live tests generate: 200,000
// live orders at peak from a million messages over 200 instruments (about
// a second to generate).
func liveSession(seed uint64) Config {
	return Config{Seed: seed, Messages: 1_000_000, Instruments: 200, Live: 200_000}
}

// TestLiveZeroUnchanged pins the bytes of a default session (Live 0): the
// ITCH file, the books and an impaired A/B capture, as the generator wrote
// them before Config.Live existed. Tests and testdata across the tree
// depend on these bytes; a change to the default session must be
// deliberate, with this test's digests and those testdata rewritten.
func TestLiveZeroUnchanged(t *testing.T) {
	cfg := small(7)
	cfg.Lines[0].Loss, cfg.Lines[1].Loss, cfg.Lines[0].Dup, cfg.Lines[1].Reorder = 0.02, 0.02, 0.01, 0.01
	cfg.Noise = 0.01
	s, o := run(t, cfg, false)
	digest := func(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }
	for _, c := range []struct {
		name string
		got  []byte
		want string
	}{
		{"itch", o.itch.Bytes(), "1cc5fcf27eda31bc541d0c480baded30f36727329fa130b91976ef31189fddaf"},
		{"books", o.books.Bytes(), "e7ce3525cd339e49e9a4336e347824568b081db3727846d1100e549b07df4780"},
		{"capture", o.capA.Bytes(), "717e51ebf0d91d027bb9c9e251c54fba400e109ba7b6460866028de42211f22f"},
	} {
		if d := digest(c.got); d != c.want {
			t.Errorf("%s: sha256 %s, want %s", c.name, d, c.want)
		}
	}
	if s.PeakLive < s.LiveOrders || s.PeakLive == 0 {
		t.Errorf("peak %d live orders, %d at the end", s.PeakLive, s.LiveOrders)
	}
}

// liveCounts replays msgs counting live orders (executions and cancels
// that take an order's last shares remove it) and returns the peak, the
// message index at which it was first reached, and the references of the
// orders live at the end.
func liveCounts(t *testing.T, msgs [][]byte) (peak, at int, live map[uint64]uint32) {
	t.Helper()
	live = map[uint64]uint32{}
	reduce := func(ref uint64, n uint32) {
		left, ok := live[ref]
		if !ok || n > left {
			t.Fatalf("reduction of %d shares from order %d (%d, live %v)", n, ref, left, ok)
		}
		if left == n {
			delete(live, ref)
		} else {
			live[ref] = left - n
		}
	}
	for i, m := range msgs {
		switch m[0] {
		case 'A':
			live[itch.AddOrder(m).Ref()] = itch.AddOrder(m).Shares()
		case 'F':
			live[itch.AddOrderMPID(m).Ref()] = itch.AddOrderMPID(m).Shares()
		case 'E':
			reduce(itch.OrderExecuted(m).Ref(), itch.OrderExecuted(m).Shares())
		case 'C':
			reduce(itch.OrderExecutedWithPrice(m).Ref(), itch.OrderExecutedWithPrice(m).Shares())
		case 'X':
			reduce(itch.OrderCancel(m).Ref(), itch.OrderCancel(m).Shares())
		case 'D':
			ref := itch.OrderDelete(m).Ref()
			reduce(ref, live[ref])
		case 'U':
			u := itch.OrderReplace(m)
			reduce(u.OrigRef(), live[u.OrigRef()])
			live[u.NewRef()] = u.Shares()
		}
		if len(live) > peak {
			peak, at = len(live), i
		}
	}
	return peak, at, live
}

// TestLivePeak: a session with Config.Live reaches its target peak (within
// a few percent), early enough that most of the session runs on full
// books, and keeps the default session's locality: references increase,
// most actions hit recent orders, and orders added early rest to the end.
func TestLivePeak(t *testing.T) {
	cfg := liveSession(3)
	var raw bytes.Buffer
	s, err := Generate(cfg, Outputs{ITCH: &raw})
	if err != nil {
		t.Fatal(err)
	}
	msgs := readITCH(t, raw.Bytes())
	peak, at, live := liveCounts(t, msgs)
	t.Logf("%s; peak at message %d", s.String(), at)
	if peak != s.PeakLive || len(live) != s.LiveOrders {
		t.Fatalf("the ITCH file peaks at %d live orders and ends with %d; summary %d and %d", peak, len(live), s.PeakLive, s.LiveOrders)
	}
	if lo, hi := cfg.Live, cfg.Live*103/100; peak < lo || peak > hi {
		t.Fatalf("peak of %d live orders, want %d to %d", peak, lo, hi)
	}
	// The books fill in about Live/0.55 flow messages: by 40% of this
	// session, and they hold from there.
	var firstFull int
	for i, n := 0, 0; i < len(msgs) && firstFull == 0; i++ {
		switch msgs[i][0] {
		case 'A', 'F':
			n++
		case 'D':
			n--
		}
		if n >= cfg.Live*95/100 {
			firstFull = i
		}
	}
	if firstFull == 0 || firstFull > len(msgs)*45/100 || len(live) < cfg.Live*97/100 {
		t.Fatalf("95%% of the target live by message %d of %d; %d live at the end", firstFull, len(msgs), len(live))
	}
	// Locality: references increase; the order an action hits is most
	// often among the latest added, sometimes one resting since the
	// morning; some of the orders live at the end were added in the first
	// tenth of the session.
	var newest, early uint64
	var behind []uint64
	for i, m := range msgs {
		var ref uint64
		switch m[0] {
		case 'A':
			ref = itch.AddOrder(m).Ref()
		case 'F':
			ref = itch.AddOrderMPID(m).Ref()
		case 'U':
			behind = append(behind, newest-itch.OrderReplace(m).OrigRef())
			ref = itch.OrderReplace(m).NewRef()
		case 'D':
			behind = append(behind, newest-itch.OrderDelete(m).Ref())
		case 'X':
			behind = append(behind, newest-itch.OrderCancel(m).Ref())
		}
		if ref != 0 {
			if ref <= newest {
				t.Fatalf("message %d: reference %d after %d", i+1, ref, newest)
			}
			newest = ref
		}
		if i == len(msgs)/10 {
			early = newest
		}
	}
	slices.Sort(behind)
	p50, p99 := behind[len(behind)/2], behind[len(behind)*99/100]
	resting := 0
	for ref := range live {
		if ref <= early {
			resting++
		}
	}
	t.Logf("deletes, cancels and replaces hit orders a median %d references behind the newest (p99 %d); %d orders added in the first tenth rest to the end", p50, p99, resting)
	if p50 > uint64(cfg.Live)/50 || p99 < uint64(cfg.Live) || resting < cfg.Live/20 {
		t.Fatalf("locality: median %d, p99 %d references behind; %d early orders resting", p50, p99, resting)
	}
}

func TestLiveConfig(t *testing.T) {
	for _, live := range []int{-1, 39, 15_001} {
		if _, err := Generate(Config{Messages: 30_000, Instruments: 40, Live: live}, Outputs{}); !errors.Is(err, ErrConfig) {
			t.Errorf("Live %d with 40 instruments and 30,000 messages: %v, want ErrConfig", live, err)
		}
	}
	for _, live := range []int{40, 15_000} {
		s, err := Generate(Config{Messages: 30_000, Instruments: 40, Live: live}, Outputs{})
		if err != nil {
			t.Fatalf("Live %d: %v", live, err)
		}
		t.Logf("Live %d: peak %d", live, s.PeakLive)
	}
	books := filepath.Join(t.TempDir(), "books.jsonl")
	var stdout, stderr bytes.Buffer
	if code := Command([]string{"-messages", "30000", "-instruments", "40", "-live", "10000", "-books", books}, &stdout, &stderr); code != 0 {
		t.Fatalf("-live 10000: exit %d: %s", code, stderr.String())
	}
	if !regexp.MustCompile(`, peak 10[0-9]{3} live orders;`).MatchString(stdout.String()) {
		t.Errorf("-live 10000: summary %q", stdout.String())
	}
	stderr.Reset()
	if code := Command([]string{"-messages", "30000", "-instruments", "40", "-live", "20000", "-books", books}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "live orders 20000") {
		t.Errorf("-live 20000 of 30000 messages: exit %d, stderr %q", code, stderr.String())
	}
}
