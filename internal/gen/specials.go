package gen

import (
	"github.com/tickwire/tickwire/codec/itch"
)

// reasonFor returns the Trading Action reason code for a state change.
func reasonFor(state byte, ipo bool) [4]byte {
	switch {
	case state == 'H' && ipo:
		return itch.Alpha4("IPO1")
	case state == 'Q':
		return itch.Alpha4("IPOQ")
	case state == 'P':
		return itch.Alpha4("LUDP")
	case state == 'H':
		return itch.Alpha4("T1")
	}
	return itch.Alpha4("")
}

// special emits the messages of one scheduled event (exactly s.count()).
func (m *market) special(s special, p *plan) error {
	ts := s.t
	switch s.kind {
	case spSystem:
		msg := itch.SystemEventMsg{Header: itch.Header{Timestamp: ts}, EventCode: byte(s.arg)}
		return m.out(ts, msg.Append(m.msg[:0]))
	case spDirectory:
		return m.directory(ts, s.inst, p)
	case spTradingAction:
		in := &m.insts[s.inst]
		state := byte(s.arg)
		if state == 0 { // start of day
			state = 'T'
			if s.inst == p.ipo {
				state = 'H'
			}
		}
		in.state = state
		msg := itch.StockTradingActionMsg{Header: m.header(in, ts), Stock: in.stock, TradingState: state, Reserved: ' ',
			Reason: reasonFor(state, s.inst == p.ipo)}
		return m.out(ts, msg.Append(m.msg[:0]))
	case spRegSHO:
		in := &m.insts[s.inst]
		msg := itch.RegSHORestrictionMsg{Header: m.header(in, ts), Stock: in.stock, RegSHOAction: byte(s.arg)}
		return m.out(ts, msg.Append(m.msg[:0]))
	case spPosition:
		return m.position(ts, s.inst, s.arg)
	case spMWCBLevel:
		msg := itch.MWCBDeclineLevelMsg{Header: itch.Header{Timestamp: ts},
			Level1: 6_212_37 * 1_000_000, Level2: 5_794_60 * 1_000_000, Level3: 5_333_21 * 1_000_000}
		return m.out(ts, msg.Append(m.msg[:0]))
	case spMWCBStatus:
		msg := itch.MWCBStatusMsg{Header: itch.Header{Timestamp: ts}, BreachedLevel: byte(s.arg)}
		return m.out(ts, msg.Append(m.msg[:0]))
	case spIPOUpdate:
		in := &m.insts[s.inst]
		msg := itch.IPOQuotingPeriodUpdateMsg{Header: m.header(in, ts), Stock: in.stock,
			ReleaseTime: uint32(hms(11, 0, 0) / 1e9), ReleaseQualifier: 'A', IPOPrice: uint32(in.mid)}
		return m.out(ts, msg.Append(m.msg[:0]))
	case spCollar:
		in := &m.insts[s.inst]
		ref := in.mid
		band := max(ref/20/in.tick*in.tick, in.tick) // 5%
		msg := itch.LULDAuctionCollarMsg{Header: m.header(in, ts), Stock: in.stock, CollarRefPrice: uint32(ref),
			UpperCollarPrice: uint32(ref + band), LowerCollarPrice: uint32(max(ref-band, in.tick)), CollarExtension: uint32(s.arg)}
		return m.out(ts, msg.Append(m.msg[:0]))
	case spOpHalt:
		in := &m.insts[s.inst]
		in.opHalt = s.arg == 'H'
		msg := itch.OperationalHaltMsg{Header: m.header(in, ts), Stock: in.stock, MarketCode: 'Q', HaltAction: byte(s.arg)}
		return m.out(ts, msg.Append(m.msg[:0]))
	case spNOII:
		return m.noii(ts, s.inst, byte(s.arg))
	case spCross:
		return m.cross(ts, s.inst, byte(s.arg))
	case spDLCR:
		in := &m.insts[s.inst]
		ref := in.mid
		band := max(ref/10/in.tick*in.tick, in.tick)
		elig := byte('N')
		if s.arg == 2 {
			elig = 'Y'
		}
		msg := itch.DLCRPriceDiscoveryMsg{Header: m.header(in, ts), Stock: in.stock, OpenEligibility: elig,
			MinAllowedPrice: uint32(max(ref-2*band, in.tick)), MaxAllowedPrice: uint32(ref + 2*band),
			NearExecPrice: uint32(ref), NearExecTime: ts - uint64(m.r.intn(ms)),
			LowerCollar: uint32(max(ref-band, in.tick)), UpperCollar: uint32(ref + band)}
		return m.out(ts, msg.Append(m.msg[:0]))
	case spRPII:
		return m.rpii(ts, s.inst)
	case spBroken:
		return m.broken(ts, s.inst)
	}
	return nil
}

func (m *market) directory(ts uint64, i int, p *plan) error {
	in := &m.insts[i]
	sp := in.spec
	msg := itch.StockDirectoryMsg{Header: m.header(in, ts), Stock: in.stock, MarketCategory: 'Q', FinancialStatus: 'N',
		RoundLotSize: 100, RoundLotsOnly: 'N', IssueClassification: 'C', IssueSubType: [2]byte{'Z', ' '},
		Authenticity: 'P', ShortSaleThreshold: 'N', IPOFlag: 'N', LULDRefPriceTier: '2', ETPFlag: 'N',
		ETPLeverageFactor: 0, InverseIndicator: 'N'}
	if sp.rank < 100 {
		msg.LULDRefPriceTier = '1'
	}
	switch {
	case sp.rank%17 == 3:
		msg.MarketCategory = 'G'
	case sp.rank%17 == 5:
		msg.MarketCategory = 'S'
	case sp.rank%17 == 7:
		msg.MarketCategory, msg.FinancialStatus = 'N', ' '
	case sp.rank%17 == 11:
		msg.MarketCategory, msg.FinancialStatus = 'P', ' '
	}
	switch sp.kind {
	case 1, 2, 3:
		msg.IssueClassification, msg.IssueSubType, msg.ETPFlag, msg.ETPLeverageFactor = 'I', [2]byte{'E', ' '}, 'Y', 1
		if sp.kind >= 2 {
			msg.ETPLeverageFactor = 3
		}
		if sp.kind == 3 {
			msg.InverseIndicator = 'Y'
		}
	case 4:
		msg.IssueClassification, msg.IssueSubType = 'A', [2]byte{'A', ' '}
	case 5:
		msg.Authenticity = 'T'
	}
	if i == p.ipo {
		msg.IPOFlag = 'Y'
	}
	return m.out(ts, msg.Append(m.msg[:0]))
}

// noii emits a Net Order Imbalance Indicator around the reference price.
func (m *market) noii(ts uint64, i int, crossType byte) error {
	in := &m.insts[i]
	ref := in.mid
	dir := "BSNO"[m.r.intn(4)]
	imb := uint64(0)
	if dir == 'B' || dir == 'S' {
		imb = uint64(m.lot()) * uint64(m.r.between(1, 20))
	}
	off := int64(m.r.between(0, 5)) * in.tick
	msg := itch.NOIIMsg{Header: m.header(in, ts), PairedShares: uint64(m.lot()) * uint64(m.r.between(10, 500)),
		ImbalanceShares: imb, ImbalanceDirection: dir, Stock: in.stock,
		FarPrice: uint32(ref + off), NearPrice: uint32(ref), RefPrice: uint32(max(ref-off, in.tick)),
		CrossType: crossType, PriceVariation: "L12A "[m.r.intn(5)]}
	return m.out(ts, msg.Append(m.msg[:0]))
}

// cross emits a cross: the non-printable executions of the front orders of
// both sides at the cross price (an I when a side is empty), then the Q.
func (m *market) cross(ts uint64, i int, crossType byte) error {
	in := &m.insts[i]
	price := uint32(in.mid)
	var volume uint64
	for k := range 2 {
		t := ts + uint64(k)*50
		s := &in.sides[k]
		if !s.has {
			if err := m.noii(t, i, crossType); err != nil {
				return err
			}
			continue
		}
		o := m.front(s)
		n := m.orders[o].shares
		ref := m.orders[o].ref
		m.reduce(o, n)
		m.executed += uint64(n)
		volume += uint64(n)
		msg := itch.OrderExecutedWithPriceMsg{Header: m.header(in, t), Ref: ref, Shares: n, Match: m.newMatch(),
			Printable: 'N', ExecPrice: price}
		if err := m.out(t, msg.Append(m.msg[:0])); err != nil {
			return err
		}
	}
	volume += uint64(m.lot()) * uint64(m.r.between(1, 50))
	t := ts + 100
	msg := itch.CrossTradeMsg{Header: m.header(in, t), Shares: volume, Stock: in.stock, CrossPrice: price,
		Match: m.newMatch(), CrossType: crossType}
	return m.out(t, msg.Append(m.msg[:0]))
}
