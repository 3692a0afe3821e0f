// Package replay reads market-data captures as capture tools write them:
// classic pcap, pcapng, and NASDAQ's raw ITCH files (BinaryFILE), plain or
// gzip-compressed. The format is detected from the content, never the name.
//
// Files are streamed through one reused buffer (1 MiB, grown only for a
// record longer than that, up to MaxRecord): records are parsed in place and
// only the unread tail of the buffer moves when a record straddles its end,
// so a full trading day (11+ GB) is never held in memory and nothing is
// allocated per packet or message. Returned slices alias that buffer: each
// is valid until the next call to Next on the reader that returned it.
//
// PacketReader yields the UDP datagrams of a capture, decoded through the
// link layer (Ethernet with stacked VLAN tags, NULL, LOOP, raw IP, IPv4,
// IPv6, Linux cooked SLL and SLL2), IPv4 (options) or IPv6 (extension
// headers), and UDP; everything else (ARP, TCP, IGMP, 802.3 frames,
// fragments, truncated or malformed datagrams) is skipped and counted in
// Stats. ITCHReader yields the messages of a raw ITCH file. Merge interleaves
// several PacketReaders in timestamp order.
//
// Every error after Open is an *Error naming the file and the offset of the
// header, record or block at fault, and wrapping a sentinel of errors.go;
// io.EOF marks the end. Multi-byte fields of capture headers are in the
// writer's byte order (pcap: per file; pcapng: per section); network
// headers and ITCH are big-endian.
//
// # Format
//
// Classic pcap (draft-ietf-opsawg-pcap §4, §5): a 24-byte file header, then
// records of a 16-byte header and Captured Length bytes, unpadded.
//
//	file header                            packet record
//	+------+-------+-------+--------+      +---------+----------+---------+----------+------+
//	|magic |version|reservd|snaplen |      | ts sec  | ts frac  | caplen  | origlen  | data |
//	|4     |2+2    |4+4    |4       |      | 4       | 4        | 4       | 4        |caplen|
//	+------+-------+-------+--------+      +---------+----------+---------+----------+------+
//	| linktype + FCS bits 4        |       frac < 10^6 (magic A1B2C3D4) or 10^9 (A1B23C4D)
//	+------------------------------+       caplen <= snaplen (0 = no limit) and MaxRecord
//
// pcapng (draft-ietf-opsawg-pcapng §3, §4): a sequence of blocks, each
// padded to 4 bytes; a Section Header Block (type 0A0D0D0A) starts each
// section and sets its byte order (magic 1A2B3C4D) and empties its
// interface table; Interface Description Blocks (type 1) are numbered from
// 0 in each section.
//
//	every block                          Enhanced Packet Block (6)
//	+------+--------+------+--------+    +------+--------+-------+--------+--------+-------+-------+----------+-----+
//	| type | length | body | length |    | 6    | length | if id | ts hi  | ts lo  |caplen |origlen| data pad | opt |
//	| 4    | 4      | ...  | 4      |    | 4    | 4      | 4     | 4      | 4      | 4     | 4     | ...      | ... |
//	+------+--------+------+--------+    +------+--------+-------+--------+--------+-------+-------+----------+-----+
//	length: whole block, multiple of 4, >= 12; the trailing copy must match.
//
//	Interface Description Block (1): linktype 2 | reserved 2 | snaplen 4 | options
//	  options (TLV, padded to 4): if_tsresol (9): 10^-n s, or 2^-n s if bit 7
//	  set (default 10^-6); if_tsoffset (14): i64 seconds added to timestamps.
//	Simple Packet Block (3): origlen 4 | data (interface 0, no timestamp;
//	  captured = min(origlen, snaplen)).
//	Packet Block (2, obsolete): if id 2 | drops 2 | ts hi 4 | ts lo 4 |
//	  caplen 4 | origlen 4 | data | options.
//	Other blocks (name resolution, statistics, decryption secrets, custom,
//	unknown) are skipped by their length and counted in Stats.Blocks.
//
// Raw ITCH, BinaryFILE (PROTOCOLS.md §3): no file header; records repeat to
// the end, a message's sequence number is its 1-based ordinal.
//
//	+---------+--------------------------------+
//	| length  | ITCH message, type byte first  |
//	| u16 BE  | length bytes                   |
//	+---------+--------------------------------+
//
// A file is taken for raw ITCH when its first records (up to 4) are a known
// ITCH 5.0 type of exactly that type's length, or an unknown letter type of
// a plausible length, at least one being known.
package replay
