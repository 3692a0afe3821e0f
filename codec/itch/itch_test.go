package itch

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tickwire/tickwire/internal/invariants"
)

// unhex decodes hex digits, ignoring spaces (used to separate fields).
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad test hex %q: %v", s, err)
	}
	return b
}

var (
	// h1 encodes as 0102 0304 05060708090a: every header byte distinct.
	h1 = Header{Locate: 0x0102, Tracking: 0x0304, Timestamp: 0x05060708090a}
	// h0 is a market-wide header (locate 0): 0000 0304 05060708090a.
	h0 = Header{Locate: 0, Tracking: 0x0304, Timestamp: 0x05060708090a}
	// h930 is 09:30:00 on locate 1: 0001 0002 1f1aced9f000.
	h930 = Header{Locate: 1, Tracking: 2, Timestamp: 34_200_000_000_000}
)

// roundTrips holds one message of every type with its wire bytes written by
// hand from PROTOCOLS.md §2 (fields separated by spaces, header first).
var roundTrips = []struct {
	name string
	msg  appender
	hex  string
}{
	{"S", &SystemEventMsg{Header: h0, EventCode: EventStartOfMessages},
		"53 0000 0304 05060708090a 4f"},
	{"R", &StockDirectoryMsg{Header: h1, Stock: Alpha8("AAPL"), MarketCategory: 'Q', FinancialStatus: 'N',
		RoundLotSize: 100, RoundLotsOnly: 'N', IssueClassification: 'C', IssueSubType: [2]byte{'Z', ' '},
		Authenticity: 'P', ShortSaleThreshold: 'N', IPOFlag: ' ', LULDRefPriceTier: '1', ETPFlag: 'N',
		ETPLeverageFactor: 3, InverseIndicator: 'Y'},
		"52 0102 0304 05060708090a 4141504c20202020 51 4e 00000064 4e 43 5a20 50 4e 20 31 4e 00000003 59"},
	{"H", &StockTradingActionMsg{Header: h1, Stock: Alpha8("MSFT"), TradingState: 'T', Reserved: 0,
		Reason: Alpha4("LUDP")},
		"48 0102 0304 05060708090a 4d53465420202020 54 00 4c554450"},
	{"Y", &RegSHORestrictionMsg{Header: h1, Stock: Alpha8("TSLA"), RegSHOAction: '1'},
		"59 0102 0304 05060708090a 54534c4120202020 31"},
	{"L", &MarketParticipantPositionMsg{Header: h1, MPID: Alpha4("GSCO"), Stock: Alpha8("AAPL"),
		PrimaryMarketMaker: 'Y', MarketMakerMode: 'N', ParticipantState: 'A'},
		"4c 0102 0304 05060708090a 4753434f 4141504c20202020 59 4e 41"},
	{"V", &MWCBDeclineLevelMsg{Header: h0, Level1: 0x0102030405060708, Level2: 0x1112131415161718,
		Level3: 0xf1f2f3f4f5f6f7f8},
		"56 0000 0304 05060708090a 0102030405060708 1112131415161718 f1f2f3f4f5f6f7f8"},
	{"W", &MWCBStatusMsg{Header: h0, BreachedLevel: '2'},
		"57 0000 0304 05060708090a 32"},
	{"K", &IPOQuotingPeriodUpdateMsg{Header: h1, Stock: Alpha8("ABCD"), ReleaseTime: 34200,
		ReleaseQualifier: 'A', IPOPrice: 200000},
		"4b 0102 0304 05060708090a 4142434420202020 00008598 41 00030d40"},
	{"J", &LULDAuctionCollarMsg{Header: h1, Stock: Alpha8("ABCD"), CollarRefPrice: 100000,
		UpperCollarPrice: 110000, LowerCollarPrice: 90000, CollarExtension: 2},
		"4a 0102 0304 05060708090a 4142434420202020 000186a0 0001adb0 00015f90 00000002"},
	{"h", &OperationalHaltMsg{Header: h1, Stock: Alpha8("ABCD"), MarketCode: 'Q', HaltAction: 'H'},
		"68 0102 0304 05060708090a 4142434420202020 51 48"},
	{"A", &AddOrderMsg{Header: h930, Ref: 123456789, Side: Buy, Shares: 100, Stock: Alpha8("AAPL"),
		Price: 123400},
		"41 0001 0002 1f1aced9f000 00000000075bcd15 42 00000064 4141504c20202020 0001e208"},
	{"F", &AddOrderMPIDMsg{Header: h1, Ref: 0xfffffffffffffffe, Side: Sell, Shares: 0xffffffff,
		Stock: Alpha8("SPY"), Price: 0x80000000, Attribution: Alpha4("NSDQ")},
		"46 0102 0304 05060708090a fffffffffffffffe 53 ffffffff 5350592020202020 80000000 4e534451"},
	{"E", &OrderExecutedMsg{Header: h1, Ref: 123456789, Shares: 50, Match: 0x0000000100000002},
		"45 0102 0304 05060708090a 00000000075bcd15 00000032 0000000100000002"},
	{"C", &OrderExecutedWithPriceMsg{Header: h1, Ref: 123456789, Shares: 25, Match: 0xdeadbeef,
		Printable: 'N', ExecPrice: 123500},
		"43 0102 0304 05060708090a 00000000075bcd15 00000019 00000000deadbeef 4e 0001e26c"},
	{"X", &OrderCancelMsg{Header: h1, Ref: 123456789, Shares: 10},
		"58 0102 0304 05060708090a 00000000075bcd15 0000000a"},
	{"D", &OrderDeleteMsg{Header: h1, Ref: 123456789},
		"44 0102 0304 05060708090a 00000000075bcd15"},
	{"U", &OrderReplaceMsg{Header: h1, OrigRef: 123456789, NewRef: 123456790, Shares: 200, Price: 123300},
		"55 0102 0304 05060708090a 00000000075bcd15 00000000075bcd16 000000c8 0001e1a4"},
	{"P", &TradeMsg{Header: h1, Ref: 0, Side: Buy, Shares: 300, Stock: Alpha8("AAPL"), Price: 123400,
		Match: 1000},
		"50 0102 0304 05060708090a 0000000000000000 42 0000012c 4141504c20202020 0001e208 00000000000003e8"},
	{"Q", &CrossTradeMsg{Header: h1, Shares: 1 << 32, Stock: Alpha8("AAPL"), CrossPrice: 123400,
		Match: 1001, CrossType: 'O'},
		"51 0102 0304 05060708090a 0000000100000000 4141504c20202020 0001e208 00000000000003e9 4f"},
	{"B", &BrokenTradeMsg{Header: h1, Match: 1000},
		"42 0102 0304 05060708090a 00000000000003e8"},
	{"I", &NOIIMsg{Header: h1, PairedShares: 1000000, ImbalanceShares: 0x0000000200000001,
		ImbalanceDirection: 'B', Stock: Alpha8("AAPL"), FarPrice: 123000, NearPrice: 123200,
		RefPrice: 123400, CrossType: 'C', PriceVariation: 'L'},
		"49 0102 0304 05060708090a 00000000000f4240 0000000200000001 42 4141504c20202020 0001e078 0001e140 0001e208 43 4c"},
	{"N", &RPIIMsg{Header: h1, Stock: Alpha8("AAPL"), InterestFlag: 'A'},
		"4e 0102 0304 05060708090a 4141504c20202020 41"},
	{"O", &DLCRPriceDiscoveryMsg{Header: h1, Stock: Alpha8("ABCD"), OpenEligibility: 'Y',
		MinAllowedPrice: 100000, MaxAllowedPrice: 110000, NearExecPrice: 105000,
		NearExecTime: 34_200_000_000_000, LowerCollar: 90000, UpperCollar: 120000},
		"4f 0102 0304 05060708090a 4142434420202020 59 000186a0 0001adb0 00019a28 00001f1aced9f000 00015f90 0001d4c0"},
}

func TestRoundTrip(t *testing.T) {
	seen := map[byte]bool{}
	for _, tc := range roundTrips {
		t.Run(tc.name, func(t *testing.T) {
			want := unhex(t, tc.hex)
			typ := want[0]
			seen[typ] = true
			if string(typ) != tc.name {
				t.Fatalf("test case %s has type byte %q", tc.name, typ)
			}
			if len(want) != Len(typ) {
				t.Fatalf("hand-built hex has %d bytes, Len(%q) = %d", len(want), typ, Len(typ))
			}

			// Append must append after existing bytes without touching them.
			prefix := []byte("prefix")
			got := tc.msg.Append(append([]byte(nil), prefix...))
			if !bytes.Equal(got[:len(prefix)], prefix) {
				t.Fatalf("Append overwrote the destination prefix: %q", got[:len(prefix)])
			}
			got = got[len(prefix):]
			if !bytes.Equal(got, want) {
				t.Fatalf("Append:\n got % x\nwant % x", got, want)
			}
			if err := Check(got); err != nil {
				t.Fatalf("Check: %v", err)
			}

			// Every accessor of the view must give back the encoded fields.
			dec := decode(got)
			if !reflect.DeepEqual(dec, tc.msg) {
				t.Fatalf("decode:\n got %+v\nwant %+v", dec, tc.msg)
			}
			if TypeName(typ) == "Unknown" {
				t.Fatalf("TypeName(%q) unknown", typ)
			}
		})
	}
	for _, typ := range Types() {
		if !seen[typ] {
			t.Errorf("type %q (%s) has no round-trip case", typ, TypeName(typ))
		}
	}
}

// TestFieldOffsets spot-checks accessors against offsets read straight from
// PROTOCOLS.md §2, independently of the encoders.
func TestFieldOffsets(t *testing.T) {
	b := unhex(t, "41 0001 0002 1f1aced9f000 00000000075bcd15 42 00000064 4141504c20202020 0001e208")
	a := AddOrder(b)
	if a.Timestamp() != 34_200_000_000_000 || a.Locate() != 1 || a.Tracking() != 2 {
		t.Errorf("header: locate %d tracking %d timestamp %d", a.Locate(), a.Tracking(), a.Timestamp())
	}
	if a.Ref() != 123456789 || a.Side() != Buy || a.Shares() != 100 || a.Price() != 123400 {
		t.Errorf("A fields: ref %d side %q shares %d price %d", a.Ref(), a.Side(), a.Shares(), a.Price())
	}
	if string(a.Stock()) != "AAPL    " || string(TrimAlpha(a.Stock())) != "AAPL" {
		t.Errorf("A stock %q", a.Stock())
	}
	// $12.34 = 123400 = 00 01 E2 08 at offset 32 (PROTOCOLS.md §1, §2.4).
	if !bytes.Equal(b[32:36], []byte{0x00, 0x01, 0xe2, 0x08}) {
		t.Errorf("price bytes % x", b[32:36])
	}

	u := OrderReplace(unhex(t, "55 0102 0304 05060708090a 00000000075bcd15 00000000075bcd16 000000c8 0001e1a4"))
	if u.OrigRef() != 123456789 || u.NewRef() != 123456790 || u.Shares() != 200 || u.Price() != 123300 {
		t.Errorf("U fields: %d %d %d %d", u.OrigRef(), u.NewRef(), u.Shares(), u.Price())
	}

	q := CrossTrade(unhex(t, "51 0102 0304 05060708090a 0000000100000000 4141504c20202020 0001e208 00000000000003e9 4f"))
	if q.Shares() != 1<<32 { // 8-byte shares (PROTOCOLS.md §9.5)
		t.Errorf("Q shares %d", q.Shares())
	}

	v := MWCBDeclineLevel(unhex(t, "56 0000 0304 05060708090a 0102030405060708 1112131415161718 f1f2f3f4f5f6f7f8"))
	if v.Level1() != 0x0102030405060708 || v.Level2() != 0x1112131415161718 || v.Level3() != 0xf1f2f3f4f5f6f7f8 {
		t.Errorf("V levels %x %x %x", v.Level1(), v.Level2(), v.Level3())
	}

	// The largest 6-byte timestamp: no sign extension or truncation.
	m := Message(unhex(t, "44 ffff ffff ffffffffffff 0000000000000001"))
	if m.Timestamp() != MaxTimestamp || m.Locate() != 0xffff || m.Tracking() != 0xffff || m.Type() != TypeOrderDelete {
		t.Errorf("max header: %x %x %x", m.Locate(), m.Tracking(), m.Timestamp())
	}
}

// TestAlphaAliasing checks that Alpha accessors alias the message and that
// their capacity stops at the field, so an append cannot clobber the next one.
func TestAlphaAliasing(t *testing.T) {
	m := (&AddOrderMPIDMsg{Header: h1, Stock: Alpha8("AAPL"), Price: 7, Attribution: Alpha4("GSCO")}).Append(nil)
	f := AddOrderMPID(m)
	s := f.Stock()
	if len(s) != 8 || cap(s) != 8 {
		t.Fatalf("Stock len %d cap %d, want 8 and 8", len(s), cap(s))
	}
	s[0] = 'Z'
	if m[24] != 'Z' {
		t.Fatal("Stock does not alias the message")
	}
	_ = append(s, 'X')
	if f.Price() != 7 {
		t.Fatal("append to Stock overwrote Price")
	}
	if a := f.Attribution(); len(a) != 4 || cap(a) != 4 || string(a) != "GSCO" {
		t.Fatalf("Attribution %q cap %d", a, cap(a))
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		msg  []byte
		want error
	}{
		{"nil", nil, ErrEmpty},
		{"empty", []byte{}, ErrEmpty},
		{"unknown type", make([]byte, 36), ErrUnknownType}, // type 0x00
		{"unknown lowercase a", append([]byte{'a'}, make([]byte, 35)...), ErrUnknownType},
		{"unknown G (GLIMPSE end of snapshot)", append([]byte{'G'}, make([]byte, 20)...), ErrUnknownType},
		{"unknown type alone", []byte{'Z'}, ErrUnknownType},
		{"type byte only", []byte{'A'}, ErrLength},
		{"A short", append([]byte{'A'}, make([]byte, 34)...), ErrLength},
		{"A long", append([]byte{'A'}, make([]byte, 36)...), ErrLength},
		{"A with F length", append([]byte{'A'}, make([]byte, 39)...), ErrLength},
		{"h with H length", append([]byte{'h'}, make([]byte, 24)...), ErrLength},
		{"H with h length", append([]byte{'H'}, make([]byte, 20)...), ErrLength},
		{"header only", append([]byte{'D'}, make([]byte, 10)...), ErrLength},
		{"A exact", append([]byte{'A'}, make([]byte, 35)...), nil},
		{"h exact", append([]byte{'h'}, make([]byte, 20)...), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := Check(tc.msg); err != tc.want {
				t.Fatalf("Check(% x) = %v, want %v", tc.msg, err, tc.want)
			}
		})
	}

	// Every known type: exact length passes, one byte less or more fails;
	// every other type byte is unknown at any length.
	known := map[byte]bool{}
	for _, typ := range Types() {
		known[typ] = true
	}
	for i := 0; i < 256; i++ {
		typ := byte(i)
		n := Len(typ)
		if !known[typ] {
			if n != 0 || TypeName(typ) != "Unknown" {
				t.Errorf("type %#x: Len %d, TypeName %q for an unknown type", typ, n, TypeName(typ))
			}
			for _, l := range []int{1, 12, 36, 50, 64} {
				if err := Check(append([]byte{typ}, make([]byte, l-1)...)); !errors.Is(err, ErrUnknownType) {
					t.Errorf("type %#x len %d: %v, want ErrUnknownType", typ, l, err)
				}
			}
			continue
		}
		if n < HeaderLen+1 || n > MaxLen {
			t.Errorf("type %q: Len %d out of range", typ, n)
		}
		for l := 1; l <= MaxLen+1; l++ {
			want := ErrLength
			if l == n {
				want = nil
			}
			if err := Check(append([]byte{typ}, make([]byte, l-1)...)); err != want {
				t.Errorf("type %q len %d: %v, want %v", typ, l, err, want)
			}
		}
	}
	if len(known) != 23 {
		t.Errorf("Types() has %d distinct types, want 23", len(known))
	}
}

func TestUnknownEnumsKept(t *testing.T) {
	// Enumerated bytes are neither validated nor mapped: whatever is on the
	// wire comes back, and Check still accepts the message.
	m := (&AddOrderMsg{Header: h1, Side: 'Z', Stock: Alpha8("X")}).Append(nil)
	if err := Check(m); err != nil {
		t.Fatal(err)
	}
	if AddOrder(m).Side() != 'Z' {
		t.Fatalf("side %q", AddOrder(m).Side())
	}
	c := (&OrderExecutedWithPriceMsg{Header: h1, Printable: 0xff}).Append(nil)
	if OrderExecutedWithPrice(c).Printable() != 0xff {
		t.Fatal("printable byte changed")
	}
}

func TestAlpha(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", "        "},
		{"A", "A       "},
		{"AAPL", "AAPL    "},
		{"ABCDEFGH", "ABCDEFGH"},
		{"ABCDEFGHIJ", "ABCDEFGH"},
	}
	for _, tc := range tests {
		if got := Alpha8(tc.in); string(got[:]) != tc.want {
			t.Errorf("Alpha8(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := Alpha4(tc.in); string(got[:]) != tc.want[:4] {
			t.Errorf("Alpha4(%q) = %q, want %q", tc.in, got, tc.want[:4])
		}
	}
	trims := []struct{ in, want string }{
		{"", ""},
		{"        ", ""},
		{"AAPL    ", "AAPL"},
		{"BRK A   ", "BRK A"},
		{" X      ", " X"},
		{"ABCDEFGH", "ABCDEFGH"},
	}
	for _, tc := range trims {
		in := []byte(tc.in)
		got := TrimAlpha(in)
		if string(got) != tc.want {
			t.Errorf("TrimAlpha(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if len(got) > 0 && &got[0] != &in[0] {
			t.Errorf("TrimAlpha(%q) does not alias its input", tc.in)
		}
	}
}

func TestTypeName(t *testing.T) {
	for typ, want := range map[byte]string{
		'A': "AddOrder", 'F': "AddOrderMPID", 'h': "OperationalHalt", 'H': "StockTradingAction",
		'O': "DLCRPriceDiscovery", 'I': "NOII", 'a': "Unknown", 0: "Unknown",
	} {
		if got := TypeName(typ); got != want {
			t.Errorf("TypeName(%q) = %q, want %q", typ, got, want)
		}
	}
}

// TestAppendGrowth checks Append against spare capacity and an exact-size
// destination: no reallocation when the capacity suffices.
func TestAppendGrowth(t *testing.T) {
	buf := make([]byte, 0, LenAddOrder+LenOrderDelete)
	m := AddOrderMsg{Header: h1, Ref: 1, Side: Buy, Shares: 1, Stock: Alpha8("A"), Price: 1}
	d := OrderDeleteMsg{Header: h1, Ref: 1}
	out := d.Append(m.Append(buf))
	if &out[0] != &buf[:1][0] {
		t.Fatal("Append reallocated although the capacity sufficed")
	}
	if len(out) != LenAddOrder+LenOrderDelete || Check(out[:LenAddOrder]) != nil || Check(out[LenAddOrder:]) != nil {
		t.Fatalf("bad output % x", out)
	}
	if allocs := testing.AllocsPerRun(100, func() { out = d.Append(m.Append(buf[:0])) }); allocs != 0 {
		t.Errorf("Append into a large enough buffer: %v allocs, want 0", allocs)
	}
}

// frame appends msg with a BinaryFILE-style 2-byte big-endian length prefix.
func frame(dst, msg []byte) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(msg)))
	return append(dst, msg...)
}

// bookSum dispatches one message and sums every field the book needs, the way
// book.Apply reads a message. It returns false if Check rejects the message.
func bookSum(m []byte) (uint64, bool) {
	if Check(m) != nil {
		return 0, false
	}
	var s uint64
	switch m[0] {
	case TypeAddOrder:
		a := AddOrder(m)
		s = a.Ref() + uint64(a.Side()) + uint64(a.Shares()) + uint64(a.Price()) + uint64(a.Locate()) + uint64(a.Stock()[0])
	case TypeAddOrderMPID:
		f := AddOrderMPID(m)
		s = f.Ref() + uint64(f.Side()) + uint64(f.Shares()) + uint64(f.Price()) + uint64(f.Locate()) + uint64(f.Stock()[0]) + uint64(f.Attribution()[0])
	case TypeOrderExecuted:
		e := OrderExecuted(m)
		s = e.Ref() + uint64(e.Shares()) + e.Match()
	case TypeOrderExecutedWithPrice:
		c := OrderExecutedWithPrice(m)
		s = c.Ref() + uint64(c.Shares()) + c.Match() + uint64(c.Printable()) + uint64(c.ExecPrice())
	case TypeOrderCancel:
		x := OrderCancel(m)
		s = x.Ref() + uint64(x.Shares())
	case TypeOrderDelete:
		s = OrderDelete(m).Ref()
	case TypeOrderReplace:
		u := OrderReplace(m)
		s = u.OrigRef() + u.NewRef() + uint64(u.Shares()) + uint64(u.Price())
	case TypeStockDirectory:
		r := StockDirectory(m)
		s = uint64(r.Locate()) + uint64(r.Stock()[0]) + uint64(r.RoundLotSize())
	default:
		s = uint64(Message(m).Locate())
	}
	return s + Message(m).Timestamp(), true
}

func TestNoAllocs(t *testing.T) {
	var stream []byte
	for _, tc := range roundTrips {
		stream = frame(stream, tc.msg.Append(nil))
	}
	var sink uint64
	allocs := testing.AllocsPerRun(1000, func() {
		for b := stream; len(b) >= 2; {
			n := int(binary.BigEndian.Uint16(b))
			m := b[2 : 2+n]
			s, ok := bookSum(m)
			if !ok {
				panic("Check rejected a valid message")
			}
			sink += s + sumFields(m)
			b = b[2+n:]
		}
		if Check(nil) == nil || Check([]byte{'Z'}) == nil || Check([]byte{'A'}) == nil {
			panic("Check accepted a bad message")
		}
	})
	if allocs != 0 {
		t.Errorf("dispatch + field access: %v allocs per run, want 0", allocs)
	}
	if sink == 0 {
		t.Error("sink is zero: nothing was read")
	}
}

// TestTimestampOverflow: a timestamp beyond 48 bits is a caller bug. Builds
// with the invariants tag panic; production builds encode the low 48 bits.
func TestTimestampOverflow(t *testing.T) {
	m := OrderDeleteMsg{Header: Header{Timestamp: 1<<48 | 5}, Ref: 1}
	defer func() {
		r := recover()
		if invariants.Enabled != (r != nil) {
			t.Fatalf("invariants.Enabled = %v, recovered %v", invariants.Enabled, r)
		}
	}()
	b := m.Append(nil)
	if got := OrderDelete(b).Timestamp(); got != 5 {
		t.Fatalf("timestamp %d, want the low 48 bits (5)", got)
	}
}
