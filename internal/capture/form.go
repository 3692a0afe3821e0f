package capture

import "fmt"

// FileFormat selects the capture container.
type FileFormat uint8

const (
	// Pcap is the classic libpcap format (one link type, one interface).
	Pcap FileFormat = iota + 1
	// PcapNG is the block-structured pcapng format.
	PcapNG
)

// String returns the format name.
func (f FileFormat) String() string {
	switch f {
	case Pcap:
		return "pcap"
	case PcapNG:
		return "pcapng"
	}
	return fmt.Sprintf("FileFormat(%d)", uint8(f))
}

// LinkType is a LINKTYPE_ value (PROTOCOLS.md §7.3) the writer can encapsulate.
type LinkType uint16

const (
	// LinkEthernet is LINKTYPE_ETHERNET: Ethernet II, optionally tagged.
	LinkEthernet LinkType = 1
	// LinkRaw is LINKTYPE_RAW: IPv4 or IPv6 with no link header.
	LinkRaw LinkType = 101
	// LinkSLL is LINKTYPE_LINUX_SLL: the 16-byte Linux cooked header.
	LinkSLL LinkType = 113
	// LinkIPv4 is LINKTYPE_IPV4: IPv4 only, no link header.
	LinkIPv4 LinkType = 228
	// LinkIPv6 is LINKTYPE_IPV6: IPv6 only, no link header.
	LinkIPv6 LinkType = 229
	// LinkSLL2 is LINKTYPE_LINUX_SLL2: the 20-byte Linux cooked header.
	LinkSLL2 LinkType = 276
)

// String returns the LINKTYPE_ name.
func (l LinkType) String() string {
	switch l {
	case LinkEthernet:
		return "ETHERNET"
	case LinkRaw:
		return "RAW"
	case LinkSLL:
		return "LINUX_SLL"
	case LinkIPv4:
		return "IPV4"
	case LinkIPv6:
		return "IPV6"
	case LinkSLL2:
		return "LINUX_SLL2"
	}
	return fmt.Sprintf("LinkType(%d)", uint16(l))
}

// VLAN selects the VLAN tags written after the MAC addresses (Ethernet) or
// after the SLL v1 protocol field (as libpcap re-inserts them).
type VLAN uint8

const (
	// NoVLAN writes no tag.
	NoVLAN VLAN = iota
	// Dot1Q writes one 802.1Q C-tag (TPID 0x8100).
	Dot1Q
	// QinQ writes an 802.1ad S-tag (TPID 0x88A8) then an 802.1Q C-tag.
	QinQ
)

// Block selects the pcapng block type that carries packets.
type Block uint8

const (
	// EPB writes Enhanced Packet Blocks (type 6).
	EPB Block = iota
	// PB writes obsolete Packet Blocks (type 2).
	PB
	// SPB writes Simple Packet Blocks (type 3): no timestamp, interface 0
	// only; packets of other interfaces are written as EPBs.
	SPB
	// MixedBlocks alternates EPB and PB, packet by packet.
	MixedBlocks
)

// Interface describes one pcapng interface (one IDB per section); a plain
// value.
type Interface struct {
	// Name is written as if_name when not empty.
	Name string
	// TSResol is the if_tsresol byte: top bit clear = 10^-v seconds (6 µs,
	// 9 ns), top bit set = 2^-(v&0x7F) seconds. 0 writes no option, which
	// means microseconds.
	TSResol byte
	// TSOffset is if_tsoffset, seconds added by readers to every timestamp of
	// the interface; 0 writes no option.
	TSOffset int64
}

// Resolution values for Interface.TSResol.
const (
	ResolMicro  byte = 6         // 10^-6 s
	ResolNano   byte = 9         // 10^-9 s
	ResolBinary byte = 0x80 | 30 // 2^-30 s, about 0.93 ns
)

// Form describes one capture file: container, link layer and network layer.
// The zero Form is not valid; File and Link must be set. A Form is a value:
// safe to copy and to share read-only between goroutines.
type Form struct {
	// File is the container.
	File FileFormat
	// Nano selects the nanosecond pcap magic (0xA1B23C4D); pcap only.
	Nano bool
	// BigEndian writes the pcap header or the (first) pcapng section in
	// big-endian order; the default is little-endian.
	BigEndian bool
	// Link is the link type of every interface.
	Link LinkType
	// VLAN adds tags on LinkEthernet and LinkSLL frames.
	VLAN VLAN
	// VLANID is the C-tag VLAN ID (12 bits); 0 means 101.
	VLANID uint16
	// OuterVLANID is the S-tag VLAN ID of QinQ; 0 means 3001.
	OuterVLANID uint16
	// IPOptions adds IPv4 header options (Router Alert and padding, IHL 7)
	// or, for IPv6, a hop-by-hop extension header (Router Alert, PadN).
	IPOptions bool
	// FCS appends the 4-byte Ethernet frame check sequence and declares it
	// (pcap link-type FCS bits, pcapng if_fcslen); Ethernet only.
	FCS bool
	// SnapLen is the maximum stored bytes per frame; longer frames are
	// truncated (captured < original length). 0 means 262144.
	SnapLen uint32

	// Interfaces lists the pcapng interfaces (IDs 0, 1, ...); nil means one
	// interface "eth0" with nanosecond resolution. Classic pcap has exactly
	// one interface, 0.
	Interfaces []Interface
	// Blocks selects the pcapng packet block type.
	Blocks Block
	// Junk inserts blocks and options a reader must skip: comments, custom
	// and unknown option codes in SHB, IDB and packet blocks, option lists
	// without opt_endofopt, and Name Resolution, Interface Statistics,
	// Decryption Secrets, custom (0x00000BAD, 0x40000BAD) and local-type
	// blocks between packets; pcapng only.
	Junk bool
	// LazyInterfaces writes each IDB just before the first packet that uses
	// it (and its predecessors), instead of all at the start of a section.
	LazyInterfaces bool
	// SectionEvery starts a new section (SHB, IDBs again) after every n
	// packets; 0 means a single section unless NewSection is called.
	SectionEvery int
	// FlipByteOrder makes each new section use the other byte order.
	FlipByteOrder bool
}

const defaultSnapLen = 262144

func (f *Form) snapLen() uint32 {
	if f.SnapLen == 0 {
		return defaultSnapLen
	}
	return f.SnapLen
}

func (f *Form) vlanID() uint16 {
	if f.VLANID == 0 {
		return 101
	}
	return f.VLANID & 0x0FFF
}

func (f *Form) outerVLANID() uint16 {
	if f.OuterVLANID == 0 {
		return 3001
	}
	return f.OuterVLANID & 0x0FFF
}

func (f *Form) interfaces() []Interface {
	if f.File == Pcap {
		return []Interface{{Name: "eth0"}}
	}
	if len(f.Interfaces) == 0 {
		return []Interface{{Name: "eth0", TSResol: ResolNano}}
	}
	return f.Interfaces
}

// Validate reports whether the Form can be written, wrapping ErrForm.
func (f *Form) Validate() error {
	switch f.File {
	case Pcap, PcapNG:
	default:
		return fmt.Errorf("%w: file format %d", ErrForm, f.File)
	}
	switch f.Link {
	case LinkEthernet, LinkSLL:
	case LinkSLL2, LinkRaw, LinkIPv4, LinkIPv6:
		if f.VLAN != NoVLAN {
			return fmt.Errorf("%w: VLAN tags on %v", ErrForm, f.Link)
		}
	default:
		return fmt.Errorf("%w: link type %d", ErrForm, uint16(f.Link))
	}
	if f.VLAN > QinQ {
		return fmt.Errorf("%w: VLAN mode %d", ErrForm, f.VLAN)
	}
	if f.FCS && f.Link != LinkEthernet {
		return fmt.Errorf("%w: FCS on %v", ErrForm, f.Link)
	}
	if f.File == Pcap {
		if f.Junk || f.SectionEvery != 0 || f.LazyInterfaces || f.Blocks != EPB || len(f.Interfaces) > 1 {
			return fmt.Errorf("%w: pcapng options on classic pcap", ErrForm)
		}
		return nil
	}
	if f.Nano {
		return fmt.Errorf("%w: Nano is a classic pcap option (use Interface.TSResol)", ErrForm)
	}
	if f.Blocks > MixedBlocks {
		return fmt.Errorf("%w: block kind %d", ErrForm, f.Blocks)
	}
	if f.SectionEvery < 0 {
		return fmt.Errorf("%w: SectionEvery %d", ErrForm, f.SectionEvery)
	}
	for i, in := range f.Interfaces {
		if _, err := newClock(in); err != nil {
			return fmt.Errorf("interface %d: %w", i, err)
		}
	}
	return nil
}
