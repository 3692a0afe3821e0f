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
