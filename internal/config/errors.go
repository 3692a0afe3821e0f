package config

import "errors"

// ErrInvalid wraps every error about the configuration's content: a
// value out of range, a key unknown, a YAML syntax error; the error names
// the key and the fault ("config: invalid configuration: feed.interface:
// ...").
var ErrInvalid = errors.New("config: invalid configuration")
