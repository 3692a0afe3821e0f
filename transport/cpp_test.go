package transport

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tickwire/tickwire/transport/tw"
)

// readFramesCpp verifies each frame file named on its command line with
// flatc's C++ code and its Verifier (which, unlike Validate, checks
// alignment), then prints what it reads of each message: its type and,
// for an update, its stamp and string.
const readFramesCpp = `
#include <cstdio>
#include <fstream>
#include <iterator>
#include <vector>
#include "tickwire_generated.h"

using namespace tickwire::transport;

static void stamp(const Stamp &s) {
  std::printf(" %llu/%llu/%u", (unsigned long long)s.feed_seq(), (unsigned long long)s.timestamp(), (unsigned)s.locate());
}

static void str(const flatbuffers::String *s) { std::printf(" [%u]", s ? s->size() : 0); }

#define FIELDS(T) case Body_##T: stamp(static_cast<const T *>(m->body())->fields()->stamp()); break;

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    std::ifstream in(argv[i], std::ios::binary);
    std::vector<uint8_t> buf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    flatbuffers::Verifier v(buf.data(), buf.size());
    if (!VerifySizePrefixedFrameBuffer(v)) {
      std::printf("%s: does not verify\n", argv[i]);
      return 1;
    }
    const Frame *f = GetSizePrefixedFrame(buf.data());
    std::printf("seq=%llu n=%u", (unsigned long long)f->stream_seq(), f->messages()->size());
    for (const Message *m : *f->messages()) {
      std::printf(" |%d", (int)m->body_type());
      switch (m->body_type()) {
      case Body_OrderAdded: {
        auto a = m->body_as_OrderAdded();
        stamp(a->fields()->stamp());
        str(a->mpid());
        break;
      }
      case Body_TradingState: {
        auto s = m->body_as_TradingState();
        stamp(*s->stamp());
        str(s->reason());
        break;
      }
      FIELDS(OrderExecuted) FIELDS(OrderCancelled) FIELDS(OrderReplaced) FIELDS(OrderDeleted)
      FIELDS(LevelChanged) FIELDS(Trade) FIELDS(TradeBroken) FIELDS(RegSho) FIELDS(LuldCollar)
      FIELDS(MwcbLevels) FIELDS(MwcbBreach)
      default: break;
      }
    }
    std::printf("\n");
  }
  return 0;
}
`

// cppLine is what readFramesCpp prints for frame f.
func cppLine(f Frame) string {
	var b strings.Builder
	fmt.Fprintf(&b, "seq=%d n=%d", f.StreamSeq(), f.Len())
	var m Message
	for i := range f.Len() {
		f.Message(i, &m)
		fmt.Fprintf(&b, " |%d", m.Type())
		if s, ok := m.Stamp(); ok {
			fmt.Fprintf(&b, " %d/%d/%d", s.FeedSeq, s.Timestamp, s.Locate)
		}
		switch m.Type() {
		case tw.BodyOrderAdded:
			fmt.Fprintf(&b, " [%d]", len(m.Mpid()))
		case tw.BodyTradingState:
			var ts tw.TradingState
			t := m.Table()
			ts.Init(t.Bytes, t.Pos)
			fmt.Fprintf(&b, " [%d]", len(ts.Reason()))
		}
	}
	return b.String()
}

// TestCppReads verifies random frames of every message type with flatc's
// C++ code and the FlatBuffers C++ Verifier, alignment included; skipped
// without g++ or the FlatBuffers headers (apt-get install -y
// libflatbuffers-dev).
func TestCppReads(t *testing.T) {
	bin := flatc(t)
	cxx, err := exec.LookPath("g++")
	if err != nil {
		t.Skip("no g++: C++ check skipped")
	}
	if _, err := os.Stat("/usr/include/flatbuffers/flatbuffers.h"); err != nil {
		t.Skip("no FlatBuffers C++ headers (apt-get install -y libflatbuffers-dev): C++ check skipped")
	}
	dir := t.TempDir()
	if out, err := exec.Command(bin, "--cpp", "-o", dir, "tickwire.fbs").CombinedOutput(); err != nil {
		t.Fatalf("flatc --cpp: %v\n%s", err, out)
	}
	src := filepath.Join(dir, "read_frames.cc")
	if err := os.WriteFile(src, []byte(readFramesCpp), 0o644); err != nil {
		t.Fatal(err)
	}
	prog := filepath.Join(dir, "read_frames")
	if out, err := exec.Command(cxx, "-std=c++17", "-O1", "-I", dir, "-o", prog, src).CombinedOutput(); err != nil {
		t.Fatalf("g++: %v\n%s", err, out)
	}

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	g := gen{rand.New(rand.NewPCG(seed, 2))}
	e := NewEncoder(0)
	var files, want []string
	for i := range 200 {
		e.Begin(g.u64())
		for range g.r.IntN(30) {
			g.message()(e)
		}
		frame, err := e.Finish()
		if err != nil {
			continue // above MaxFrameSize
		}
		f, err := Open(frame[PrefixSize:])
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, cppLine(f))
		name := filepath.Join(dir, fmt.Sprintf("frame%d.bin", i))
		if err := os.WriteFile(name, frame, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, name)
	}
	out, err := exec.Command(prog, files...).CombinedOutput()
	if err != nil {
		t.Fatalf("read_frames: %v\n%s", err, out)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(got) != len(want) {
		t.Fatalf("C++ read %d frames, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("frame %d: C++ reads\n%s\nwant\n%s", i, got[i], want[i])
		}
	}
}
