package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/tickwire/tickwire/feed/live"
)

// notifySystemd tells systemd (Type=notify) that the daemon is ready, and,
// when the unit sets WatchdogSec, keeps the watchdog fed for as long as the
// goroutine applying messages is alive: it publishes its figures once a
// second, and a watchdog ping goes out only while they are recent, so that
// a wedged receive loop gets the daemon restarted. Outside systemd it does
// nothing. The returned function says the daemon is stopping.
func notifySystemd(ctx context.Context, h *live.Handler, logw io.Writer) (stopping func()) {
	sent, err := daemon.SdNotify(false, daemon.SdNotifyReady)
	if err != nil {
		fmt.Fprintf(logw, "systemd: readiness: %v\n", err)
	}
	if !sent {
		return func() {}
	}
	if every, err := daemon.SdWatchdogEnabled(false); err == nil && every > 0 {
		go func() {
			t := time.NewTicker(every / 3)
			defer t.Stop()
			started := time.Now()
			for {
				select {
				case <-ctx.Done():
					return
				case now := <-t.C:
					// The loop publishes at least once a second once running.
					at := h.Stats().At
					if at.IsZero() {
						at = started
					}
					if now.Sub(at) < every/2 {
						daemon.SdNotify(false, daemon.SdNotifyWatchdog)
					}
				}
			}
		}()
	}
	return func() { daemon.SdNotify(false, daemon.SdNotifyStopping) }
}
