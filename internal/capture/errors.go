package capture

import "errors"

var (
	// ErrForm reports a Form that cannot be written: an unknown file format or
	// link type, or options the link type cannot carry (VLAN tags on SLL2 or
	// raw IP, an FCS off Ethernet), or an invalid pcapng timestamp resolution.
	ErrForm = errors.New("capture: unsupported form")
	// ErrAddress reports addresses the link type cannot carry (IPv6 on
	// LINKTYPE_IPV4), or a source and destination of different IP versions.
	ErrAddress = errors.New("capture: unsupported address")
	// ErrInterface reports an interface index not declared by the Form.
	ErrInterface = errors.New("capture: no such interface")
	// ErrTimestamp reports a timestamp the file cannot represent (before the
	// epoch or the interface's if_tsoffset, or beyond 32-bit seconds in pcap).
	ErrTimestamp = errors.New("capture: timestamp out of range")
	// ErrTooLong reports a datagram longer than a UDP datagram can be.
	ErrTooLong = errors.New("capture: datagram too long")
	// ErrNoise reports a noise kind the link type cannot carry (ARP on raw IP).
	ErrNoise = errors.New("capture: noise kind not representable on this link")
)
