package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tickwire/tickwire/codec/itch"
	"github.com/tickwire/tickwire/codec/moldudp64"
)

// sendBatch is the most datagrams sent per sendmmsg call on a line.
const sendBatch = 32

// Sender sends UDP datagrams to a destination; feed/mcast's Sender is one.
type Sender interface {
	SendBatch(dst netip.AddrPort, payloads [][]byte) (int, error)
}

// Run plays the whole history on both lines through s, paced by
// cfg.Rate, then sends the end-of-session packets, endInterval apart. It
// returns early with ctx's error when ctx is done.
func Run(ctx context.Context, cfg Config, h *History, s Sender, endInterval time.Duration) (Stats, error) {
	var st Stats
	if err := cfg.validate(); err != nil {
		return st, err
	}
	session := moldudp64.MakeSession(cfg.Session)
	var lines [2]*lineState
	for i := range lines {
		lines[i] = &lineState{cfg: cfg.Lines[i], rng: rand.New(rand.NewPCG(cfg.Seed, uint64(i)+1))}
	}
	send := func(i int) error {
		l := lines[i]
		if len(l.out) == 0 {
			return nil
		}
		n, err := s.SendBatch(l.cfg.Group, l.out)
		l.sent += uint64(n)
		l.recycle()
		if err != nil {
			return fmt.Errorf("sim: line %c: %w", 'A'+i, err)
		}
		return nil
	}
	start := time.Now()
	var t0 uint64 // ITCH timestamp of the first message, for Speed
	if h.Len() > 0 && len(h.Message(1)) >= itch.HeaderLen {
		t0 = itch.Message(h.Message(1)).Timestamp()
	}
	var pkt []byte
	for seq := uint64(1); seq <= h.Len(); {
		if ctx.Err() != nil {
			return st, ctx.Err()
		}
		var n int
		pkt, n = h.AppendPacket(pkt[:0], session, seq, 0xFFFE, cfg.MaxPayload)
		seq += uint64(n)
		if cfg.Progress != nil {
			cfg.Progress.Store(seq)
		}
		st.Packets++
		st.Messages += uint64(n)
		// Datagrams are sent in sendmmsg batches of up to sendBatch per
		// line, and always before the pacing sleeps, so that batching never
		// holds a datagram back in time.
		for i, l := range lines {
			l.impair(pkt)
			if len(l.out) >= sendBatch {
				if err := send(i); err != nil {
					return st, err
				}
			}
		}
		if cfg.Rate > 0 || cfg.Speed > 0 {
			var due time.Time
			if cfg.Speed > 0 {
				// As recorded: the next packet's first message's time.
				ts := t0
				if seq <= h.Len() {
					if m := h.Message(seq); len(m) >= itch.HeaderLen {
						ts = itch.Message(m).Timestamp()
					}
				}
				due = start.Add(time.Duration(float64(ts-min(ts, t0)) / cfg.Speed))
			} else {
				due = start.Add(time.Duration(float64(st.Messages) / cfg.Rate * float64(time.Second)))
			}
			if d := time.Until(due); d > 0 {
				for i := range lines {
					if err := send(i); err != nil {
						return st, err
					}
				}
				// Sleep through long waits, then spin to the due time: packets
				// leave evenly spaced, as an exchange sends them, not in
				// bursts that would queue at the receiver.
				if d = time.Until(due); d > 300*time.Microsecond {
					time.Sleep(d - 200*time.Microsecond)
				}
				for time.Now().Before(due) {
					// Yield while spinning: on loopback the receive side's
					// softirq work runs on this core, often in ksoftirqd,
					// which a bare spin would starve until the scheduler
					// preempts it (milliseconds).
					unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
				}
			}
		}
	}
	for i, l := range lines {
		l.flush()
		if err := send(i); err != nil {
			return st, err
		}
	}
	next := h.Len() + 1
	eos := moldudp64.AppendEndOfSession(nil, session, next)
	for k := 0; k < cfg.EndOfSession; k++ {
		if k > 0 {
			select {
			case <-ctx.Done():
				return st, ctx.Err()
			case <-time.After(endInterval):
			}
		}
		for i, l := range lines {
			if next >= l.cfg.CutFrom && next < l.cfg.CutTo {
				continue
			}
			l.out = append(l.out, append(l.get(), eos...))
			if err := send(i); err != nil {
				return st, err
			}
		}
	}
	for i, l := range lines {
		st.Lines[i].Sent, st.Lines[i].Lost, st.Lines[i].Dups, st.Lines[i].Reordered = l.sent, l.lost, l.dups, l.reordered
	}
	return st, nil
}
