package gen

import (
	"math"
	"math/bits"
)

// rng is a splitmix64 generator: tiny, fast, and fully specified here, so a
// seed yields the same session on every Go version. Not safe for concurrent
// use.
type rng struct{ s uint64 }

func newRNG(seed, stream uint64) rng {
	r := rng{s: seed ^ stream*0xD1B54A32D192ED03}
	r.next()
	return r
}

func (r *rng) next() uint64 {
	r.s += 0x9E3779B97F4A7C15
	z := r.s
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return z ^ z>>31
}

// intn returns a value in [0, n); n > 0.
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int(hi)
}

// between returns a value in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// float returns a value in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) * 0x1p-53 }

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return p > 0 && r.float() < p }

// exp returns an exponentially distributed value with the given mean.
func (r *rng) exp(mean float64) float64 { return -math.Log(1-r.float()) * mean }

// geom returns the number of failures before the first success, success
// probability p per trial.
func (r *rng) geom(p float64) int {
	n := 0
	for !r.chance(p) && n < 64 {
		n++
	}
	return n
}
