// Command tickwire is the NASDAQ TotalView-ITCH 5.0 feed handler.
//
//	tickwire replay [flags] CAPTURE...   rebuild order books from captures
//	tickwire gen [flags]                 write a synthetic session and its expected books
//	tickwire run --config FILE           the live handler
//	tickwire sim [flags]                 play a session as the exchange would (multicast A/B, re-requests)
//	tickwire subscribe [flags]           mirror a running daemon's books (the subscriber protocol)
//	tickwire watch SYMBOL [flags]        a live terminal ladder of one instrument
//
// Run a subcommand with -h for its flags.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/tickwire/tickwire/internal/gen"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "replay":
		return replayCmd(args[1:], stdout, stderr)
	case "gen":
		return gen.Command(args[1:], stdout, stderr)
	case "sim":
		return simCmd(args[1:], stdout, stderr)
	case "run":
		return runCmd(args[1:], stdout, stderr)
	case "subscribe":
		return subscribeCmd(args[1:], stdout, stderr)
	case "watch":
		return watchCmd(args[1:], stdout, stderr)
	case "demo":
		return demoCmd(args[1:], stdout, stderr)
	case "stats":
		return statsCmd(args[1:], stdout, stderr)
	case "check":
		return checkCmd(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "tickwire: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: tickwire <command> [flags]

commands:
  demo     the whole pipeline on this machine: the simulator on loopback multicast with loss, the
           daemon with re-request recovery, a subscriber's mirror and a live ladder, checked at the end
  replay   rebuild order-by-order books from pcap/pcapng captures or raw ITCH files
  gen      write a synthetic TotalView-ITCH session as a capture, with its expected books
  check    validate a configuration without starting: keys, interface, CPU, receive buffer, ports (--config FILE)
  run      the live handler: MoldUDP64 lines A and B with recovery, books (--config FILE)
  sim      play a session as the exchange: MoldUDP64 multicast on lines A and B, re-request server
  subscribe  mirror the daemon's books over the subscriber protocol (--addr HOST:PORT)
  stats    a running daemon's latency per stage and counters (--admin HOST:PORT)
  watch    a live terminal ladder of one instrument from the daemon (SYMBOL [--addr HOST:PORT])

Run 'tickwire <command> -h' for the command's flags.
`)
}
