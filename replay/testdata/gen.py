#!/usr/bin/env python3
"""Regenerate the capture files in this directory with real capture tools.

Requires Wireshark's command-line tools (Debian: apt-get install tshark):
text2pcap writes the captures from hex dumps this script prints, editcap
converts between formats, mergecap merges, gzip compresses, and tshark reads
every capture back to write its .golden file: the UDP datagrams Wireshark
decodes (time, interface, addresses, payload), the oracle TestToolCaptures
compares the replay package against.

Run from this directory: python3 gen.py
"""

import gzip as _gzip  # only to check the gzip CLI output round-trips
import os
import struct
import subprocess
import time

OUT = os.path.dirname(os.path.abspath(__file__))
ENV = dict(os.environ, TZ="UTC")


def run(*args, **kw):
    subprocess.run(args, check=True, env=ENV, **kw)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(src, dst, proto, body, opts=b"", frag=0x4000, ident=0x1234):
    ihl = 20 + len(opts)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl // 4, 0, ihl + len(body), ident,
                    frag, 64, proto, 0, bytes(src), bytes(dst)) + opts
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + body


def ip6(src, dst, nh, body):
    return struct.pack("!IHBB16s16s", 6 << 28, len(body), nh, 64, bytes(src), bytes(dst)) + body


def udp(sp, dp, payload):
    return struct.pack("!HHHH", sp, dp, 8 + len(payload), 0) + payload


def eth(typ, payload, tags=()):
    b = bytes.fromhex("01005e360c6f") + bytes.fromhex("001b21aabbcc")
    for i, tpid in enumerate(tags):
        b += struct.pack("!HH", tpid, 100 + i)
    return b + struct.pack("!H", typ) + payload


def sll2(proto, payload):
    return struct.pack("!HHIHBB8s", proto, 0, 3, 1, 2, 6, bytes.fromhex("001b21aabbcc0000")) + payload


def sll(proto, payload):
    return struct.pack("!HHH8sH", 2, 1, 6, bytes.fromhex("001b21aabbcc0000"), proto) + payload


SRC4 = [10, 1, 2, 3]
GRP4 = [233, 54, 12, 111]
SRC6 = list(bytes.fromhex("20010db8000000000000000000000001"))
GRP6 = list(bytes.fromhex("ff0e0000000000000000000000010002"))


def itch_add(i):
    # A Add Order, 36 bytes: type, locate, tracking, 6-byte timestamp, ref,
    # side, shares, stock, price.
    ts = 34_200_000_000_000 + i * 1000
    return (b"A" + struct.pack("!HH", 1 + i % 5, 0) + ts.to_bytes(6, "big") +
            struct.pack("!QcI8sI", 1000 + i, b"BS"[i % 2:i % 2 + 1], 100 * (i % 9 + 1),
                        b"AAPL    ", 1_500_000 + i))


def itch_delete(i):
    ts = 34_200_000_000_500 + i * 1000
    return b"D" + struct.pack("!HH", 1 + i % 5, 0) + ts.to_bytes(6, "big") + struct.pack("!Q", 1000 + i)


def mold(seq, msgs):
    b = b"000012345A" + struct.pack("!QH", seq, len(msgs))
    for m in msgs:
        b += struct.pack("!H", len(m)) + m
    return b


def mold_packets(n):
    pkts, seq = [], 1
    for p in range(n):
        msgs = [itch_add(seq + k) if (seq + k) % 3 else itch_delete(seq + k) for k in range(1 + p % 6)]
        pkts.append(mold(seq, msgs))
        seq += len(msgs)
    return pkts


def hexdump(frames, step_us=137):
    """text2pcap input: a time stamp line, then offset + hex lines."""
    lines = []
    base = 1704205800  # 2024-01-02T14:30:00Z
    for i, f in enumerate(frames):
        us = i * step_us + (i % 4)
        sec, frac = base + us // 1_000_000, us % 1_000_000
        lines.append(time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + ".%06d" % frac)
        for off in range(0, len(f), 16):
            lines.append("%06x  %s" % (off, " ".join("%02x" % c for c in f[off:off + 16])))
        lines.append("")
    return "\n".join(lines) + "\n"


def text2pcap(name, frames, *args, fmt="pcap"):
    # Input on stdin: text2pcap records the input name in the pcapng
    # section header, and a temporary name would change on every run.
    run("text2pcap", "-q", "-F", fmt, "-t", "%Y-%m-%dT%H:%M:%S.%f", *args, "-", os.path.join(OUT, name),
        input=hexdump(frames), text=True)


def golden(name):
    """Write name.golden from tshark's reading of the capture."""
    path = os.path.join(OUT, name)
    fields = ["frame.time_epoch", "frame.interface_id", "frame.cap_len", "ip.src", "ipv6.src", "udp.srcport",
              "ip.dst", "ipv6.dst", "udp.dstport", "udp.payload", "ip.flags.mf", "ip.frag_offset"]
    out = subprocess.run(
        ["tshark", "-r", path, "-n", "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
         "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"] + sum([["-e", f] for f in fields], []),
        check=True, env=ENV, capture_output=True, text=True).stdout
    records, nbytes, lines = 0, 0, []
    for row in out.splitlines():
        t, ifc, caplen, s4, s6, sp, d4, d6, dp, payload, mf, fragoff = row.split("\t")
        records += 1
        nbytes += int(caplen)
        if not sp or mf in ("1", "True") or fragoff not in ("", "0"):
            continue  # not UDP, or a fragment (Wireshark decodes a first fragment's UDP header)
        sec, _, frac = t.partition(".")
        ns = int(sec) * 10**9 + int((frac + "000000000")[:9])
        src = s4 + ":" + sp if s4 else "[" + s6 + "]:" + sp
        dst = d4 + ":" + dp if d4 else "[" + d6 + "]:" + dp
        lines.append("%d %s %s %s %s" % (ns, ifc or "0", src, dst, payload or "-"))
    with open(path + ".golden", "w") as g:
        g.write("# tshark -r %s: %d records, %d captured bytes; UDP datagrams: time_ns interface src dst payload\n"
                % (name, records, nbytes))
        g.write("records %d bytes %d\n" % (records, nbytes))
        for ln in lines:
            g.write(ln + "\n")


def main():
    # 1. MoldUDP64 over dummy Ethernet/IPv4/UDP headers written by text2pcap.
    pkts = mold_packets(60)
    text2pcap("moldudp64.pcap", pkts, "-4", "10.1.2.3,233.54.12.111", "-u", "40001,26477")
    # 2, 3. Conversions by editcap: nanosecond pcap, pcapng.
    run("editcap", "-F", "nsecpcap", os.path.join(OUT, "moldudp64.pcap"), os.path.join(OUT, "moldudp64-ns.pcap"))
    run("editcap", "-F", "pcapng", os.path.join(OUT, "moldudp64.pcap"), os.path.join(OUT, "moldudp64.pcapng"))
    # 4. IPv6 headers, pcapng straight from text2pcap.
    text2pcap("moldudp64-v6.pcapng", pkts[:20], "-6", "2001:db8::1,ff0e::1:2", "-u", "40002,26478", fmt="pcapng")

    # 5. Full Ethernet frames: VLAN, QinQ, IPv4 options, IPv6 extension
    # headers, padding and FCS, ARP, TCP, fragments, 802.3 LLC.
    p = pkts
    frames = [
        eth(0x0800, ip4(SRC4, GRP4, 17, udp(40001, 26477, p[0]))),
        eth(0x0800, ip4(SRC4, GRP4, 17, udp(40001, 26477, p[1])), tags=(0x8100,)),
        eth(0x0800, ip4(SRC4, GRP4, 17, udp(40001, 26477, p[2])), tags=(0x88A8, 0x8100)),
        eth(0x0800, ip4(SRC4, GRP4, 17, udp(40001, 26477, p[3]), opts=bytes([0x94, 4, 0, 0]))),
        eth(0x86DD, ip6(SRC6, GRP6, 0, bytes([60, 0, 1, 4, 0, 0, 0, 0]) + bytes([17, 0, 1, 4, 0, 0, 0, 0]) +
                        udp(40002, 26478, p[4]))),
        eth(0x0806, bytes.fromhex("0001080006040001001b21aabbcc0a010203000000000000e9360c6f")),
        eth(0x0800, ip4(SRC4, [10, 9, 9, 9], 6, struct.pack("!HHIIBBHHH", 5000, 80, 1, 0, 0x50, 0x02, 1024, 0, 0))),
        eth(0x0800, ip4(SRC4, GRP4, 17, udp(40001, 26477, p[5] * 3)[:96], frag=0x2000, ident=7)),
        eth(0x0800, ip4(SRC4, GRP4, 17, (udp(40001, 26477, p[5] * 3))[96:], frag=96 // 8, ident=7)),
        eth(0x0800, ip4(SRC4, GRP4, 17, udp(40001, 26477, b"tiny"))) + bytes(6) + bytes.fromhex("deadbeef"),
        bytes.fromhex("0180c2000000001b21aabbcc0026424203000000000080000000000000000000000000000000"
                      "00000000000000000000000000000000"),
        eth(0x0800, ip4(SRC4, GRP4, 17, udp(40001, 26477, p[6]))),
    ]
    text2pcap("mixed.pcap", frames, "-l", "1")

    # 6. Linux cooked captures.
    text2pcap("sll2.pcap", [sll2(0x0800, ip4(SRC4, GRP4, 17, udp(40001, 26477, x))) for x in p[:8]] +
              [sll2(0x86DD, ip6(SRC6, GRP6, 17, udp(40002, 26478, x))) for x in p[8:12]], "-l", "276")
    text2pcap("sll.pcap", [sll(0x0800, ip4(SRC4, GRP4, 17, udp(40001, 26477, x))) for x in p[:6]] +
              [sll(0x8100, bytes([0, 100, 8, 0]) + ip4(SRC4, GRP4, 17, udp(40001, 26477, x))) for x in p[6:10]],
              "-l", "113")
    # 7. Raw IP.
    text2pcap("raw.pcap", [ip4(SRC4, GRP4, 17, udp(40001, 26477, x)) for x in p[10:20]] +
              [ip6(SRC6, GRP6, 17, udp(40002, 26478, x)) for x in p[20:24]], "-l", "101")

    # 8. mergecap: one pcapng section, three interfaces of three link types.
    run("mergecap", "-F", "pcapng", "-w", os.path.join(OUT, "merged.pcapng"),
        *[os.path.join(OUT, n) for n in ("moldudp64.pcap", "raw.pcap", "sll2.pcap")])
    # 9. Two sections: pcapng files concatenated, as capture rotation and
    # "cat" produce them.
    with open(os.path.join(OUT, "two-sections.pcapng"), "wb") as w:
        for n in ("moldudp64.pcapng", "moldudp64-v6.pcapng"):
            with open(os.path.join(OUT, n), "rb") as r:
                w.write(r.read())

    # 10. Raw ITCH (BinaryFILE) from the same messages, gzip-compressed by
    # the gzip tool in two members.
    msgs = []
    for pk in pkts:
        n = struct.unpack("!H", pk[18:20])[0]
        off = 20
        for _ in range(n):
            ln = struct.unpack("!H", pk[off:off + 2])[0]
            msgs.append(pk[off:off + 2 + ln])
            off += 2 + ln
    sysev = b"S" + bytes(4) + (34_000_000_000_000).to_bytes(6, "big") + b"O"
    raw = struct.pack("!H", len(sysev)) + sysev + b"".join(msgs)
    with open(os.path.join(OUT, "itch.bin"), "wb") as w:
        w.write(raw)
    half = len(struct.pack("!H", len(sysev)) + sysev) + sum(len(m) for m in msgs[:40])
    a = subprocess.run(["gzip", "-9", "-n", "-c"], input=raw[:half], check=True, capture_output=True).stdout
    b = subprocess.run(["gzip", "-1", "-n", "-c"], input=raw[half:], check=True, capture_output=True).stdout
    with open(os.path.join(OUT, "itch.bin.gz"), "wb") as w:
        w.write(a + b)
    assert _gzip.decompress(a + b) == raw

    for n in ("moldudp64.pcap", "moldudp64-ns.pcap", "moldudp64.pcapng", "moldudp64-v6.pcapng", "mixed.pcap",
              "sll2.pcap", "sll.pcap", "raw.pcap", "merged.pcapng", "two-sections.pcapng"):
        golden(n)


if __name__ == "__main__":
    main()
