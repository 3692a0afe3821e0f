package itch

import (
	"encoding/binary"
	"slices"

	"github.com/tickwire/tickwire/internal/invariants"
)

// Message type bytes (PROTOCOLS.md §2.2). They are untyped constants, so they
// compare directly with a byte.
const (
	TypeSystemEvent               = 'S' // System Event
	TypeStockDirectory            = 'R' // Stock Directory
	TypeStockTradingAction        = 'H' // Stock Trading Action
	TypeRegSHORestriction         = 'Y' // Reg SHO Short Sale Price Test Restricted Indicator
	TypeMarketParticipantPosition = 'L' // Market Participant Position
	TypeMWCBDeclineLevel          = 'V' // Market-Wide Circuit Breaker Decline Level
	TypeMWCBStatus                = 'W' // Market-Wide Circuit Breaker Status
	TypeIPOQuotingPeriodUpdate    = 'K' // IPO Quoting Period Update
	TypeLULDAuctionCollar         = 'J' // LULD Auction Collar
	TypeOperationalHalt           = 'h' // Operational Halt
	TypeAddOrder                  = 'A' // Add Order (no MPID attribution)
	TypeAddOrderMPID              = 'F' // Add Order with MPID Attribution
	TypeOrderExecuted             = 'E' // Order Executed
	TypeOrderExecutedWithPrice    = 'C' // Order Executed With Price
	TypeOrderCancel               = 'X' // Order Cancel
	TypeOrderDelete               = 'D' // Order Delete
	TypeOrderReplace              = 'U' // Order Replace
	TypeTrade                     = 'P' // Trade (non-cross)
	TypeCrossTrade                = 'Q' // Cross Trade
	TypeBrokenTrade               = 'B' // Broken Trade / Order Execution
	TypeNOII                      = 'I' // Net Order Imbalance Indicator
	TypeRPII                      = 'N' // Retail Price Improvement Indicator
	TypeDLCRPriceDiscovery        = 'O' // Direct Listing with Capital Raise Price Discovery
)

// Message lengths in bytes, type byte included (PROTOCOLS.md §2.2).
const (
	LenSystemEvent               = 12
	LenStockDirectory            = 39
	LenStockTradingAction        = 25
	LenRegSHORestriction         = 20
	LenMarketParticipantPosition = 26
	LenMWCBDeclineLevel          = 35
	LenMWCBStatus                = 12
	LenIPOQuotingPeriodUpdate    = 28
	LenLULDAuctionCollar         = 35
	LenOperationalHalt           = 21
	LenAddOrder                  = 36
	LenAddOrderMPID              = 40
	LenOrderExecuted             = 31
	LenOrderExecutedWithPrice    = 36
	LenOrderCancel               = 23
	LenOrderDelete               = 19
	LenOrderReplace              = 35
	LenTrade                     = 44
	LenCrossTrade                = 40
	LenBrokenTrade               = 19
	LenNOII                      = 50
	LenRPII                      = 20
	LenDLCRPriceDiscovery        = 48
)

// HeaderLen is the length of the header common to every message.
const HeaderLen = 11

// MaxLen is the length of the longest message type (NOII).
const MaxLen = LenNOII

// Buy/Sell Indicator values of 'A', 'F' and 'P' messages.
const (
	Buy  = 'B' // bid side
	Sell = 'S' // ask side
)

// System Event codes ('S' messages, SystemEvent.EventCode).
const (
	EventStartOfMessages    = 'O' // first message of the day
	EventStartOfSystemHours = 'S'
	EventStartOfMarketHours = 'Q'
	EventEndOfMarketHours   = 'M'
	EventEndOfSystemHours   = 'E'
	EventEndOfMessages      = 'C' // last message of the day; nothing follows
)

// lens maps a type byte to its message length, 0 for unknown types. One
// 256-byte table: four cache lines, hot in any decoding loop.
var lens = [256]uint8{
	TypeSystemEvent:               LenSystemEvent,
	TypeStockDirectory:            LenStockDirectory,
	TypeStockTradingAction:        LenStockTradingAction,
	TypeRegSHORestriction:         LenRegSHORestriction,
	TypeMarketParticipantPosition: LenMarketParticipantPosition,
	TypeMWCBDeclineLevel:          LenMWCBDeclineLevel,
	TypeMWCBStatus:                LenMWCBStatus,
	TypeIPOQuotingPeriodUpdate:    LenIPOQuotingPeriodUpdate,
	TypeLULDAuctionCollar:         LenLULDAuctionCollar,
	TypeOperationalHalt:           LenOperationalHalt,
	TypeAddOrder:                  LenAddOrder,
	TypeAddOrderMPID:              LenAddOrderMPID,
	TypeOrderExecuted:             LenOrderExecuted,
	TypeOrderExecutedWithPrice:    LenOrderExecutedWithPrice,
	TypeOrderCancel:               LenOrderCancel,
	TypeOrderDelete:               LenOrderDelete,
	TypeOrderReplace:              LenOrderReplace,
	TypeTrade:                     LenTrade,
	TypeCrossTrade:                LenCrossTrade,
	TypeBrokenTrade:               LenBrokenTrade,
	TypeNOII:                      LenNOII,
	TypeRPII:                      LenRPII,
	TypeDLCRPriceDiscovery:        LenDLCRPriceDiscovery,
}

var names = [256]string{
	TypeSystemEvent:               "SystemEvent",
	TypeStockDirectory:            "StockDirectory",
	TypeStockTradingAction:        "StockTradingAction",
	TypeRegSHORestriction:         "RegSHORestriction",
	TypeMarketParticipantPosition: "MarketParticipantPosition",
	TypeMWCBDeclineLevel:          "MWCBDeclineLevel",
	TypeMWCBStatus:                "MWCBStatus",
	TypeIPOQuotingPeriodUpdate:    "IPOQuotingPeriodUpdate",
	TypeLULDAuctionCollar:         "LULDAuctionCollar",
	TypeOperationalHalt:           "OperationalHalt",
	TypeAddOrder:                  "AddOrder",
	TypeAddOrderMPID:              "AddOrderMPID",
	TypeOrderExecuted:             "OrderExecuted",
	TypeOrderExecutedWithPrice:    "OrderExecutedWithPrice",
	TypeOrderCancel:               "OrderCancel",
	TypeOrderDelete:               "OrderDelete",
	TypeOrderReplace:              "OrderReplace",
	TypeTrade:                     "Trade",
	TypeCrossTrade:                "CrossTrade",
	TypeBrokenTrade:               "BrokenTrade",
	TypeNOII:                      "NOII",
	TypeRPII:                      "RPII",
	TypeDLCRPriceDiscovery:        "DLCRPriceDiscovery",
}

// Types returns the 23 known message type bytes in the order of
// PROTOCOLS.md §2.2. The returned slice is freshly allocated.
func Types() []byte {
	return []byte{
		TypeSystemEvent, TypeStockDirectory, TypeStockTradingAction,
		TypeRegSHORestriction, TypeMarketParticipantPosition,
		TypeMWCBDeclineLevel, TypeMWCBStatus, TypeIPOQuotingPeriodUpdate,
		TypeLULDAuctionCollar, TypeOperationalHalt, TypeAddOrder,
		TypeAddOrderMPID, TypeOrderExecuted, TypeOrderExecutedWithPrice,
		TypeOrderCancel, TypeOrderDelete, TypeOrderReplace, TypeTrade,
		TypeCrossTrade, TypeBrokenTrade, TypeNOII, TypeRPII,
		TypeDLCRPriceDiscovery,
	}
}

// Len returns the fixed length in bytes of messages of type t, type byte
// included, or 0 if t is not a known ITCH 5.0 type.
func Len(t byte) int { return int(lens[t]) }

// TypeName returns the view name of type t ("AddOrder", "OrderReplace", ...),
// or "Unknown" if t is not a known type. For summaries and logs.
func TypeName(t byte) string {
	if n := names[t]; n != "" {
		return n
	}
	return "Unknown"
}

// Check reports whether m is one whole message of a known type: nil if
// len(m) is exactly Len(m[0]); ErrEmpty if m is empty; ErrUnknownType if the
// type byte is unknown (skip the message by its framing length and count
// it); ErrLength if the type is known but the length is wrong (malformed).
// After a nil result, m may be converted to the view of its type and every
// accessor of that view is in bounds. Check does not look at field values.
func Check(m []byte) error {
	if len(m) == 0 {
		return ErrEmpty
	}
	n := int(lens[m[0]])
	if n == 0 {
		return ErrUnknownType
	}
	if len(m) != n {
		return ErrLength
	}
	return nil
}

// Message is one ITCH message, type byte first, of any type. It aliases the
// caller's bytes and is valid as long as they are. Its header accessors need
// at least HeaderLen bytes (Check guarantees it for known types); they panic
// on a shorter slice. Safe for concurrent reads.
type Message []byte

// Type returns the message type byte (offset 0).
func (m Message) Type() byte { return m[0] }

// Locate returns the Stock Locate code (offset 1, u16); 0 for market-wide
// messages.
func (m Message) Locate() uint16 { return be16(m, 1) }

// Tracking returns the Nasdaq-internal Tracking Number (offset 3, u16).
func (m Message) Tracking() uint16 { return be16(m, 3) }

// Timestamp returns the timestamp (offset 5, u48): nanoseconds since
// midnight of the trading day.
func (m Message) Timestamp() uint64 { return be48(m, 5) }

// MaxTimestamp is the largest timestamp a 6-byte field holds.
const MaxTimestamp = 1<<48 - 1

// Header holds the fields common to every message, for the encoders.
type Header struct {
	Locate   uint16 // Stock Locate; 0 for market-wide messages
	Tracking uint16 // Tracking Number
	// Timestamp in nanoseconds since midnight. Only the low 48 bits are
	// encoded (a day has fewer than 2^47 ns); in builds with the invariants
	// tag a larger value panics.
	Timestamp uint64
}

// put writes the header with type t into b[0:11].
func (h *Header) put(b []byte, t byte) {
	if invariants.Enabled && h.Timestamp > MaxTimestamp {
		panic("itch: timestamp does not fit in 48 bits")
	}
	_ = b[10]
	b[0] = t
	binary.BigEndian.PutUint16(b[1:], h.Locate)
	binary.BigEndian.PutUint16(b[3:], h.Tracking)
	binary.BigEndian.PutUint16(b[5:], uint16(h.Timestamp>>32))
	binary.BigEndian.PutUint32(b[7:], uint32(h.Timestamp))
}

// grow extends dst by n bytes and returns it with the n new bytes as b.
func grow(dst []byte, n int) (out, b []byte) {
	l := len(dst)
	out = slices.Grow(dst, n)[:l+n]
	return out, out[l:]
}

// Alpha8 returns s as an Alpha(8) field: left-justified and padded with
// spaces; bytes beyond 8 are dropped.
func Alpha8(s string) [8]byte {
	a := [8]byte{' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '}
	copy(a[:], s)
	return a
}

// Alpha4 returns s as an Alpha(4) field (MPID, reason code): left-justified
// and padded with spaces; bytes beyond 4 are dropped.
func Alpha4(s string) [4]byte {
	a := [4]byte{' ', ' ', ' ', ' '}
	copy(a[:], s)
	return a
}

// TrimAlpha returns b without its trailing spaces. The result aliases b.
func TrimAlpha(b []byte) []byte {
	i := len(b)
	for i > 0 && b[i-1] == ' ' {
		i--
	}
	return b[:i]
}

// Big-endian readers of the field at m[i:]. Inlined with a constant i, each
// compiles to one bounds check on the field's last byte (so a view shorter
// than the field panics instead of reading past len(m)) and one load.

func be16(m []byte, i int) uint16 {
	_ = m[i+1]
	return binary.BigEndian.Uint16(m[i:])
}

func be32(m []byte, i int) uint32 {
	_ = m[i+3]
	return binary.BigEndian.Uint32(m[i:])
}

// be48 reads a 6-byte (u48) field such as the timestamp.
func be48(m []byte, i int) uint64 {
	_ = m[i+5]
	return uint64(binary.BigEndian.Uint16(m[i:]))<<32 | uint64(binary.BigEndian.Uint32(m[i+2:]))
}

func be64(m []byte, i int) uint64 {
	_ = m[i+7]
	return binary.BigEndian.Uint64(m[i:])
}
