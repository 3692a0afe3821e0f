//go:build race

package natsjs_test

// raceEnabled: the race detector is on (tests that need speed skip).
const raceEnabled = true
