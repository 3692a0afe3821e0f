//go:build !linux

package config

import "errors"

// checkCPU bounds cpu where the CPUs allowed cannot be read.
func checkCPU(cpu int) error {
	if cpu > 4095 {
		return errors.New("want a CPU number below 4096")
	}
	return nil
}
