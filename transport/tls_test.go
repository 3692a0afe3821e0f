package transport_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tickwire/tickwire/client"
	"github.com/tickwire/tickwire/internal/testcert"
	"github.com/tickwire/tickwire/transport"
)

// TestTLS serves TLS: clients that trust the authority mirror the books
// exactly through it (one at each depth with levels, one with orders); a
// plain TCP client, and a client that trusts another authority, get
// nothing and are not retried; a refusal is logged with the TLS client's
// own address.
func TestTLS(t *testing.T) {
	certs, scfg := testcert.ForTest(t)
	var mu sync.Mutex
	var logs []string
	d := newDaemon(t, transport.ServerConfig{TLS: scfg, Token: "sesame", HelloTimeout: time.Second, Logf: func(format string, args ...any) {
		mu.Lock()
		logs = append(logs, fmt.Sprintf(format, args...))
		mu.Unlock()
	}})
	addr := d.srv.Addr().String()
	msgs, want := session(t, 30_000, 20, 31)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Refused before anything is played: wrong token, plain TCP, another
	// authority.
	if _, err := client.Dial(ctx, addr, client.WithTLS(certs.Client()), client.WithToken("wrong")); !errors.Is(err, client.ErrRefused) {
		t.Fatalf("wrong token over TLS: %v", err)
	}
	plain, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	plain.Write([]byte{8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8})
	plain.SetReadDeadline(time.Now().Add(10 * time.Second))
	if b, err := io.ReadAll(plain); len(b) > 0 && b[0] != 0x15 { // at most a TLS alert record
		t.Fatalf("a plain client read %q (%v)", b, err)
	}
	plain.Close()
	other, err := testcert.New()
	if err != nil {
		t.Fatal(err)
	}
	var verr *tls.CertificateVerificationError
	if _, err := client.Dial(ctx, addr, client.WithTLS(other.Client()), client.WithToken("sesame")); !errors.As(err, &verr) {
		t.Fatalf("another authority: %v", err)
	}
	for d.srv.Stats().Disconnects[transport.DisconnectTLS] < 2 {
		if ctx.Err() != nil {
			t.Fatalf("TLS handshake failures counted: %v", d.srv.Stats().Disconnects)
		}
		time.Sleep(time.Millisecond)
	}

	done := make(chan error, 2)
	results := make([][]byte, 2)
	for i, depth := range []client.Depth{client.DepthLevels, client.DepthOrders} {
		go func() {
			b, err := mirror(ctx, addr, client.WithTLS(certs.Client()), client.WithToken("sesame"), client.WithDepth(depth, 0))
			results[i] = b
			done <- err
		}()
	}
	for d.srv.Stats().Accepted < 2 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	d.play(t, msgs, 1, 20, nil)
	d.endAndWait(t, len(msgs), done, 2)
	for i, got := range results {
		if string(got) != string(want) {
			t.Fatalf("TLS mirror %d differs\n%s", i, firstDiff(got, want))
		}
	}
	mu.Lock()
	defer mu.Unlock()
	refused := false
	for _, l := range logs {
		if strings.Contains(l, "refused") {
			refused = true
			if !strings.Contains(l, "client 127.0.0.1:") {
				t.Errorf("the refusal does not name the TLS client: %q", l)
			}
		}
	}
	if !refused {
		t.Errorf("no refusal logged: %q", logs)
	}
}

// TestTLSHandshakeBounds: connections that never finish their handshake
// are bounded by MaxClients and cut off after the Hello timeout; then a
// real client gets in.
func TestTLSHandshakeBounds(t *testing.T) {
	certs, scfg := testcert.ForTest(t)
	d := newDaemon(t, transport.ServerConfig{TLS: scfg, MaxClients: 4, HelloTimeout: 300 * time.Millisecond})
	addr := d.srv.Addr().String()
	for range 10 { // held open, never saying a word, until the test ends
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	deadline := time.Now().Add(10 * time.Second)
	for st := d.srv.Stats(); st.Disconnects[transport.DisconnectTooMany] < 6 || st.Disconnects[transport.DisconnectTLS] < 4; st = d.srv.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("disconnects %v, want 6 too many and 4 handshakes", st.Disconnects)
		}
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, addr, client.WithTLS(certs.Client()))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}
