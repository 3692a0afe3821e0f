package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/tickwire/tickwire/feed/live"
	"github.com/tickwire/tickwire/internal/admin"
	"github.com/tickwire/tickwire/transport"
)

// tickwire stats: a running daemon's figures, read from its admin listener
// (/stats): the per-stage latency percentiles and the counters.
func statsCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tickwire stats", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("admin", "127.0.0.1:27101", "the daemon's admin.listen `HOST:PORT`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "tickwire stats: %v\n", err)
		return 1
	}
	hc := http.Client{Timeout: 5 * time.Second}
	resp, err := hc.Get("http://" + *addr + "/stats")
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail(fmt.Errorf("%s/stats: %s", *addr, resp.Status))
	}
	var f admin.Figures
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&f); err != nil {
		return fail(fmt.Errorf("%s/stats: %w", *addr, err))
	}
	writeFigures(stdout, &f)
	return 0
}

// writeFigures prints what /stats returned.
func writeFigures(w io.Writer, f *admin.Figures) {
	st := &f.Feed
	state := st.State.String()
	if st.Stale {
		state += ", books may be wrong"
	}
	fmt.Fprintf(w, "feed        %s as of %s\n", state, st.At.Format("15:04:05.000"))
	fmt.Fprintf(w, "packets    ")
	for line, name := range live.LineNames {
		fmt.Fprintf(w, " %s %d (kernel drops %d);", name, st.Packets[line], st.KernelDrops[line])
	}
	fmt.Fprintf(w, " faults %d\n", st.Faults)
	fmt.Fprintf(w, "messages    %d applied; duplicates %d; gaps %d (%d messages); re-requests %d (%d messages), %d recovered; snapshots %d; book anomalies %d\n",
		st.Messages, st.Duplicates, st.Gaps, st.GapMessages, st.Rerequests, st.RequestedMessages, st.Recovered, st.Snapshots, st.BookAnomalies)
	if s := f.Server; s != nil {
		fmt.Fprintf(w, "subscribers %d connected, %d accepted, %d conflated; cut off:", s.Clients, s.Accepted, s.Conflations)
		for i, r := range transport.DisconnectReasons {
			fmt.Fprintf(w, " %s %d", r, s.Disconnects[i])
		}
		fmt.Fprintln(w)
	}
	if n := f.NATS; n != nil {
		up := "connected"
		if !n.Connected {
			up = "NOT connected"
		}
		fmt.Fprintf(w, "nats        %s; %s; %d awaiting acknowledgement\n", up, natsSummary(*n), n.Pending)
	}
	admin.WriteStages(w, f.Stages)
	admin.WriteRuntime(w, f.Runtime)
}
