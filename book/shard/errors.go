package shard

import "errors"

// ErrConfig reports a Config that cannot be built: too many shards, or a
// symbol mapped to a shard that does not exist.
var ErrConfig = errors.New("shard: bad configuration")
