package config

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// checkCPU checks that the process may run on cpu: it is in the
// affinity mask (sched_getaffinity), which excludes both CPUs the machine
// lacks and CPUs a cgroup, taskset or isolcpus setup keeps it off.
// Pinning to any other fails.
func checkCPU(cpu int) error {
	if cpu < 0 {
		return fmt.Errorf("want a CPU number")
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return fmt.Errorf("reading the CPUs allowed (sched_getaffinity): %v", err)
	}
	if cpu < len(set)*64 && set.IsSet(cpu) {
		return nil
	}
	return fmt.Errorf("not a CPU this process may run on (allowed: %s)", cpuList(&set))
}

// cpuList formats a CPU set as ranges, e.g. "0-3,6".
func cpuList(set *unix.CPUSet) string {
	s := ""
	n := len(set) * 64
	for i := 0; i < n; i++ {
		if !set.IsSet(i) {
			continue
		}
		j := i
		for j+1 < n && set.IsSet(j+1) {
			j++
		}
		if s != "" {
			s += ","
		}
		if j > i {
			s += fmt.Sprintf("%d-%d", i, j)
		} else {
			s += fmt.Sprint(i)
		}
		i = j
	}
	return s
}
