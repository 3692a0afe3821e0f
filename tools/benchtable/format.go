package main

import (
	"math"
	"os"
	"strconv"
	"strings"
)

// meets says whether v meets target: "<= X", "< X", ">= X", "> X" or "X"
// (exactly); ok is false when target is not one of those.
func meets(v float64, target string) (met, ok bool) {
	t := strings.TrimSpace(target)
	op := ""
	for _, o := range []string{"<=", ">=", "<", ">"} {
		if rest, found := strings.CutPrefix(t, o); found {
			op, t = o, strings.TrimSpace(rest)
			break
		}
	}
	x, err := strconv.ParseFloat(t, 64)
	if err != nil {
		return false, false
	}
	switch op {
	case "<=":
		return v <= x, true
	case ">=":
		return v >= x, true
	case "<":
		return v < x, true
	case ">":
		return v > x, true
	}
	return v == x, true
}

// decimals is how many decimals show v to about three significant digits.
func decimals(v float64) int {
	switch a := math.Abs(v); {
	case a == 0 || a >= 100:
		return 0
	case a >= 10:
		return 1
	case a >= 1:
		return 2
	}
	return 3
}

// thousands writes a whole number with commas: 3,000,000.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// rateName names a loadtest rate: "0.5M", "1M"; 0 is "max" (as fast as
// the sender could).
func rateName(r float64) string {
	if r == 0 {
		return "max"
	}
	return strconv.FormatFloat(r/1e6, 'f', -1, 64) + "M"
}

func us(ns int64) float64 { return float64(ns) / 1e3 }

// usString shows a latency in microseconds to about three digits.
func usString(v float64) string {
	if v >= 1000 {
		return thousands(v)
	}
	return strconv.FormatFloat(v, 'f', decimals(v), 64)
}

// usTargets shows bounds on p50, p99, p99.9 and max (0: none), "<= 4 /
// 10 / 150" (the trailing ones without a bound left off).
func usTargets(t [4]float64) string {
	var parts []string
	for _, x := range t {
		parts = append(parts, "-")
		if x > 0 {
			parts[len(parts)-1] = strconv.FormatFloat(x, 'f', -1, 64)
		}
	}
	for len(parts) > 0 && parts[len(parts)-1] == "-" {
		parts = parts[:len(parts)-1]
	}
	return "<= " + strings.Join(parts, " / ")
}

// clip cuts a cell to 40 characters (the tools print the whole of it).
func clip(s string) string {
	if len(s) <= 40 {
		return s
	}
	return s[:37] + "..."
}

// usVerdict is "met", or "NOT met" naming the percentiles over their bound.
func usVerdict(got, t [4]float64) string {
	names := [4]string{"p50", "p99", "p99.9", "max"}
	var over []string
	for i := range t {
		if t[i] > 0 && got[i] > t[i] {
			over = append(over, names[i])
		}
	}
	if len(over) == 0 {
		return "met"
	}
	return "NOT met: " + strings.Join(over, ", ")
}

// cpuModel is the first model name in /proc/cpuinfo ("?" when none).
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}
