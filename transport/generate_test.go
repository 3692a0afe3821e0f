package transport

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// flatcVersion is the flatc that generated tw/; another version writes
// other code, so the staleness check needs this one.
const flatcVersion = "2.0.8"

// flatc returns the path of flatc, or skips the test.
func flatc(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("flatc")
	if err != nil {
		t.Skip("flatc not installed (apt-get install -y flatbuffers-compiler): schema checks skipped")
	}
	return path
}

// TestGeneratedFresh regenerates the Go code into a temporary directory, as
// make generate does, and fails if tw/ differs: the schema changed without
// a make generate, or tw/ was edited by hand.
func TestGeneratedFresh(t *testing.T) {
	bin := flatc(t)
	out, err := exec.Command(bin, "--version").Output()
	if err != nil || !strings.Contains(string(out), flatcVersion) {
		t.Skipf("flatc is %q, not %s which generated tw/: staleness check skipped", bytes.TrimSpace(out), flatcVersion)
	}
	dir := t.TempDir()
	if out, err := exec.Command(bin, "--go", "--go-namespace", "tw", "-o", dir, "tickwire.fbs").CombinedOutput(); err != nil {
		t.Fatalf("flatc: %v\n%s", err, out)
	}
	if out, err := exec.Command("gofmt", "-l", "-w", filepath.Join(dir, "tw")).CombinedOutput(); err != nil {
		t.Fatalf("gofmt: %v\n%s", err, out)
	}
	fresh, _ := filepath.Glob(filepath.Join(dir, "tw", "*.go"))
	committed, _ := filepath.Glob(filepath.Join("tw", "*.go"))
	if len(fresh) != len(committed) {
		t.Errorf("flatc writes %d files, tw/ holds %d: run make generate", len(fresh), len(committed))
	}
	for _, f := range fresh {
		want, _ := os.ReadFile(f)
		got, err := os.ReadFile(filepath.Join("tw", filepath.Base(f)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("tw/%s is stale: run make generate", filepath.Base(f))
		}
	}
}

// TestSchemaLanguages compiles the schema for the other languages clients
// are written in: it must need no edit for any of them.
func TestSchemaLanguages(t *testing.T) {
	bin := flatc(t)
	dir := t.TempDir()
	for _, lang := range []string{"cpp", "python", "ts", "rust", "java"} {
		if out, err := exec.Command(bin, "--"+lang, "-o", filepath.Join(dir, lang), "tickwire.fbs").CombinedOutput(); err != nil {
			t.Errorf("flatc --%s: %v\n%s", lang, err, out)
		}
	}
	// The C++ header states each struct's size: check validate.go's.
	h, err := os.ReadFile(filepath.Join(dir, "cpp", "tickwire_generated.h"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		"Stamp": sizeStamp, "BookOrder": sizeBookOrder, "BookLevel": sizeBookLevel,
		"OrderAddedFields": sizeOrderAdded, "OrderExecutedFields": sizeOrderExecuted,
		"OrderCancelledFields": sizeOrderCancel, "OrderReplacedFields": sizeOrderReplaced,
		"OrderDeletedFields": sizeOrderDeleted, "LevelChangedFields": sizeLevelChanged,
		"TradeFields": sizeTrade, "TradeBrokenFields": sizeTradeBroken, "RegShoFields": sizeRegSho,
		"LuldCollarFields": sizeLuldCollar, "MwcbLevelsFields": sizeMwcbLevels, "MwcbBreachFields": sizeMwcbBreach,
	}
	ends := regexp.MustCompile(`FLATBUFFERS_STRUCT_END\((\w+), (\d+)\)`).FindAllSubmatch(h, -1)
	if len(ends) != len(want) {
		t.Errorf("the C++ header has %d structs, validate.go sizes %d", len(ends), len(want))
	}
	for _, m := range ends {
		if n, _ := strconv.Atoi(string(m[2])); n != want[string(m[1])] {
			t.Errorf("struct %s is %d bytes, validate.go says %d", m[1], n, want[string(m[1])])
		}
		if n := want[string(m[1])]; n > len(zeros) {
			t.Errorf("struct %s (%d bytes) is larger than Message.Fields' zeros", m[1], n)
		}
	}
}
