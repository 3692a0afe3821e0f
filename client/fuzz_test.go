package client

import (
	"testing"

	"github.com/tickwire/tickwire/book"
	"github.com/tickwire/tickwire/transport"
	"github.com/tickwire/tickwire/transport/tw"
)

// FuzzClientFrames throws arbitrary server bytes at the client's decoding
// and mirror, at every depth: nothing panics, and the mirror writes a
// books file whatever it was sent.
func FuzzClientFrames(f *testing.F) {
	e := transport.NewEncoder(256)
	e.Begin(1)
	h := transport.SnapshotHead{Locate: 3, Stock: []byte("AAPL"), FeedSeq: 10, Depth: tw.DepthOrders, More: true}
	e.Snapshot(&h, []transport.BookOrder{{Ref: 1, Price: 100, Shares: 5}}, nil, nil, nil)
	e.OrderAdded(transport.Stamp{FeedSeq: 11, Locate: 3}, 2, tw.SideSell, 101, 7, nil)
	e.OrderExecuted(transport.Stamp{FeedSeq: 12, Locate: 3}, 2, 9, 3, 0, false, true)
	e.OrderReplaced(transport.Stamp{FeedSeq: 13, Locate: 3}, 1, 4, tw.SideBuy, 99, 8)
	e.LevelChanged(transport.Stamp{FeedSeq: 14, Locate: 3}, tw.SideBuy, 99, 8, 1)
	e.TradingState(transport.Stamp{FeedSeq: 15, Locate: 3}, tw.TradingStateCodeHalted, []byte("LUDP"))
	e.Status(tw.FeedStateEndOfSession, nil, 16, 0)
	good, _ := e.Finish()
	f.Add(append([]byte(nil), good...), uint8(0))
	f.Add(append([]byte(nil), good...), uint8(3))
	bk := NewBook() // 64k instrument slots: one for all runs, emptied each time
	f.Fuzz(func(t *testing.T, in []byte, depth uint8) {
		for _, l := range bk.live {
			bk.inst[l] = nil
		}
		bk.live = bk.live[:0]
		c := &Client{book: bk, o: Options{Depth: Depth(depth % 4)}}
		r := transport.NewFrameReader(0)
		var m transport.Message
		for len(in) > 0 {
			fr, n, ok, err := r.Next(in)
			if err != nil || !ok {
				break
			}
			in = in[n:]
			for i := range fr.Len() {
				c.apply(fr.Message(i, &m))
			}
		}
		for _, loc := range c.book.live {
			in := c.book.inst[loc]
			for _, side := range [][]uint32{prices(in.Bids), prices(in.Asks)} {
				for i := 1; i < len(side); i++ {
					if side[i] == side[i-1] {
						t.Fatalf("locate %d: price %d twice on a side", loc, side[i])
					}
				}
			}
		}
		var sink discard
		if err := c.book.WriteBooks(&sink); err != nil {
			t.Fatal(err)
		}
	})
}

func prices(ls []book.Level) []uint32 {
	out := make([]uint32, len(ls))
	for i, l := range ls {
		out[i] = l.Price
	}
	return out
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
