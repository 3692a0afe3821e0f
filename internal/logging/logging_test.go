package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// TestFormats: every line written becomes one record of the component, in
// each format, at the level its words say; the level filters, and changes
// while the writer is in use.
func TestFormats(t *testing.T) {
	for _, format := range []string{"plain", "text", "json"} {
		var out bytes.Buffer
		l, err := New(&out, format, slog.LevelInfo)
		if err != nil {
			t.Fatal(err)
		}
		w := l.Writer("tickwire run")
		w.Write([]byte("serving subscribers on 127.0.0.1:1\nwarning: capped"))
		w.Write([]byte(" buffer\n"))
		l.Level.Set(slog.LevelWarn)
		w.Write([]byte("an info line, filtered\nwarning: shown\n"))
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != 3 {
			t.Fatalf("%s: %d lines:\n%s", format, len(lines), out.String())
		}
		switch format {
		case "plain":
			if lines[0] != "tickwire run: serving subscribers on 127.0.0.1:1" || lines[1] != "tickwire run: warning: capped buffer" {
				t.Errorf("plain: %q", lines)
			}
		case "json":
			var r struct{ Level, Msg, Component string }
			if err := json.Unmarshal([]byte(lines[1]), &r); err != nil || r.Level != "WARN" || r.Msg != "warning: capped buffer" || r.Component != "tickwire run" {
				t.Errorf("json: %+v %v", r, err)
			}
		case "text":
			if !strings.Contains(lines[2], "level=WARN") || !strings.Contains(lines[2], `component="tickwire run"`) {
				t.Errorf("text: %q", lines[2])
			}
		}
	}
	if _, err := New(nil, "xml", slog.LevelInfo); err == nil {
		t.Error("format xml accepted")
	}
}

// TestWriteAttrs: a line written with fields is one record carrying them
// in the text and JSON formats, at the level its words say; plain prints
// the line alone, as Write would.
func TestWriteAttrs(t *testing.T) {
	for _, format := range []string{"plain", "text", "json"} {
		var out bytes.Buffer
		l, err := New(&out, format, slog.LevelInfo)
		if err != nil {
			t.Fatal(err)
		}
		w, ok := l.Writer("tickwire run").(AttrWriter)
		if !ok {
			t.Fatalf("%s: Writer is not an AttrWriter", format)
		}
		w.WriteAttrs("warning: line A: 3 datagrams truncated", slog.String("line", "A"), slog.Uint64("count", 3))
		got := strings.TrimSpace(out.String())
		switch format {
		case "plain":
			if got != "tickwire run: warning: line A: 3 datagrams truncated" {
				t.Errorf("plain: %q", got)
			}
		case "text":
			if !strings.Contains(got, "level=WARN") || !strings.Contains(got, `msg="warning: line A: 3 datagrams truncated"`) ||
				!strings.Contains(got, `component="tickwire run" line=A count=3`) {
				t.Errorf("text: %q", got)
			}
		case "json":
			var r struct {
				Level, Msg, Component, Line string
				Count                       uint64
			}
			if err := json.Unmarshal([]byte(got), &r); err != nil || r.Level != "WARN" || r.Msg != "warning: line A: 3 datagrams truncated" ||
				r.Component != "tickwire run" || r.Line != "A" || r.Count != 3 {
				t.Errorf("json: %+v %v: %s", r, err, got)
			}
		}
	}
}
