//go:build linux

// Package mcast receives (and, for tests and the exchange simulator,
// sends) the live multicast feed: one UDP socket per line, read in
// batches with recvmmsg straight through golang.org/x/sys/unix, with no
// allocation per datagram and no Go netpoller in the way.
//
// The package builds on Linux only (it relies on recvmmsg, sendmmsg,
// IP_MULTICAST_ALL, SO_RXQ_OVFL and Linux's ip_mreq_source field order);
// on other systems it has no files and does not compile. IPv4 and IPv6
// groups are both handled; IPv6 sources are reported without their zone.
//
// A receive loop for lines A and B, both on one port, each socket bound to
// its own group so neither sees the other's traffic:
//
//	runtime.LockOSThread()
//	a, err := mcast.Listen(mcast.Config{Group: groupA, Interface: "ens1f0", RecvBuffer: 64 << 20})
//	...
//	for _, w := range a.Warnings() { log.Print(w) } // e.g. rmem_max too small
//	p, err := mcast.NewPoller(busy, a, b)
//	p.SetSpin(50 * time.Microsecond) // epoll mode: poll a while before sleeping
//	batch := mcast.NewBatch(64, mcast.DefaultDatagramSize) // jumbo frames whole
//	for {
//		if err := p.Wait(time.Second); err != nil && !errors.Is(err, mcast.ErrTimeout) { ... }
//		for line, s := range []*mcast.Socket{a, b} {
//			n, err := s.Recv(batch)
//			for i := range n {
//				if batch.Truncated(i) { // longer than the slot: count, do not parse
//					truncated++
//					continue
//				}
//				pkt := batch.Payload(i) // valid until the next Recv
//				arb.Packet(line, batch.KernelTime(i), moldudp64.Packet(pkt))
//			}
//		}
//	}
//
// The unicast socket the re-request answers come to (ListenUnicast) is
// read the same way; anyone can send to it, so check batch.Source(i)
// against the re-request server.
//
// Measured on the development machine: gnet's UDP path costs 5 allocations
// per packet and loses packets from about 450k datagrams/s; this path makes
// none and drains about 1.5M datagrams/s on one pinned thread.
//
// # Format
//
// The kernel structures built or read by hand (x86-64 and arm64 sizes;
// x/sys/unix supplies the per-architecture types):
//
//	struct mmsghdr (64 bytes), one per datagram slot of a Batch:
//	+------+-----------------------------------------------+
//	| 0    | msghdr (56): name*, namelen u32, iov*,        |
//	|      |   iovlen u64, control*, controllen u64,       |
//	|      |   flags i32 (MSG_TRUNC 0x20, MSG_CTRUNC 0x08) |
//	| 56   | msg_len u32: bytes received (≤ iov length)    |
//	| 60   | padding (4)                                   |
//	+------+-----------------------------------------------+
//
//	control buffer (64 bytes per slot), cmsgs 8-byte aligned, native byte order:
//	+------+---------------------------------------------------------+
//	| 0    | cmsghdr{len u64 = 32, level i32 = SOL_SOCKET,           |
//	|      |         type i32 = SCM_TIMESTAMPNS (35)}                |
//	| 16   | struct timespec{sec i64, nsec i64}: kernel receive time |
//	| 32   | cmsghdr{len u64 = 20, SOL_SOCKET, SO_RXQ_OVFL (40)}     |
//	| 48   | u32 drop counter, then 4 bytes alignment                |
//	+------+---------------------------------------------------------+
//	The drop counter is present only once the socket has dropped.
//
//	struct ip_mreq_source (12 bytes, IP_ADD_SOURCE_MEMBERSHIP),
//	addresses in network byte order, Linux field order:
//	+-------+-----------+--------+
//	| group | interface | source |   (BSD/macOS/Windows: group, source, interface)
//	+-------+-----------+--------+
//
//	struct ip_mreqn (12 bytes, IP_ADD_MEMBERSHIP and IP_MULTICAST_IF):
//	group (4), interface address (4), interface index (i32, native order)
//
//	IPv6 joins use struct ipv6_mreq (IPV6_JOIN_GROUP) and, for a source,
//	struct group_source_req (MCAST_JOIN_SOURCE_GROUP), drawn in sys.go.
//
// See PROTOCOLS.md §8 and §9 items 8 and 15 for the socket options and
// their pitfalls: in particular a socket bound to 0.0.0.0 with
// IP_MULTICAST_ALL at its default of 1 receives every group any socket on
// the host joined on that port, which is why Listen binds to the group
// and turns IP_MULTICAST_ALL off.
package mcast
