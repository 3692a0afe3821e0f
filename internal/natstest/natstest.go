// Package natstest runs nats-servers with JetStream in the process, on
// loopback, for the tests and benchmarks of the NATS path: one server, or
// a cluster of them routed together.
package natstest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is n nats-servers with JetStream, routed into one cluster when
// n > 1.
type Cluster struct {
	Nodes []*server.Server
	URLs  []string // each node's client URL, by node
	URL   string   // all of them, comma-separated (a client's or a publisher's URL)
	dirs  []string
}

// Start runs n servers, named n0, n1..., each storing in a directory of
// its own under the system's temporary directory (removed by Stop).
func Start(n int) (*Cluster, error) {
	ports, err := FreePorts(2 * n)
	if err != nil {
		return nil, err
	}
	cl := &Cluster{}
	var routes []string
	for i := range n {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", ports[n+i]))
	}
	for i := range n {
		dir, err := os.MkdirTemp("", "tickwire-nats")
		if err != nil {
			cl.Stop()
			return nil, err
		}
		cl.dirs = append(cl.dirs, dir)
		o := &server.Options{ServerName: fmt.Sprintf("n%d", i), Host: "127.0.0.1", Port: ports[i], JetStream: true,
			StoreDir: dir, NoLog: true, NoSigs: true}
		if n > 1 {
			o.Cluster = server.ClusterOpts{Name: "tw", Host: "127.0.0.1", Port: ports[n+i]}
			o.Routes = server.RoutesFromStr(strings.Join(routes, ","))
		}
		ns, err := server.NewServer(o)
		if err != nil {
			cl.Stop()
			return nil, err
		}
		go ns.Start()
		cl.Nodes = append(cl.Nodes, ns)
		cl.URLs = append(cl.URLs, fmt.Sprintf("nats://127.0.0.1:%d", ports[i]))
	}
	for _, ns := range cl.Nodes {
		if !ns.ReadyForConnections(20 * time.Second) {
			cl.Stop()
			return nil, errors.New("natstest: a nats-server was not ready in 20 s")
		}
	}
	cl.URL = strings.Join(cl.URLs, ",")
	return cl, nil
}

// Stop shuts every server down and removes their storage.
func (cl *Cluster) Stop() {
	for _, ns := range cl.Nodes {
		ns.Shutdown()
	}
	for _, ns := range cl.Nodes {
		ns.WaitForShutdown()
	}
	for _, d := range cl.dirs {
		os.RemoveAll(d)
	}
}

// FreePorts returns n distinct loopback TCP ports free a moment ago (the
// listeners are all held open while they are chosen).
func FreePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
