// Cross-check with gopacket's pcapgo readers: every record the writers
// produce reads back through pcapgo with the same time and bytes.

package capture

import (
	"bytes"
	"io"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

func TestPcapgoClassic(t *testing.T) {
	for _, fl := range pcapVariants {
		for _, c := range linkCases() {
			t.Run(fl.name+"/"+c.name, func(t *testing.T) {
				form := Form{File: Pcap, Nano: fl.nano, BigEndian: fl.big, Link: c.link, VLAN: c.vlan, IPOptions: c.opts, FCS: c.fcs}
				buf, _, ps := writePayloads(t, form, c)
				r, err := pcapgo.NewReader(buf)
				if err != nil {
					t.Fatal(err)
				}
				if r.LinkType() != layers.LinkType(c.link) {
					t.Fatalf("link type %v, want %v", r.LinkType(), c.link)
				}
				for i, p := range ps {
					data, ci, err := r.ReadPacketData()
					if err != nil {
						t.Fatalf("record %d: %v", i, err)
					}
					want := roundTripBase + int64(i)*1_234_567
					if !fl.nano {
						want -= want % 1000
					}
					if ci.Timestamp.UnixNano() != want {
						t.Fatalf("record %d time %d, want %d", i, ci.Timestamp.UnixNano(), want)
					}
					if ci.CaptureLength != len(data) || ci.Length != len(data) {
						t.Fatalf("record %d lengths %d/%d for %d bytes", i, ci.CaptureLength, ci.Length, len(data))
					}
					checkFrame(t, c, data, p)
				}
				if _, _, err := r.ReadPacketData(); err != io.EOF {
					t.Fatalf("after the last record: %v, want EOF", err)
				}
			})
		}
	}
}

func TestPcapgoNG(t *testing.T) {
	for _, nc := range ngCases() {
		t.Run(nc.name, func(t *testing.T) {
			form := nc.form
			raw, c, ifaces, recs := writeNGCase(t, form)
			r, err := pcapgo.NewNgReader(bytes.NewReader(raw), pcapgo.NgReaderOptions{WantMixedLinkType: true})
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range recs {
				data, ci, err := r.ReadPacketData()
				if err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
				if lt := ci.AncillaryData[0].(layers.LinkType); lt != layers.LinkType(form.Link) {
					t.Fatalf("record %d link type %v", i, lt)
				}
				if !(form.Blocks == SPB && want.iface == 0) {
					if ci.InterfaceIndex != want.iface {
						t.Fatalf("record %d interface %d, want %d", i, ci.InterfaceIndex, want.iface)
					}
					if got, wt := ci.Timestamp.UnixNano(), wantTime(ifaces[want.iface], want.ts); got != wt {
						t.Fatalf("record %d time %d, want %d", i, got, wt)
					}
				}
				checkFrame(t, c, data, want.p)
			}
			if _, _, err := r.ReadPacketData(); err != io.EOF {
				t.Fatalf("after the last record: %v, want EOF", err)
			}
		})
	}
}

func TestPcapgoSnapLen(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Form{File: Pcap, Link: LinkEthernet, SnapLen: 64})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteUDP(1e18, srcA, grpA, make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	r, err := pcapgo.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if r.Snaplen() != 64 {
		t.Fatalf("snaplen %d", r.Snaplen())
	}
	_, ci, err := r.ReadPacketData()
	if err != nil {
		t.Fatal(err)
	}
	if ci.CaptureLength != 64 || ci.Length != 142 {
		t.Fatalf("lengths %d/%d, want 64/142", ci.CaptureLength, ci.Length)
	}
}
