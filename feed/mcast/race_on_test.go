//go:build linux && race

package mcast

const raceEnabled = true
