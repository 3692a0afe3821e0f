package client_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/tickwire/tickwire/book"
	"github.com/tickwire/tickwire/client"
	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/transport"
	"github.com/tickwire/tickwire/transport/tw"
)

// A strategy subscribes to a stock by name, by levels, and reads its mirror
// as the updates come. The server here runs in the same process, on a book
// fed by hand, as `tickwire run` feeds it from the exchange.
func ExampleDial() {
	srv := transport.NewServer(transport.ServerConfig{Listen: "127.0.0.1:0"})
	pub := srv.Publisher()
	b := book.New(book.WithListener(pub))
	pub.SetBook(b)
	if err := srv.Start(); err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer srv.Close(ctx)

	c, err := client.Dial(ctx, srv.Addr().String(), client.WithSymbols("AAPL"), client.WithDepth(client.DepthLevels, 0))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	done := make(chan error, 1)
	go func() {
		done <- c.Run(ctx, func(ev *client.Event) error {
			if ev.Kind == client.EventMessage && ev.Message.Type() == tw.BodyLevelChanged {
				fmt.Println("level changed")
			}
			return nil
		})
	}()

	// The book's writer: messages applied, then a Flush, which also takes
	// the client's subscription (a stock named before it is listed is
	// waited for).
	seq := uint64(0)
	apply := func(m itch.Message) {
		if itch.Check(m) == nil { // Apply takes checked messages
			seq++
			b.Apply(seq, m)
		}
	}
	apply((&itch.StockDirectoryMsg{Header: itch.Header{Locate: 13}, Stock: [8]byte{'A', 'A', 'P', 'L', ' ', ' ', ' ', ' '}}).Append(nil))
	for range 50 {
		pub.Flush()
		time.Sleep(time.Millisecond)
	}
	apply((&itch.AddOrderMsg{Header: itch.Header{Locate: 13}, Ref: 1, Side: itch.Buy, Shares: 300, Price: 1874500}).Append(nil))
	apply((&itch.AddOrderMsg{Header: itch.Header{Locate: 13}, Ref: 2, Side: itch.Sell, Shares: 100, Price: 1874600}).Append(nil))
	pub.Flush()
	pub.Status(tw.FeedStateEndOfSession, "end of session", seq)
	for waiting := true; waiting; {
		select {
		case err = <-done:
			waiting = false
		case <-time.After(time.Millisecond):
			pub.Flush()
		}
	}
	if err != nil {
		fmt.Println(err)
	}
	c.Book().WriteBooks(os.Stdout)
	// Output:
	// level changed
	// level changed
	// {"locate":13,"symbol":"AAPL","bids":[[1874500,300,1]],"asks":[[1874600,100,1]]}
}
