package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
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
	subNice     int
	loopNice    int    // the handler's transport.nice
	attachAddr  string // set in the subscribers' own process
	booksFile   string // the handler's books, for that process to compare with
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
	return fmt.Sprintf("transport: {listen: \"127.0.0.1:0\", max_clients: %d, nice: %d}\nbooks_on_exit: %s\n", subscribers+16, loopNice, handlerBooks(dir))
}

// handlerBooks is where the handler writes its books at exit.
func handlerBooks(dir string) string { return filepath.Join(dir, "handler-books.jsonl") }

// attached is a run's subscribers: a process of their own (this program
// with -attach), at the niceness -sub-nice gives it. On a machine the
// subscribers share with the handler, that puts the feed first, as
// subscribers on cores or hosts of their own would.
type attached struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

// attach starts the subscribers' process against the handler whose output
// is out, once it says where it serves them, and waits until every one has
// subscribed.
func attach(out interface{ String() string }, dir string) (*attached, error) {
	if subscribers == 0 {
		return nil, nil
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
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{self, "-attach", addr, "-subscribers", strconv.Itoa(subscribers), "-depth", subDepth,
		"-books", handlerBooks(dir)}
	if subNice != 0 {
		args = append([]string{"nice", "-n", strconv.Itoa(subNice)}, args...)
	}
	a := &attached{cmd: exec.Command(args[0], args[1:]...)}
	a.cmd.Stderr = os.Stderr
	if a.stdin, err = a.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := a.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	a.out = bufio.NewReader(stdout)
	if err := a.cmd.Start(); err != nil {
		return nil, err
	}
	line, err := a.out.ReadString('\n')
	if line != "attached\n" {
		a.cmd.Process.Kill()
		a.cmd.Wait()
		return nil, fmt.Errorf("the subscribers' process: %q, %v", line, err)
	}
	return a, nil
}

// finish, once the handler has exited, has the subscribers' process
// compare its mirrors with the handler's books, and returns its account.
func (a *attached) finish() (string, bool) {
	if a == nil {
		return "", false
	}
	a.stdin.Close()
	rest, _ := io.ReadAll(a.out)
	err := a.cmd.Wait()
	text := strings.TrimSpace(string(rest))
	if err != nil {
		return fmt.Sprintf("the subscribers' process: %v: %s", err, text), true
	}
	if good, ok := strings.CutPrefix(text, "ok "); ok {
		return good, false
	}
	return strings.TrimPrefix(text, "bad "), true
}

// runAttached is the subscribers' process: it connects them to addr,
// prints "attached", counts what they receive until the end of the
// session, waits for its standard input to close (the handler has
// written its books), compares the mirrors at orders and levels depths,
// and prints its account, prefixed "bad " when a mirror differs or a
// subscriber failed, "ok " otherwise.
func runAttached() error {
	d, n, err := client.ParseDepth(subDepth)
	if err != nil {
		return err
	}
	ctx := context.Background()
	var (
		mu         sync.Mutex
		updates    uint64
		conflated  int
		bad        []string
		clients    []*client.Client
		done       = make(chan error, subscribers)
		conflatedN = map[int]bool{}
	)
	for i := range subscribers {
		c, err := client.Dial(ctx, attachAddr, client.WithDepth(d, n), client.WithoutReconnect(), client.WithName(fmt.Sprintf("loadtest %d", i)))
		if err != nil {
			return err
		}
		clients = append(clients, c)
		go func() {
			var mine uint64
			done <- c.Run(ctx, func(ev *client.Event) error {
				if ev.Message.IsUpdate() {
					mine++
				}
				if ev.Message.Type() == tw.BodyStatus {
					var s tw.Status
					t := ev.Message.Table()
					s.Init(t.Bytes, t.Pos)
					if s.State() == tw.FeedStateConflated {
						mu.Lock()
						conflated++
						conflatedN[i] = true
						mu.Unlock()
					}
				}
				return nil
			})
			mu.Lock()
			updates += mine
			mu.Unlock()
		}()
	}
	time.Sleep(200 * time.Millisecond) // the subscriptions taken
	fmt.Println("attached")
	for range clients {
		select {
		case err := <-done:
			if err != nil {
				bad = append(bad, err.Error())
			}
		case <-time.After(120 * time.Second):
			bad = append(bad, "a subscriber saw no end of session")
		}
	}
	io.Copy(io.Discard, os.Stdin) // the handler has exited
	compared := "counted"
	if subDepth == "orders" || subDepth == "levels" {
		want, err := os.ReadFile(booksFile)
		if err != nil {
			bad = append(bad, err.Error())
		}
		same := 0
		for _, c := range clients {
			var b bytes.Buffer
			c.Book().WriteBooks(&b)
			if bytes.Equal(b.Bytes(), want) {
				same++
			}
		}
		compared = fmt.Sprintf("%d/%d mirrors equal the handler's books", same, len(clients))
		if same != len(clients) {
			bad = append(bad, compared)
		}
	}
	for _, c := range clients {
		c.Close()
	}
	mu.Lock()
	defer mu.Unlock()
	out := fmt.Sprintf("%d updates delivered, %s; %d conflations of %d subscribers", updates, compared, conflated, len(conflatedN))
	if len(bad) > 0 {
		fmt.Printf("bad %s; %s\n", out, strings.Join(bad[:min(3, len(bad))], "; "))
	} else {
		fmt.Printf("ok %s\n", out)
	}
	return nil
}
