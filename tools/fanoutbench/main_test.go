package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary be the idle clients' child process.
func TestMain(m *testing.M) {
	if childMode() {
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestQuick runs every measurement of both systems at tiny sizes: it proves
// the benchmark works (and that tickwire's subscribers lose nothing), not
// how fast anything is.
func TestQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers and a child process")
	}
	c := config{subs: 4, instruments: 20, rate: 2_000, batch: 8, window: 200 * time.Millisecond, idle: 50, slowMax: 1500 * time.Millisecond,
		jsNodes: []int{1, 3}, quiet: true}
	tab, err := run(c)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	tab.print(&out)
	t.Log("\n" + out.String())
	if !strings.HasPrefix(tab.tw.lost, "none") {
		t.Errorf("tickwire subscribers lost updates: %s", tab.tw.lost)
	}
	for name, r := range map[string]*result{"nats": tab.nats, "tickwire": tab.tw} {
		if r.delivered <= 0 || r.lat.n == 0 {
			t.Errorf("%s: nothing measured: %+v", name, r)
		}
		if r.idleErr != "" {
			t.Errorf("%s: idle connections: %s", name, r.idleErr)
		}
	}
	if tab.tw.wrote.n == 0 {
		t.Error("the server's OnWrite hook recorded nothing")
	}
	if len(tab.js) != 2 {
		t.Fatalf("%d JetStream runs, want 2", len(tab.js))
	}
	for _, j := range tab.js {
		if !strings.HasPrefix(j.lost, "none") {
			t.Errorf("%s: subscribers lost updates: %s", j.name(), j.lost)
		}
		if j.delivered <= 0 || j.published <= 0 || j.toServer.n == 0 || j.toAck.n == 0 || j.toClient.n == 0 || j.perUpdate <= 0 {
			t.Errorf("%s: nothing measured: %+v", j.name(), j)
		}
	}
}
