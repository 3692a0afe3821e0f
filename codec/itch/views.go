package itch

// SystemEvent is a view of an ITCH System Event message: type 'S'
// (TypeSystemEvent), 12 bytes (LenSystemEvent), PROTOCOLS.md §2.3. Fields,
// offsets from the type byte:
//
//	off len field     type
//	  0   1 Type      char 'S'
//	  1   2 Locate    u16
//	  3   2 Tracking  u16
//	  5   6 Timestamp u48
//	 11   1 EventCode char
//
// Convert to SystemEvent only after Check accepted the bytes with type 'S'; an
// accessor on a shorter slice panics. The view aliases the caller's bytes and
// is valid as long as they are. Safe for concurrent reads; not for concurrent
// modification of the underlying bytes.
type SystemEvent []byte

// Type returns the message type byte, 'S' for a checked SystemEvent.
func (m SystemEvent) Type() byte { return m[0] }

// Locate returns the Stock Locate code (header offset 1).
func (m SystemEvent) Locate() uint16 { return be16(m, 1) }

// Tracking returns the Nasdaq-internal Tracking Number (header offset 3).
func (m SystemEvent) Tracking() uint16 { return be16(m, 3) }

// Timestamp returns nanoseconds since midnight (6 bytes at header offset 5).
func (m SystemEvent) Timestamp() uint64 { return be48(m, 5) }

// EventCode returns the field at offset 11 (char). Event Code: a System Event code
// (EventStartOfMessages ... EventEndOfMessages).
func (m SystemEvent) EventCode() byte { return m[11] }

// StockDirectory is a view of an ITCH Stock Directory message: type 'R'
// (TypeStockDirectory), 39 bytes (LenStockDirectory), PROTOCOLS.md §2.3.
// Fields, offsets from the type byte:
//
//	off len field               type
//	  0   1 Type                char 'R'
//	  1   2 Locate              u16
//	  3   2 Tracking            u16
//	  5   6 Timestamp           u48
//	 11   8 Stock               Alpha(8)
//	 19   1 MarketCategory      char
//	 20   1 FinancialStatus     char
//	 21   4 RoundLotSize        u32
//	 25   1 RoundLotsOnly       char
//	 26   1 IssueClassification char
//	 27   2 IssueSubType        Alpha(2)
//	 29   1 Authenticity        char
//	 30   1 ShortSaleThreshold  char
//	 31   1 IPOFlag             char
//	 32   1 LULDRefPriceTier    char
//	 33   1 ETPFlag             char
//	 34   4 ETPLeverageFactor   u32
//	 38   1 InverseIndicator    char
//
// Convert to StockDirectory only after Check accepted the bytes with type 'R'; an
// accessor on a shorter slice panics. The view aliases the caller's bytes and
// is valid as long as they are. Safe for concurrent reads; not for concurrent
// modification of the underlying bytes.
type StockDirectory []byte

// Type returns the message type byte, 'R' for a checked StockDirectory.
func (m StockDirectory) Type() byte { return m[0] }

// Locate returns the Stock Locate code (header offset 1).
func (m StockDirectory) Locate() uint16 { return be16(m, 1) }

// Tracking returns the Nasdaq-internal Tracking Number (header offset 3).
func (m StockDirectory) Tracking() uint16 { return be16(m, 3) }

// Timestamp returns nanoseconds since midnight (6 bytes at header offset 5).
func (m StockDirectory) Timestamp() uint64 { return be48(m, 5) }

// Stock returns the field at offset 11 (Alpha(8)). Stock symbol, Alpha(8), space-padded. The
// 8-byte slice aliases m (its capacity ends with the field): valid as long as m is.
func (m StockDirectory) Stock() []byte { return m[11:19:19] }

// MarketCategory returns the field at offset 19 (char). Market Category: listing market ('Q'
// Global Select, 'G' Global Market, 'S' Capital Market, 'N' NYSE, ...; space if not
// available).
func (m StockDirectory) MarketCategory() byte { return m[19] }

// FinancialStatus returns the field at offset 20 (char). Financial Status Indicator ('N'
// normal, 'D' deficient, 'E' delinquent, ...; space if not available).
func (m StockDirectory) FinancialStatus() byte { return m[20] }

// RoundLotSize returns the field at offset 21 (u32). Round Lot Size in shares.
func (m StockDirectory) RoundLotSize() uint32 { return be32(m, 21) }

// RoundLotsOnly returns the field at offset 25 (char). Round Lots Only: 'Y' only round lots
// accepted, 'N' odd and mixed lots allowed.
func (m StockDirectory) RoundLotsOnly() byte { return m[25] }

// IssueClassification returns the field at offset 26 (char). Issue Classification ('C' common
// stock, 'P' preferred, 'A' ADS, ...).
func (m StockDirectory) IssueClassification() byte { return m[26] }

// IssueSubType returns the field at offset 27 (Alpha(2)). Issue Sub-Type, Alpha(2). The 2-byte
// slice aliases m (its capacity ends with the field): valid as long as m is.
func (m StockDirectory) IssueSubType() []byte { return m[27:29:29] }

// Authenticity returns the field at offset 29 (char). Authenticity: 'P' live/production, 'T'
// test symbol.
func (m StockDirectory) Authenticity() byte { return m[29] }

// ShortSaleThreshold returns the field at offset 30 (char). Short Sale Threshold Indicator:
// 'Y', 'N', or space if not available.
func (m StockDirectory) ShortSaleThreshold() byte { return m[30] }

// IPOFlag returns the field at offset 31 (char). IPO Flag: 'Y' set up for IPO release, 'N'
// not, space if not available.
func (m StockDirectory) IPOFlag() byte { return m[31] }

// LULDRefPriceTier returns the field at offset 32 (char). LULD Reference Price Tier: '1', '2',
// or space if not available.
func (m StockDirectory) LULDRefPriceTier() byte { return m[32] }

// ETPFlag returns the field at offset 33 (char). ETP Flag: 'Y' exchange traded product, 'N'
// not, space if not available.
func (m StockDirectory) ETPFlag() byte { return m[33] }

// ETPLeverageFactor returns the field at offset 34 (u32). ETP Leverage Factor (integral
// multiple of the underlying index).
func (m StockDirectory) ETPLeverageFactor() uint32 { return be32(m, 34) }

// InverseIndicator returns the field at offset 38 (char). Inverse Indicator: 'Y' inverse ETP,
// 'N' not.
func (m StockDirectory) InverseIndicator() byte { return m[38] }

// StockTradingAction is a view of an ITCH Stock Trading Action message: type
// 'H' (TypeStockTradingAction), 25 bytes (LenStockTradingAction), PROTOCOLS.md
// §2.3. Fields, offsets from the type byte:
//
//	off len field        type
//	  0   1 Type         char 'H'
//	  1   2 Locate       u16
//	  3   2 Tracking     u16
//	  5   6 Timestamp    u48
//	 11   8 Stock        Alpha(8)
//	 19   1 TradingState char
//	 20   1 Reserved     char
//	 21   4 Reason       Alpha(4)
//
// Convert to StockTradingAction only after Check accepted the bytes with type 'H'; an
// accessor on a shorter slice panics. The view aliases the caller's bytes and
// is valid as long as they are. Safe for concurrent reads; not for concurrent
// modification of the underlying bytes.
type StockTradingAction []byte

// Type returns the message type byte, 'H' for a checked StockTradingAction.
func (m StockTradingAction) Type() byte { return m[0] }

// Locate returns the Stock Locate code (header offset 1).
func (m StockTradingAction) Locate() uint16 { return be16(m, 1) }

// Tracking returns the Nasdaq-internal Tracking Number (header offset 3).
func (m StockTradingAction) Tracking() uint16 { return be16(m, 3) }

// Timestamp returns nanoseconds since midnight (6 bytes at header offset 5).
func (m StockTradingAction) Timestamp() uint64 { return be48(m, 5) }

// Stock returns the field at offset 11 (Alpha(8)). Stock symbol, Alpha(8), space-padded. The
// 8-byte slice aliases m (its capacity ends with the field): valid as long as m is.
func (m StockTradingAction) Stock() []byte { return m[11:19:19] }

// TradingState returns the field at offset 19 (char). Trading State: 'H' halted, 'P' paused,
// 'Q' quotation only, 'T' trading.
func (m StockTradingAction) TradingState() byte { return m[19] }

// Reserved returns the field at offset 20 (char). Reserved byte; carried through unchanged.
func (m StockTradingAction) Reserved() byte { return m[20] }

// Reason returns the field at offset 21 (Alpha(4)). Reason code, Alpha(4), e.g. "T1  ",
// "LUDP", "MWC1", "IPOQ". The 4-byte slice aliases m (its capacity ends with the field): valid
// as long as m is.
func (m StockTradingAction) Reason() []byte { return m[21:25:25] }

// RegSHORestriction is a view of an ITCH Reg SHO Short Sale Price Test
// Restricted Indicator message: type 'Y' (TypeRegSHORestriction), 20 bytes
// (LenRegSHORestriction), PROTOCOLS.md §2.3. Fields, offsets from the type
// byte:
//
//	off len field        type
//	  0   1 Type         char 'Y'
//	  1   2 Locate       u16
//	  3   2 Tracking     u16
//	  5   6 Timestamp    u48
//	 11   8 Stock        Alpha(8)
//	 19   1 RegSHOAction char
//
// Convert to RegSHORestriction only after Check accepted the bytes with type 'Y'; an
// accessor on a shorter slice panics. The view aliases the caller's bytes and
// is valid as long as they are. Safe for concurrent reads; not for concurrent
// modification of the underlying bytes.
type RegSHORestriction []byte

// Type returns the message type byte, 'Y' for a checked RegSHORestriction.
func (m RegSHORestriction) Type() byte { return m[0] }

// Locate returns the Stock Locate code (header offset 1).
func (m RegSHORestriction) Locate() uint16 { return be16(m, 1) }

// Tracking returns the Nasdaq-internal Tracking Number (header offset 3).
func (m RegSHORestriction) Tracking() uint16 { return be16(m, 3) }

// Timestamp returns nanoseconds since midnight (6 bytes at header offset 5).
func (m RegSHORestriction) Timestamp() uint64 { return be48(m, 5) }

// Stock returns the field at offset 11 (Alpha(8)). Stock symbol, Alpha(8), space-padded. The
// 8-byte slice aliases m (its capacity ends with the field): valid as long as m is.
func (m RegSHORestriction) Stock() []byte { return m[11:19:19] }

// RegSHOAction returns the field at offset 19 (char). Reg SHO Action: '0' no price test, '1'
// restriction in effect (intraday drop), '2' restriction remains in effect.
func (m RegSHORestriction) RegSHOAction() byte { return m[19] }

// MarketParticipantPosition is a view of an ITCH Market Participant Position
// message: type 'L' (TypeMarketParticipantPosition), 26 bytes
// (LenMarketParticipantPosition), PROTOCOLS.md §2.3. Fields, offsets from the
// type byte:
//
//	off len field              type
//	  0   1 Type               char 'L'
//	  1   2 Locate             u16
//	  3   2 Tracking           u16
//	  5   6 Timestamp          u48
//	 11   4 MPID               Alpha(4)
//	 15   8 Stock              Alpha(8)
//	 23   1 PrimaryMarketMaker char
//	 24   1 MarketMakerMode    char
//	 25   1 ParticipantState   char
//
// Convert to MarketParticipantPosition only after Check accepted the bytes with type 'L'; an
// accessor on a shorter slice panics. The view aliases the caller's bytes and
// is valid as long as they are. Safe for concurrent reads; not for concurrent
// modification of the underlying bytes.
type MarketParticipantPosition []byte

// Type returns the message type byte, 'L' for a checked MarketParticipantPosition.
func (m MarketParticipantPosition) Type() byte { return m[0] }

// Locate returns the Stock Locate code (header offset 1).
func (m MarketParticipantPosition) Locate() uint16 { return be16(m, 1) }

// Tracking returns the Nasdaq-internal Tracking Number (header offset 3).
func (m MarketParticipantPosition) Tracking() uint16 { return be16(m, 3) }

// Timestamp returns nanoseconds since midnight (6 bytes at header offset 5).
func (m MarketParticipantPosition) Timestamp() uint64 { return be48(m, 5) }

// MPID returns the field at offset 11 (Alpha(4)). Market participant identifier, Alpha(4). The
// 4-byte slice aliases m (its capacity ends with the field): valid as long as m is.
func (m MarketParticipantPosition) MPID() []byte { return m[11:15:15] }

// Stock returns the field at offset 15 (Alpha(8)). Stock symbol, Alpha(8), space-padded. The
// 8-byte slice aliases m (its capacity ends with the field): valid as long as m is.
func (m MarketParticipantPosition) Stock() []byte { return m[15:23:23] }

// PrimaryMarketMaker returns the field at offset 23 (char). Primary Market Maker: 'Y' or 'N'.
func (m MarketParticipantPosition) PrimaryMarketMaker() byte { return m[23] }

// MarketMakerMode returns the field at offset 24 (char). Market Maker Mode ('N' normal, 'P'
// passive, 'S' syndicate, 'R' pre-syndicate, 'L' penalty).
func (m MarketParticipantPosition) MarketMakerMode() byte { return m[24] }

// ParticipantState returns the field at offset 25 (char). Market Participant State ('A'
// active, 'E' excused, 'W' withdrawn, 'S' suspended, 'D' deleted).
func (m MarketParticipantPosition) ParticipantState() byte { return m[25] }

// MWCBDeclineLevel is a view of an ITCH Market-Wide Circuit Breaker Decline
// Level message: type 'V' (TypeMWCBDeclineLevel), 35 bytes
// (LenMWCBDeclineLevel), PROTOCOLS.md §2.3. Fields, offsets from the type
// byte:
//
//	off len field     type
//	  0   1 Type      char 'V'
//	  1   2 Locate    u16
//	  3   2 Tracking  u16
//	  5   6 Timestamp u48
//	 11   8 Level1    Price(8)
//	 19   8 Level2    Price(8)
//	 27   8 Level3    Price(8)
//
// Convert to MWCBDeclineLevel only after Check accepted the bytes with type 'V'; an
// accessor on a shorter slice panics. The view aliases the caller's bytes and
// is valid as long as they are. Safe for concurrent reads; not for concurrent
// modification of the underlying bytes.
type MWCBDeclineLevel []byte

// Type returns the message type byte, 'V' for a checked MWCBDeclineLevel.
func (m MWCBDeclineLevel) Type() byte { return m[0] }

// Locate returns the Stock Locate code (header offset 1).
func (m MWCBDeclineLevel) Locate() uint16 { return be16(m, 1) }

// Tracking returns the Nasdaq-internal Tracking Number (header offset 3).
func (m MWCBDeclineLevel) Tracking() uint16 { return be16(m, 3) }

// Timestamp returns nanoseconds since midnight (6 bytes at header offset 5).
func (m MWCBDeclineLevel) Timestamp() uint64 { return be48(m, 5) }

// Level1 returns the field at offset 11 (Price(8)). Level 1 decline, Price(8): fixed point
// with 8 implied decimals.
func (m MWCBDeclineLevel) Level1() uint64 { return be64(m, 11) }

// Level2 returns the field at offset 19 (Price(8)). Level 2 decline, Price(8).
func (m MWCBDeclineLevel) Level2() uint64 { return be64(m, 19) }

// Level3 returns the field at offset 27 (Price(8)). Level 3 decline, Price(8).
func (m MWCBDeclineLevel) Level3() uint64 { return be64(m, 27) }

// MWCBStatus is a view of an ITCH Market-Wide Circuit Breaker Status message:
// type 'W' (TypeMWCBStatus), 12 bytes (LenMWCBStatus), PROTOCOLS.md §2.3.
// Fields, offsets from the type byte:
//
//	off len field         type
//	  0   1 Type          char 'W'
//	  1   2 Locate        u16
//	  3   2 Tracking      u16
//	  5   6 Timestamp     u48
//	 11   1 BreachedLevel char
//
// Convert to MWCBStatus only after Check accepted the bytes with type 'W'; an
// accessor on a shorter slice panics. The view aliases the caller's bytes and
// is valid as long as they are. Safe for concurrent reads; not for concurrent
// modification of the underlying bytes.
type MWCBStatus []byte

// Type returns the message type byte, 'W' for a checked MWCBStatus.
func (m MWCBStatus) Type() byte { return m[0] }

// Locate returns the Stock Locate code (header offset 1).
func (m MWCBStatus) Locate() uint16 { return be16(m, 1) }

// Tracking returns the Nasdaq-internal Tracking Number (header offset 3).
func (m MWCBStatus) Tracking() uint16 { return be16(m, 3) }

// Timestamp returns nanoseconds since midnight (6 bytes at header offset 5).
func (m MWCBStatus) Timestamp() uint64 { return be48(m, 5) }

// BreachedLevel returns the field at offset 11 (char). Breached Level: '1', '2' or '3'.
func (m MWCBStatus) BreachedLevel() byte { return m[11] }

// IPOQuotingPeriodUpdate is a view of an ITCH IPO Quoting Period Update
// message: type 'K' (TypeIPOQuotingPeriodUpdate), 28 bytes
// (LenIPOQuotingPeriodUpdate), PROTOCOLS.md §2.3. Fields, offsets from the
// type byte:
//
//	off len field            type
//	  0   1 Type             char 'K'
//	  1   2 Locate           u16
//	  3   2 Tracking         u16
//	  5   6 Timestamp        u48
//	 11   8 Stock            Alpha(8)
//	 19   4 ReleaseTime      u32
//	 23   1 ReleaseQualifier char
//	 24   4 IPOPrice         Price(4)
//
// Convert to IPOQuotingPeriodUpdate only after Check accepted the bytes with type 'K'; an
// accessor on a shorter slice panics. The view aliases the caller's bytes and
// is valid as long as they are. Safe for concurrent reads; not for concurrent
// modification of the underlying bytes.
type IPOQuotingPeriodUpdate []byte

// Type returns the message type byte, 'K' for a checked IPOQuotingPeriodUpdate.
func (m IPOQuotingPeriodUpdate) Type() byte { return m[0] }

// Locate returns the Stock Locate code (header offset 1).
func (m IPOQuotingPeriodUpdate) Locate() uint16 { return be16(m, 1) }

// Tracking returns the Nasdaq-internal Tracking Number (header offset 3).
func (m IPOQuotingPeriodUpdate) Tracking() uint16 { return be16(m, 3) }

// Timestamp returns nanoseconds since midnight (6 bytes at header offset 5).
func (m IPOQuotingPeriodUpdate) Timestamp() uint64 { return be48(m, 5) }

// Stock returns the field at offset 11 (Alpha(8)). Stock symbol, Alpha(8), space-padded. The
// 8-byte slice aliases m (its capacity ends with the field): valid as long as m is.
func (m IPOQuotingPeriodUpdate) Stock() []byte { return m[11:19:19] }

// ReleaseTime returns the field at offset 19 (u32). IPO Quotation Release Time in seconds
// since midnight.
func (m IPOQuotingPeriodUpdate) ReleaseTime() uint32 { return be32(m, 19) }

// ReleaseQualifier returns the field at offset 23 (char). IPO Quotation Release Qualifier: 'A'
// anticipated release time, 'C' cancelled or postponed.
func (m IPOQuotingPeriodUpdate) ReleaseQualifier() byte { return m[23] }

// IPOPrice returns the field at offset 24 (Price(4)). IPO Price, Price(4).
func (m IPOQuotingPeriodUpdate) IPOPrice() uint32 { return be32(m, 24) }

// LULDAuctionCollar is a view of an ITCH LULD Auction Collar message: type 'J'
// (TypeLULDAuctionCollar), 35 bytes (LenLULDAuctionCollar), PROTOCOLS.md §2.3.
// Fields, offsets from the type byte:
//
//	off len field            type
//	  0   1 Type             char 'J'
//	  1   2 Locate           u16
//	  3   2 Tracking         u16
//	  5   6 Timestamp        u48
//	 11   8 Stock            Alpha(8)
//	 19   4 CollarRefPrice   Price(4)
//	 23   4 UpperCollarPrice Price(4)
//	 27   4 LowerCollarPrice Price(4)
//	 31   4 CollarExtension  u32
//
// Convert to LULDAuctionCollar only after Check accepted the bytes with type 'J'; an
// accessor on a shorter slice panics. The view aliases the caller's bytes and
// is valid as long as they are. Safe for concurrent reads; not for concurrent
// modification of the underlying bytes.
type LULDAuctionCollar []byte

// Type returns the message type byte, 'J' for a checked LULDAuctionCollar.
func (m LULDAuctionCollar) Type() byte { return m[0] }

// Locate returns the Stock Locate code (header offset 1).
func (m LULDAuctionCollar) Locate() uint16 { return be16(m, 1) }

// Tracking returns the Nasdaq-internal Tracking Number (header offset 3).
func (m LULDAuctionCollar) Tracking() uint16 { return be16(m, 3) }

// Timestamp returns nanoseconds since midnight (6 bytes at header offset 5).
func (m LULDAuctionCollar) Timestamp() uint64 { return be48(m, 5) }

// Stock returns the field at offset 11 (Alpha(8)). Stock symbol, Alpha(8), space-padded. The
// 8-byte slice aliases m (its capacity ends with the field): valid as long as m is.
func (m LULDAuctionCollar) Stock() []byte { return m[11:19:19] }

// CollarRefPrice returns the field at offset 19 (Price(4)). Auction Collar Reference Price,
// Price(4).
func (m LULDAuctionCollar) CollarRefPrice() uint32 { return be32(m, 19) }

// UpperCollarPrice returns the field at offset 23 (Price(4)). Upper Auction Collar Price,
// Price(4).
func (m LULDAuctionCollar) UpperCollarPrice() uint32 { return be32(m, 23) }

// LowerCollarPrice returns the field at offset 27 (Price(4)). Lower Auction Collar Price,
// Price(4).
func (m LULDAuctionCollar) LowerCollarPrice() uint32 { return be32(m, 27) }

// CollarExtension returns the field at offset 31 (u32). Auction Collar Extension: number of
// extensions of the reopening auction.
func (m LULDAuctionCollar) CollarExtension() uint32 { return be32(m, 31) }

// OperationalHalt is a view of an ITCH Operational Halt message: type 'h'
// (TypeOperationalHalt), 21 bytes (LenOperationalHalt), PROTOCOLS.md §2.3.
// Fields, offsets from the type byte:
//
//	off len field      type
//	  0   1 Type       char 'h'
//	  1   2 Locate     u16
//	  3   2 Tracking   u16
//	  5   6 Timestamp  u48
//	 11   8 Stock      Alpha(8)
//	 19   1 MarketCode char
//	 20   1 HaltAction char
//
// Convert to OperationalHalt only after Check accepted the bytes with type 'h'; an
// accessor on a shorter slice panics. The view aliases the caller's bytes and
// is valid as long as they are. Safe for concurrent reads; not for concurrent
// modification of the underlying bytes.
type OperationalHalt []byte

// Type returns the message type byte, 'h' for a checked OperationalHalt.
func (m OperationalHalt) Type() byte { return m[0] }

// Locate returns the Stock Locate code (header offset 1).
func (m OperationalHalt) Locate() uint16 { return be16(m, 1) }

// Tracking returns the Nasdaq-internal Tracking Number (header offset 3).
func (m OperationalHalt) Tracking() uint16 { return be16(m, 3) }

// Timestamp returns nanoseconds since midnight (6 bytes at header offset 5).
func (m OperationalHalt) Timestamp() uint64 { return be48(m, 5) }

// Stock returns the field at offset 11 (Alpha(8)). Stock symbol, Alpha(8), space-padded. The
// 8-byte slice aliases m (its capacity ends with the field): valid as long as m is.
func (m OperationalHalt) Stock() []byte { return m[11:19:19] }

// MarketCode returns the field at offset 19 (char). Market Code: 'Q' Nasdaq, 'B' BX, 'X' PSX.
func (m OperationalHalt) MarketCode() byte { return m[19] }

// HaltAction returns the field at offset 20 (char). Operational Halt Action: 'H' halted, 'T'
// resumed.
func (m OperationalHalt) HaltAction() byte { return m[20] }

// AddOrder is a view of an ITCH Add Order (no MPID attribution) message: type
// 'A' (TypeAddOrder), 36 bytes (LenAddOrder), PROTOCOLS.md §2.4. Fields,
// offsets from the type byte:
//
//	off len field     type
//	  0   1 Type      char 'A'
//	  1   2 Locate    u16
//	  3   2 Tracking  u16
//	  5   6 Timestamp u48
//	 11   8 Ref       u64
//	 19   1 Side      char
//	 20   4 Shares    u32
//	 24   8 Stock     Alpha(8)
//	 32   4 Price     Price(4)
//
// Convert to AddOrder only after Check accepted the bytes with type 'A'; an
// accessor on a shorter slice panics. The view aliases the caller's bytes and
// is valid as long as they are. Safe for concurrent reads; not for concurrent
// modification of the underlying bytes.
type AddOrder []byte

// Type returns the message type byte, 'A' for a checked AddOrder.
func (m AddOrder) Type() byte { return m[0] }

// Locate returns the Stock Locate code (header offset 1).
func (m AddOrder) Locate() uint16 { return be16(m, 1) }

// Tracking returns the Nasdaq-internal Tracking Number (header offset 3).
func (m AddOrder) Tracking() uint16 { return be16(m, 3) }

// Timestamp returns nanoseconds since midnight (6 bytes at header offset 5).
func (m AddOrder) Timestamp() uint64 { return be48(m, 5) }

// Ref returns the field at offset 11 (u64). Order Reference Number, unique across the feed for
// the trading day.
func (m AddOrder) Ref() uint64 { return be64(m, 11) }

// Side returns the field at offset 19 (char). Buy/Sell Indicator: Buy or Sell.
func (m AddOrder) Side() byte { return m[19] }

// Shares returns the field at offset 20 (u32). Shares of the order.
func (m AddOrder) Shares() uint32 { return be32(m, 20) }

// Stock returns the field at offset 24 (Alpha(8)). Stock symbol, Alpha(8), space-padded. The
// 8-byte slice aliases m (its capacity ends with the field): valid as long as m is.
func (m AddOrder) Stock() []byte { return m[24:32:32] }

// Price returns the field at offset 32 (Price(4)). Limit price, Price(4).
func (m AddOrder) Price() uint32 { return be32(m, 32) }

// AddOrderMPID is a view of an ITCH Add Order with MPID Attribution message:
// type 'F' (TypeAddOrderMPID), 40 bytes (LenAddOrderMPID), PROTOCOLS.md §2.4.
// Fields, offsets from the type byte:
//
//	off len field       type
//	  0   1 Type        char 'F'
//	  1   2 Locate      u16
//	  3   2 Tracking    u16
//	  5   6 Timestamp   u48
//	 11   8 Ref         u64
//	 19   1 Side        char
//	 20   4 Shares      u32
//	 24   8 Stock       Alpha(8)
//	 32   4 Price       Price(4)
//	 36   4 Attribution Alpha(4)
//
// Convert to AddOrderMPID only after Check accepted the bytes with type 'F'; an
// accessor on a shorter slice panics. The view aliases the caller's bytes and
// is valid as long as they are. Safe for concurrent reads; not for concurrent
// modification of the underlying bytes.
type AddOrderMPID []byte

// Type returns the message type byte, 'F' for a checked AddOrderMPID.
func (m AddOrderMPID) Type() byte { return m[0] }

// Locate returns the Stock Locate code (header offset 1).
func (m AddOrderMPID) Locate() uint16 { return be16(m, 1) }

// Tracking returns the Nasdaq-internal Tracking Number (header offset 3).
func (m AddOrderMPID) Tracking() uint16 { return be16(m, 3) }

// Timestamp returns nanoseconds since midnight (6 bytes at header offset 5).
func (m AddOrderMPID) Timestamp() uint64 { return be48(m, 5) }

// Ref returns the field at offset 11 (u64). Order Reference Number, unique across the feed for
// the trading day.
func (m AddOrderMPID) Ref() uint64 { return be64(m, 11) }

// Side returns the field at offset 19 (char). Buy/Sell Indicator: Buy or Sell.
func (m AddOrderMPID) Side() byte { return m[19] }

// Shares returns the field at offset 20 (u32). Shares of the order.
func (m AddOrderMPID) Shares() uint32 { return be32(m, 20) }

// Stock returns the field at offset 24 (Alpha(8)). Stock symbol, Alpha(8), space-padded. The
// 8-byte slice aliases m (its capacity ends with the field): valid as long as m is.
func (m AddOrderMPID) Stock() []byte { return m[24:32:32] }

// Price returns the field at offset 32 (Price(4)). Limit price, Price(4).
func (m AddOrderMPID) Price() uint32 { return be32(m, 32) }

// Attribution returns the field at offset 36 (Alpha(4)). Attribution: the market participant
// identifier (MPID), Alpha(4). The 4-byte slice aliases m (its capacity ends with the field):
// valid as long as m is.
func (m AddOrderMPID) Attribution() []byte { return m[36:40:40] }

// OrderExecuted is a view of an ITCH Order Executed message: type 'E'
// (TypeOrderExecuted), 31 bytes (LenOrderExecuted), PROTOCOLS.md §2.4. Fields,
// offsets from the type byte:
//
//	off len field     type
//	  0   1 Type      char 'E'
//	  1   2 Locate    u16
//	  3   2 Tracking  u16
//	  5   6 Timestamp u48
//	 11   8 Ref       u64
//	 19   4 Shares    u32
//	 23   8 Match     u64
//
// Convert to OrderExecuted only after Check accepted the bytes with type 'E'; an
// accessor on a shorter slice panics. The view aliases the caller's bytes and
// is valid as long as they are. Safe for concurrent reads; not for concurrent
// modification of the underlying bytes.
type OrderExecuted []byte

// Type returns the message type byte, 'E' for a checked OrderExecuted.
func (m OrderExecuted) Type() byte { return m[0] }

// Locate returns the Stock Locate code (header offset 1).
func (m OrderExecuted) Locate() uint16 { return be16(m, 1) }

// Tracking returns the Nasdaq-internal Tracking Number (header offset 3).
func (m OrderExecuted) Tracking() uint16 { return be16(m, 3) }

// Timestamp returns nanoseconds since midnight (6 bytes at header offset 5).
func (m OrderExecuted) Timestamp() uint64 { return be48(m, 5) }

// Ref returns the field at offset 11 (u64). Order Reference Number of the resting order.
func (m OrderExecuted) Ref() uint64 { return be64(m, 11) }

// Shares returns the field at offset 19 (u32). Executed Shares, to subtract from the order.
func (m OrderExecuted) Shares() uint32 { return be32(m, 19) }

// Match returns the field at offset 23 (u64). Match Number of the execution.
func (m OrderExecuted) Match() uint64 { return be64(m, 23) }

// OrderExecutedWithPrice is a view of an ITCH Order Executed With Price
// message: type 'C' (TypeOrderExecutedWithPrice), 36 bytes
// (LenOrderExecutedWithPrice), PROTOCOLS.md §2.4. Fields, offsets from the
// type byte:
//
//	off len field     type
//	  0   1 Type      char 'C'
//	  1   2 Locate    u16
//	  3   2 Tracking  u16
//	  5   6 Timestamp u48
//	 11   8 Ref       u64
//	 19   4 Shares    u32
//	 23   8 Match     u64
//	 31   1 Printable char
//	 32   4 ExecPrice Price(4)
//
// Convert to OrderExecutedWithPrice only after Check accepted the bytes with type 'C'; an
// accessor on a shorter slice panics. The view aliases the caller's bytes and
// is valid as long as they are. Safe for concurrent reads; not for concurrent
// modification of the underlying bytes.
type OrderExecutedWithPrice []byte

// Type returns the message type byte, 'C' for a checked OrderExecutedWithPrice.
func (m OrderExecutedWithPrice) Type() byte { return m[0] }

// Locate returns the Stock Locate code (header offset 1).
func (m OrderExecutedWithPrice) Locate() uint16 { return be16(m, 1) }

// Tracking returns the Nasdaq-internal Tracking Number (header offset 3).
func (m OrderExecutedWithPrice) Tracking() uint16 { return be16(m, 3) }

// Timestamp returns nanoseconds since midnight (6 bytes at header offset 5).
func (m OrderExecutedWithPrice) Timestamp() uint64 { return be48(m, 5) }

// Ref returns the field at offset 11 (u64). Order Reference Number of the resting order.
func (m OrderExecutedWithPrice) Ref() uint64 { return be64(m, 11) }

// Shares returns the field at offset 19 (u32). Executed Shares, to subtract from the order.
func (m OrderExecutedWithPrice) Shares() uint32 { return be32(m, 19) }

// Match returns the field at offset 23 (u64). Match Number of the execution.
func (m OrderExecutedWithPrice) Match() uint64 { return be64(m, 23) }

// Printable returns the field at offset 31 (char). Printable: 'Y' printable, 'N' non-printable
// (counted in a later bulk print).
func (m OrderExecutedWithPrice) Printable() byte { return m[31] }

// ExecPrice returns the field at offset 32 (Price(4)). Execution Price, Price(4); the book
// level to reduce is the order's own price, not this one.
func (m OrderExecutedWithPrice) ExecPrice() uint32 { return be32(m, 32) }

// OrderCancel is a view of an ITCH Order Cancel message: type 'X'
// (TypeOrderCancel), 23 bytes (LenOrderCancel), PROTOCOLS.md §2.4. Fields,
// offsets from the type byte:
//
//	off len field     type
//	  0   1 Type      char 'X'
//	  1   2 Locate    u16
//	  3   2 Tracking  u16
//	  5   6 Timestamp u48
//	 11   8 Ref       u64
//	 19   4 Shares    u32
//
// Convert to OrderCancel only after Check accepted the bytes with type 'X'; an
// accessor on a shorter slice panics. The view aliases the caller's bytes and
// is valid as long as they are. Safe for concurrent reads; not for concurrent
// modification of the underlying bytes.
type OrderCancel []byte

// Type returns the message type byte, 'X' for a checked OrderCancel.
func (m OrderCancel) Type() byte { return m[0] }

// Locate returns the Stock Locate code (header offset 1).
func (m OrderCancel) Locate() uint16 { return be16(m, 1) }

// Tracking returns the Nasdaq-internal Tracking Number (header offset 3).
func (m OrderCancel) Tracking() uint16 { return be16(m, 3) }

// Timestamp returns nanoseconds since midnight (6 bytes at header offset 5).
func (m OrderCancel) Timestamp() uint64 { return be48(m, 5) }

// Ref returns the field at offset 11 (u64). Order Reference Number.
func (m OrderCancel) Ref() uint64 { return be64(m, 11) }

// Shares returns the field at offset 19 (u32). Cancelled Shares, to subtract from the order
// (partial cancel).
func (m OrderCancel) Shares() uint32 { return be32(m, 19) }

// OrderDelete is a view of an ITCH Order Delete message: type 'D'
// (TypeOrderDelete), 19 bytes (LenOrderDelete), PROTOCOLS.md §2.4. Fields,
// offsets from the type byte:
//
//	off len field     type
//	  0   1 Type      char 'D'
//	  1   2 Locate    u16
//	  3   2 Tracking  u16
//	  5   6 Timestamp u48
//	 11   8 Ref       u64
//
// Convert to OrderDelete only after Check accepted the bytes with type 'D'; an
// accessor on a shorter slice panics. The view aliases the caller's bytes and
// is valid as long as they are. Safe for concurrent reads; not for concurrent
// modification of the underlying bytes.
type OrderDelete []byte

// Type returns the message type byte, 'D' for a checked OrderDelete.
func (m OrderDelete) Type() byte { return m[0] }

// Locate returns the Stock Locate code (header offset 1).
func (m OrderDelete) Locate() uint16 { return be16(m, 1) }

// Tracking returns the Nasdaq-internal Tracking Number (header offset 3).
func (m OrderDelete) Tracking() uint16 { return be16(m, 3) }

// Timestamp returns nanoseconds since midnight (6 bytes at header offset 5).
func (m OrderDelete) Timestamp() uint64 { return be48(m, 5) }

// Ref returns the field at offset 11 (u64). Order Reference Number of the order to remove.
func (m OrderDelete) Ref() uint64 { return be64(m, 11) }

// OrderReplace is a view of an ITCH Order Replace message: type 'U'
// (TypeOrderReplace), 35 bytes (LenOrderReplace), PROTOCOLS.md §2.4. Fields,
// offsets from the type byte:
//
//	off len field     type
//	  0   1 Type      char 'U'
//	  1   2 Locate    u16
//	  3   2 Tracking  u16
//	  5   6 Timestamp u48
//	 11   8 OrigRef   u64
//	 19   8 NewRef    u64
//	 27   4 Shares    u32
//	 31   4 Price     Price(4)
//
// Convert to OrderReplace only after Check accepted the bytes with type 'U'; an
// accessor on a shorter slice panics. The view aliases the caller's bytes and
// is valid as long as they are. Safe for concurrent reads; not for concurrent
// modification of the underlying bytes.
type OrderReplace []byte

// Type returns the message type byte, 'U' for a checked OrderReplace.
func (m OrderReplace) Type() byte { return m[0] }

// Locate returns the Stock Locate code (header offset 1).
func (m OrderReplace) Locate() uint16 { return be16(m, 1) }

// Tracking returns the Nasdaq-internal Tracking Number (header offset 3).
func (m OrderReplace) Tracking() uint16 { return be16(m, 3) }

// Timestamp returns nanoseconds since midnight (6 bytes at header offset 5).
func (m OrderReplace) Timestamp() uint64 { return be48(m, 5) }

// OrigRef returns the field at offset 11 (u64). Original Order Reference Number: the order to
// remove; the reference is dead afterwards.
func (m OrderReplace) OrigRef() uint64 { return be64(m, 11) }

// NewRef returns the field at offset 19 (u64). New Order Reference Number: the order to insert
// with the original's side and locate.
func (m OrderReplace) NewRef() uint64 { return be64(m, 19) }

// Shares returns the field at offset 27 (u32). Shares of the new order (new total, not a
// delta).
func (m OrderReplace) Shares() uint32 { return be32(m, 27) }

// Price returns the field at offset 31 (Price(4)). Price of the new order, Price(4).
func (m OrderReplace) Price() uint32 { return be32(m, 31) }

// Trade is a view of an ITCH Trade (non-cross) message: type 'P' (TypeTrade),
// 44 bytes (LenTrade), PROTOCOLS.md §2.5. Fields, offsets from the type byte:
//
//	off len field     type
//	  0   1 Type      char 'P'
//	  1   2 Locate    u16
//	  3   2 Tracking  u16
//	  5   6 Timestamp u48
//	 11   8 Ref       u64
//	 19   1 Side      char
//	 20   4 Shares    u32
//	 24   8 Stock     Alpha(8)
//	 32   4 Price     Price(4)
//	 36   8 Match     u64
//
// Convert to Trade only after Check accepted the bytes with type 'P'; an
// accessor on a shorter slice panics. The view aliases the caller's bytes and
// is valid as long as they are. Safe for concurrent reads; not for concurrent
// modification of the underlying bytes.
type Trade []byte

// Type returns the message type byte, 'P' for a checked Trade.
func (m Trade) Type() byte { return m[0] }

// Locate returns the Stock Locate code (header offset 1).
func (m Trade) Locate() uint16 { return be16(m, 1) }

// Tracking returns the Nasdaq-internal Tracking Number (header offset 3).
func (m Trade) Tracking() uint16 { return be16(m, 3) }

// Timestamp returns nanoseconds since midnight (6 bytes at header offset 5).
func (m Trade) Timestamp() uint64 { return be48(m, 5) }

// Ref returns the field at offset 11 (u64). Order Reference Number of the non-displayed order;
// never in the book.
func (m Trade) Ref() uint64 { return be64(m, 11) }

// Side returns the field at offset 19 (char). Buy/Sell Indicator.
func (m Trade) Side() byte { return m[19] }

// Shares returns the field at offset 20 (u32). Shares executed.
func (m Trade) Shares() uint32 { return be32(m, 20) }

// Stock returns the field at offset 24 (Alpha(8)). Stock symbol, Alpha(8), space-padded. The
// 8-byte slice aliases m (its capacity ends with the field): valid as long as m is.
func (m Trade) Stock() []byte { return m[24:32:32] }

// Price returns the field at offset 32 (Price(4)). Execution price, Price(4).
func (m Trade) Price() uint32 { return be32(m, 32) }

// Match returns the field at offset 36 (u64). Match Number.
func (m Trade) Match() uint64 { return be64(m, 36) }

// CrossTrade is a view of an ITCH Cross Trade message: type 'Q'
// (TypeCrossTrade), 40 bytes (LenCrossTrade), PROTOCOLS.md §2.5. Fields,
// offsets from the type byte:
//
//	off len field      type
//	  0   1 Type       char 'Q'
//	  1   2 Locate     u16
//	  3   2 Tracking   u16
//	  5   6 Timestamp  u48
//	 11   8 Shares     u64
//	 19   8 Stock      Alpha(8)
//	 27   4 CrossPrice Price(4)
//	 31   8 Match      u64
//	 39   1 CrossType  char
//
// Convert to CrossTrade only after Check accepted the bytes with type 'Q'; an
// accessor on a shorter slice panics. The view aliases the caller's bytes and
// is valid as long as they are. Safe for concurrent reads; not for concurrent
// modification of the underlying bytes.
type CrossTrade []byte

// Type returns the message type byte, 'Q' for a checked CrossTrade.
func (m CrossTrade) Type() byte { return m[0] }

// Locate returns the Stock Locate code (header offset 1).
func (m CrossTrade) Locate() uint16 { return be16(m, 1) }

// Tracking returns the Nasdaq-internal Tracking Number (header offset 3).
func (m CrossTrade) Tracking() uint16 { return be16(m, 3) }

// Timestamp returns nanoseconds since midnight (6 bytes at header offset 5).
func (m CrossTrade) Timestamp() uint64 { return be48(m, 5) }

// Shares returns the field at offset 11 (u64). Shares executed in the cross (8 bytes, unlike
// order shares).
func (m CrossTrade) Shares() uint64 { return be64(m, 11) }

// Stock returns the field at offset 19 (Alpha(8)). Stock symbol, Alpha(8), space-padded. The
// 8-byte slice aliases m (its capacity ends with the field): valid as long as m is.
func (m CrossTrade) Stock() []byte { return m[19:27:27] }

// CrossPrice returns the field at offset 27 (Price(4)). Cross Price, Price(4).
func (m CrossTrade) CrossPrice() uint32 { return be32(m, 27) }

// Match returns the field at offset 31 (u64). Match Number.
func (m CrossTrade) Match() uint64 { return be64(m, 31) }

// CrossType returns the field at offset 39 (char). Cross Type ('O' opening, 'C' closing, 'H'
// IPO/halted/paused, ...).
func (m CrossTrade) CrossType() byte { return m[39] }

// BrokenTrade is a view of an ITCH Broken Trade / Order Execution message:
// type 'B' (TypeBrokenTrade), 19 bytes (LenBrokenTrade), PROTOCOLS.md §2.5.
// Fields, offsets from the type byte:
//
//	off len field     type
//	  0   1 Type      char 'B'
//	  1   2 Locate    u16
//	  3   2 Tracking  u16
//	  5   6 Timestamp u48
//	 11   8 Match     u64
//
// Convert to BrokenTrade only after Check accepted the bytes with type 'B'; an
// accessor on a shorter slice panics. The view aliases the caller's bytes and
// is valid as long as they are. Safe for concurrent reads; not for concurrent
// modification of the underlying bytes.
type BrokenTrade []byte

// Type returns the message type byte, 'B' for a checked BrokenTrade.
func (m BrokenTrade) Type() byte { return m[0] }

// Locate returns the Stock Locate code (header offset 1).
func (m BrokenTrade) Locate() uint16 { return be16(m, 1) }

// Tracking returns the Nasdaq-internal Tracking Number (header offset 3).
func (m BrokenTrade) Tracking() uint16 { return be16(m, 3) }

// Timestamp returns nanoseconds since midnight (6 bytes at header offset 5).
func (m BrokenTrade) Timestamp() uint64 { return be48(m, 5) }

// Match returns the field at offset 11 (u64). Match Number of the broken execution.
func (m BrokenTrade) Match() uint64 { return be64(m, 11) }

// NOII is a view of an ITCH Net Order Imbalance Indicator message: type 'I'
// (TypeNOII), 50 bytes (LenNOII), PROTOCOLS.md §2.5. Fields, offsets from the
// type byte:
//
//	off len field              type
//	  0   1 Type               char 'I'
//	  1   2 Locate             u16
//	  3   2 Tracking           u16
//	  5   6 Timestamp          u48
//	 11   8 PairedShares       u64
//	 19   8 ImbalanceShares    u64
//	 27   1 ImbalanceDirection char
//	 28   8 Stock              Alpha(8)
//	 36   4 FarPrice           Price(4)
//	 40   4 NearPrice          Price(4)
//	 44   4 RefPrice           Price(4)
//	 48   1 CrossType          char
//	 49   1 PriceVariation     char
//
// Convert to NOII only after Check accepted the bytes with type 'I'; an
// accessor on a shorter slice panics. The view aliases the caller's bytes and
// is valid as long as they are. Safe for concurrent reads; not for concurrent
// modification of the underlying bytes.
type NOII []byte

// Type returns the message type byte, 'I' for a checked NOII.
func (m NOII) Type() byte { return m[0] }

// Locate returns the Stock Locate code (header offset 1).
func (m NOII) Locate() uint16 { return be16(m, 1) }

// Tracking returns the Nasdaq-internal Tracking Number (header offset 3).
func (m NOII) Tracking() uint16 { return be16(m, 3) }

// Timestamp returns nanoseconds since midnight (6 bytes at header offset 5).
func (m NOII) Timestamp() uint64 { return be48(m, 5) }

// PairedShares returns the field at offset 11 (u64). Paired Shares.
func (m NOII) PairedShares() uint64 { return be64(m, 11) }

// ImbalanceShares returns the field at offset 19 (u64). Imbalance Shares.
func (m NOII) ImbalanceShares() uint64 { return be64(m, 19) }

// ImbalanceDirection returns the field at offset 27 (char). Imbalance Direction ('B' buy, 'S'
// sell, 'N' none, 'O' insufficient orders, ...).
func (m NOII) ImbalanceDirection() byte { return m[27] }

// Stock returns the field at offset 28 (Alpha(8)). Stock symbol, Alpha(8), space-padded. The
// 8-byte slice aliases m (its capacity ends with the field): valid as long as m is.
func (m NOII) Stock() []byte { return m[28:36:36] }

// FarPrice returns the field at offset 36 (Price(4)). Far Price, Price(4).
func (m NOII) FarPrice() uint32 { return be32(m, 36) }

// NearPrice returns the field at offset 40 (Price(4)). Near Price, Price(4).
func (m NOII) NearPrice() uint32 { return be32(m, 40) }

// RefPrice returns the field at offset 44 (Price(4)). Current Reference Price, Price(4).
func (m NOII) RefPrice() uint32 { return be32(m, 44) }

// CrossType returns the field at offset 48 (char). Cross Type ('O' opening, 'C' closing, 'H'
// IPO/halted/paused, ...).
func (m NOII) CrossType() byte { return m[48] }

// PriceVariation returns the field at offset 49 (char). Price Variation Indicator ('L' under
// 1%, '1'..'9', 'A', 'B', 'C', space n/a).
func (m NOII) PriceVariation() byte { return m[49] }

// RPII is a view of an ITCH Retail Price Improvement Indicator message: type
// 'N' (TypeRPII), 20 bytes (LenRPII), PROTOCOLS.md §2.5. Fields, offsets from
// the type byte:
//
//	off len field        type
//	  0   1 Type         char 'N'
//	  1   2 Locate       u16
//	  3   2 Tracking     u16
//	  5   6 Timestamp    u48
//	 11   8 Stock        Alpha(8)
//	 19   1 InterestFlag char
//
// Convert to RPII only after Check accepted the bytes with type 'N'; an
// accessor on a shorter slice panics. The view aliases the caller's bytes and
// is valid as long as they are. Safe for concurrent reads; not for concurrent
// modification of the underlying bytes.
type RPII []byte

// Type returns the message type byte, 'N' for a checked RPII.
func (m RPII) Type() byte { return m[0] }

// Locate returns the Stock Locate code (header offset 1).
func (m RPII) Locate() uint16 { return be16(m, 1) }

// Tracking returns the Nasdaq-internal Tracking Number (header offset 3).
func (m RPII) Tracking() uint16 { return be16(m, 3) }

// Timestamp returns nanoseconds since midnight (6 bytes at header offset 5).
func (m RPII) Timestamp() uint64 { return be48(m, 5) }

// Stock returns the field at offset 11 (Alpha(8)). Stock symbol, Alpha(8), space-padded. The
// 8-byte slice aliases m (its capacity ends with the field): valid as long as m is.
func (m RPII) Stock() []byte { return m[11:19:19] }

// InterestFlag returns the field at offset 19 (char). Interest Flag: 'B' buy side, 'S' sell
// side, 'A' both sides, 'N' none.
func (m RPII) InterestFlag() byte { return m[19] }

// DLCRPriceDiscovery is a view of an ITCH Direct Listing with Capital Raise
// Price Discovery message: type 'O' (TypeDLCRPriceDiscovery), 48 bytes
// (LenDLCRPriceDiscovery), PROTOCOLS.md §2.5. Fields, offsets from the type
// byte:
//
//	off len field           type
//	  0   1 Type            char 'O'
//	  1   2 Locate          u16
//	  3   2 Tracking        u16
//	  5   6 Timestamp       u48
//	 11   8 Stock           Alpha(8)
//	 19   1 OpenEligibility char
//	 20   4 MinAllowedPrice Price(4)
//	 24   4 MaxAllowedPrice Price(4)
//	 28   4 NearExecPrice   Price(4)
//	 32   8 NearExecTime    u64
//	 40   4 LowerCollar     Price(4)
//	 44   4 UpperCollar     Price(4)
//
// Convert to DLCRPriceDiscovery only after Check accepted the bytes with type 'O'; an
// accessor on a shorter slice panics. The view aliases the caller's bytes and
// is valid as long as they are. Safe for concurrent reads; not for concurrent
// modification of the underlying bytes.
type DLCRPriceDiscovery []byte

// Type returns the message type byte, 'O' for a checked DLCRPriceDiscovery.
func (m DLCRPriceDiscovery) Type() byte { return m[0] }

// Locate returns the Stock Locate code (header offset 1).
func (m DLCRPriceDiscovery) Locate() uint16 { return be16(m, 1) }

// Tracking returns the Nasdaq-internal Tracking Number (header offset 3).
func (m DLCRPriceDiscovery) Tracking() uint16 { return be16(m, 3) }

// Timestamp returns nanoseconds since midnight (6 bytes at header offset 5).
func (m DLCRPriceDiscovery) Timestamp() uint64 { return be48(m, 5) }

// Stock returns the field at offset 11 (Alpha(8)). Stock symbol, Alpha(8), space-padded. The
// 8-byte slice aliases m (its capacity ends with the field): valid as long as m is.
func (m DLCRPriceDiscovery) Stock() []byte { return m[11:19:19] }

// OpenEligibility returns the field at offset 19 (char). Open Eligibility Status: 'N' not
// eligible, 'Y' eligible.
func (m DLCRPriceDiscovery) OpenEligibility() byte { return m[19] }

// MinAllowedPrice returns the field at offset 20 (Price(4)). Minimum Allowable Price,
// Price(4).
func (m DLCRPriceDiscovery) MinAllowedPrice() uint32 { return be32(m, 20) }

// MaxAllowedPrice returns the field at offset 24 (Price(4)). Maximum Allowable Price,
// Price(4).
func (m DLCRPriceDiscovery) MaxAllowedPrice() uint32 { return be32(m, 24) }

// NearExecPrice returns the field at offset 28 (Price(4)). Near Execution Price, Price(4).
func (m DLCRPriceDiscovery) NearExecPrice() uint32 { return be32(m, 28) }

// NearExecTime returns the field at offset 32 (u64). Near Execution Time: nanoseconds since
// midnight when the near price was set.
func (m DLCRPriceDiscovery) NearExecTime() uint64 { return be64(m, 32) }

// LowerCollar returns the field at offset 40 (Price(4)). Lower Price Range Collar, Price(4).
func (m DLCRPriceDiscovery) LowerCollar() uint32 { return be32(m, 40) }

// UpperCollar returns the field at offset 44 (Price(4)). Upper Price Range Collar, Price(4).
func (m DLCRPriceDiscovery) UpperCollar() uint32 { return be32(m, 44) }
