// Package feed turns MoldUDP64 packets received on one or more lines into
// one gap-free, in-order stream of sequenced messages.
//
// Specification: MoldUDP64 Protocol Specification V 1.00 ("Downstream
// Packet", "Heartbeats", "End of Session"); tickwire's PROTOCOLS.md §4 gives
// the byte layout and the sequence arithmetic, §9 item 8 the pitfalls.
//
// # Sequencing
//
// A downstream packet with sequence S and count N (1 ≤ N ≤ 0xFFFE) carries
// the messages S, S+1, ..., S+N-1. The Arbiter keeps next, the sequence of the
// next message it owes its Handler, and classifies every packet:
//
//	               next
//	                |
//	[S ....... S+N) |                 duplicate: S+N <= next, dropped
//	        [S .....|... S+N)         overlap: skip next-S blocks, deliver the rest
//	                |  [S ... S+N)    ahead: hole [next, S-1], packet held
//
// Lines A and B carry the same packets, so on a healthy feed every packet
// arrives twice: the first copy delivers, the second is a duplicate. A packet
// ahead of next is copied into a bounded pool of preallocated buffers, kept in
// sequence order, until the hole below it is filled by either line; then every
// held packet that became contiguous is delivered, in order, each message
// exactly once. Held packets may overlap (the same packet from both lines, a
// retransmission covering several): a packet whose messages are all held
// already is dropped as a duplicate, and a held packet whose range a newer one
// covers entirely is released as a duplicate; partial overlaps are kept and
// trimmed at delivery.
//
// Heartbeats (count 0) and end-of-session packets (count 0xFFFF) carry no
// messages; their sequence is the next one the server will use, so a value
// above next reveals a lost tail, a hole that the other line may still fill.
//
// # Gaps
//
// A hole that is not filled in time becomes a gap: Handler.Gap(first, count)
// reports the missing range, next moves past it, and the held packets that
// became contiguous are delivered. A hole is given up when a hold limit is
// reached:
//
//   - Options.HoldPackets or Options.HoldBytes: a packet must be held and the
//     pool has no room for it. The lowest hole is given up, as often as needed
//     to make room (or until the packet is deliverable).
//   - Options.HoldTime: the oldest held packet has waited longer than the
//     hold time (the lowest hole, below it, has been open at least as long),
//     or a tail revealed by a heartbeat has stayed open longer than it (then
//     the holes below the announced sequence are given up), and every live
//     line has shown a sequence beyond the hole since its last heartbeat: a
//     line whose heartbeats still announce next says the hole may be a
//     rogue packet's, and it waits (with recovery, the same holds for a
//     hole whose re-requests have given up). Time is the now
//     argument of Packet and Tick, in nanoseconds: the capture time in a
//     replay, which makes replays deterministic, or a clock reading in a live
//     feed (call Tick when the lines are idle). A now lower than one seen
//     before counts as that one: time never runs backwards.
//
// Close gives up every remaining hole, including a tail revealed by a
// heartbeat, and delivers every held packet.
//
// A gap is final: messages of a range given up arrive later as duplicates
// and are dropped. Without WithRecovery, recovery (MoldUDP64 re-requests, a
// snapshot) belongs to the Handler, which learns the range from Gap.
//
// # Recovery
//
// WithRecovery(req, cfg) makes the Arbiter recover holes itself from the
// session's re-request server (MoldUDP64 "Request Packet"; PROTOCOLS.md §4).
// It keeps the missing ranges (holes) with the time each was seen, and the
// requests in flight, both in sequence order:
//
//	seq  10        20     25           100       130      140    150
//	     |  hole   | held |    hole    |  held   |  hole  | held |
//	     next                                                    known
//	     10+10 in flight  25+50, 75+25 in flight    waiting for
//	                      (MaxCount 50)             FillTime
//
// Each hole goes through these steps:
//
//   - A hole waits RecoveryConfig.FillTime for another line to fill it; then
//     its missing messages (never what is held or delivered) are requested,
//     lowest first, in requests of at most MaxCount messages, with at most
//     MaxOutstanding requests in flight; the others wait for a free slot.
//     A tail revealed by a heartbeat or end-of-session packet is a hole like
//     any other.
//   - Answers are ordinary downstream packets that the caller passes to
//     Packet, on the line named by WithRecoveryLine (without it, any line is
//     taken, as a test may want). On that line a packet is taken only as the
//     answer to a request in flight, cut to the range that request asks for;
//     one answering nothing is dropped (Stats.Unsolicited), and its
//     heartbeats announce nothing. Answers are arbitrated like every packet:
//     delivered once, in order, duplicates dropped. A packet carrying the first message of a request answers it
//     (whichever line it came on): answered in full, the request is done;
//     answered in part (the server's MTU), the rest is requested at once.
//   - A request unanswered for Timeout is sent again, for what is still
//     missing only, with its timeout multiplied by Backoff. When MaxRetries
//     retries have timed out too, its range is given up; so is a hole open
//     for longer than MaxAge, whatever its requests. Both clocks count from
//     the hole's last progress: a hole that shrinks from below (the lines
//     catching up with a packet far ahead, whose messages may not exist
//     yet) starts its age and its retries over, and is never given up
//     while the sequence goes on into it. When every slot is busy, a hole
//     below the highest request in flight takes that request's slot
//     (Stats.Preempted). A range given up is
//     reported by Handler.Gap as soon as next reaches it (holes below it
//     may still be recovered), and the held packets behind it are delivered.
//   - HoldTime does not apply: only recovery gives a hole up by time, so
//     MaxAge bounds how long the feed can stall. HoldPackets and HoldBytes
//     still bound memory: when a packet must be held and there is no room,
//     a held packet further ahead than it is dropped to make room (its
//     messages become a hole again, Stats.Evicted), and only when none is
//     further ahead is the lowest hole (normally the oldest) given up at once
//     (Stats.RecoveryOverflow).
//
// Timers run on the now argument of Packet and Tick: a live feed calls Tick
// on idle lines (at least every FillTime or so). Requests are passed to the
// Requester, which owns the socket, from within Packet and Tick; the
// Arbiter never blocks. Close forgets the requests in flight and gives up
// every hole. Stats counts requests, retries, messages recovered and holes
// given up.
//
// # Hostile input
//
// Any packet on any line may be forged or corrupt. The Arbiter holds to one
// rule: such a packet can at worst supply the messages of the sequences it
// carries when it arrives first (first copy wins: MoldUDP64 carries nothing
// to tell a forged copy from a real one). It never ends the session, opens
// a gap, moves next or hides later traffic:
//
//   - A packet more than MaxJump beyond everything known, or ending more
//     than MaxJump below next, is dropped (Implausible). A jump ahead is
//     taken, giving up every hole below it as a gap (Stats.Jumps), only
//     when it is corroborated (another line, or the same line continuing
//     it) and no line has carried the current sequence for Options.Quiet:
//     while the old sequence goes on, far packets are rogue on however many
//     lines. A corroborated sequence far below next with the current one
//     quiet means the start was wrong (Refuted): the caller rebuilds.
//   - Holes age only while they stall (above, and HoldTime counts only
//     while next stands still), so a packet far ahead cannot make the hole
//     below it a gap while the lines fill it.
//   - The session ends (Ended) when every live line, one that carried a
//     plausible packet within Options.Quiet, last announced the same end of
//     session 3 times in a row with no heartbeat between (a server sends it
//     for a while instead of heartbeats), and every message before it is
//     accounted for. One line's end of session ends nothing while another
//     carries the session; a line going on past its own end of session, or
//     sending a heartbeat, withdraws it or starts its count over; an end
//     forged at next therefore needs 3 copies on every line between two
//     heartbeats. Lines that fall silent after announcing an end confirm it,
//     and at Close (the end of a capture) one announcement at next is
//     enough. What is held or
//     missing beyond the agreed end can only have come from a rogue packet,
//     and is discarded (Stats.Discarded), never reported as a gap; data after
//     the end is dropped (Stats.AfterEnd).
//   - Packet returns a Verdict, so that the caller can attribute bad input
//     to its source address.
//
// # Faults
//
// Nothing a line sends can make the Arbiter panic. The first packet (or
// WithSession) fixes the session: packets of another session are counted
// and dropped. A packet whose blocks do not parse (moldudp64.Blocks reports an
// error), whose sequence is 0 or whose range overflows a uint64 is counted as
// malformed and treated as not received: nothing of it is delivered, so the
// other line can still fill its range. Every block of a packet is checked
// before its first message is delivered; a packet entirely before next (the
// second copy, on a healthy feed) is dropped on its header alone.
//
// # Performance
//
// In steady state Packet does not allocate: held packets are copied into
// buffers carved from one arena allocated by NewArbiter (HoldPackets ×
// PacketSize bytes; 2 MiB by default), the held set is a sorted index slice
// and the hold-time clock a binary heap, both preallocated. So are the tables
// of recovery (holes and requests in flight); a request passes a
// moldudp64.Request by value. The recovery timers are run only when the
// earliest of them is due, each run walking the holes and requests once;
// filling a hole costs a binary search and a walk of the requests in flight
// (MaxOutstanding is small). Only a packet
// longer than Options.PacketSize is held in a buffer allocated for it.
// Each delivered packet is walked twice: once to validate every block before
// anything is delivered, once to deliver.
package feed
