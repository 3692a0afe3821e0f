package feed

import "errors"

// ErrRecoveryConfig reports a RecoveryConfig field out of range
// (RecoveryConfig.Validate); the error names the field.
var ErrRecoveryConfig = errors.New("feed: invalid recovery configuration")
