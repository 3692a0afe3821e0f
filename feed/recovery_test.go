package feed

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/tickwire/tickwire/codec/moldudp64"
)

// fakeRequester records the requests it is asked to send, each as
// "seq+count@now", now being the script time of the step that sent it.
type fakeRequester struct {
	t   testing.TB
	now int64
	log []string
}

func (f *fakeRequester) Request(r moldudp64.Request) {
	if r.Session != testSession {
		f.t.Errorf("request for session %q", r.Session)
	}
	if r.Count == 0 || r.Count > MaxRequestCount {
		f.t.Errorf("request %d+%d", r.Seq, r.Count)
	}
	f.log = append(f.log, fmt.Sprintf("%d+%d@%d", r.Seq, r.Count, f.now))
}

// runRec plays a script like run, one step at a time so that the requester
// knows the time of each step; the time of a step stays until changed.
func runRec(t *testing.T, a *Arbiter, f *fakeRequester, script string) {
	t.Helper()
	for step := range strings.SplitSeq(script, ";") {
		fl := strings.Fields(step)
		if len(fl) == 0 {
			continue
		}
		if at := fl[len(fl)-1]; strings.HasPrefix(at, "@") {
			n, err := strconv.ParseInt(at[1:], 10, 64)
			if err != nil {
				t.Fatalf("step %q: %v", step, err)
			}
			f.now = n
		} else {
			step += " @" + strconv.FormatInt(f.now, 10)
		}
		run(t, a, step)
	}
}

// testRecovery is the configuration of the table tests: short times, small
// requests, two in flight.
var testRecovery = RecoveryConfig{FillTime: 100, MaxOutstanding: 2, MaxCount: 10, Timeout: 1000, Backoff: 2, MaxRetries: 2, MaxAge: 100_000}

func TestRecovery(t *testing.T) {
	with := func(change func(c *RecoveryConfig)) RecoveryConfig {
		c := testRecovery
		change(&c)
		return c
	}
	tests := []struct {
		name   string
		cfg    RecoveryConfig
		opts   []Option
		script string // line C carries the answers
		want   string
		reqs   string
		check  func(t *testing.T, s Stats)
	}{
		{
			name:   "hole filled by the other line before FillTime",
			script: "A 1x2 @0; A 5x2 @10; B 3x2 @109; tick @5000",
			want:   "1-6",
			check: func(t *testing.T, s Stats) {
				expect(t, "requests", s.Requests, 0)
				expect(t, "recovered", s.Recovered, 0)
			},
		},
		{
			name:   "hole requested after FillTime and answered",
			script: "A 1x2 @0; A 5x2 @10; tick @109; tick @110; C 3x2 @200; tick @5000",
			want:   "1-6",
			reqs:   "3+2@110",
			check: func(t *testing.T, s Stats) {
				expect(t, "requests", s.Requests, 1)
				expect(t, "requested messages", s.RequestedMessages, 2)
				expect(t, "recovered", s.Recovered, 2)
				expect(t, "C messages", s.Lines[2].Messages, 2)
				expect(t, "outstanding", s.Outstanding, 0)
				expect(t, "retries", s.Retries, 0)
			},
		},
		{
			name:   "the next packet runs the timers",
			script: "A 1x2 @0; A 5x2 @10; A 7x1 @110; C 3x2 @200",
			want:   "1-7",
			reqs:   "3+2@110",
		},
		{
			name:   "big hole split by MaxCount, MaxOutstanding in flight",
			script: "A 1x1 @0; A 50x1; tick @100; C 2x10 @200; C 12x10 @300; C 32x10 @400; C 22x10 @500; C 42x8 @600",
			want:   "1-50",
			reqs:   "2+10@100 12+10@100 22+10@200 32+10@300 42+8@400",
			check: func(t *testing.T, s Stats) {
				expect(t, "requests", s.Requests, 5)
				expect(t, "requested messages", s.RequestedMessages, 48)
				expect(t, "recovered", s.Recovered, 48)
				expect(t, "max held", s.MaxHeldPackets, 2)
			},
		},
		{
			name:   "partial answer: the rest is requested at once",
			script: "A 1x1 @0; A 12x1; tick @100; C 2x4 @200; C 6x3 @300; C 9x3 @400",
			want:   "1-12",
			reqs:   "2+10@100 6+6@200 9+3@300",
			check: func(t *testing.T, s Stats) {
				expect(t, "retries", s.Retries, 0)
				expect(t, "recovered", s.Recovered, 10)
			},
		},
		{
			name:   "timeout: retried with backoff, then given up",
			script: "A 1x1 @0; A 5x1; tick @100; tick @1099; tick @1100; tick @3099; tick @3100; tick @7099; tick @7100; A 6x2 @7200",
			want:   "1 gap 2+3 5-7",
			reqs:   "2+3@100 2+3@1100 2+3@3100",
			check: func(t *testing.T, s Stats) {
				expect(t, "retries", s.Retries, 2)
				expect(t, "given up", s.GivenUp, 1)
				expect(t, "gaps", s.Gaps, 1)
				expect(t, "outstanding", s.Outstanding, 0)
			},
		},
		{
			name:   "answer after a retry",
			script: "A 1x1 @0; A 5x1; tick @100; tick @1100; C 2x3 @1500; tick @9000",
			want:   "1-5",
			reqs:   "2+3@100 2+3@1100",
			check: func(t *testing.T, s Stats) {
				expect(t, "retries", s.Retries, 1)
				expect(t, "recovered", s.Recovered, 3)
			},
		},
		{
			name:   "no retry",
			cfg:    with(func(c *RecoveryConfig) { c.MaxRetries = 0 }),
			script: "A 1x1 @0; A 5x1; tick @100; tick @1100",
			want:   "1 gap 2+3 5",
			reqs:   "2+3@100",
		},
		{
			name:   "backoff bounded by MaxAge",
			cfg:    with(func(c *RecoveryConfig) { c.Backoff = 1e300; c.MaxRetries = 10; c.MaxAge = 5000 }),
			script: "A 1x1 @0; A 5x1; tick @100; tick @1100; tick @4999; tick @5000; tick @5001",
			want:   "1 gap 2+3 5",
			reqs:   "2+3@100 2+3@1100",
		},
		{
			name:   "a hole older than MaxAge is given up",
			cfg:    with(func(c *RecoveryConfig) { c.MaxAge = 500 }),
			script: "A 1x1 @0; A 5x1; tick @100; tick @500; tick @501; A 6x1 @600",
			want:   "1 gap 2+3 5-6",
			reqs:   "2+3@100",
			check: func(t *testing.T, s Stats) {
				expect(t, "given up", s.GivenUp, 1)
				expect(t, "outstanding", s.Outstanding, 0)
			},
		},
		{
			name:   "a hole older than MaxAge is given up before it is requested",
			cfg:    with(func(c *RecoveryConfig) { c.MaxAge = 50 }),
			script: "A 1x1 @0; A 5x1; tick @51",
			want:   "1 gap 2+3 5",
		},
		{
			name:   "heartbeat reveals a lost tail: requested",
			script: "A 1x3 @0; A hb:6 @10; B hb:6 @20; tick @110; C 4x2 @200",
			want:   "1-5",
			reqs:   "4+2@110",
		},
		{
			name:   "end of session reveals a lost tail: requested",
			script: "A 1x3 @0; A eos:6 @10; tick @110; C 4x1 @200; C 5x1 @300",
			want:   "1-5",
			reqs:   "4+2@110 5+1@200",
		},
		{
			name:   "tail never answered is given up, the feed goes on",
			cfg:    with(func(c *RecoveryConfig) { c.MaxRetries = 0 }),
			script: "A 1x3 @0; A hb:6 @10; tick @110; tick @1110; A 6x1 @1200",
			want:   "1-3 gap 4+2 6",
			reqs:   "4+2@110",
		},
		{
			name:   "duplicate answers are dropped",
			script: "A 1x1 @0; A 5x1; tick @100; C 2x3 @200; C 2x3 @210; B 2x3 @220; C 5x1",
			want:   "1-5",
			reqs:   "2+3@100",
			check: func(t *testing.T, s Stats) {
				expect(t, "duplicates", s.Duplicates, 3)
				expect(t, "recovered", s.Recovered, 3)
			},
		},
		{
			name:   "retry asks only for what is still missing",
			script: "A 1x1 @0; A 12x1; tick @100; B 5x3 @150; tick @1100; C 2x3 @1200; C 8x4 @1300",
			want:   "1-12",
			reqs:   "2+10@100 2+3@1100 8+4@1100",
			check: func(t *testing.T, s Stats) {
				expect(t, "retries", s.Retries, 2)
				expect(t, "recovered", s.Recovered, 10)
			},
		},
		{
			name:   "answers of what arrived already are dropped",
			script: "A 1x1 @0; A 12x1; tick @100; B 5x3 @150; C 2x10 @200",
			want:   "1-12",
			reqs:   "2+10@100",
			check: func(t *testing.T, s Stats) {
				// The answer reaches next: it is delivered whole, and
				// B's held copy of 5-7 is dropped.
				expect(t, "B messages", s.Lines[1].Messages, 0)
				expect(t, "C messages", s.Lines[2].Messages, 10)
				expect(t, "duplicates", s.Duplicates, 1)
				expect(t, "recovered", s.Recovered, 10)
			},
		},
		{
			name:   "the other line answers the start of a request: the rest is asked for",
			script: "A 1x1 @0; A 12x1; tick @100; B 2x3 @150; B 5x7 @160",
			want:   "1-12",
			reqs:   "2+10@100 5+7@150",
		},
		{
			name:   "a hole filled in part waits for FillTime from when it was seen",
			script: "A 1x1 @0; A 9x1 @50; B 4x2 @60; tick @149; tick @150; C 2x2 @200; C 6x3 @210",
			want:   "1-9",
			reqs:   "2+2@150 6+3@150",
		},
		{
			name:   "a hole given up waits for the holes below it",
			cfg:    with(func(c *RecoveryConfig) { c.MaxRetries = 0 }),
			script: "A 1x1 @0; A 4x1; A 7x1; tick @100; C 2x1 @1050; tick @1100; C 3x1 @1200",
			want:   "1-4 gap 5+2 7",
			reqs:   "2+2@100 5+2@100 3+1@1050",
			check: func(t *testing.T, s Stats) {
				expect(t, "given up", s.GivenUp, 1)
			},
		},
		{
			name:   "a hole given up is still filled if its messages arrive in time",
			cfg:    with(func(c *RecoveryConfig) { c.MaxRetries = 0 }),
			script: "A 1x1 @0; A 4x1; A 7x1; tick @100; C 2x1 @1050; tick @1100; B 5x1 @1150; C 3x1 @1200",
			want:   "1-5 gap 6+1 7",
			reqs:   "2+2@100 5+2@100 3+1@1050",
		},
		{
			name:   "MaxOutstanding: the lowest holes first, the others when a slot frees",
			script: "A 1x1 @0; A 3x1; A 5x1; A 7x1; tick @100; C 4x1 @200; C 2x1 @300; C 6x1 @400",
			want:   "1-7",
			reqs:   "2+1@100 4+1@100 6+1@200",
		},
		{
			name:   "pool overflow gives up the lowest hole",
			opts:   []Option{WithHoldPackets(2)},
			script: "A 1x1 @0; A 3x1; A 5x1; A 7x1; tick @100; C 4x1 @200; C 6x1 @300",
			want:   "1 gap 2+1 3-7",
			reqs:   "4+1@100 6+1@100",
			check: func(t *testing.T, s Stats) {
				expect(t, "overflow", s.RecoveryOverflow, 1)
				expect(t, "given up", s.GivenUp, 0)
				expect(t, "gaps", s.Gaps, 1)
			},
		},
		{
			name:   "pool overflow while a request is in flight",
			opts:   []Option{WithHoldPackets(1)},
			script: "A 1x1 @0; A 3x1; tick @100; A 5x1 @150; C 2x1 @200; tick @300",
			want:   "1 gap 2+1 3",
			reqs:   "2+1@100 4+1@300",
			check: func(t *testing.T, s Stats) {
				expect(t, "overflow", s.RecoveryOverflow, 1)
				expect(t, "outstanding", s.Outstanding, 1)
			},
		},
		{
			name:   "FillTime negative: requested at once",
			cfg:    with(func(c *RecoveryConfig) { c.FillTime = -1 }),
			script: "A 1x1 @0; A 3x1; A 4x1; C 2x1",
			want:   "1-4",
			reqs:   "2+1@0",
		},
		{
			name:   "HoldTime is ignored",
			opts:   []Option{WithHoldTime(10)},
			script: "A 1x1 @0; A 3x1; tick @99; C 2x1",
			want:   "1-3",
		},
		{
			name:   "close forgets the requests",
			script: "A 1x1 @0; A 5x1; A hb:8; tick @100; close; tick @9000; A 8x1",
			want:   "1 gap 2+3 5 gap 6+2 8",
			reqs:   "2+3@100 6+2@100",
			check: func(t *testing.T, s Stats) {
				expect(t, "outstanding", s.Outstanding, 0)
			},
		},
		{
			name:   "join mid-session",
			opts:   []Option{WithStart(0)},
			script: "A hb:50 @0; A 52x1; tick @100; C 50x2",
			want:   "50-52",
			reqs:   "50+2@100",
		},
		{
			name:   "join mid-session on data",
			opts:   []Option{WithStart(0)},
			script: "A 50x1 @0; A 52x1; tick @100; C 51x1",
			want:   "50-52",
			reqs:   "51+1@100",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			if cfg == (RecoveryConfig{}) {
				cfg = testRecovery
			}
			r := &recorder{t: t}
			f := &fakeRequester{t: t}
			a := NewArbiter(r, append([]Option{WithRecovery(f, cfg)}, tt.opts...)...)
			runRec(t, a, f, tt.script)
			if got := r.String(); got != tt.want {
				t.Errorf("script %q\n got %q\nwant %q", tt.script, got, tt.want)
			}
			if got := strings.Join(f.log, " "); got != tt.reqs {
				t.Errorf("script %q\n requests %q\n     want %q", tt.script, got, tt.reqs)
			}
			s := a.Stats()
			expect(t, "messages", s.Messages, r.msgs)
			expect(t, "gaps", s.Gaps, uint64(len(r.gaps)))
			expect(t, "requests", s.Requests, uint64(len(f.log)))
			if tt.check != nil {
				tt.check(t, s)
			}
		})
	}
}

func TestRecoveryConfig(t *testing.T) {
	def := DefaultRecoveryConfig()
	tests := []struct {
		name  string
		in    RecoveryConfig
		want  RecoveryConfig
		valid bool
	}{
		{"zero takes the defaults but MaxRetries", RecoveryConfig{}, func() RecoveryConfig { c := def; c.MaxRetries = 0; return c }(), true},
		{"defaults", def, def, true},
		{"kept", testRecovery, testRecovery, true},
		{"negative FillTime requests at once", RecoveryConfig{FillTime: -5, MaxRetries: 1},
			RecoveryConfig{FillTime: 0, MaxOutstanding: DefaultMaxOutstanding, MaxCount: DefaultMaxCount, Timeout: DefaultTimeout, Backoff: DefaultBackoff, MaxRetries: 1, MaxAge: DefaultMaxAge}, true},
		{"too many outstanding", RecoveryConfig{MaxOutstanding: MaxOutstandingLimit + 1},
			RecoveryConfig{FillTime: DefaultFillTime, MaxOutstanding: MaxOutstandingLimit, MaxCount: DefaultMaxCount, Timeout: DefaultTimeout, Backoff: DefaultBackoff, MaxAge: DefaultMaxAge}, false},
		{"negative outstanding", RecoveryConfig{MaxOutstanding: -1},
			RecoveryConfig{FillTime: DefaultFillTime, MaxOutstanding: 1, MaxCount: DefaultMaxCount, Timeout: DefaultTimeout, Backoff: DefaultBackoff, MaxAge: DefaultMaxAge}, false},
		{"count beyond a packet", RecoveryConfig{MaxCount: 0xFFFF},
			RecoveryConfig{FillTime: DefaultFillTime, MaxOutstanding: DefaultMaxOutstanding, MaxCount: MaxRequestCount, Timeout: DefaultTimeout, Backoff: DefaultBackoff, MaxAge: DefaultMaxAge}, false},
		{"backoff below 1", RecoveryConfig{Backoff: 0.5},
			RecoveryConfig{FillTime: DefaultFillTime, MaxOutstanding: DefaultMaxOutstanding, MaxCount: DefaultMaxCount, Timeout: DefaultTimeout, Backoff: 1, MaxAge: DefaultMaxAge}, false},
		{"backoff NaN", RecoveryConfig{Backoff: math.NaN()},
			RecoveryConfig{FillTime: DefaultFillTime, MaxOutstanding: DefaultMaxOutstanding, MaxCount: DefaultMaxCount, Timeout: DefaultTimeout, Backoff: 1, MaxAge: DefaultMaxAge}, false},
		{"negative times and retries", RecoveryConfig{Timeout: -1, MaxAge: -1, MaxRetries: -1},
			RecoveryConfig{FillTime: DefaultFillTime, MaxOutstanding: DefaultMaxOutstanding, MaxCount: DefaultMaxCount, Timeout: DefaultTimeout, Backoff: DefaultBackoff, MaxAge: DefaultMaxAge}, false},
		{"MaxAge not above FillTime", RecoveryConfig{FillTime: 10, MaxAge: 10},
			RecoveryConfig{FillTime: 10, MaxOutstanding: DefaultMaxOutstanding, MaxCount: DefaultMaxCount, Timeout: DefaultTimeout, Backoff: DefaultBackoff, MaxAge: 10}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.in.Validate()
			if (err == nil) != tt.valid || (err != nil && !errors.Is(err, ErrRecoveryConfig)) {
				t.Errorf("Validate() = %v, want valid %v", err, tt.valid)
			}
			var o Options
			WithRecovery(&fakeRequester{t: t}, tt.in)(&o)
			o.resolve()
			if o.Recovery != tt.want {
				t.Errorf("resolved %+v\nwant %+v", o.Recovery, tt.want)
			}
		})
	}
	var o Options
	WithRecovery(nil, testRecovery)(&o)
	if a := NewArbiter(&countingHandler{}, WithRecovery(nil, testRecovery)); a.rec != nil {
		t.Error("nil Requester turned recovery on")
	}
}
