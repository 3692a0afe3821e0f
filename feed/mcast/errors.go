//go:build linux

package mcast

import (
	"errors"
	"fmt"
	"net/netip"
)

var (
	// ErrNotMulticast reports a Config.Group that is not a multicast
	// address (224.0.0.0/4 or ff00::/8).
	ErrNotMulticast = errors.New("mcast: not a multicast address")

	// ErrIPv6 reports an IPv6 destination on a Sender that has no IPv6
	// socket (kernel without IPv6), or an invalid destination.
	ErrIPv6 = errors.New("mcast: IPv6 unavailable")

	// ErrBadSource reports a Config.Source that is not a unicast address
	// of the group's family.
	ErrBadSource = errors.New("mcast: invalid source address")

	// ErrNoInterface reports an interface name that does not exist.
	ErrNoInterface = errors.New("mcast: no such interface")

	// ErrClosed reports an operation on a closed Socket, Sender or Poller.
	ErrClosed = errors.New("mcast: use of closed socket")

	// ErrTimeout reports a Poller.Wait that ended without any readable socket.
	ErrTimeout = errors.New("mcast: wait timed out")
)

// Error describes a failed socket operation: what was attempted (Op), on
// which group and interface, and the underlying cause (usually a
// unix.Errno, so errors.Is(err, unix.EPERM) works).
type Error struct {
	Op        string         // "socket", "bind", "join", "setsockopt SO_RCVBUF", "recvmmsg", ...
	Group     netip.AddrPort // group (Listen) or destination (Sender); zero if none
	Source    netip.Addr     // source of a source-specific join; zero if none
	Interface string         // interface name; "" = the kernel's default choice
	Err       error
}

func (e *Error) Error() string {
	s := "mcast: " + e.Op
	if e.Group.IsValid() {
		if e.Op == "join" || e.Op == "leave" {
			s += " " + e.Group.Addr().String()
		} else {
			s += " " + e.Group.String()
		}
	}
	if e.Source.IsValid() {
		s += " from " + e.Source.String()
	}
	if e.Interface != "" {
		s += " on " + e.Interface
	} else if e.Op == "join" {
		s += " on default interface"
	}
	return fmt.Sprintf("%s: %v", s, e.Err)
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }
