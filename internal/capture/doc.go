// Package capture writes packet-capture files — classic pcap and pcapng —
// holding UDP datagrams (a MoldUDP64 feed) and unrelated noise traffic, byte
// for byte as capturing hosts write them. The tests and the synthetic session
// generator (internal/gen) use it to produce every capture form the replay
// reader must read; nothing in it is needed at run time.
//
// A Form chooses the container (pcap with microsecond or nanosecond fraction,
// either byte order; pcapng with several sections, several interfaces, any
// if_tsresol, if_tsoffset, Enhanced, Simple or obsolete Packet Blocks and
// skippable junk), the link layer (Ethernet with optional 802.1Q or QinQ tags,
// padding to 60 bytes and optional FCS; Linux cooked SLL and SLL2; raw IP) and
// the network layer (IPv4 with optional header options, IPv6 with an optional
// hop-by-hop extension header). The IP version follows the addresses given.
// Specification references are in PROTOCOLS.md §7.
//
// # Format
//
// Classic pcap (draft-ietf-opsawg-pcap §4, §5), every field in the writer's
// byte order (Form.BigEndian):
//
//	file header (24 bytes)
//	+-------+-------+-------+-----------+-----------+---------+----------------+
//	| magic | major | minor | reserved1 | reserved2 | snaplen | FCS | linktype |
//	|   4   |   2   |   2   |     4     |     4     |    4    |       4        |
//	+-------+-------+-------+-----------+-----------+---------+----------------+
//	magic 0xA1B2C3D4 (µs) or 0xA1B23C4D (ns); FCS bits: 0x04000000 | 2<<28
//
//	record (16-byte header, data not padded)
//	+---------+----------+---------+---------+-------------------+
//	| ts sec  | ts frac  | caplen  | origlen | frame (caplen)    |
//	|    4    |    4     |    4    |    4    |                   |
//	+---------+----------+---------+---------+-------------------+
//
// pcapng (draft-ietf-opsawg-pcapng §3, §4), every block in its section's
// byte order, bodies and option values padded to 4 bytes:
//
//	+------------+--------------+------------------------+--------------+
//	| block type | total length | body, options          | total length |
//	|     4      |      4       | (padded to 4)          |      4       |
//	+------------+--------------+------------------------+--------------+
//	SHB 0x0A0D0D0A: magic 0x1A2B3C4D, major 1, minor 0, section length -1
//	IDB 1: linktype(2) reserved(2) snaplen(4) if_name if_tsresol if_tsoffset if_fcslen
//	EPB 6: iface(4) ts high(4) ts low(4) caplen(4) origlen(4) data options
//	SPB 3: origlen(4) data                           (interface 0, no timestamp)
//	PB  2: iface(2) drops(2) ts high(4) ts low(4) caplen(4) origlen(4) data options
//
// Frames (all network fields big-endian), Ethernet shown:
//
//	+---------+---------+-----------------+-------+-----------+-----+---------+-----+-----+
//	| dst MAC | src MAC | tags (4 each)   | type  | IP header | UDP | payload | pad | FCS |
//	|    6    |    6    | 0x88A8, 0x8100  |   2   | 20+/40+   |  8  |         |     |  4  |
//	+---------+---------+-----------------+-------+-----------+-----+---------+-----+-----+
//	pad: zero bytes up to 60 (without FCS); FCS: CRC-32 little-endian on the wire.
//	SLL v1 (16 bytes): pkttype(2) arphrd(2) addrlen(2) addr(8) protocol(2)
//	SLL2 (20 bytes): protocol(2) reserved(2) ifindex(4) arphrd(2) pkttype(1) addrlen(1) addr(8)
//	raw (101, 228, 229): the IP header first.
//
// Timestamps are nanoseconds since the Unix epoch; a coarser resolution
// truncates them. For a resolution finer than a nanosecond (if_tsresol 2^-30,
// 10^-12 ...) the count is rounded up, so a reader that converts back with a
// floor recovers the nanosecond exactly.
package capture
