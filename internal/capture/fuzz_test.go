package capture

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"
)

// FuzzAppendUDP builds frames of every encapsulation for arbitrary payloads
// and checks them with gopacket and the independent checksum verifier.
// Seeds: real MoldUDP64 packets (a heartbeat, an Add Order packet) and the
// golden payload.
func FuzzAppendUDP(f *testing.F) {
	hb := append([]byte("TICKWIRE01"), 0, 0, 0, 0, 0, 0, 0, 1, 0, 0)
	add := append([]byte("TICKWIRE01"), 0, 0, 0, 0, 0, 0, 0, 9, 0, 1, 0, 36)
	add = append(add, 'A', 0, 13, 0, 1, 0x1C, 0x3E, 0x0B, 0x5D, 0x2F, 0x10)
	add = append(add, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 'B', 0, 0, 1, 0x2C)
	add = append(add, "AAPL    "...)
	add = append(add, 0, 0x1C, 0x99, 0x14)
	for i, p := range [][]byte{hello, hb, add, nil, make([]byte, 1400)} {
		f.Add(byte(i), uint16(i), p)
	}
	links := []LinkType{LinkEthernet, LinkSLL, LinkSLL2, LinkRaw, LinkIPv4, LinkIPv6}
	f.Fuzz(func(t *testing.T, flags byte, id uint16, payload []byte) {
		if len(payload) > 9000 {
			payload = payload[:9000]
		}
		link := links[int(flags&7)%len(links)]
		v6 := flags&0x08 != 0
		switch link {
		case LinkIPv4:
			v6 = false
		case LinkIPv6:
			v6 = true
		}
		form := Form{File: Pcap, Link: link, IPOptions: flags&0x10 != 0}
		if link == LinkEthernet || link == LinkSLL {
			form.VLAN = VLAN(flags >> 5 % 3)
		}
		form.FCS = link == LinkEthernet && flags&0x80 != 0
		c := linkCase{link: link, vlan: form.VLAN, v6: v6, fcs: form.FCS}
		switch form.VLAN {
		case Dot1Q:
			c.wantVLANs = []uint16{101}
		case QinQ:
			c.wantVLANs = []uint16{3001, 101}
		}
		src, dst := c.addrs()
		prefix := []byte{0xEE, 0xEE}
		frame, err := form.AppendUDP(prefix, id, src, dst, payload)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(frame[:2], prefix) {
			t.Fatal("AppendUDP overwrote the bytes before the frame")
		}
		frame = frame[2:]
		if form.FCS {
			n := len(frame) - 4
			if binary.LittleEndian.Uint32(frame[n:]) != crc32.ChecksumIEEE(frame[:n]) {
				t.Fatal("bad FCS")
			}
		}
		checkFrame(t, c, frame, payload)
	})
}
