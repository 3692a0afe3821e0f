package book

// Options holds the sizing hints and the listener of a Book. Zero or negative fields select the
// defaults.
type Options struct {
	// Orders is the number of live orders the book holds without growing: the
	// order slab and the order table are allocated for it up front, and both
	// double when it is exceeded. Size it to the day's peak of live orders
	// in the shard (see the package documentation, Memory). Default 65536.
	Orders int
	// Instruments is the number of stock locates (0 through Instruments-1)
	// the per-instrument array is allocated for; it grows to cover any higher
	// locate seen. Default 1024.
	Instruments int
	// Listener receives the changes Apply makes (see Listener); nil, the
	// default, reports nothing.
	Listener Listener
}

// Option configures a Book in New.
type Option func(*Options)

// Default sizing hints.
const (
	DefaultOrders      = 1 << 16
	DefaultInstruments = 1 << 10
)

// WithOrders sets the live-order capacity hint (Options.Orders).
func WithOrders(n int) Option { return func(o *Options) { o.Orders = n } }

// WithInstruments sets the instrument capacity hint (Options.Instruments).
func WithInstruments(n int) Option { return func(o *Options) { o.Instruments = n } }
