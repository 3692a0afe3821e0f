package config

import (
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestCPU checks feed.cpu against the CPUs this process may run on.
func TestCPU(t *testing.T) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Skipf("sched_getaffinity: %v", err)
	}
	allowed, refused := -1, -1
	for i := 0; i < len(set)*64 && (allowed < 0 || refused < 0); i++ {
		if set.IsSet(i) {
			if allowed < 0 {
				allowed = i
			}
		} else if refused < 0 {
			refused = i
		}
	}
	t.Logf("allowed CPUs %s: trying %d and %d", cpuList(&set), allowed, refused)
	if _, err := Parse(strings.NewReader(minimal + "  cpu: " + strconv.Itoa(allowed) + "\n")); err != nil {
		t.Errorf("cpu %d (allowed): %v", allowed, err)
	}
	_, err := Parse(strings.NewReader(minimal + "  cpu: " + strconv.Itoa(refused) + "\n"))
	if err == nil || !strings.Contains(err.Error(), "feed.cpu") || !strings.Contains(err.Error(), cpuList(&set)) {
		t.Errorf("cpu %d (not allowed): error %v; want one naming feed.cpu and the allowed CPUs", refused, err)
	}
}

func TestCPUList(t *testing.T) {
	for _, c := range []struct {
		cpus []int
		want string
	}{{nil, ""}, {[]int{0}, "0"}, {[]int{0, 1}, "0-1"}, {[]int{0, 1, 2, 3, 6, 8, 9}, "0-3,6,8-9"}, {[]int{1023}, "1023"}} {
		var set unix.CPUSet
		for _, i := range c.cpus {
			set.Set(i)
		}
		if got := cpuList(&set); got != c.want {
			t.Errorf("cpuList(%v) = %q, want %q", c.cpus, got, c.want)
		}
	}
}
