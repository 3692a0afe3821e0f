package itch

import "encoding/binary"

// SystemEventMsg holds the fields of an ITCH System Event message ('S', 12
// bytes) for encoding.
// Alpha fields must already be space-padded (see Alpha8, Alpha4). The zero value
// encodes a message with zero numbers and NUL alpha bytes; enumerated bytes are
// written as given, without validation. Not safe for concurrent modification.
type SystemEventMsg struct {
	Header
	// EventCode (char). Event Code: a System Event code (EventStartOfMessages ...
	// EventEndOfMessages).
	EventCode byte
}

// Append appends the 12 wire bytes of m to dst and returns the extended
// slice; it allocates only when dst lacks the capacity.
func (m *SystemEventMsg) Append(dst []byte) []byte {
	dst, b := grow(dst, LenSystemEvent)
	m.Header.put(b, TypeSystemEvent)
	b[11] = m.EventCode
	return dst
}

// StockDirectoryMsg holds the fields of an ITCH Stock Directory message ('R',
// 39 bytes) for encoding.
// Alpha fields must already be space-padded (see Alpha8, Alpha4). The zero value
// encodes a message with zero numbers and NUL alpha bytes; enumerated bytes are
// written as given, without validation. Not safe for concurrent modification.
type StockDirectoryMsg struct {
	Header
	// Stock (Alpha(8)). Stock symbol, Alpha(8), space-padded.
	Stock [8]byte
	// MarketCategory (char). Market Category: listing market ('Q' Global Select, 'G' Global
	// Market, 'S' Capital Market, 'N' NYSE, ...; space if not available).
	MarketCategory byte
	// FinancialStatus (char). Financial Status Indicator ('N' normal, 'D' deficient, 'E'
	// delinquent, ...; space if not available).
	FinancialStatus byte
	// RoundLotSize (u32). Round Lot Size in shares.
	RoundLotSize uint32
	// RoundLotsOnly (char). Round Lots Only: 'Y' only round lots accepted, 'N' odd and mixed
	// lots allowed.
	RoundLotsOnly byte
	// IssueClassification (char). Issue Classification ('C' common stock, 'P' preferred, 'A'
	// ADS, ...).
	IssueClassification byte
	// IssueSubType (Alpha(2)). Issue Sub-Type, Alpha(2).
	IssueSubType [2]byte
	// Authenticity (char). Authenticity: 'P' live/production, 'T' test symbol.
	Authenticity byte
	// ShortSaleThreshold (char). Short Sale Threshold Indicator: 'Y', 'N', or space if not
	// available.
	ShortSaleThreshold byte
	// IPOFlag (char). IPO Flag: 'Y' set up for IPO release, 'N' not, space if not available.
	IPOFlag byte
	// LULDRefPriceTier (char). LULD Reference Price Tier: '1', '2', or space if not available.
	LULDRefPriceTier byte
	// ETPFlag (char). ETP Flag: 'Y' exchange traded product, 'N' not, space if not available.
	ETPFlag byte
	// ETPLeverageFactor (u32). ETP Leverage Factor (integral multiple of the underlying
	// index).
	ETPLeverageFactor uint32
	// InverseIndicator (char). Inverse Indicator: 'Y' inverse ETP, 'N' not.
	InverseIndicator byte
}

// Append appends the 39 wire bytes of m to dst and returns the extended
// slice; it allocates only when dst lacks the capacity.
func (m *StockDirectoryMsg) Append(dst []byte) []byte {
	dst, b := grow(dst, LenStockDirectory)
	m.Header.put(b, TypeStockDirectory)
	copy(b[11:19], m.Stock[:])
	b[19] = m.MarketCategory
	b[20] = m.FinancialStatus
	binary.BigEndian.PutUint32(b[21:], m.RoundLotSize)
	b[25] = m.RoundLotsOnly
	b[26] = m.IssueClassification
	copy(b[27:29], m.IssueSubType[:])
	b[29] = m.Authenticity
	b[30] = m.ShortSaleThreshold
	b[31] = m.IPOFlag
	b[32] = m.LULDRefPriceTier
	b[33] = m.ETPFlag
	binary.BigEndian.PutUint32(b[34:], m.ETPLeverageFactor)
	b[38] = m.InverseIndicator
	return dst
}

// StockTradingActionMsg holds the fields of an ITCH Stock Trading Action
// message ('H', 25 bytes) for encoding.
// Alpha fields must already be space-padded (see Alpha8, Alpha4). The zero value
// encodes a message with zero numbers and NUL alpha bytes; enumerated bytes are
// written as given, without validation. Not safe for concurrent modification.
type StockTradingActionMsg struct {
	Header
	// Stock (Alpha(8)). Stock symbol, Alpha(8), space-padded.
	Stock [8]byte
	// TradingState (char). Trading State: 'H' halted, 'P' paused, 'Q' quotation only, 'T'
	// trading.
	TradingState byte
	// Reserved (char). Reserved byte; carried through unchanged.
	Reserved byte
	// Reason (Alpha(4)). Reason code, Alpha(4), e.g. "T1  ", "LUDP", "MWC1", "IPOQ".
	Reason [4]byte
}

// Append appends the 25 wire bytes of m to dst and returns the extended
// slice; it allocates only when dst lacks the capacity.
func (m *StockTradingActionMsg) Append(dst []byte) []byte {
	dst, b := grow(dst, LenStockTradingAction)
	m.Header.put(b, TypeStockTradingAction)
	copy(b[11:19], m.Stock[:])
	b[19] = m.TradingState
	b[20] = m.Reserved
	copy(b[21:25], m.Reason[:])
	return dst
}

// RegSHORestrictionMsg holds the fields of an ITCH Reg SHO Short Sale Price
// Test Restricted Indicator message ('Y', 20 bytes) for encoding.
// Alpha fields must already be space-padded (see Alpha8, Alpha4). The zero value
// encodes a message with zero numbers and NUL alpha bytes; enumerated bytes are
// written as given, without validation. Not safe for concurrent modification.
type RegSHORestrictionMsg struct {
	Header
	// Stock (Alpha(8)). Stock symbol, Alpha(8), space-padded.
	Stock [8]byte
	// RegSHOAction (char). Reg SHO Action: '0' no price test, '1' restriction in effect
	// (intraday drop), '2' restriction remains in effect.
	RegSHOAction byte
}

// Append appends the 20 wire bytes of m to dst and returns the extended
// slice; it allocates only when dst lacks the capacity.
func (m *RegSHORestrictionMsg) Append(dst []byte) []byte {
	dst, b := grow(dst, LenRegSHORestriction)
	m.Header.put(b, TypeRegSHORestriction)
	copy(b[11:19], m.Stock[:])
	b[19] = m.RegSHOAction
	return dst
}

// MarketParticipantPositionMsg holds the fields of an ITCH Market Participant
// Position message ('L', 26 bytes) for encoding.
// Alpha fields must already be space-padded (see Alpha8, Alpha4). The zero value
// encodes a message with zero numbers and NUL alpha bytes; enumerated bytes are
// written as given, without validation. Not safe for concurrent modification.
type MarketParticipantPositionMsg struct {
	Header
	// MPID (Alpha(4)). Market participant identifier, Alpha(4).
	MPID [4]byte
	// Stock (Alpha(8)). Stock symbol, Alpha(8), space-padded.
	Stock [8]byte
	// PrimaryMarketMaker (char). Primary Market Maker: 'Y' or 'N'.
	PrimaryMarketMaker byte
	// MarketMakerMode (char). Market Maker Mode ('N' normal, 'P' passive, 'S' syndicate, 'R'
	// pre-syndicate, 'L' penalty).
	MarketMakerMode byte
	// ParticipantState (char). Market Participant State ('A' active, 'E' excused, 'W'
	// withdrawn, 'S' suspended, 'D' deleted).
	ParticipantState byte
}

// Append appends the 26 wire bytes of m to dst and returns the extended
// slice; it allocates only when dst lacks the capacity.
func (m *MarketParticipantPositionMsg) Append(dst []byte) []byte {
	dst, b := grow(dst, LenMarketParticipantPosition)
	m.Header.put(b, TypeMarketParticipantPosition)
	copy(b[11:15], m.MPID[:])
	copy(b[15:23], m.Stock[:])
	b[23] = m.PrimaryMarketMaker
	b[24] = m.MarketMakerMode
	b[25] = m.ParticipantState
	return dst
}

// MWCBDeclineLevelMsg holds the fields of an ITCH Market-Wide Circuit Breaker
// Decline Level message ('V', 35 bytes) for encoding.
// Alpha fields must already be space-padded (see Alpha8, Alpha4). The zero value
// encodes a message with zero numbers and NUL alpha bytes; enumerated bytes are
// written as given, without validation. Not safe for concurrent modification.
type MWCBDeclineLevelMsg struct {
	Header
	// Level1 (Price(8)). Level 1 decline, Price(8): fixed point with 8 implied decimals.
	Level1 uint64
	// Level2 (Price(8)). Level 2 decline, Price(8).
	Level2 uint64
	// Level3 (Price(8)). Level 3 decline, Price(8).
	Level3 uint64
}

// Append appends the 35 wire bytes of m to dst and returns the extended
// slice; it allocates only when dst lacks the capacity.
func (m *MWCBDeclineLevelMsg) Append(dst []byte) []byte {
	dst, b := grow(dst, LenMWCBDeclineLevel)
	m.Header.put(b, TypeMWCBDeclineLevel)
	binary.BigEndian.PutUint64(b[11:], m.Level1)
	binary.BigEndian.PutUint64(b[19:], m.Level2)
	binary.BigEndian.PutUint64(b[27:], m.Level3)
	return dst
}

// MWCBStatusMsg holds the fields of an ITCH Market-Wide Circuit Breaker Status
// message ('W', 12 bytes) for encoding.
// Alpha fields must already be space-padded (see Alpha8, Alpha4). The zero value
// encodes a message with zero numbers and NUL alpha bytes; enumerated bytes are
// written as given, without validation. Not safe for concurrent modification.
type MWCBStatusMsg struct {
	Header
	// BreachedLevel (char). Breached Level: '1', '2' or '3'.
	BreachedLevel byte
}

// Append appends the 12 wire bytes of m to dst and returns the extended
// slice; it allocates only when dst lacks the capacity.
func (m *MWCBStatusMsg) Append(dst []byte) []byte {
	dst, b := grow(dst, LenMWCBStatus)
	m.Header.put(b, TypeMWCBStatus)
	b[11] = m.BreachedLevel
	return dst
}

// IPOQuotingPeriodUpdateMsg holds the fields of an ITCH IPO Quoting Period
// Update message ('K', 28 bytes) for encoding.
// Alpha fields must already be space-padded (see Alpha8, Alpha4). The zero value
// encodes a message with zero numbers and NUL alpha bytes; enumerated bytes are
// written as given, without validation. Not safe for concurrent modification.
type IPOQuotingPeriodUpdateMsg struct {
	Header
	// Stock (Alpha(8)). Stock symbol, Alpha(8), space-padded.
	Stock [8]byte
	// ReleaseTime (u32). IPO Quotation Release Time in seconds since midnight.
	ReleaseTime uint32
	// ReleaseQualifier (char). IPO Quotation Release Qualifier: 'A' anticipated release time,
	// 'C' cancelled or postponed.
	ReleaseQualifier byte
	// IPOPrice (Price(4)). IPO Price, Price(4).
	IPOPrice uint32
}

// Append appends the 28 wire bytes of m to dst and returns the extended
// slice; it allocates only when dst lacks the capacity.
func (m *IPOQuotingPeriodUpdateMsg) Append(dst []byte) []byte {
	dst, b := grow(dst, LenIPOQuotingPeriodUpdate)
	m.Header.put(b, TypeIPOQuotingPeriodUpdate)
	copy(b[11:19], m.Stock[:])
	binary.BigEndian.PutUint32(b[19:], m.ReleaseTime)
	b[23] = m.ReleaseQualifier
	binary.BigEndian.PutUint32(b[24:], m.IPOPrice)
	return dst
}

// LULDAuctionCollarMsg holds the fields of an ITCH LULD Auction Collar message
// ('J', 35 bytes) for encoding.
// Alpha fields must already be space-padded (see Alpha8, Alpha4). The zero value
// encodes a message with zero numbers and NUL alpha bytes; enumerated bytes are
// written as given, without validation. Not safe for concurrent modification.
type LULDAuctionCollarMsg struct {
	Header
	// Stock (Alpha(8)). Stock symbol, Alpha(8), space-padded.
	Stock [8]byte
	// CollarRefPrice (Price(4)). Auction Collar Reference Price, Price(4).
	CollarRefPrice uint32
	// UpperCollarPrice (Price(4)). Upper Auction Collar Price, Price(4).
	UpperCollarPrice uint32
	// LowerCollarPrice (Price(4)). Lower Auction Collar Price, Price(4).
	LowerCollarPrice uint32
	// CollarExtension (u32). Auction Collar Extension: number of extensions of the reopening
	// auction.
	CollarExtension uint32
}

// Append appends the 35 wire bytes of m to dst and returns the extended
// slice; it allocates only when dst lacks the capacity.
func (m *LULDAuctionCollarMsg) Append(dst []byte) []byte {
	dst, b := grow(dst, LenLULDAuctionCollar)
	m.Header.put(b, TypeLULDAuctionCollar)
	copy(b[11:19], m.Stock[:])
	binary.BigEndian.PutUint32(b[19:], m.CollarRefPrice)
	binary.BigEndian.PutUint32(b[23:], m.UpperCollarPrice)
	binary.BigEndian.PutUint32(b[27:], m.LowerCollarPrice)
	binary.BigEndian.PutUint32(b[31:], m.CollarExtension)
	return dst
}

// OperationalHaltMsg holds the fields of an ITCH Operational Halt message
// ('h', 21 bytes) for encoding.
// Alpha fields must already be space-padded (see Alpha8, Alpha4). The zero value
// encodes a message with zero numbers and NUL alpha bytes; enumerated bytes are
// written as given, without validation. Not safe for concurrent modification.
type OperationalHaltMsg struct {
	Header
	// Stock (Alpha(8)). Stock symbol, Alpha(8), space-padded.
	Stock [8]byte
	// MarketCode (char). Market Code: 'Q' Nasdaq, 'B' BX, 'X' PSX.
	MarketCode byte
	// HaltAction (char). Operational Halt Action: 'H' halted, 'T' resumed.
	HaltAction byte
}

// Append appends the 21 wire bytes of m to dst and returns the extended
// slice; it allocates only when dst lacks the capacity.
func (m *OperationalHaltMsg) Append(dst []byte) []byte {
	dst, b := grow(dst, LenOperationalHalt)
	m.Header.put(b, TypeOperationalHalt)
	copy(b[11:19], m.Stock[:])
	b[19] = m.MarketCode
	b[20] = m.HaltAction
	return dst
}

// AddOrderMsg holds the fields of an ITCH Add Order (no MPID attribution)
// message ('A', 36 bytes) for encoding.
// Alpha fields must already be space-padded (see Alpha8, Alpha4). The zero value
// encodes a message with zero numbers and NUL alpha bytes; enumerated bytes are
// written as given, without validation. Not safe for concurrent modification.
type AddOrderMsg struct {
	Header
	// Ref (u64). Order Reference Number, unique across the feed for the trading day.
	Ref uint64
	// Side (char). Buy/Sell Indicator: Buy or Sell.
	Side byte
	// Shares (u32). Shares of the order.
	Shares uint32
	// Stock (Alpha(8)). Stock symbol, Alpha(8), space-padded.
	Stock [8]byte
	// Price (Price(4)). Limit price, Price(4).
	Price uint32
}

// Append appends the 36 wire bytes of m to dst and returns the extended
// slice; it allocates only when dst lacks the capacity.
func (m *AddOrderMsg) Append(dst []byte) []byte {
	dst, b := grow(dst, LenAddOrder)
	m.Header.put(b, TypeAddOrder)
	binary.BigEndian.PutUint64(b[11:], m.Ref)
	b[19] = m.Side
	binary.BigEndian.PutUint32(b[20:], m.Shares)
	copy(b[24:32], m.Stock[:])
	binary.BigEndian.PutUint32(b[32:], m.Price)
	return dst
}

// AddOrderMPIDMsg holds the fields of an ITCH Add Order with MPID Attribution
// message ('F', 40 bytes) for encoding.
// Alpha fields must already be space-padded (see Alpha8, Alpha4). The zero value
// encodes a message with zero numbers and NUL alpha bytes; enumerated bytes are
// written as given, without validation. Not safe for concurrent modification.
type AddOrderMPIDMsg struct {
	Header
	// Ref (u64). Order Reference Number, unique across the feed for the trading day.
	Ref uint64
	// Side (char). Buy/Sell Indicator: Buy or Sell.
	Side byte
	// Shares (u32). Shares of the order.
	Shares uint32
	// Stock (Alpha(8)). Stock symbol, Alpha(8), space-padded.
	Stock [8]byte
	// Price (Price(4)). Limit price, Price(4).
	Price uint32
	// Attribution (Alpha(4)). Attribution: the market participant identifier (MPID), Alpha(4).
	Attribution [4]byte
}

// Append appends the 40 wire bytes of m to dst and returns the extended
// slice; it allocates only when dst lacks the capacity.
func (m *AddOrderMPIDMsg) Append(dst []byte) []byte {
	dst, b := grow(dst, LenAddOrderMPID)
	m.Header.put(b, TypeAddOrderMPID)
	binary.BigEndian.PutUint64(b[11:], m.Ref)
	b[19] = m.Side
	binary.BigEndian.PutUint32(b[20:], m.Shares)
	copy(b[24:32], m.Stock[:])
	binary.BigEndian.PutUint32(b[32:], m.Price)
	copy(b[36:40], m.Attribution[:])
	return dst
}

// OrderExecutedMsg holds the fields of an ITCH Order Executed message ('E', 31
// bytes) for encoding.
// Alpha fields must already be space-padded (see Alpha8, Alpha4). The zero value
// encodes a message with zero numbers and NUL alpha bytes; enumerated bytes are
// written as given, without validation. Not safe for concurrent modification.
type OrderExecutedMsg struct {
	Header
	// Ref (u64). Order Reference Number of the resting order.
	Ref uint64
	// Shares (u32). Executed Shares, to subtract from the order.
	Shares uint32
	// Match (u64). Match Number of the execution.
	Match uint64
}

// Append appends the 31 wire bytes of m to dst and returns the extended
// slice; it allocates only when dst lacks the capacity.
func (m *OrderExecutedMsg) Append(dst []byte) []byte {
	dst, b := grow(dst, LenOrderExecuted)
	m.Header.put(b, TypeOrderExecuted)
	binary.BigEndian.PutUint64(b[11:], m.Ref)
	binary.BigEndian.PutUint32(b[19:], m.Shares)
	binary.BigEndian.PutUint64(b[23:], m.Match)
	return dst
}

// OrderExecutedWithPriceMsg holds the fields of an ITCH Order Executed With
// Price message ('C', 36 bytes) for encoding.
// Alpha fields must already be space-padded (see Alpha8, Alpha4). The zero value
// encodes a message with zero numbers and NUL alpha bytes; enumerated bytes are
// written as given, without validation. Not safe for concurrent modification.
type OrderExecutedWithPriceMsg struct {
	Header
	// Ref (u64). Order Reference Number of the resting order.
	Ref uint64
	// Shares (u32). Executed Shares, to subtract from the order.
	Shares uint32
	// Match (u64). Match Number of the execution.
	Match uint64
	// Printable (char). Printable: 'Y' printable, 'N' non-printable (counted in a later bulk
	// print).
	Printable byte
	// ExecPrice (Price(4)). Execution Price, Price(4); the book level to reduce is the order's
	// own price, not this one.
	ExecPrice uint32
}

// Append appends the 36 wire bytes of m to dst and returns the extended
// slice; it allocates only when dst lacks the capacity.
func (m *OrderExecutedWithPriceMsg) Append(dst []byte) []byte {
	dst, b := grow(dst, LenOrderExecutedWithPrice)
	m.Header.put(b, TypeOrderExecutedWithPrice)
	binary.BigEndian.PutUint64(b[11:], m.Ref)
	binary.BigEndian.PutUint32(b[19:], m.Shares)
	binary.BigEndian.PutUint64(b[23:], m.Match)
	b[31] = m.Printable
	binary.BigEndian.PutUint32(b[32:], m.ExecPrice)
	return dst
}

// OrderCancelMsg holds the fields of an ITCH Order Cancel message ('X', 23
// bytes) for encoding.
// Alpha fields must already be space-padded (see Alpha8, Alpha4). The zero value
// encodes a message with zero numbers and NUL alpha bytes; enumerated bytes are
// written as given, without validation. Not safe for concurrent modification.
type OrderCancelMsg struct {
	Header
	// Ref (u64). Order Reference Number.
	Ref uint64
	// Shares (u32). Cancelled Shares, to subtract from the order (partial cancel).
	Shares uint32
}

// Append appends the 23 wire bytes of m to dst and returns the extended
// slice; it allocates only when dst lacks the capacity.
func (m *OrderCancelMsg) Append(dst []byte) []byte {
	dst, b := grow(dst, LenOrderCancel)
	m.Header.put(b, TypeOrderCancel)
	binary.BigEndian.PutUint64(b[11:], m.Ref)
	binary.BigEndian.PutUint32(b[19:], m.Shares)
	return dst
}

// OrderDeleteMsg holds the fields of an ITCH Order Delete message ('D', 19
// bytes) for encoding.
// Alpha fields must already be space-padded (see Alpha8, Alpha4). The zero value
// encodes a message with zero numbers and NUL alpha bytes; enumerated bytes are
// written as given, without validation. Not safe for concurrent modification.
type OrderDeleteMsg struct {
	Header
	// Ref (u64). Order Reference Number of the order to remove.
	Ref uint64
}

// Append appends the 19 wire bytes of m to dst and returns the extended
// slice; it allocates only when dst lacks the capacity.
func (m *OrderDeleteMsg) Append(dst []byte) []byte {
	dst, b := grow(dst, LenOrderDelete)
	m.Header.put(b, TypeOrderDelete)
	binary.BigEndian.PutUint64(b[11:], m.Ref)
	return dst
}

// OrderReplaceMsg holds the fields of an ITCH Order Replace message ('U', 35
// bytes) for encoding.
// Alpha fields must already be space-padded (see Alpha8, Alpha4). The zero value
// encodes a message with zero numbers and NUL alpha bytes; enumerated bytes are
// written as given, without validation. Not safe for concurrent modification.
type OrderReplaceMsg struct {
	Header
	// OrigRef (u64). Original Order Reference Number: the order to remove; the reference is
	// dead afterwards.
	OrigRef uint64
	// NewRef (u64). New Order Reference Number: the order to insert with the original's side
	// and locate.
	NewRef uint64
	// Shares (u32). Shares of the new order (new total, not a delta).
	Shares uint32
	// Price (Price(4)). Price of the new order, Price(4).
	Price uint32
}

// Append appends the 35 wire bytes of m to dst and returns the extended
// slice; it allocates only when dst lacks the capacity.
func (m *OrderReplaceMsg) Append(dst []byte) []byte {
	dst, b := grow(dst, LenOrderReplace)
	m.Header.put(b, TypeOrderReplace)
	binary.BigEndian.PutUint64(b[11:], m.OrigRef)
	binary.BigEndian.PutUint64(b[19:], m.NewRef)
	binary.BigEndian.PutUint32(b[27:], m.Shares)
	binary.BigEndian.PutUint32(b[31:], m.Price)
	return dst
}

// TradeMsg holds the fields of an ITCH Trade (non-cross) message ('P', 44
// bytes) for encoding.
// Alpha fields must already be space-padded (see Alpha8, Alpha4). The zero value
// encodes a message with zero numbers and NUL alpha bytes; enumerated bytes are
// written as given, without validation. Not safe for concurrent modification.
type TradeMsg struct {
	Header
	// Ref (u64). Order Reference Number of the non-displayed order; never in the book.
	Ref uint64
	// Side (char). Buy/Sell Indicator.
	Side byte
	// Shares (u32). Shares executed.
	Shares uint32
	// Stock (Alpha(8)). Stock symbol, Alpha(8), space-padded.
	Stock [8]byte
	// Price (Price(4)). Execution price, Price(4).
	Price uint32
	// Match (u64). Match Number.
	Match uint64
}

// Append appends the 44 wire bytes of m to dst and returns the extended
// slice; it allocates only when dst lacks the capacity.
func (m *TradeMsg) Append(dst []byte) []byte {
	dst, b := grow(dst, LenTrade)
	m.Header.put(b, TypeTrade)
	binary.BigEndian.PutUint64(b[11:], m.Ref)
	b[19] = m.Side
	binary.BigEndian.PutUint32(b[20:], m.Shares)
	copy(b[24:32], m.Stock[:])
	binary.BigEndian.PutUint32(b[32:], m.Price)
	binary.BigEndian.PutUint64(b[36:], m.Match)
	return dst
}

// CrossTradeMsg holds the fields of an ITCH Cross Trade message ('Q', 40
// bytes) for encoding.
// Alpha fields must already be space-padded (see Alpha8, Alpha4). The zero value
// encodes a message with zero numbers and NUL alpha bytes; enumerated bytes are
// written as given, without validation. Not safe for concurrent modification.
type CrossTradeMsg struct {
	Header
	// Shares (u64). Shares executed in the cross (8 bytes, unlike order shares).
	Shares uint64
	// Stock (Alpha(8)). Stock symbol, Alpha(8), space-padded.
	Stock [8]byte
	// CrossPrice (Price(4)). Cross Price, Price(4).
	CrossPrice uint32
	// Match (u64). Match Number.
	Match uint64
	// CrossType (char). Cross Type ('O' opening, 'C' closing, 'H' IPO/halted/paused, ...).
	CrossType byte
}

// Append appends the 40 wire bytes of m to dst and returns the extended
// slice; it allocates only when dst lacks the capacity.
func (m *CrossTradeMsg) Append(dst []byte) []byte {
	dst, b := grow(dst, LenCrossTrade)
	m.Header.put(b, TypeCrossTrade)
	binary.BigEndian.PutUint64(b[11:], m.Shares)
	copy(b[19:27], m.Stock[:])
	binary.BigEndian.PutUint32(b[27:], m.CrossPrice)
	binary.BigEndian.PutUint64(b[31:], m.Match)
	b[39] = m.CrossType
	return dst
}

// BrokenTradeMsg holds the fields of an ITCH Broken Trade / Order Execution
// message ('B', 19 bytes) for encoding.
// Alpha fields must already be space-padded (see Alpha8, Alpha4). The zero value
// encodes a message with zero numbers and NUL alpha bytes; enumerated bytes are
// written as given, without validation. Not safe for concurrent modification.
type BrokenTradeMsg struct {
	Header
	// Match (u64). Match Number of the broken execution.
	Match uint64
}

// Append appends the 19 wire bytes of m to dst and returns the extended
// slice; it allocates only when dst lacks the capacity.
func (m *BrokenTradeMsg) Append(dst []byte) []byte {
	dst, b := grow(dst, LenBrokenTrade)
	m.Header.put(b, TypeBrokenTrade)
	binary.BigEndian.PutUint64(b[11:], m.Match)
	return dst
}

// NOIIMsg holds the fields of an ITCH Net Order Imbalance Indicator message
// ('I', 50 bytes) for encoding.
// Alpha fields must already be space-padded (see Alpha8, Alpha4). The zero value
// encodes a message with zero numbers and NUL alpha bytes; enumerated bytes are
// written as given, without validation. Not safe for concurrent modification.
type NOIIMsg struct {
	Header
	// PairedShares (u64). Paired Shares.
	PairedShares uint64
	// ImbalanceShares (u64). Imbalance Shares.
	ImbalanceShares uint64
	// ImbalanceDirection (char). Imbalance Direction ('B' buy, 'S' sell, 'N' none, 'O'
	// insufficient orders, ...).
	ImbalanceDirection byte
	// Stock (Alpha(8)). Stock symbol, Alpha(8), space-padded.
	Stock [8]byte
	// FarPrice (Price(4)). Far Price, Price(4).
	FarPrice uint32
	// NearPrice (Price(4)). Near Price, Price(4).
	NearPrice uint32
	// RefPrice (Price(4)). Current Reference Price, Price(4).
	RefPrice uint32
	// CrossType (char). Cross Type ('O' opening, 'C' closing, 'H' IPO/halted/paused, ...).
	CrossType byte
	// PriceVariation (char). Price Variation Indicator ('L' under 1%, '1'..'9', 'A', 'B', 'C',
	// space n/a).
	PriceVariation byte
}

// Append appends the 50 wire bytes of m to dst and returns the extended
// slice; it allocates only when dst lacks the capacity.
func (m *NOIIMsg) Append(dst []byte) []byte {
	dst, b := grow(dst, LenNOII)
	m.Header.put(b, TypeNOII)
	binary.BigEndian.PutUint64(b[11:], m.PairedShares)
	binary.BigEndian.PutUint64(b[19:], m.ImbalanceShares)
	b[27] = m.ImbalanceDirection
	copy(b[28:36], m.Stock[:])
	binary.BigEndian.PutUint32(b[36:], m.FarPrice)
	binary.BigEndian.PutUint32(b[40:], m.NearPrice)
	binary.BigEndian.PutUint32(b[44:], m.RefPrice)
	b[48] = m.CrossType
	b[49] = m.PriceVariation
	return dst
}

// RPIIMsg holds the fields of an ITCH Retail Price Improvement Indicator
// message ('N', 20 bytes) for encoding.
// Alpha fields must already be space-padded (see Alpha8, Alpha4). The zero value
// encodes a message with zero numbers and NUL alpha bytes; enumerated bytes are
// written as given, without validation. Not safe for concurrent modification.
type RPIIMsg struct {
	Header
	// Stock (Alpha(8)). Stock symbol, Alpha(8), space-padded.
	Stock [8]byte
	// InterestFlag (char). Interest Flag: 'B' buy side, 'S' sell side, 'A' both sides, 'N'
	// none.
	InterestFlag byte
}

// Append appends the 20 wire bytes of m to dst and returns the extended
// slice; it allocates only when dst lacks the capacity.
func (m *RPIIMsg) Append(dst []byte) []byte {
	dst, b := grow(dst, LenRPII)
	m.Header.put(b, TypeRPII)
	copy(b[11:19], m.Stock[:])
	b[19] = m.InterestFlag
	return dst
}

// DLCRPriceDiscoveryMsg holds the fields of an ITCH Direct Listing with
// Capital Raise Price Discovery message ('O', 48 bytes) for encoding.
// Alpha fields must already be space-padded (see Alpha8, Alpha4). The zero value
// encodes a message with zero numbers and NUL alpha bytes; enumerated bytes are
// written as given, without validation. Not safe for concurrent modification.
type DLCRPriceDiscoveryMsg struct {
	Header
	// Stock (Alpha(8)). Stock symbol, Alpha(8), space-padded.
	Stock [8]byte
	// OpenEligibility (char). Open Eligibility Status: 'N' not eligible, 'Y' eligible.
	OpenEligibility byte
	// MinAllowedPrice (Price(4)). Minimum Allowable Price, Price(4).
	MinAllowedPrice uint32
	// MaxAllowedPrice (Price(4)). Maximum Allowable Price, Price(4).
	MaxAllowedPrice uint32
	// NearExecPrice (Price(4)). Near Execution Price, Price(4).
	NearExecPrice uint32
	// NearExecTime (u64). Near Execution Time: nanoseconds since midnight when the near price
	// was set.
	NearExecTime uint64
	// LowerCollar (Price(4)). Lower Price Range Collar, Price(4).
	LowerCollar uint32
	// UpperCollar (Price(4)). Upper Price Range Collar, Price(4).
	UpperCollar uint32
}

// Append appends the 48 wire bytes of m to dst and returns the extended
// slice; it allocates only when dst lacks the capacity.
func (m *DLCRPriceDiscoveryMsg) Append(dst []byte) []byte {
	dst, b := grow(dst, LenDLCRPriceDiscovery)
	m.Header.put(b, TypeDLCRPriceDiscovery)
	copy(b[11:19], m.Stock[:])
	b[19] = m.OpenEligibility
	binary.BigEndian.PutUint32(b[20:], m.MinAllowedPrice)
	binary.BigEndian.PutUint32(b[24:], m.MaxAllowedPrice)
	binary.BigEndian.PutUint32(b[28:], m.NearExecPrice)
	binary.BigEndian.PutUint64(b[32:], m.NearExecTime)
	binary.BigEndian.PutUint32(b[40:], m.LowerCollar)
	binary.BigEndian.PutUint32(b[44:], m.UpperCollar)
	return dst
}
