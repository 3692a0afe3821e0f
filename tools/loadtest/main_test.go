package main

import (
	"os"
	"testing"

	"github.com/tickwire/tickwire/internal/admin"
	"github.com/tickwire/tickwire/internal/latency"
)

// TestParseStages reads back the stage table of a real handler's exit
// summary (testdata/handler-exit.txt, from a loadtest run).
func TestParseStages(t *testing.T) {
	out, err := os.ReadFile("testdata/handler-exit.txt")
	if err != nil {
		t.Fatal(err)
	}
	got := parseStages(string(out))
	names := []string{"receive", "book", "receive_to_book", "publish", "end_to_end"}
	if len(got) != len(names) {
		t.Fatalf("%d stages, want %d: %+v", len(got), len(names), got)
	}
	for i, st := range got {
		if st.Name != names[i] {
			t.Errorf("stage %d is %q, want %q", i, st.Name, names[i])
		}
	}
	want := admin.Stage{Name: "receive_to_book", Quantiles: latency.Quantiles{Count: 9282,
		P50: 159_600, P90: 43_352_100, P99: 77_529_100, P999: 81_657_900, P9999: 81_920_000, MaxNs: 81_985_500}}
	if got[2] != want {
		t.Errorf("receive_to_book: %+v, want %+v", got[2], want)
	}
	if st := parseStages("session     ended\n"); st != nil {
		t.Errorf("no table: %+v", st)
	}
}
