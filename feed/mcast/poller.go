//go:build linux

package mcast

import (
	"time"

	"golang.org/x/sys/unix"
)

// Poller waits until one of several sockets has a datagram queued.
//
// In busy mode Wait returns at once and the caller spins on Recv over
// every socket: lowest latency, one core burnt at 100% (pin the receive
// goroutine with runtime.LockOSThread and isolate its CPU). Otherwise Wait
// sleeps in epoll_wait (level-triggered EPOLLIN on every socket), so a
// datagram already queued makes it return immediately.
//
// A Poller is not safe for concurrent use: it belongs to the receive loop.
// Closing it does not close its sockets.
type Poller struct {
	busy   bool
	epfd   int
	events []unix.EpollEvent
}

// NewPoller returns a Poller for socks. In busy mode no epoll instance is
// created.
func NewPoller(busy bool, socks ...*Socket) (*Poller, error) {
	p := &Poller{busy: busy, epfd: -1}
	if busy {
		return p, nil
	}
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, &Error{Op: "epoll_create1", Err: err}
	}
	p.epfd = epfd
	for i, s := range socks {
		if s.fd < 0 {
			unix.Close(epfd)
			return nil, &Error{Op: "epoll_ctl", Group: s.cfg.Group, Interface: s.cfg.Interface, Err: ErrClosed}
		}
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(i)}
		if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, s.fd, &ev); err != nil {
			unix.Close(epfd)
			return nil, &Error{Op: "epoll_ctl", Group: s.cfg.Group, Interface: s.cfg.Interface, Err: err}
		}
	}
	p.events = make([]unix.EpollEvent, max(len(socks), 1))
	return p, nil
}

// Wait blocks until at least one socket is readable (nil) or timeout
// passes (ErrTimeout). A negative timeout waits forever; a timeout is
// rounded up to whole milliseconds (epoll's resolution). Signals that
// interrupt the wait (the Go runtime sends them) are retried with the
// remaining time. In busy mode Wait returns nil at once. Wait does not
// allocate.
func (p *Poller) Wait(timeout time.Duration) error {
	if p.busy {
		return nil
	}
	if p.epfd < 0 {
		return ErrClosed
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		ms := -1
		if timeout >= 0 {
			ms = int((timeout + time.Millisecond - 1) / time.Millisecond)
		}
		n, err := unix.EpollWait(p.epfd, p.events, ms)
		switch {
		case err == unix.EINTR:
			if timeout > 0 {
				if timeout = time.Until(deadline); timeout <= 0 {
					return ErrTimeout
				}
			}
			continue
		case err != nil:
			return &Error{Op: "epoll_wait", Err: err}
		case n == 0:
			return ErrTimeout
		}
		return nil
	}
}

// Close releases the epoll instance.
func (p *Poller) Close() error {
	if p.busy {
		p.busy = false
		p.epfd = -1
		return nil
	}
	if p.epfd < 0 {
		return ErrClosed
	}
	err := unix.Close(p.epfd)
	p.epfd = -1
	return err
}
