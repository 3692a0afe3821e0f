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
// Between the two, SetSpin makes an epoll Poller poll for a while without
// sleeping before it goes to sleep: while datagrams keep coming it never
// sleeps (no wake-up latency, no scheduler hand-off per datagram), and
// when the feed goes quiet it stops burning the core after the spin time.
//
// A Poller is not safe for concurrent use: it belongs to the receive loop.
// Closing it does not close its sockets.
type Poller struct {
	busy   bool
	spin   time.Duration
	epfd   int
	events []unix.EpollEvent
}

// SetSpin sets how long Wait, in epoll mode, polls the sockets without
// sleeping (epoll_wait with a zero timeout, in a loop) before it sleeps in
// epoll_wait; 0 (the default) sleeps at once, and negative values count as
// 0. The spin is bounded by Wait's timeout. It has no effect in busy mode.
// A spin of a few times the datagrams' interval at the feed's busiest
// (tens of microseconds) keeps a busy feed from ever waking the thread.
func (p *Poller) SetSpin(d time.Duration) { p.spin = max(d, 0) }

// Spin returns the spin time set by SetSpin.
func (p *Poller) Spin() time.Duration { return p.spin }

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
// remaining time. With a spin time (SetSpin), Wait first polls for up to
// that long (or timeout, if shorter) and sleeps only for what remains of
// timeout. In busy mode Wait returns nil at once. Wait does not allocate.
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
	if p.spin > 0 && timeout != 0 {
		start := time.Now()
		spin := p.spin
		if timeout > 0 {
			spin = min(spin, timeout)
		}
		for {
			n, errno := epollPoll(p.epfd, p.events)
			switch {
			case errno == 0 && n > 0:
				return nil
			case errno != 0 && errno != unix.EINTR:
				return &Error{Op: "epoll_wait", Err: errno}
			}
			if time.Since(start) >= spin {
				break
			}
		}
		if timeout > 0 {
			if timeout = time.Until(deadline); timeout <= 0 {
				return ErrTimeout
			}
		}
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
