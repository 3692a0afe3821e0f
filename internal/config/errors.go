package config

import "errors"

// ErrInvalid wraps every error about the configuration's content: a value
// refused, a key unknown, a YAML syntax error. Its text is a prefix that the
// error completes with the key and the fault, each named once: "config:
// invalid feed.recv_buffer: -5 bytes: want 64 KiB to 1 GiB", "config:
// invalid feed.nosuch (line 3): unknown key", "config: invalid YAML (line
// 2): mapping values are not allowed in this context". Compare with
// errors.Is.
var ErrInvalid = errors.New("config: invalid")
