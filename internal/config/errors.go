package config

import "errors"

// ErrInvalid wraps every error about the configuration's content: a
// value out of range, a key unknown, a YAML syntax error. Its text is the
// package prefix ("config: feed.interface: ...").
var ErrInvalid = errors.New("config")
