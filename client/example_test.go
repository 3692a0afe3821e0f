package client_test

import (
	"os"

	"github.com/tickwire/tickwire/client"
	"github.com/tickwire/tickwire/codec/itch"
)

// A mirror is reset by an instrument's snapshot and kept by the level
// updates after it; it writes the same books format as `tickwire replay
// --books`.
func ExampleBook() {
	m := client.NewBook()
	m.Reset(13, [8]byte{'A', 'A', 'P', 'L', ' ', ' ', ' ', ' '}, 'T', false, 1000)
	m.SetLevel(13, itch.Buy, 1874500, 300, 2, 1001)
	m.SetLevel(13, itch.Buy, 1874400, 100, 1, 1002)
	m.SetLevel(13, itch.Sell, 1874600, 100, 1, 1003)
	m.SetLevel(13, itch.Buy, 1874400, 0, 0, 1004) // the level is gone
	m.WriteBooks(os.Stdout)
	// Output:
	// {"locate":13,"symbol":"AAPL","bids":[[1874500,300,2]],"asks":[[1874600,100,1]]}
}
