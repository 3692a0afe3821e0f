// Package logging turns the daemon's log lines into log/slog records.
//
// The packages log through an io.Writer, one line per event (a status
// change, a fault summary once a second, a subscriber cut off); Writer
// hands each line to a slog.Logger as one record, with the component that
// wrote it and a level read from the line ("warning:" lines are Warn, "error:"
// lines Error, the rest Info). The format is "plain" (the lines
// as they are, prefixed with the component: what a terminal wants), "text"
// or "json" (slog's handlers: what a log pipeline wants). The level is a
// slog.LevelVar, changeable while the daemon runs (the admin listener's
// /loglevel).
//
// A writer that has fields to give as well (the live handler's fault
// reports: line, fault, count, source) calls WriteAttrs on Writer's value,
// found by a type assertion to AttrWriter: "text" and "json" records then
// carry them as fields, beside the line as the message; "plain" prints the
// line alone, as Write would.
package logging

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// Logger is the daemon's logger and its level.
type Logger struct {
	L     *slog.Logger
	Level *slog.LevelVar
	plain bool // format "plain": a line's attributes are not printed
}

// New returns a logger writing to w in format ("plain", "text", "json") at
// level.
func New(w io.Writer, format string, level slog.Level) (*Logger, error) {
	lv := &slog.LevelVar{}
	lv.Set(level)
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler
	plain := false
	switch format {
	case "", "plain":
		h, plain = &plainHandler{w: w, level: lv}, true
	case "text":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("logging: format %q: want plain, text or json", format)
	}
	return &Logger{L: slog.New(h), Level: lv, plain: plain}, nil
}

// ParseLevel reads "debug", "info", "warn" or "error".
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(s))
	return l, err
}

// Writer returns a writer whose every line becomes a record of component.
// It implements AttrWriter. It is safe for concurrent use.
func (l *Logger) Writer(component string) io.Writer {
	return &lineWriter{l: l.L.With("component", component), component: component, plain: l.plain}
}

// AttrWriter is implemented by Writer's value: a log line with fields.
type AttrWriter interface {
	// WriteAttrs logs msg, one line without its newline, as one record
	// with attrs, at the level msg's words say (as Write does). The
	// "plain" format prints msg alone, so msg must read well without
	// them. It allocates: it is for reports, not for every packet.
	WriteAttrs(msg string, attrs ...slog.Attr)
}

type lineWriter struct {
	mu        sync.Mutex
	l         *slog.Logger
	component string
	plain     bool
	partial   []byte
}

func (w *lineWriter) WriteAttrs(msg string, attrs ...slog.Attr) {
	if w.plain {
		attrs = nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.l.LogAttrs(context.Background(), levelOf(msg), msg, attrs...)
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			w.partial = append(w.partial, b...)
			break
		}
		line := string(append(w.partial, b[:i]...))
		w.partial, b = w.partial[:0], b[i+1:]
		w.l.Log(context.Background(), levelOf(line), line)
	}
	return n, nil
}

// levelOf reads a line's level from its words.
func levelOf(line string) slog.Level {
	switch l := strings.ToLower(line); {
	case strings.HasPrefix(l, "warning"):
		return slog.LevelWarn
	case strings.HasPrefix(l, "error"):
		return slog.LevelError
	}
	return slog.LevelInfo
}

// plainHandler writes "component: message" lines, as the daemon always has.
type plainHandler struct {
	mu    sync.Mutex
	w     io.Writer
	level *slog.LevelVar
	attrs []slog.Attr
}

func (h *plainHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *plainHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	for _, a := range h.attrs {
		if a.Key == "component" {
			b.WriteString(a.Value.String())
			b.WriteString(": ")
		}
	}
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *plainHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &plainHandler{w: h.w, level: h.level, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h *plainHandler) WithGroup(string) slog.Handler { return h }
