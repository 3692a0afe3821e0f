package config

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
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
	if *c != *withAddrs(t, Default(), c) {
		t.Errorf("the example's values differ from the defaults:\n%+v\n%+v", *c, *Default())
	}
}

// withAddrs copies the parsed addresses of c into d, so that a Config of
// defaults compares equal to one parsed from a file of defaults.
func withAddrs(t *testing.T, d, c *Config) *Config {
	t.Helper()
	d.Feed.Interface = c.Feed.Interface
	d.Feed.LineA, d.Feed.LineB = c.Feed.LineA, c.Feed.LineB
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
	for _, c := range []struct{ yaml, key string }{
		{strings.Replace(minimal, "239.10.0.1:30000", "239.10.0.300:30000", 1), "feed.line_a.group"},
		{strings.Replace(minimal, "239.10.0.2:30000", "10.0.0.2:30000", 1), "feed.line_b.group"},
		{strings.Replace(minimal, "239.10.0.2", "239.10.0.1", 1), "feed.line_b.group"},
		{strings.Replace(minimal, "interface: lo", "interface: \"\"", 1), "feed.interface"},
		{minimal + "  poll: sometimes\n", "feed.poll"},
		{minimal + "  recv_buffer: 10\n", "feed.recv_buffer"},
		{minimal + "  rerequest: {server: 239.1.1.1:5}\n", "feed.rerequest.server"},
		{minimal + "  rerequest: {max_count: 70000}\n", "feed.rerequest.max_count"},
		{minimal + "  rerequest: {fill_time: 1s, max_age: 1s}\n", "feed.rerequest.max_age"},
		{minimal + "  line_c: {group: 239.1.1.1:1}\n", "line_c"},
		{minimal + "book: {orders: 0}\n", "book.orders"},
		{minimal + "  session: ELEVENCHARSX\n", "feed.session"},
		{minimal + "  rerequest: {timeout: fast}\n", "timeout"},
		{minimal + "  snapshot: {server: nowhere}\n", "feed.snapshot.server"},
		{minimal + "  snapshot: {server: 127.0.0.1:5, username: toolonguser}\n", "feed.snapshot.username"},
	} {
		_, err := Parse(strings.NewReader(c.yaml))
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%q: error %v; want one naming %s", c.yaml[len(minimal)-1:], err, c.key)
		}
	}
	if _, err := Load("/nonexistent/tickwire.yaml"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
