package gen

import (
	"math"
	"sort"
)

// wellKnown lists symbols in descending order of typical activity; the
// generator takes its most active instruments from here, then invents
// symbols. Kind: 0 stock, 1 ETF, 2 leveraged ETF, 3 inverse leveraged ETF,
// 4 ADS, 5 test symbol.
var wellKnown = []struct {
	sym   string
	price float64
	kind  int
}{
	{"NVDA", 182.5, 0}, {"TSLA", 342.1, 0}, {"AAPL", 187.45, 0}, {"QQQ", 512.3, 1}, {"AMD", 161.2, 0},
	{"TQQQ", 78.4, 2}, {"SQQQ", 9.87, 3}, {"AMZN", 221.9, 0}, {"MSFT", 418.2, 0}, {"META", 611.5, 0},
	{"PLTR", 121.3, 0}, {"INTC", 21.4, 0}, {"SOFI", 14.2, 0}, {"MARA", 17.6, 0}, {"GOOGL", 172.8, 0},
	{"AVGO", 231.4, 0}, {"MU", 98.7, 0}, {"NFLX", 955.1, 0}, {"COIN", 255.6, 0}, {"SMCI", 38.2, 0},
	{"GOOG", 174.1, 0}, {"CSCO", 61.3, 0}, {"PYPL", 78.9, 0}, {"RIVN", 12.8, 0}, {"LCID", 2.71, 0},
	{"WBD", 10.4, 0}, {"CMCSA", 35.6, 0}, {"PEP", 148.2, 0}, {"COST", 915.4, 0}, {"ADBE", 432.8, 0},
	{"QCOM", 158.3, 0}, {"TXN", 188.6, 0}, {"AMAT", 171.2, 0}, {"SBUX", 97.4, 0}, {"MRVL", 71.5, 0},
	{"PDD", 112.6, 4}, {"BIDU", 88.3, 4}, {"JD", 34.2, 4}, {"ASML", 701.9, 4}, {"ARM", 139.4, 4},
	{"HOOD", 44.1, 0}, {"RIOT", 10.9, 0}, {"SIRI", 22.7, 0}, {"GILD", 101.8, 0}, {"AMGN", 281.3, 0},
	{"ISRG", 521.7, 0}, {"BKNG", 4890.2, 0}, {"MELI", 1988.4, 0}, {"ZVZZT", 10.0, 5}, {"ZXZZT", 10.0, 5},
	{"ZWZZT", 10.0, 5}, {"OPEN", 0.82, 0}, {"NKLA", 0.47, 0},
}

// instrumentSpec is one Stock Directory entry before locates are assigned.
type instrumentSpec struct {
	sym   string
	price int64 // Price(4)
	kind  int
	rank  int // activity rank, 0 most active
}

// universe returns n instruments sorted by symbol (Nasdaq assigns locates
// alphabetically), each with an activity rank.
func universe(r *rng, n int) []instrumentSpec {
	specs := make([]instrumentSpec, 0, n)
	seen := make(map[string]bool, n)
	for _, w := range wellKnown {
		if len(specs) == n {
			break
		}
		specs = append(specs, instrumentSpec{sym: w.sym, price: int64(math.Round(w.price * 10000)), kind: w.kind})
		seen[w.sym] = true
	}
	for len(specs) < n {
		l := 3 + r.intn(2)
		if r.chance(0.1) {
			l = 2 + 3*r.intn(2) // some 2- and 5-letter symbols
		}
		b := make([]byte, l)
		for i := range b {
			b[i] = byte('A' + r.intn(26))
		}
		s := string(b)
		if seen[s] {
			continue
		}
		seen[s] = true
		// Log-uniform price from $1 to $400, a few sub-dollar names.
		p := math.Exp(math.Log(1) + r.float()*(math.Log(400)-math.Log(1)))
		if r.chance(0.03) {
			p = 0.1 + 0.85*r.float()
		}
		kind := 0
		switch {
		case r.chance(0.06):
			kind = 1
		case r.chance(0.03):
			kind = 4
		}
		specs = append(specs, instrumentSpec{sym: s, price: int64(math.Round(p * 10000)), kind: kind})
	}
	for i := range specs {
		specs[i].rank = i
	}
	// A little shuffling of ranks beyond the top names.
	for i := len(wellKnown); i < len(specs); i++ {
		j := len(wellKnown) + r.intn(len(specs)-len(wellKnown))
		specs[i].rank, specs[j].rank = specs[j].rank, specs[i].rank
	}
	sort.Slice(specs, func(i, j int) bool { return specs[i].sym < specs[j].sym })
	return specs
}

// zipf draws instrument indexes with probability proportional to
// 1/(rank+1)^s.
type zipf struct {
	cum []float64 // cumulative weight by rank
	idx []int     // instrument index by rank
}

func newZipf(specs []instrumentSpec, s float64) zipf {
	z := zipf{cum: make([]float64, len(specs)), idx: make([]int, len(specs))}
	for i, sp := range specs {
		z.idx[sp.rank] = i
	}
	total := 0.0
	for k := range z.cum {
		total += 1 / math.Pow(float64(k+1), s)
		z.cum[k] = total
	}
	for k := range z.cum {
		z.cum[k] /= total
	}
	return z
}

func (z *zipf) pick(r *rng) int {
	u := r.float()
	k := sort.SearchFloat64s(z.cum, u)
	if k >= len(z.idx) {
		k = len(z.idx) - 1
	}
	return z.idx[k]
}

// byRank returns the instrument index of activity rank k.
func (z *zipf) byRank(k int) int { return z.idx[k] }
