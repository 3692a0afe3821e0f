package live

import (
	"context"
	"io"
	"time"

	"github.com/tickwire/tickwire/book"
	"github.com/tickwire/tickwire/internal/pipeline"
)

// State is the state of the data a Handler delivers, as Hooks.Status
// reports it.
type State uint8

// States.
const (
	// Live: the books follow the feed.
	Live State = iota + 1
	// Stale: the books may be wrong (a gap given up, a failed rebuild); the
	// reason says why. Changes go on being applied and reported.
	Stale
	// Recovering: a rebuild from a snapshot started (or, at the start, a
	// late join's first build). The next Live says it succeeded: by then
	// the book was emptied and refilled from the snapshot, the Listener
	// seeing the snapshot's changes (Seq 0) but not the emptying; a Stale
	// instead says it failed, the book untouched by it.
	Recovering
	// EndOfSession: the session ended with every line agreeing; reason is
	// empty when every message is accounted for, else says why not.
	EndOfSession
)

var stateNames = [...]string{Live: "live", Stale: "stale", Recovering: "recovering", EndOfSession: "end of session"}

// String returns the state's name, e.g. "stale".
func (s State) String() string {
	if int(s) < len(stateNames) && stateNames[s] != "" {
		return stateNames[s]
	}
	return "unknown state"
}

// Hooks are how a consumer of the books (the transport server, a test)
// follows them while the session runs. Any may be nil.
//
// The hooks are called one at a time, never concurrently, on the goroutine
// applying messages at that moment: for multicast the one running
// Handler.Run; for SoupBinTCP the session's event loop, or Run's while a
// snapshot is fetched and applied (the session is closed then). They must
// not block for long: nothing is received meanwhile.
type Hooks struct {
	// Listener, when set, is installed on the book (book.Book.SetListener)
	// and receives every change, on the goroutine that applies messages.
	Listener book.Listener
	// Flush is called on that same goroutine after each batch of
	// datagrams (each round of the sockets, each full batch of a round
	// that drains a backlog, and each tick of the receive loop even when
	// nothing arrived, at least every millisecond), and
	// after each SoupBinTCP read and snapshot rebuild, so that a publisher
	// can write out what the Listener gathered. It is also where the
	// publisher may read the book (Handler.Book) to take snapshots:
	// nothing applies messages while it runs.
	Flush func()
	// Status is called on that goroutine whenever the state of the data
	// changes (and for Stale, whenever its reason does), first when Run
	// starts: the new state, why (for Stale and EndOfSession), and the
	// sequence number of the next message the feed expects at that moment
	// (for EndOfSession, the end-of-session sequence the session gave; 0
	// while a late join has not yet learned it).
	Status func(s State, reason string, seq uint64)
}

// Handler is one live session: the feed (multicast lines A and B with
// re-requests, or SoupBinTCP), its arbitration and recovery, the book, and
// the GLIMPSE snapshot that builds it on a late join and rebuilds it after
// losses that recovery could not mend.
//
// A Handler is not safe for concurrent use: Run drives it, and its other
// methods are called after Run returns (or, for Book, from the hooks).
type Handler struct {
	cfg    Config
	stderr io.Writer
	hooks  Hooks
	p      *pipeline.Pipeline
	mc     *multicast // one of mc and sp
	sp     *soupRun

	st        *stats
	batchRecv int64 // see BatchReceived

	// The state last reported to Hooks.Status.
	state    State
	reason   string
	reported bool
	endSent  bool
}

// New opens the session cfg describes: SoupBinTCP when
// cfg.Feed.SoupBinTCP.ServerAddr is set, else the two multicast lines (and
// the re-request socket, with a re-request server), whose sockets it opens
// now. Nothing is received before Run.
//
// stderr receives the handler's log: warnings, status changes, faults (once
// a second at most), one line per Write call, without a prefix. For
// SoupBinTCP, faults are written from the session's event loop, so stderr
// must be safe for concurrent use.
func New(cfg Config, stderr io.Writer, hooks Hooks) (*Handler, error) {
	h := &Handler{cfg: cfg, stderr: stderr, hooks: hooks, st: newStats()}
	var err error
	if cfg.Feed.SoupBinTCP.ServerAddr.IsValid() {
		h.sp, err = newSoup(h)
	} else {
		h.mc, err = newMulticast(h)
	}
	if err != nil {
		return nil, err
	}
	if hooks.Listener != nil {
		h.p.SetListener(hooks.Listener)
	}
	return h, nil
}

// Run receives and applies the feed until ctx is done or, with exitOnEnd,
// the session has ended (every line agreeing, every message delivered or
// given up). It returns nil then, or why it stopped early: a socket error,
// a late join's snapshot that failed, a SoupBinTCP login rejected or
// session refused. Run is called once; see Started for what there is to
// summarize after it.
func (h *Handler) Run(ctx context.Context, exitOnEnd bool) error {
	if h.sp != nil {
		return h.sp.run(ctx, exitOnEnd)
	}
	return h.mc.run(ctx, exitOnEnd)
}

// Started reports, after Run returned, whether the session started: false
// only for SoupBinTCP when ctx was done before the first snapshot arrived,
// or the first connection to the server failed. Nothing was received then,
// and there is nothing to summarize.
func (h *Handler) Started() bool { return h.sp == nil || h.sp.started }

// Book returns the book holding stock locate l (with book.shards above 1,
// each shard's writer has its own book). The books may be read only inside
// the hooks Flush and Status, or after Run returned: nothing applies
// messages to them then.
func (h *Handler) Book(l uint16) *book.Book { return h.p.BookOf(l) }

// SessionID returns the feed's MoldUDP64 (or SoupBinTCP) session, padded
// as it came, once one was identified. Call it from the goroutine that
// applies messages (a hook).
func (h *Handler) SessionID() ([10]byte, bool) { return h.p.SessionID() }

// Locates returns the instruments of the books, ascending (read as Book).
func (h *Handler) Locates() []uint16 { return h.p.Locates(nil) }

// LiveOrders returns the orders live in the books (read as Book).
func (h *Handler) LiveOrders() int { return h.p.LiveOrders() }

// flush calls Hooks.Flush once the books have applied what was delivered
// (with shards, once their writers have: pipeline.Sync).
func (h *Handler) flush() {
	h.p.Sync()
	if f := h.hooks.Flush; f != nil {
		f()
	}
}

// Trusted reports whether the books are known to be right: not stale, and
// no gap given up since they were last built.
func (h *Handler) Trusted() bool {
	if h.sp != nil {
		return h.sp.trusted()
	}
	return h.mc.trusted()
}

// WriteSummary prints, for people, what the session did: the input, the
// feed's and the book's counters, recovery, faults, latency, the most
// active instruments' top of book (top of them), and whether the session
// ended with every message accounted for. elapsed is the time Run took.
// Call it after Run returned, before Close.
func (h *Handler) WriteSummary(w io.Writer, elapsed time.Duration, top int) {
	h.p.Sync()
	if h.sp != nil {
		h.sp.writeSummary(w, elapsed, top)
		return
	}
	h.mc.writeSummary(w, elapsed, top)
}

// WriteBooks writes the books as JSON Lines, the format of tickwire
// replay --books (book.AppendBooksLine), one line per instrument in locate
// order. Call it after Run returned.
func (h *Handler) WriteBooks(w io.Writer) error {
	h.p.Sync()
	return pipeline.WriteBooks(w, &pipeline.Group{P: []*pipeline.Pipeline{h.p}})
}

// Close releases the sockets (a SoupBinTCP session is closed by Run
// already). It may be called more than once.
func (h *Handler) Close() error {
	if h.mc != nil {
		h.mc.close() // the pipeline's writers too
	} else if h.p != nil {
		h.p.Close()
	}
	return nil
}

// status reports s to Hooks.Status unless it is the state (and reason)
// last reported.
func (h *Handler) status(s State, reason string, seq uint64) {
	if h.reported && s == h.state && reason == h.reason {
		return
	}
	h.state, h.reason, h.reported = s, reason, true
	if h.hooks.Status != nil {
		h.hooks.Status(s, reason, seq)
	}
}

// ended reports the end of session once.
func (h *Handler) ended(trusted bool, seq uint64) {
	h.endSent = true
	why := ""
	if !trusted {
		why = "NOT every message accounted for"
	}
	h.status(EndOfSession, why, seq)
}
