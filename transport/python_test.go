package transport

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// readFramePy reads the frame of encodeAll with flatc's Python code, to show
// that what Encoder writes is a standard size-prefixed FlatBuffer.
const readFramePy = `
import sys
import flatbuffers
from flatbuffers import util
from tickwire.transport import Frame, Body, OrderAdded, OrderExecuted, Stamp

buf = open(sys.argv[1], "rb").read()
assert util.GetSizePrefix(buf, 0) == len(buf) - 4
assert Frame.Frame.FrameBufferHasIdentifier(buf, 4)
f = Frame.Frame.GetRootAs(util.RemoveSizePrefix(buf, 0)[0], util.RemoveSizePrefix(buf, 0)[1])
out = ["seq=%d n=%d" % (f.StreamSeq(), f.MessagesLength())]
for i in range(f.MessagesLength()):
    m = f.Messages(i)
    t = m.Body()
    if m.BodyType() == Body.Body.OrderAdded:
        a = OrderAdded.OrderAdded()
        a.Init(t.Bytes, t.Pos)
        s = a.Fields()
        out.append("add ref=%d price=%d mpid=%s locate=%d" % (s.OrderRef(), s.Price(), a.Mpid(), s.Stamp(Stamp.Stamp()).Locate()))
    elif m.BodyType() == Body.Body.OrderExecuted:
        e = OrderExecuted.OrderExecuted()
        e.Init(t.Bytes, t.Pos)
        out.append("exec ref=%d match=%d" % (e.Fields().OrderRef(), e.Fields().MatchNumber()))
print(" | ".join(out))
`

// TestPythonReads decodes a frame with flatc's Python code and the
// python3-flatbuffers runtime; skipped without them.
func TestPythonReads(t *testing.T) {
	bin := flatc(t)
	python := ""
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import flatbuffers").Run() == nil {
			python = p
			break
		}
	}
	if python == "" {
		t.Skip("no python3 with the flatbuffers module (apt-get install -y python3-flatbuffers): Python check skipped")
	}
	dir := t.TempDir()
	if out, err := exec.Command(bin, "--python", "-o", dir, "tickwire.fbs").CombinedOutput(); err != nil {
		t.Fatalf("flatc --python: %v\n%s", err, out)
	}
	frame := filepath.Join(dir, "frame.bin")
	script := filepath.Join(dir, "read_frame.py")
	if err := os.WriteFile(frame, encodeAll(t, NewEncoder(0), 9), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, []byte(readFramePy), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, script, frame)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	const want = "seq=9 n=22 | add ref=42 price=1500000 mpid=b'GSCO' locate=7 | add ref=43 price=1510000 mpid=None locate=7 | exec ref=42 match=77"
	if got := strings.TrimSpace(string(out)); got != want {
		t.Errorf("python read\n%s\nwant\n%s", got, want)
	}
}
