package main

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// goBench is a go test -bench output: its result lines by package, and the
// machine it names.
type goBench struct {
	cpu     string // the "cpu:" line
	results []benchResult
}

// benchResult is one result line: Name (without the -GOMAXPROCS suffix)
// in package Pkg (an import path) reported each metric (value by unit:
// "ns/op", "ns/msg", "B/live-order", ...).
type benchResult struct {
	pkg, name string
	metrics   map[string]float64
}

// parseGoBench reads go test -bench output (several packages' in a row, as
// `make bench` writes bin/bench.txt); lines that are not results (logs,
// PASS, ok) are skipped.
func parseGoBench(r io.Reader) (*goBench, error) {
	g := &goBench{}
	pkg := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		if c, ok := strings.CutPrefix(line, "cpu: "); ok {
			g.cpu = strings.TrimSpace(c)
			continue
		}
		if res, ok := parseResult(line); ok {
			res.pkg = pkg
			g.results = append(g.results, res)
		}
	}
	return g, sc.Err()
}

// parseResult reads "BenchmarkX/sub-2  N  v unit  v unit ...".
func parseResult(line string) (benchResult, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || len(f)%2 != 0 || !strings.HasPrefix(f[0], "Benchmark") {
		return benchResult{}, false
	}
	if _, err := strconv.ParseInt(f[1], 10, 64); err != nil {
		return benchResult{}, false
	}
	name := f[0]
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i]
		}
	}
	res := benchResult{name: name, metrics: map[string]float64{}}
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return benchResult{}, false
		}
		res.metrics[f[i+1]] = v
	}
	return res, true
}

// metric returns what the benchmark name of the package whose import path
// ends in pkg reported in unit, from its first result line.
func (g *goBench) metric(pkg, name, unit string) (float64, bool) {
	if g == nil {
		return 0, false
	}
	for _, r := range g.results {
		if r.name != name || !strings.HasSuffix(r.pkg, "/"+pkg) {
			continue
		}
		v, ok := r.metrics[unit]
		return v, ok
	}
	return 0, false
}
