package transport_test

import (
	"bytes"
	"context"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	flatbuffers "github.com/google/flatbuffers/go"
	"github.com/tickwire/tickwire/internal/testcert"
	"github.com/tickwire/tickwire/transport"
	"github.com/tickwire/tickwire/transport/tw"
)

// The Python subscriber, its generated protocol code, and the Python that
// runs it: Debian's, whose python3-flatbuffers is the runtime it is written
// against (a python3 earlier on PATH may be another build without it).
const (
	pySubscriber = "../examples/python/subscribe.py"
	pyGenerated  = "../examples/python/tickwire"
	debianPython = "/usr/bin/python3"
)

// python returns Debian's python3, or skips the test.
func python(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(debianPython); err != nil {
		t.Skipf("%s not installed: the Python subscriber's tests skipped", debianPython)
	}
	if out, err := exec.Command(debianPython, "-c", "import flatbuffers").CombinedOutput(); err != nil {
		t.Skipf("%s has no flatbuffers module (apt-get install -y python3-flatbuffers): the Python subscriber's tests skipped\n%s", debianPython, out)
	}
	return debianPython
}

// pySubscribe is a run of examples/python/subscribe.py.
type pySubscribe struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	stderr lockedBuffer // read while the process runs (waitAccepted)
	done   chan error
}

// lockedBuffer is a bytes.Buffer safe to read while a process writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// Bytes returns a copy of what was written so far.
func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}

func startPython(t *testing.T, ctx context.Context, args ...string) *pySubscribe {
	t.Helper()
	p := &pySubscribe{done: make(chan error, 1)}
	p.cmd = exec.CommandContext(ctx, python(t), append([]string{pySubscriber}, args...)...)
	p.cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	return p
}

// wait flushes d's publisher every millisecond until the process exits,
// as the live handler's loop does when idle (subscriptions are taken at a
// Flush), and returns its exit code.
func (p *pySubscribe) wait(t *testing.T, d *daemon) int {
	t.Helper()
	for {
		select {
		case err := <-p.done:
			if err != nil && p.cmd.ProcessState == nil {
				t.Fatalf("subscribe.py: %v\n%s", err, p.stderr.Bytes())
			}
			return p.cmd.ProcessState.ExitCode()
		case <-time.After(time.Millisecond):
			if d != nil {
				d.pub.Flush()
			}
		}
	}
}

// waitAccepted waits until the server has accepted n clients' Hellos, or
// fails if one of the processes exits first.
func waitAccepted(t *testing.T, d *daemon, n uint64, ps ...*pySubscribe) {
	t.Helper()
	// The server counts a Hello accepted before the client has read the
	// reply: a signal sent in between finds a client not yet subscribed
	// (TestPythonSubscriberSignal failed once so). Each client says when
	// it has subscribed.
	for !allSubscribed(ps) || d.srv.Stats().Accepted < n {
		for _, p := range ps {
			select {
			case err := <-p.done:
				t.Fatalf("subscribe.py exited before its Hello was accepted: %v\n%s", err, p.stderr.Bytes())
			default:
			}
		}
		time.Sleep(time.Millisecond)
	}
}

// allSubscribed reports whether every client has logged its subscription.
func allSubscribed(ps []*pySubscribe) bool {
	for _, p := range ps {
		if !bytes.Contains(p.stderr.Bytes(), []byte("subscribe.py: subscribed to ")) {
			return false
		}
	}
	return true
}

// TestPythonSubscriber runs the Python subscriber as a process against the
// server on loopback, one for every instrument from the start, one for two
// symbols, and one joining half-way (its snapshots carry levels), plays a
// generated session and checks each writes the session's books (or their
// lines for its symbols) byte for byte and exits 0 at the end.
func TestPythonSubscriber(t *testing.T) {
	python(t)
	msgs, want := session(t, 40_000, 30, 17)
	d := newDaemon(t, transport.ServerConfig{})
	addr := d.srv.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Two symbols of the session, and their lines of the books.
	lines := bytes.SplitAfter(want, []byte("\n"))
	var syms []string
	var wantSome []byte
	for _, i := range []int{2, len(lines) / 2} {
		sym, ok := bytes.CutPrefix(lines[i][bytes.Index(lines[i], []byte(`"symbol":"`)):], []byte(`"symbol":"`))
		if !ok {
			t.Fatalf("no symbol in %q", lines[i])
		}
		syms = append(syms, string(sym[:bytes.IndexByte(sym, '"')]))
		wantSome = append(wantSome, lines[i]...)
	}

	dir := t.TempDir()
	allFile, someFile, joinFile := filepath.Join(dir, "all.jsonl"), filepath.Join(dir, "some.jsonl"), filepath.Join(dir, "join.jsonl")
	all := startPython(t, ctx, "--addr", addr, "--exit-on-end", "--books-on-exit", allFile)
	some := startPython(t, ctx, "--addr", addr, "--symbols", strings.Join(syms, ","), "--exit-on-end", "--books-on-exit", someFile)
	waitAccepted(t, d, 2, all, some)
	var join *pySubscribe
	half := uint64(len(msgs) / 2)
	d.play(t, msgs, 1, 25, func(seq uint64) {
		if seq == half {
			join = startPython(t, ctx, "--addr", addr, "--exit-on-end", "--books-on-exit", joinFile)
			waitAccepted(t, d, 3, join)
		}
		if seq%1000 == 0 {
			time.Sleep(time.Millisecond) // the joiner's subscription taken mid-session
		}
	})
	d.pub.Status(tw.FeedStateEndOfSession, "end of session", uint64(len(msgs)))
	for _, c := range []struct {
		name string
		p    *pySubscribe
		file string
		want []byte
	}{{"all", all, allFile, want}, {strings.Join(syms, ","), some, someFile, wantSome}, {"all, joining", join, joinFile, want}} {
		if code := c.p.wait(t, d); code != 0 {
			t.Errorf("--symbols %s: exit status %d\n%s", c.name, code, c.p.stderr.Bytes())
			continue
		}
		got, err := os.ReadFile(c.file)
		if err != nil {
			t.Errorf("--symbols %s: %v", c.name, err)
			continue
		}
		t.Logf("--symbols %s: %d bytes of books, %d lines, %v of CPU; stderr:\n%s", c.name, len(got), bytes.Count(got, []byte("\n")), c.p.cmd.ProcessState.UserTime()+c.p.cmd.ProcessState.SystemTime(), c.p.stderr.Bytes())
		if !bytes.Equal(got, c.want) {
			t.Errorf("--symbols %s: the books differ (%d vs %d bytes)\n%s", c.name, len(got), len(c.want), firstDiff(got, c.want))
		}
	}
}

// TestPythonSubscriberRefused: a wrong token exits 1 with the server's
// reason on stderr, and writes no books.
func TestPythonSubscriberRefused(t *testing.T) {
	python(t)
	d := newDaemon(t, transport.ServerConfig{Token: "s3cret"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	books := filepath.Join(t.TempDir(), "books.jsonl")
	p := startPython(t, ctx, "--addr", d.srv.Addr().String(), "--token", "guess", "--exit-on-end", "--books-on-exit", books)
	if code := p.wait(t, d); code != 1 {
		t.Fatalf("exit status %d, want 1\n%s", code, p.stderr.Bytes())
	}
	if !bytes.Contains(p.stderr.Bytes(), []byte("refused by the server: wrong token")) {
		t.Errorf("stderr does not give the reason:\n%s", p.stderr.Bytes())
	}
	if _, err := os.Stat(books); err == nil {
		t.Errorf("a refused subscriber wrote %s", books)
	}
	if n := d.srv.Stats().Disconnects[transport.DisconnectRefused]; n != 1 {
		t.Errorf("refusals counted: %d, want 1", n)
	}
}

// TestPythonSubscriberTLS: the Python subscriber mirrors the books through
// TLS with --ca, and one that does not trust the server's authority exits 1
// naming the fault.
func TestPythonSubscriberTLS(t *testing.T) {
	python(t)
	certs, scfg := testcert.ForTest(t)
	dir := t.TempDir()
	ca, _, _, err := certs.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	msgs, want := session(t, 20_000, 20, 37)
	d := newDaemon(t, transport.ServerConfig{TLS: scfg})
	addr := d.srv.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	untrusted := startPython(t, ctx, "--addr", addr, "--tls", "--exit-on-end")
	if code := untrusted.wait(t, d); code != 1 || !bytes.Contains(untrusted.stderr.Bytes(), []byte("certificate")) {
		t.Fatalf("untrusted: exit status %d\n%s", code, untrusted.stderr.Bytes())
	}
	books := filepath.Join(dir, "books.jsonl")
	p := startPython(t, ctx, "--addr", addr, "--ca", ca, "--exit-on-end", "--books-on-exit", books)
	waitAccepted(t, d, 1, p)
	d.play(t, msgs, 1, 25, nil)
	d.pub.Status(tw.FeedStateEndOfSession, "end of session", uint64(len(msgs)))
	if code := p.wait(t, d); code != 0 {
		t.Fatalf("exit status %d\n%s", code, p.stderr.Bytes())
	}
	got, err := os.ReadFile(books)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the books differ\n%s", firstDiff(got, want))
	}
}

// TestPythonSubscriberSignal: without --exit-on-end the subscriber writes
// its books at the end of the session and stays up until SIGTERM, then
// exits 0; a SIGTERM before the end writes the books as they are and
// exits 0.
func TestPythonSubscriberSignal(t *testing.T) {
	python(t)
	msgs, want := session(t, 5_000, 10, 19)
	d := newDaemon(t, transport.ServerConfig{})
	addr := d.srv.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	endFile, earlyFile := filepath.Join(dir, "end.jsonl"), filepath.Join(dir, "early.jsonl")
	stays := startPython(t, ctx, "--addr", addr, "--books-on-exit", endFile)
	early := startPython(t, ctx, "--addr", addr, "--books-on-exit", earlyFile)
	waitAccepted(t, d, 2, stays, early)
	d.play(t, msgs[:len(msgs)/2], 1, 25, nil)
	if err := early.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := early.wait(t, d); code != 0 {
		t.Errorf("SIGTERM mid-session: exit status %d\n%s", code, early.stderr.Bytes())
	} else if _, err := os.Stat(earlyFile); err != nil {
		t.Errorf("SIGTERM mid-session: no books written: %v", err)
	}
	d.play(t, msgs[len(msgs)/2:], uint64(len(msgs)/2+1), 25, nil)
	d.pub.Status(tw.FeedStateEndOfSession, "end of session", uint64(len(msgs)))
	// The books appear at the end of the session; the process stays.
	for got, _ := os.ReadFile(endFile); !bytes.Equal(got, want); got, _ = os.ReadFile(endFile) {
		select {
		case err := <-stays.done:
			t.Fatalf("exited before SIGTERM: %v\n%s", err, stays.stderr.Bytes())
		case <-ctx.Done():
			t.Fatalf("the books at the end of the session differ\n%s\n%s", firstDiff(got, want), stays.stderr.Bytes())
		case <-time.After(time.Millisecond):
			d.pub.Flush()
		}
	}
	if err := stays.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := stays.wait(t, d); code != 0 {
		t.Errorf("SIGTERM after the end: exit status %d\n%s", code, stays.stderr.Bytes())
	}
	if got, _ := os.ReadFile(endFile); !bytes.Equal(got, want) {
		t.Errorf("the books after SIGTERM differ\n%s", firstDiff(got, want))
	}
}

// TestPythonSubscriberFaults plays a scripted server: it checks the
// subscriber's Hello and Subscribe, then sends a ServerError, a gap in the
// stream sequence, or closes; each exits 1 naming the fault, after writing
// the books.
func TestPythonSubscriberFaults(t *testing.T) {
	python(t)
	for _, c := range []struct {
		name   string
		frames func(e *transport.Encoder) [][]byte
		want   string
	}{
		{"server error", func(e *transport.Encoder) [][]byte {
			e.Begin(2)
			e.ServerError(tw.ErrorCodeSlowConsumer, []byte("too slow"))
			f, _ := e.Finish()
			return [][]byte{f}
		}, "server error: SlowConsumer: too slow"},
		{"gap", func(e *transport.Encoder) [][]byte {
			var out [][]byte
			for _, seq := range []uint64{2, 4} {
				e.Begin(seq)
				e.Heartbeat(7)
				f, _ := e.Finish()
				out = append(out, bytes.Clone(f))
			}
			return out
		}, "stream sequence 4 after 2: frames lost"},
		{"closed", func(*transport.Encoder) [][]byte { return nil }, "the server closed the connection"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			books := filepath.Join(t.TempDir(), "books.jsonl")
			p := startPython(t, ctx, "--addr", ln.Addr().String(), "--exit-on-end", "--books-on-exit", books)
			conn, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			r := &scriptedConn{t: t, conn: conn, fr: transport.NewFrameReader(0)}
			var h tw.Hello
			r.expect(1, tw.BodyHello).Init(&h)
			if h.Version() != transport.ProtocolVersion || string(h.ClientName()) != "subscribe.py" || h.Token() != nil {
				t.Fatalf("Hello version %d, client %q, token %q", h.Version(), h.ClientName(), h.Token())
			}
			e := transport.NewEncoder(256)
			e.Begin(1)
			e.HelloReply(true, nil, transport.ProtocolVersion, 1000)
			f, _ := e.Finish()
			conn.Write(f)
			var sub tw.Subscribe
			r.expect(2, tw.BodySubscribe).Init(&sub)
			if !sub.AllStocks() || sub.Depth() != tw.DepthLevels || sub.StocksLength() != 0 {
				t.Fatalf("Subscribe all %v, depth %v, %d stocks", sub.AllStocks(), sub.Depth(), sub.StocksLength())
			}
			for _, f := range c.frames(e) {
				conn.Write(f)
			}
			conn.Close()
			if code := p.wait(t, nil); code != 1 {
				t.Fatalf("exit status %d, want 1\n%s", code, p.stderr.Bytes())
			}
			if !bytes.Contains(p.stderr.Bytes(), []byte(c.want)) {
				t.Errorf("stderr does not say %q:\n%s", c.want, p.stderr.Bytes())
			}
			if b, err := os.ReadFile(books); err != nil || len(b) != 0 {
				t.Errorf("books: %q, %v; want an empty file", b, err)
			}
		})
	}
}

// scriptedConn reads a client's frames for a scripted server.
type scriptedConn struct {
	t    *testing.T
	conn net.Conn
	fr   *transport.FrameReader
	rest []byte
	msg  transport.Message
}

// tableInit is a generated table, initialised from a message's table.
type tableInit interface {
	Init(buf []byte, i flatbuffers.UOffsetT)
}

// expect reads the next frame, which must be stream sequence seq holding
// one message of type typ.
func (c *scriptedConn) expect(seq uint64, typ tw.Body) scriptedMsg {
	c.t.Helper()
	buf := make([]byte, 4096)
	for {
		if len(c.rest) > 0 {
			f, n, ok, err := c.fr.Next(c.rest)
			c.rest = c.rest[n:]
			if err != nil {
				c.t.Fatalf("the subscriber's frame: %v", err)
			}
			if ok {
				if f.StreamSeq() != seq || f.Len() != 1 || f.Message(0, &c.msg).Type() != typ {
					c.t.Fatalf("frame %d with %d messages, the first a %v; want frame %d with one %v", f.StreamSeq(), f.Len(), c.msg.Type(), seq, typ)
				}
				return scriptedMsg{&c.msg}
			}
		}
		n, err := c.conn.Read(buf)
		if n == 0 {
			c.t.Fatalf("waiting for frame %d: %v", seq, err)
		}
		c.rest = append(c.rest, buf[:n]...)
	}
}

type scriptedMsg struct{ m *transport.Message }

func (s scriptedMsg) Init(v tableInit) {
	tab := s.m.Table()
	v.Init(tab.Bytes, tab.Pos)
}

// TestPythonGeneratedFresh regenerates the Python code of the protocol into
// a temporary directory and fails if examples/python/tickwire differs: the
// schema changed without regenerating it, or it was edited by hand.
func TestPythonGeneratedFresh(t *testing.T) {
	bin, err := exec.LookPath("flatc")
	if err != nil {
		t.Skip("flatc not installed (apt-get install -y flatbuffers-compiler): staleness check skipped")
	}
	const version = "2.0.8" // the flatc that generated examples/python/tickwire
	if out, err := exec.Command(bin, "--version").Output(); err != nil || !strings.Contains(string(out), version) {
		t.Skipf("flatc is %q, not %s which generated %s: staleness check skipped", bytes.TrimSpace(out), version, pyGenerated)
	}
	dir := t.TempDir()
	if out, err := exec.Command(bin, "--python", "-o", dir, "tickwire.fbs").CombinedOutput(); err != nil {
		t.Fatalf("flatc --python: %v\n%s", err, out)
	}
	fresh, committed := pyTree(t, filepath.Join(dir, "tickwire")), pyTree(t, pyGenerated)
	for name, want := range fresh {
		got, ok := committed[name]
		switch {
		case !ok:
			t.Errorf("%s/%s missing: run make generate", pyGenerated, name)
		case !bytes.Equal(got, want):
			t.Errorf("%s/%s is stale: run make generate", pyGenerated, name)
		}
	}
	for name := range committed {
		if _, ok := fresh[name]; !ok {
			t.Errorf("%s/%s is not generated from the schema: remove it", pyGenerated, name)
		}
	}
}

// pyTree reads the .py files under root by their path relative to it.
func pyTree(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || filepath.Ext(path) != ".py" {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(root, path)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
