// Package affinity gives one OS thread a CPU of its own inside the process:
// the feed's writer, which receives, arbitrates and applies every message,
// shares its core with nothing else of tickwire's (event loops, the
// collector's workers, timers).
package affinity

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Isolate pins the calling thread to cpu and takes cpu out of the mask of
// every other thread of the process (a thread that had no other CPU gets
// the rest of those the process may run on). The caller must have
// locked its goroutine to the thread (runtime.LockOSThread) for as long as
// it wants the CPU.
//
// Threads the runtime starts later inherit the mask of the thread that
// starts them: the other threads are now off cpu, and a locked thread
// has the runtime's template thread (started by LockOSThread, so before
// this call) start new ones for it. The isolation therefore holds for the
// life of the process, as far as tickwire's own threads go; other processes
// are kept off the CPU by isolcpus or cpusets (the README's tuning).
//
// It returns the number of other threads moved. When the process has no
// other CPU, the caller's thread is still pinned and ErrNoOtherCPU says
// that nothing was moved.
func Isolate(cpu int) (int, error) {
	var all unix.CPUSet
	if err := unix.SchedGetaffinity(0, &all); err != nil {
		return 0, fmt.Errorf("affinity: reading the CPUs allowed: %w", err)
	}
	var self unix.CPUSet
	self.Set(cpu)
	rest := all
	rest.Clear(cpu)
	if rest.Count() == 0 {
		if err := unix.SchedSetaffinity(0, &self); err != nil {
			return 0, fmt.Errorf("affinity: pinning to CPU %d: %w", cpu, err)
		}
		return 0, ErrNoOtherCPU
	}
	// Take the CPU out of every other thread's mask, keeping the rest of
	// it (event loops placed on CPUs of their own stay there); a thread
	// whose mask held that CPU alone gets the process's other CPUs. First
	// the others, so the pinned thread is never the only one left on the
	// rest; twice, for threads started while the first pass ran.
	me := unix.Gettid()
	moved := map[int]bool{}
	for range 2 {
		tids, err := threads()
		if err != nil {
			return len(moved), err
		}
		for _, tid := range tids {
			if tid == me || moved[tid] {
				continue
			}
			var set unix.CPUSet
			if err := unix.SchedGetaffinity(tid, &set); err != nil {
				if errors.Is(err, unix.ESRCH) {
					continue // the thread ended
				}
				return len(moved), fmt.Errorf("affinity: reading thread %d's CPUs: %w", tid, err)
			}
			set.Clear(cpu)
			if set.Count() == 0 {
				set = rest
			}
			if err := unix.SchedSetaffinity(tid, &set); err != nil {
				if errors.Is(err, unix.ESRCH) {
					continue
				}
				return len(moved), fmt.Errorf("affinity: moving thread %d off CPU %d: %w", tid, cpu, err)
			}
			moved[tid] = true
		}
	}
	if err := unix.SchedSetaffinity(0, &self); err != nil {
		return len(moved), fmt.Errorf("affinity: pinning to CPU %d: %w", cpu, err)
	}
	return len(moved), nil
}

// Place puts the calling thread, which the caller has locked to its
// goroutine, on cpus (none: where it is) at niceness nice (0: as it is).
// A nice above the process's puts the thread behind the feed's when they
// share a CPU; raising it needs no privilege, lowering it below the
// process's does.
func Place(cpus []int, nice int) error {
	if len(cpus) > 0 {
		var set unix.CPUSet
		for _, c := range cpus {
			set.Set(c)
		}
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			return fmt.Errorf("affinity: placing on CPUs %v: %w", cpus, err)
		}
	}
	if nice != 0 {
		// On Linux, PRIO_PROCESS with a thread's id sets that thread's.
		if err := unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), nice); err != nil {
			return fmt.Errorf("affinity: nice %d: %w", nice, err)
		}
	}
	return nil
}

// threads returns the ids of the process's threads.
func threads() ([]int, error) {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, fmt.Errorf("affinity: listing the threads: %w", err)
	}
	tids := make([]int, 0, len(ents))
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}
