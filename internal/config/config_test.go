package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tickwire/tickwire/internal/testcert"
)

const minimal = `
feed:
  interface: lo
  line_a: {group: 239.10.0.1:30000}
  line_b: {group: 239.10.0.2:30000}
`

func TestExampleConfigLoads(t *testing.T) {
	c, err := Load("../../tickwire.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The one value the example sets on purpose: it serves subscribers.
	d := Default()
	if c.Transport.Listen != "127.0.0.1:27100" || d.Transport.Listen != "" {
		t.Errorf("transport.listen: the example's %q, the default %q", c.Transport.Listen, d.Transport.Listen)
	}
	d.Transport.Listen, d.Transport.ListenAddr = c.Transport.Listen, c.Transport.ListenAddr
	// And its metrics listener.
	if c.Admin.Listen != "127.0.0.1:27101" || d.Admin.Listen != "" {
		t.Errorf("admin.listen: the example's %q, the default %q", c.Admin.Listen, d.Admin.Listen)
	}
	d.Admin = c.Admin
	if !reflect.DeepEqual(c, withAddrs(t, d, c)) {
		t.Errorf("the example's values differ from the defaults:\n%+v\n%+v", *c, *Default())
	}
}

// withAddrs copies the parsed addresses of c into d, so that a Config of
// defaults compares equal to one parsed from a file of defaults.
func withAddrs(t *testing.T, d, c *Config) *Config {
	t.Helper()
	d.Feed.Interface = c.Feed.Interface
	d.Feed.LineA, d.Feed.LineB = c.Feed.LineA, c.Feed.LineB
	d.Transport.ListenAddr = c.Transport.ListenAddr
	return d
}

func TestMinimal(t *testing.T) {
	c, err := Parse(strings.NewReader(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if c.Feed.LineA.GroupAddr.String() != "239.10.0.1:30000" || c.Feed.Rerequest.Timeout != 50*time.Millisecond {
		t.Errorf("parsed %+v", c.Feed)
	}
}

func TestRefusedNamingTheKey(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ yaml, key string }{
		{strings.Replace(minimal, "239.10.0.1:30000", "239.10.0.300:30000", 1), "feed.line_a.group"},
		{strings.Replace(minimal, "239.10.0.2:30000", "10.0.0.2:30000", 1), "feed.line_b.group"},
		{strings.Replace(minimal, "239.10.0.2", "239.10.0.1", 1), "feed.line_b.group"},
		{strings.Replace(minimal, "interface: lo", "interface: \"\"", 1), "feed.interface"},
		{strings.Replace(minimal, "interface: lo", "interface: nosuchif", 1), "feed.interface"},
		{minimal + "  poll: sometimes\n", "feed.poll"},
		{minimal + "  recv_buffer: 10\n", "feed.recv_buffer"},
		{minimal + "  recv_buffer: -4194304\n", "feed.recv_buffer"},
		{minimal + "  recv_buffer: 99999999999999999999\n", "feed.recv_buffer"},
		{minimal + "  rerequest: {server: 239.1.1.1:5}\n", "feed.rerequest.server"},
		{minimal + "  rerequest: {server: 0.0.0.0:5}\n", "feed.rerequest.server"},
		{minimal + "  rerequest: {server: 255.255.255.255:5}\n", "feed.rerequest.server"},
		{minimal + "  rerequest: {server: \"[::1]:5\"}\n", "feed.rerequest.server"},
		{minimal + "  rerequest: {server: 127.0.0.1:0}\n", "feed.rerequest.server"},
		{minimal + "  rerequest: {server: 127.0.0.1}\n", "feed.rerequest.server"},
		{minimal + "  rerequest: {max_count: 70000}\n", "feed.rerequest.max_count"},
		{minimal + "  rerequest: {max_count: 0}\n", "feed.rerequest.max_count"},
		{minimal + "  rerequest: {max_outstanding: -1}\n", "feed.rerequest.max_outstanding"},
		{minimal + "  rerequest: {fill_time: 1s, max_age: 1s}\n", "feed.rerequest.max_age"},
		{minimal + "  rerequest: {fill_time: 0s}\n", "feed.rerequest.fill_time"},
		{minimal + "  rerequest: {fill_time: -2ms}\n", "feed.rerequest.fill_time"},
		{minimal + "  rerequest: {timeout: 0s}\n", "feed.rerequest.timeout"},
		{minimal + "  rerequest: {timeout: -50ms}\n", "feed.rerequest.timeout"},
		{minimal + "  rerequest: {timeout: 5s}\n", "feed.rerequest.timeout"},
		{minimal + "  rerequest: {timeout: 5}\n", "feed.rerequest.timeout"},
		{minimal + "  rerequest: {backoff: 0.5}\n", "feed.rerequest.backoff"},
		{minimal + "  rerequest: {backoff: .nan}\n", "feed.rerequest.backoff"},
		{minimal + "  rerequest: {backoff: .inf}\n", "feed.rerequest.backoff"},
		{minimal + "  rerequest: {max_retries: -1}\n", "feed.rerequest.max_retries"},
		{minimal + "  rerequest: {max_retries: 1000000}\n", "feed.rerequest.max_retries"},
		{minimal + "  rerequest: {max_age: 0s}\n", "feed.rerequest.max_age"},
		{minimal + "  rerequest: {max_age: 1000h}\n", "feed.rerequest.max_age"},
		{minimal + "  line_c: {group: 239.1.1.1:1}\n", "line_c"},
		{minimal + "transport: {listen: 10.1.1.1:27100}\n", "transport.listen"},
		{minimal + "transport: {listen: nowhere}\n", "transport.listen"},
		{minimal + "transport: {listen: 239.1.1.1:27100}\n", "transport.listen"},
		{minimal + "transport: {token: \"a\\tb\"}\n", "transport.token"},
		{minimal + "transport: {tls: {cert: /nonexistent.pem, key: /nonexistent.key}}\n", "transport.tls: open /nonexistent.pem"},
		{minimal + "transport: {tls: {cert: /etc/hostname}}\n", "transport.tls.key: missing"},
		{minimal + "transport: {tls: {key: /etc/hostname}}\n", "transport.tls.cert: missing"},
		{minimal + "transport: {tls: {cert: /etc/hostname, key: /etc/hostname}}\n", "transport.tls: tls: failed to find any PEM data"},
		{minimal + "transport: {slow_consumer: wait}\n", "transport.slow_consumer"},
		{minimal + "transport: {queue_bytes: 100}\n", "transport.queue_bytes"},
		{minimal + "transport: {slow_after: 0s}\n", "transport.slow_after"},
		{minimal + "transport: {hello_timeout: 2m}\n", "transport.hello_timeout"},
		{minimal + "transport: {max_clients: 0}\n", "transport.max_clients"},
		{minimal + "transport: {cpus: [100000]}\n", "transport.cpus"},
		{minimal + "transport: {cpus: [-1]}\n", "transport.cpus"},
		{minimal + "  cpu: 0\ntransport: {cpus: [0]}\n", "transport.cpus: 0 is feed.cpu"},
		{minimal + "transport: {nice: -5}\n", "transport.nice"},
		{minimal + "transport: {nice: 20}\n", "transport.nice"},
		{minimal + "book: {orders: 0}\n", "book.orders"},
		{minimal + "book: {shards: 0}\n", "book.shards"},
		{minimal + "book: {shards: 65}\n", "book.shards"},
		{minimal + "book: {shards: 3, cpus: [0, 0]}\n", "book.cpus: 0 given twice"},
		{minimal + "book: {shards: 1, cpus: [0]}\n", "book.cpus"},
		{minimal + "book: {shards: 2, cpus: [0, 1]}\n", "book.cpus: 2 CPUs for the 1 writers"},
		{minimal + "book: {shards: 2, cpus: [-1]}\n", "book.cpus"},
		{minimal + "  cpu: 0\nbook: {shards: 2, cpus: [0]}\n", "book.cpus: 0 is feed.cpu"},
		{minimal + "transport: {cpus: [0]}\nbook: {shards: 2, cpus: [0]}\n", "book.cpus: 0 is in transport.cpus"},
		{minimal + "book: {shards: 2, map: {AAPL: 2}}\n", "book.map: AAPL: shard 2 of 2"},
		{minimal + "book: {shards: 2, map: {TOOLONGSYM: 1}}\n", "book.map"},
		{minimal + "book: {orders: -5}\n", "book.orders"},
		{minimal + "book: {instruments: 70000}\n", "book.instruments"},
		{minimal + "  session: ELEVENCHARSX\n", "feed.session"},
		{minimal + "  session: \"TICK\\tWIRE\"\n", "feed.session"},
		{minimal + "  session: \"S\u00e9ANCE\"\n", "feed.session"},
		{minimal + "  rerequest: {timeout: fast}\n", "timeout"},
		{minimal + "  snapshot: {server: nowhere}\n", "feed.snapshot.server"},
		{minimal + "  snapshot: {server: 224.0.0.1:5}\n", "feed.snapshot.server"},
		{minimal + "  snapshot: {server: 127.0.0.1:5, username: toolonguser}\n", "feed.snapshot.username"},
		{minimal + "  snapshot: {server: 127.0.0.1:5, password: \"pa\\nss\"}\n", "feed.snapshot.password"},
		{minimal + "  snapshot: {timeout: 0s}\n", "feed.snapshot.timeout"},
		{minimal + "  snapshot: {timeout: -1s}\n", "feed.snapshot.timeout"},
		{minimal + "  snapshot: {timeout: 1000h}\n", "feed.snapshot.timeout"},
		{minimal + "  snapshot: {max_bytes: 0}\n", "feed.snapshot.max_bytes"},
		{minimal + "  snapshot: {max_bytes: -1}\n", "feed.snapshot.max_bytes"},
		{minimal + "  snapshot: {max_bytes: 1099511627776}\n", "feed.snapshot.max_bytes"},
		{minimal + "  snapshot: {max_orders: 0}\n", "feed.snapshot.max_orders"},
		{minimal + "  snapshot: {max_orders: 3000000000}\n", "feed.snapshot.max_orders"},
		{minimal + "  snapshot: {max_orders: lots}\n", "feed.snapshot.max_orders"},
		{minimal + "  soupbintcp: {server: 127.0.0.1:0}\n", "feed.soupbintcp.server"},
		{minimal + "  soupbintcp: {server: 0.0.0.0:5}\n", "feed.soupbintcp.server"},
		{minimal + "  soupbintcp: {server: 127.0.0.1:5, session: \"A\\x00\"}\n", "feed.soupbintcp.session"},
		{minimal + "  soupbintcp: {server: 127.0.0.1:5, username: sevenXX}\n", "feed.soupbintcp.username"},
		{minimal + "  soupbintcp: {packet_timeout: 0s}\n", "feed.soupbintcp.packet_timeout"},
		{minimal + "  soupbintcp: {packet_timeout: -5s}\n", "feed.soupbintcp.packet_timeout"},
		{minimal + "  soupbintcp: {packet_timeout: 1ms}\n", "feed.soupbintcp.packet_timeout"},
		{minimal + "  soupbintcp: {packet_timeout: 1h}\n", "feed.soupbintcp.packet_timeout"},
		{minimal + "  datagram_size: 2048\n", ""}, // accepted: see TestAccepted
		{minimal + "  datagram_size: 1471\n", "feed.datagram_size"},
		{minimal + "  datagram_size: 0\n", "feed.datagram_size"},
		{minimal + "  datagram_size: -9216\n", "feed.datagram_size"},
		{minimal + "  datagram_size: 65508\n", "feed.datagram_size"},
		{minimal + "  datagram_size: 9k\n", "feed.datagram_size"},
		{minimal + "  end_quiet: 0s\n", "feed.end_quiet"},
		{minimal + "  end_quiet: -3s\n", "feed.end_quiet"},
		{minimal + "  end_quiet: 1s\n", "feed.end_quiet"},
		{minimal + "  end_quiet: 2h\n", "feed.end_quiet"},
		{minimal + "  max_jump: 1\n", "feed.max_jump"},
		{minimal + "  max_jump: 65535\n", "feed.max_jump"},
		{minimal + "  max_jump: -1\n", "feed.max_jump"},
		{minimal + "  cpu: -2\n", "feed.cpu"},
		{minimal + "  cpu: 100000\n", "feed.cpu"},
		{minimal + "  hold: {packets: 0}\n", "feed.hold.packets"},
		{minimal + "  hold: {packets: -1}\n", "feed.hold.packets"},
		{minimal + "  hold: {packets: 2000000}\n", "feed.hold.packets"},
		{minimal + "  hold: {bytes: 0}\n", "feed.hold.bytes"},
		{minimal + "  hold: {bytes: 1099511627776}\n", "feed.hold.bytes"},
		{minimal + "books_on_exit: " + dir + "\n", "books_on_exit"},
		{minimal + "books_on_exit: " + dir + "/no/such/dir/books.jsonl\n", "books_on_exit"},
		{strings.Replace(minimal, "line_a: {group: 239.10.0.1:30000}", "line_a: {group: 239.10.0.1:30000, source: 0.0.0.0}", 1), "feed.line_a.source"},
		{strings.Replace(minimal, "line_b: {group: 239.10.0.2:30000}", "line_b: {group: 239.10.0.2:30000, source: 239.1.1.1}", 1), "feed.line_b.source"},
	} {
		if c.key == "" {
			continue
		}
		_, err := Parse(strings.NewReader(c.yaml))
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%q: error %v; want one naming %s", c.yaml[len(minimal)-1:], err, c.key)
		}
	}
	if _, err := Load("/nonexistent/tickwire.yaml"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Parse(strings.NewReader(minimal + "---\nfeed: {poll: busy}\n")); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "document") {
		t.Errorf("two YAML documents: error %v; want one refusing the second", err)
	}
}

// TestErrorText checks the whole text of the errors a user reads: the key
// and the fault, each named once, after ErrInvalid's prefix.
func TestErrorText(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{minimal + "  recv_buffer: -5\n", "config: invalid feed.recv_buffer: -5 bytes: want 64 KiB to 1 GiB"},
		{minimal + "  nosuch: 3\n", "config: invalid feed.nosuch (line 6): unknown key"},
		{minimal + "  rerequest: {timeout: abc}\n", "config: invalid feed.rerequest.timeout (line 6): cannot unmarshal !!str `abc` into time.Duration"},
		{minimal + "  nosuch: 3\n  datagram_size: 9k\n", "config: invalid feed.nosuch (line 6): unknown key; " +
			"feed.datagram_size (line 7): cannot unmarshal !!str `9k` into int"},
		{minimal + "  x: y: z\n", "config: invalid YAML (line 6): mapping values are not allowed in this context"},
		{minimal + "---\nfeed: {}\n", "config: invalid YAML: more than one document (---)"},
	} {
		_, err := Parse(strings.NewReader(c.yaml))
		if !errors.Is(err, ErrInvalid) || err.Error() != c.want {
			t.Errorf("%q: error %v; want %s", c.yaml[len(minimal)-1:], err, c.want)
		}
	}
}

// TestAccepted checks boundary values that must pass, and that each new
// key reaches the Config.
func TestAccepted(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		yaml  string
		check func(*Config) bool
	}{
		{minimal, func(c *Config) bool {
			return c.Feed.DatagramSize == 9216 && c.Feed.EndQuiet == 3*time.Second &&
				c.Feed.Snapshot.MaxBytes == 2<<30 && c.Feed.Snapshot.MaxOrders == 20_000_000 &&
				c.Feed.SoupBinTCP.PacketTimeout == 5*time.Second
		}},
		{minimal + "  datagram_size: 1472\n", func(c *Config) bool { return c.Feed.DatagramSize == 1472 }},
		{minimal + "  datagram_size: 65507\n", func(c *Config) bool { return c.Feed.DatagramSize == 65507 }},
		{minimal + "  end_quiet: 1500ms\n", func(c *Config) bool { return c.Feed.EndQuiet == 1500*time.Millisecond }},
		{minimal + "  end_quiet: 1m\n", func(c *Config) bool { return c.Feed.EndQuiet == time.Minute }},
		{minimal + "  snapshot: {max_bytes: 1048576, max_orders: 1}\n", func(c *Config) bool {
			return c.Feed.Snapshot.MaxBytes == 1<<20 && c.Feed.Snapshot.MaxOrders == 1
		}},
		{minimal + "  snapshot: {max_bytes: 68719476736, max_orders: 2147483647}\n", func(c *Config) bool {
			return c.Feed.Snapshot.MaxBytes == 64<<30 && c.Feed.Snapshot.MaxOrders == 1<<31-1
		}},
		{minimal + "  soupbintcp: {packet_timeout: 100ms}\n", func(c *Config) bool { return c.Feed.SoupBinTCP.PacketTimeout == 100*time.Millisecond }},
		{minimal + "  soupbintcp: {packet_timeout: 15s}\n", func(c *Config) bool { return c.Feed.SoupBinTCP.PacketTimeout == 15*time.Second }},
		{minimal + "  max_jump: 0\n", func(c *Config) bool { return c.Feed.MaxJump == 0 }},
		{minimal + "  max_jump: 65536\n", func(c *Config) bool { return c.Feed.MaxJump == 65536 }},
		{minimal + "  rerequest: {server: \"[::ffff:127.0.0.1]:5\"}\n", func(c *Config) bool {
			return c.Feed.Rerequest.ServerAddr == netip.MustParseAddrPort("127.0.0.1:5")
		}},
		{minimal + "  rerequest: {backoff: 1, max_retries: 0}\n", func(c *Config) bool { return c.Feed.Rerequest.Backoff == 1 }},
		{minimal + "  session: \"TICK WIRE\"\n", func(c *Config) bool { return c.Feed.Session == "TICK WIRE" }},
		{minimal + "books_on_exit: " + dir + "/books.jsonl\n", func(c *Config) bool { return c.BooksOnExit == dir+"/books.jsonl" }},
		{strings.Replace(minimal, "line_a: {group: 239.10.0.1:30000}", "line_a: {group: 239.10.0.1:30000, source: 127.0.0.1}", 1), func(c *Config) bool {
			return c.Feed.LineA.SourceAddr == netip.MustParseAddr("127.0.0.1")
		}},
	} {
		got, err := Parse(strings.NewReader(c.yaml))
		if err != nil {
			t.Errorf("%q: %v", c.yaml[len(minimal)-1:], err)
			continue
		}
		if !c.check(got) {
			t.Errorf("%q: parsed %+v", c.yaml[len(minimal)-1:], got.Feed)
		}
	}
}

// TestInterface checks feed.interface against interfaces of every state,
// through a stand-in for net.InterfaceByName (lo is real).
func TestInterface(t *testing.T) {
	fake := map[string]net.Interface{
		"down0":  {Name: "down0", Flags: net.FlagMulticast},
		"nomc0":  {Name: "nomc0", Flags: net.FlagUp | net.FlagBroadcast},
		"feed0":  {Name: "feed0", Flags: net.FlagUp | net.FlagMulticast},
		"nosuch": {},
	}
	interfaceByName = func(name string) (*net.Interface, error) {
		if ifi, ok := fake[name]; ok && ifi.Name != "" {
			return &ifi, nil
		}
		return net.InterfaceByName(name)
	}
	t.Cleanup(func() { interfaceByName = net.InterfaceByName })
	for _, c := range []struct {
		name, iface, source string
		want                string // "" accepted, else a part of the error
	}{
		{"loopback", "lo", "", ""},
		{"loopback ssm", "lo", "127.0.0.1", ""},
		{"multicast up", "feed0", "", ""},
		{"missing", "nosuch", "", "no such interface"},
		{"down", "down0", "", "down"},
		{"not multicast", "nomc0", "", "not multicast-capable"},
		// feed0 is not a real interface: it has no addresses.
		{"ssm without IPv4", "feed0", "10.1.1.1", "IPv4 address"},
	} {
		y := strings.Replace(minimal, "interface: lo", "interface: "+c.iface, 1)
		if c.source != "" {
			y = strings.Replace(y, "{group: 239.10.0.1:30000}", "{group: 239.10.0.1:30000, source: "+c.source+"}", 1)
		}
		_, err := Parse(strings.NewReader(y))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), "feed.interface") || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v; want one naming feed.interface and %q", c.name, err, c.want)
		}
	}
}

// TestTLSLoads: a certificate and key that go together are loaded, and
// they let the server listen beyond loopback without a token.
func TestTLSLoads(t *testing.T) {
	certs, err := testcert.New()
	if err != nil {
		t.Fatal(err)
	}
	_, cert, key, err := certs.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(strings.NewReader(minimal + fmt.Sprintf("transport: {listen: 10.1.1.1:27100, tls: {cert: %s, key: %s}}\n", cert, key)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Transport.TLSConfig == nil || len(c.Transport.TLSConfig.Certificates) != 1 {
		t.Fatalf("TLS not loaded: %+v", c.Transport.TLSConfig)
	}
}

// TestAdmin: the admin listeners are loopback only, and profiles never
// share the metrics listener.
func TestAdmin(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"admin: {listen: 10.0.0.1:9000}\n", "admin.listen"},
		{"admin: {pprof: 0.0.0.0:9000}\n", "admin.pprof"},
		{"admin: {listen: nowhere}\n", "admin.listen"},
		{"admin: {listen: 127.0.0.1:9000, pprof: 127.0.0.1:9000}\n", "admin.pprof"},
	} {
		if _, err := Parse(strings.NewReader(minimal + tc.yaml)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error naming %s", tc.yaml, err, tc.want)
		}
	}
	c, err := Parse(strings.NewReader(minimal + "admin: {listen: 127.0.0.1:9000, pprof: \"[::1]:9001\"}\n"))
	if err != nil || c.Admin.ListenAddr.Port() != 9000 || !c.Admin.PprofAddr.Addr().IsLoopback() {
		t.Fatalf("%+v, %v", c.Admin, err)
	}
}
