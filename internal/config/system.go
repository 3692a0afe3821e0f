package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// Checks against the running system, made at load so that a value that
// parses but cannot work is refused naming its key, instead of failing
// later with an error that does not, or only warning.

// interfaceByName is net.InterfaceByName; tests replace it.
var interfaceByName = net.InterfaceByName

// checkInterface checks that the interface the groups are joined on
// exists, is up, and can carry multicast: it has the MULTICAST flag, or is
// the loopback interface (which Linux lets a sender use for multicast
// through IP_MULTICAST_IF though it lacks the flag). A source-specific
// join names the interface by its IPv4 address, so with ssm it must have
// one.
func checkInterface(name string, ssm bool) error {
	ifi, err := interfaceByName(name)
	if err != nil {
		var have []string
		if all, err := net.Interfaces(); err == nil {
			for _, i := range all {
				have = append(have, i.Name)
			}
		}
		return fmt.Errorf("no such interface (the host has: %s)", strings.Join(have, ", "))
	}
	switch {
	case ifi.Flags&net.FlagUp == 0:
		return errors.New("interface is down")
	case ifi.Flags&(net.FlagMulticast|net.FlagLoopback) == 0:
		return errors.New("interface is not multicast-capable (no MULTICAST flag)")
	}
	if ssm {
		addrs, err := ifi.Addrs()
		if err != nil {
			return fmt.Errorf("reading its addresses: %v", err)
		}
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
				return nil
			}
		}
		return errors.New("no IPv4 address, which a source-specific join (line_a.source, line_b.source) needs")
	}
	return nil
}

// checkOutput checks that a file can be created at path: its directory
// exists and path is not itself a directory. Found at the end of the
// session, either would lose the books.
func checkOutput(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return errors.New("is a directory")
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("directory %s: %v", dir, errors.Unwrap(err))
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	return nil
}
