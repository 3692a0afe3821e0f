package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/tickwire/tickwire/client"
	"github.com/tickwire/tickwire/transport/tw"
)

// The subscribers attached to each run (flags).
var (
	subscribers int
	subDepth    string
)

var reServing = regexp.MustCompile(`serving subscribers on (\S+)`)

func subsHeader() string {
	if subscribers == 0 {
		return ""
	}
	return "subscribers"
}

// transportConfig is the handler's transport section: a server on a free
// loopback port, and the books written at exit to compare the mirrors with.
func transportConfig(dir string) string {
	if subscribers == 0 {
		return ""
	}
	return fmt.Sprintf("transport: {listen: \"127.0.0.1:0\", max_clients: %d}\nbooks_on_exit: %s\n", subscribers+16, filepath.Join(dir, "handler-books.jsonl"))
}

// attached is a run's subscribers.
type attached struct {
	clients []*client.Client
	done    chan error
	mu      sync.Mutex
	updates uint64
	bad     []string // conflations, disconnects
}

// attach connects the subscribers to the handler whose output is out, once
// it says where it serves them.
func attach(out interface{ String() string }) (*attached, error) {
	a := &attached{done: make(chan error, subscribers)}
	if subscribers == 0 {
		return a, nil
	}
	var addr string
	for deadline := time.Now().Add(5 * time.Second); addr == ""; {
		if m := reServing.FindStringSubmatch(out.String()); m != nil {
			addr = m[1]
		} else if time.Now().After(deadline) {
			return nil, fmt.Errorf("the handler serves no subscribers:\n%s", out)
		}
		time.Sleep(5 * time.Millisecond)
	}
	d, n, err := client.ParseDepth(subDepth)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	for i := range subscribers {
		c, err := client.Dial(ctx, addr, client.WithDepth(d, n), client.WithoutReconnect(), client.WithName(fmt.Sprintf("loadtest %d", i)))
		if err != nil {
			return nil, err
		}
		a.clients = append(a.clients, c)
		go func() {
			var updates uint64
			a.done <- c.Run(ctx, func(ev *client.Event) error {
				if ev.Message.IsUpdate() {
					updates++
				}
				if ev.Message.Type() == tw.BodyStatus {
					var s tw.Status
					t := ev.Message.Table()
					s.Init(t.Bytes, t.Pos)
					if s.State() == tw.FeedStateConflated {
						a.mu.Lock()
						a.bad = append(a.bad, fmt.Sprintf("subscriber %d conflated: %s", i, s.Reason()))
						a.mu.Unlock()
					}
				}
				return nil
			})
			a.mu.Lock()
			a.updates += updates
			a.mu.Unlock()
		}()
	}
	time.Sleep(200 * time.Millisecond) // the subscriptions taken
	return a, nil
}

// finish waits for the subscribers' end of session and compares their
// mirrors with the handler's books (orders and levels depths).
func (a *attached) finish(dir string) (string, bool) {
	if subscribers == 0 {
		return "", false
	}
	defer func() {
		for _, c := range a.clients {
			c.Close()
		}
	}()
	for range a.clients {
		select {
		case err := <-a.done:
			if err != nil {
				a.bad = append(a.bad, err.Error())
			}
		case <-time.After(10 * time.Second):
			a.bad = append(a.bad, "a subscriber saw no end of session")
		}
	}
	compared := "counted"
	if subDepth == "orders" || subDepth == "levels" {
		want, err := os.ReadFile(filepath.Join(dir, "handler-books.jsonl"))
		if err != nil {
			a.bad = append(a.bad, err.Error())
		}
		same := 0
		for _, c := range a.clients {
			var b bytes.Buffer
			c.Book().WriteBooks(&b)
			if bytes.Equal(b.Bytes(), want) {
				same++
			}
		}
		compared = fmt.Sprintf("%d/%d mirrors equal the handler's books", same, len(a.clients))
		if same != len(a.clients) {
			a.bad = append(a.bad, compared)
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	out := fmt.Sprintf("%d updates delivered, %s", a.updates, compared)
	if len(a.bad) > 0 {
		out += "; " + strings.Join(a.bad[:min(3, len(a.bad))], "; ")
	}
	return out, len(a.bad) > 0
}
