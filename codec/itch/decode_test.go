package itch

// appender is implemented by every <View>Msg encoder.
type appender interface{ Append(dst []byte) []byte }

// header is the method set every view shares with Message.
type header interface {
	Type() byte
	Locate() uint16
	Tracking() uint16
	Timestamp() uint64
}

// checkHeader panics if the header methods of view v disagree with those of
// Message(m).
func checkHeader(v header, m []byte) {
	g := Message(m)
	if v.Type() != g.Type() || v.Locate() != g.Locate() || v.Tracking() != g.Tracking() || v.Timestamp() != g.Timestamp() {
		panic("itch: view header differs from Message header")
	}
}

// decode converts a checked message to the encoder struct of its type by
// calling every accessor of its view, so that re-encoding the result must give
// back the same bytes. It returns nil for an unknown type.
func decode(m []byte) appender {
	switch m[0] {
	case TypeSystemEvent:
		v := SystemEvent(m)
		checkHeader(v, m)
		return &SystemEventMsg{
			Header:    Header{Locate: v.Locate(), Tracking: v.Tracking(), Timestamp: v.Timestamp()},
			EventCode: v.EventCode(),
		}
	case TypeStockDirectory:
		v := StockDirectory(m)
		checkHeader(v, m)
		return &StockDirectoryMsg{
			Header:              Header{Locate: v.Locate(), Tracking: v.Tracking(), Timestamp: v.Timestamp()},
			Stock:               [8]byte(v.Stock()),
			MarketCategory:      v.MarketCategory(),
			FinancialStatus:     v.FinancialStatus(),
			RoundLotSize:        v.RoundLotSize(),
			RoundLotsOnly:       v.RoundLotsOnly(),
			IssueClassification: v.IssueClassification(),
			IssueSubType:        [2]byte(v.IssueSubType()),
			Authenticity:        v.Authenticity(),
			ShortSaleThreshold:  v.ShortSaleThreshold(),
			IPOFlag:             v.IPOFlag(),
			LULDRefPriceTier:    v.LULDRefPriceTier(),
			ETPFlag:             v.ETPFlag(),
			ETPLeverageFactor:   v.ETPLeverageFactor(),
			InverseIndicator:    v.InverseIndicator(),
		}
	case TypeStockTradingAction:
		v := StockTradingAction(m)
		checkHeader(v, m)
		return &StockTradingActionMsg{
			Header:       Header{Locate: v.Locate(), Tracking: v.Tracking(), Timestamp: v.Timestamp()},
			Stock:        [8]byte(v.Stock()),
			TradingState: v.TradingState(),
			Reserved:     v.Reserved(),
			Reason:       [4]byte(v.Reason()),
		}
	case TypeRegSHORestriction:
		v := RegSHORestriction(m)
		checkHeader(v, m)
		return &RegSHORestrictionMsg{
			Header:       Header{Locate: v.Locate(), Tracking: v.Tracking(), Timestamp: v.Timestamp()},
			Stock:        [8]byte(v.Stock()),
			RegSHOAction: v.RegSHOAction(),
		}
	case TypeMarketParticipantPosition:
		v := MarketParticipantPosition(m)
		checkHeader(v, m)
		return &MarketParticipantPositionMsg{
			Header:             Header{Locate: v.Locate(), Tracking: v.Tracking(), Timestamp: v.Timestamp()},
			MPID:               [4]byte(v.MPID()),
			Stock:              [8]byte(v.Stock()),
			PrimaryMarketMaker: v.PrimaryMarketMaker(),
			MarketMakerMode:    v.MarketMakerMode(),
			ParticipantState:   v.ParticipantState(),
		}
	case TypeMWCBDeclineLevel:
		v := MWCBDeclineLevel(m)
		checkHeader(v, m)
		return &MWCBDeclineLevelMsg{
			Header: Header{Locate: v.Locate(), Tracking: v.Tracking(), Timestamp: v.Timestamp()},
			Level1: v.Level1(),
			Level2: v.Level2(),
			Level3: v.Level3(),
		}
	case TypeMWCBStatus:
		v := MWCBStatus(m)
		checkHeader(v, m)
		return &MWCBStatusMsg{
			Header:        Header{Locate: v.Locate(), Tracking: v.Tracking(), Timestamp: v.Timestamp()},
			BreachedLevel: v.BreachedLevel(),
		}
	case TypeIPOQuotingPeriodUpdate:
		v := IPOQuotingPeriodUpdate(m)
		checkHeader(v, m)
		return &IPOQuotingPeriodUpdateMsg{
			Header:           Header{Locate: v.Locate(), Tracking: v.Tracking(), Timestamp: v.Timestamp()},
			Stock:            [8]byte(v.Stock()),
			ReleaseTime:      v.ReleaseTime(),
			ReleaseQualifier: v.ReleaseQualifier(),
			IPOPrice:         v.IPOPrice(),
		}
	case TypeLULDAuctionCollar:
		v := LULDAuctionCollar(m)
		checkHeader(v, m)
		return &LULDAuctionCollarMsg{
			Header:           Header{Locate: v.Locate(), Tracking: v.Tracking(), Timestamp: v.Timestamp()},
			Stock:            [8]byte(v.Stock()),
			CollarRefPrice:   v.CollarRefPrice(),
			UpperCollarPrice: v.UpperCollarPrice(),
			LowerCollarPrice: v.LowerCollarPrice(),
			CollarExtension:  v.CollarExtension(),
		}
	case TypeOperationalHalt:
		v := OperationalHalt(m)
		checkHeader(v, m)
		return &OperationalHaltMsg{
			Header:     Header{Locate: v.Locate(), Tracking: v.Tracking(), Timestamp: v.Timestamp()},
			Stock:      [8]byte(v.Stock()),
			MarketCode: v.MarketCode(),
			HaltAction: v.HaltAction(),
		}
	case TypeAddOrder:
		v := AddOrder(m)
		checkHeader(v, m)
		return &AddOrderMsg{
			Header: Header{Locate: v.Locate(), Tracking: v.Tracking(), Timestamp: v.Timestamp()},
			Ref:    v.Ref(),
			Side:   v.Side(),
			Shares: v.Shares(),
			Stock:  [8]byte(v.Stock()),
			Price:  v.Price(),
		}
	case TypeAddOrderMPID:
		v := AddOrderMPID(m)
		checkHeader(v, m)
		return &AddOrderMPIDMsg{
			Header:      Header{Locate: v.Locate(), Tracking: v.Tracking(), Timestamp: v.Timestamp()},
			Ref:         v.Ref(),
			Side:        v.Side(),
			Shares:      v.Shares(),
			Stock:       [8]byte(v.Stock()),
			Price:       v.Price(),
			Attribution: [4]byte(v.Attribution()),
		}
	case TypeOrderExecuted:
		v := OrderExecuted(m)
		checkHeader(v, m)
		return &OrderExecutedMsg{
			Header: Header{Locate: v.Locate(), Tracking: v.Tracking(), Timestamp: v.Timestamp()},
			Ref:    v.Ref(),
			Shares: v.Shares(),
			Match:  v.Match(),
		}
	case TypeOrderExecutedWithPrice:
		v := OrderExecutedWithPrice(m)
		checkHeader(v, m)
		return &OrderExecutedWithPriceMsg{
			Header:    Header{Locate: v.Locate(), Tracking: v.Tracking(), Timestamp: v.Timestamp()},
			Ref:       v.Ref(),
			Shares:    v.Shares(),
			Match:     v.Match(),
			Printable: v.Printable(),
			ExecPrice: v.ExecPrice(),
		}
	case TypeOrderCancel:
		v := OrderCancel(m)
		checkHeader(v, m)
		return &OrderCancelMsg{
			Header: Header{Locate: v.Locate(), Tracking: v.Tracking(), Timestamp: v.Timestamp()},
			Ref:    v.Ref(),
			Shares: v.Shares(),
		}
	case TypeOrderDelete:
		v := OrderDelete(m)
		checkHeader(v, m)
		return &OrderDeleteMsg{
			Header: Header{Locate: v.Locate(), Tracking: v.Tracking(), Timestamp: v.Timestamp()},
			Ref:    v.Ref(),
		}
	case TypeOrderReplace:
		v := OrderReplace(m)
		checkHeader(v, m)
		return &OrderReplaceMsg{
			Header:  Header{Locate: v.Locate(), Tracking: v.Tracking(), Timestamp: v.Timestamp()},
			OrigRef: v.OrigRef(),
			NewRef:  v.NewRef(),
			Shares:  v.Shares(),
			Price:   v.Price(),
		}
	case TypeTrade:
		v := Trade(m)
		checkHeader(v, m)
		return &TradeMsg{
			Header: Header{Locate: v.Locate(), Tracking: v.Tracking(), Timestamp: v.Timestamp()},
			Ref:    v.Ref(),
			Side:   v.Side(),
			Shares: v.Shares(),
			Stock:  [8]byte(v.Stock()),
			Price:  v.Price(),
			Match:  v.Match(),
		}
	case TypeCrossTrade:
		v := CrossTrade(m)
		checkHeader(v, m)
		return &CrossTradeMsg{
			Header:     Header{Locate: v.Locate(), Tracking: v.Tracking(), Timestamp: v.Timestamp()},
			Shares:     v.Shares(),
			Stock:      [8]byte(v.Stock()),
			CrossPrice: v.CrossPrice(),
			Match:      v.Match(),
			CrossType:  v.CrossType(),
		}
	case TypeBrokenTrade:
		v := BrokenTrade(m)
		checkHeader(v, m)
		return &BrokenTradeMsg{
			Header: Header{Locate: v.Locate(), Tracking: v.Tracking(), Timestamp: v.Timestamp()},
			Match:  v.Match(),
		}
	case TypeNOII:
		v := NOII(m)
		checkHeader(v, m)
		return &NOIIMsg{
			Header:             Header{Locate: v.Locate(), Tracking: v.Tracking(), Timestamp: v.Timestamp()},
			PairedShares:       v.PairedShares(),
			ImbalanceShares:    v.ImbalanceShares(),
			ImbalanceDirection: v.ImbalanceDirection(),
			Stock:              [8]byte(v.Stock()),
			FarPrice:           v.FarPrice(),
			NearPrice:          v.NearPrice(),
			RefPrice:           v.RefPrice(),
			CrossType:          v.CrossType(),
			PriceVariation:     v.PriceVariation(),
		}
	case TypeRPII:
		v := RPII(m)
		checkHeader(v, m)
		return &RPIIMsg{
			Header:       Header{Locate: v.Locate(), Tracking: v.Tracking(), Timestamp: v.Timestamp()},
			Stock:        [8]byte(v.Stock()),
			InterestFlag: v.InterestFlag(),
		}
	case TypeDLCRPriceDiscovery:
		v := DLCRPriceDiscovery(m)
		checkHeader(v, m)
		return &DLCRPriceDiscoveryMsg{
			Header:          Header{Locate: v.Locate(), Tracking: v.Tracking(), Timestamp: v.Timestamp()},
			Stock:           [8]byte(v.Stock()),
			OpenEligibility: v.OpenEligibility(),
			MinAllowedPrice: v.MinAllowedPrice(),
			MaxAllowedPrice: v.MaxAllowedPrice(),
			NearExecPrice:   v.NearExecPrice(),
			NearExecTime:    v.NearExecTime(),
			LowerCollar:     v.LowerCollar(),
			UpperCollar:     v.UpperCollar(),
		}
	}
	return nil
}

// sumFields reads every field of the view of m's type, header included, and
// folds them into one number; it must not allocate. It returns 0 for an
// unknown type.
func sumFields(m []byte) uint64 {
	switch m[0] {
	case TypeSystemEvent:
		v := SystemEvent(m)
		s := uint64(v.Type()) + uint64(v.Locate()) + uint64(v.Tracking()) + v.Timestamp()
		s += uint64(v.EventCode())
		return s
	case TypeStockDirectory:
		v := StockDirectory(m)
		s := uint64(v.Type()) + uint64(v.Locate()) + uint64(v.Tracking()) + v.Timestamp()
		s += sumAlpha(v.Stock())
		s += uint64(v.MarketCategory())
		s += uint64(v.FinancialStatus())
		s += uint64(v.RoundLotSize())
		s += uint64(v.RoundLotsOnly())
		s += uint64(v.IssueClassification())
		s += sumAlpha(v.IssueSubType())
		s += uint64(v.Authenticity())
		s += uint64(v.ShortSaleThreshold())
		s += uint64(v.IPOFlag())
		s += uint64(v.LULDRefPriceTier())
		s += uint64(v.ETPFlag())
		s += uint64(v.ETPLeverageFactor())
		s += uint64(v.InverseIndicator())
		return s
	case TypeStockTradingAction:
		v := StockTradingAction(m)
		s := uint64(v.Type()) + uint64(v.Locate()) + uint64(v.Tracking()) + v.Timestamp()
		s += sumAlpha(v.Stock())
		s += uint64(v.TradingState())
		s += uint64(v.Reserved())
		s += sumAlpha(v.Reason())
		return s
	case TypeRegSHORestriction:
		v := RegSHORestriction(m)
		s := uint64(v.Type()) + uint64(v.Locate()) + uint64(v.Tracking()) + v.Timestamp()
		s += sumAlpha(v.Stock())
		s += uint64(v.RegSHOAction())
		return s
	case TypeMarketParticipantPosition:
		v := MarketParticipantPosition(m)
		s := uint64(v.Type()) + uint64(v.Locate()) + uint64(v.Tracking()) + v.Timestamp()
		s += sumAlpha(v.MPID())
		s += sumAlpha(v.Stock())
		s += uint64(v.PrimaryMarketMaker())
		s += uint64(v.MarketMakerMode())
		s += uint64(v.ParticipantState())
		return s
	case TypeMWCBDeclineLevel:
		v := MWCBDeclineLevel(m)
		s := uint64(v.Type()) + uint64(v.Locate()) + uint64(v.Tracking()) + v.Timestamp()
		s += v.Level1()
		s += v.Level2()
		s += v.Level3()
		return s
	case TypeMWCBStatus:
		v := MWCBStatus(m)
		s := uint64(v.Type()) + uint64(v.Locate()) + uint64(v.Tracking()) + v.Timestamp()
		s += uint64(v.BreachedLevel())
		return s
	case TypeIPOQuotingPeriodUpdate:
		v := IPOQuotingPeriodUpdate(m)
		s := uint64(v.Type()) + uint64(v.Locate()) + uint64(v.Tracking()) + v.Timestamp()
		s += sumAlpha(v.Stock())
		s += uint64(v.ReleaseTime())
		s += uint64(v.ReleaseQualifier())
		s += uint64(v.IPOPrice())
		return s
	case TypeLULDAuctionCollar:
		v := LULDAuctionCollar(m)
		s := uint64(v.Type()) + uint64(v.Locate()) + uint64(v.Tracking()) + v.Timestamp()
		s += sumAlpha(v.Stock())
		s += uint64(v.CollarRefPrice())
		s += uint64(v.UpperCollarPrice())
		s += uint64(v.LowerCollarPrice())
		s += uint64(v.CollarExtension())
		return s
	case TypeOperationalHalt:
		v := OperationalHalt(m)
		s := uint64(v.Type()) + uint64(v.Locate()) + uint64(v.Tracking()) + v.Timestamp()
		s += sumAlpha(v.Stock())
		s += uint64(v.MarketCode())
		s += uint64(v.HaltAction())
		return s
	case TypeAddOrder:
		v := AddOrder(m)
		s := uint64(v.Type()) + uint64(v.Locate()) + uint64(v.Tracking()) + v.Timestamp()
		s += v.Ref()
		s += uint64(v.Side())
		s += uint64(v.Shares())
		s += sumAlpha(v.Stock())
		s += uint64(v.Price())
		return s
	case TypeAddOrderMPID:
		v := AddOrderMPID(m)
		s := uint64(v.Type()) + uint64(v.Locate()) + uint64(v.Tracking()) + v.Timestamp()
		s += v.Ref()
		s += uint64(v.Side())
		s += uint64(v.Shares())
		s += sumAlpha(v.Stock())
		s += uint64(v.Price())
		s += sumAlpha(v.Attribution())
		return s
	case TypeOrderExecuted:
		v := OrderExecuted(m)
		s := uint64(v.Type()) + uint64(v.Locate()) + uint64(v.Tracking()) + v.Timestamp()
		s += v.Ref()
		s += uint64(v.Shares())
		s += v.Match()
		return s
	case TypeOrderExecutedWithPrice:
		v := OrderExecutedWithPrice(m)
		s := uint64(v.Type()) + uint64(v.Locate()) + uint64(v.Tracking()) + v.Timestamp()
		s += v.Ref()
		s += uint64(v.Shares())
		s += v.Match()
		s += uint64(v.Printable())
		s += uint64(v.ExecPrice())
		return s
	case TypeOrderCancel:
		v := OrderCancel(m)
		s := uint64(v.Type()) + uint64(v.Locate()) + uint64(v.Tracking()) + v.Timestamp()
		s += v.Ref()
		s += uint64(v.Shares())
		return s
	case TypeOrderDelete:
		v := OrderDelete(m)
		s := uint64(v.Type()) + uint64(v.Locate()) + uint64(v.Tracking()) + v.Timestamp()
		s += v.Ref()
		return s
	case TypeOrderReplace:
		v := OrderReplace(m)
		s := uint64(v.Type()) + uint64(v.Locate()) + uint64(v.Tracking()) + v.Timestamp()
		s += v.OrigRef()
		s += v.NewRef()
		s += uint64(v.Shares())
		s += uint64(v.Price())
		return s
	case TypeTrade:
		v := Trade(m)
		s := uint64(v.Type()) + uint64(v.Locate()) + uint64(v.Tracking()) + v.Timestamp()
		s += v.Ref()
		s += uint64(v.Side())
		s += uint64(v.Shares())
		s += sumAlpha(v.Stock())
		s += uint64(v.Price())
		s += v.Match()
		return s
	case TypeCrossTrade:
		v := CrossTrade(m)
		s := uint64(v.Type()) + uint64(v.Locate()) + uint64(v.Tracking()) + v.Timestamp()
		s += v.Shares()
		s += sumAlpha(v.Stock())
		s += uint64(v.CrossPrice())
		s += v.Match()
		s += uint64(v.CrossType())
		return s
	case TypeBrokenTrade:
		v := BrokenTrade(m)
		s := uint64(v.Type()) + uint64(v.Locate()) + uint64(v.Tracking()) + v.Timestamp()
		s += v.Match()
		return s
	case TypeNOII:
		v := NOII(m)
		s := uint64(v.Type()) + uint64(v.Locate()) + uint64(v.Tracking()) + v.Timestamp()
		s += v.PairedShares()
		s += v.ImbalanceShares()
		s += uint64(v.ImbalanceDirection())
		s += sumAlpha(v.Stock())
		s += uint64(v.FarPrice())
		s += uint64(v.NearPrice())
		s += uint64(v.RefPrice())
		s += uint64(v.CrossType())
		s += uint64(v.PriceVariation())
		return s
	case TypeRPII:
		v := RPII(m)
		s := uint64(v.Type()) + uint64(v.Locate()) + uint64(v.Tracking()) + v.Timestamp()
		s += sumAlpha(v.Stock())
		s += uint64(v.InterestFlag())
		return s
	case TypeDLCRPriceDiscovery:
		v := DLCRPriceDiscovery(m)
		s := uint64(v.Type()) + uint64(v.Locate()) + uint64(v.Tracking()) + v.Timestamp()
		s += sumAlpha(v.Stock())
		s += uint64(v.OpenEligibility())
		s += uint64(v.MinAllowedPrice())
		s += uint64(v.MaxAllowedPrice())
		s += uint64(v.NearExecPrice())
		s += v.NearExecTime()
		s += uint64(v.LowerCollar())
		s += uint64(v.UpperCollar())
		return s
	}
	return 0
}

func sumAlpha(b []byte) uint64 {
	var s uint64
	for _, c := range b {
		s = s*31 + uint64(c)
	}
	return s
}
