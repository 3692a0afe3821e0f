package affinity

import (
	"errors"
	"runtime"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// TestIsolate pins a locked thread to one CPU and checks that every other
// thread of the process, those running before and those the runtime starts
// afterwards, may no longer run there.
func TestIsolate(t *testing.T) {
	var all unix.CPUSet
	if err := unix.SchedGetaffinity(0, &all); err != nil {
		t.Fatal(err)
	}
	if all.Count() < 2 {
		t.Skipf("the process may run on %d CPU: nothing to isolate from", all.Count())
	}
	cpu := -1
	for c := len(all)*64 - 1; c >= 0; c-- {
		if all.IsSet(c) {
			cpu = c
			break
		}
	}
	defer restore(t, &all)

	type pinned struct {
		tid   int
		moved int
		err   error
	}
	got := make(chan pinned)
	release := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		n, err := Isolate(cpu)
		got <- pinned{unix.Gettid(), n, err}
		<-release
		// Threads started from the pinned one come from the template
		// thread, off the CPU.
		checkGoroutinesOff(t, 4, cpu)
		var mine unix.CPUSet
		if err := unix.SchedGetaffinity(0, &mine); err != nil {
			t.Error(err)
		} else if mine.Count() != 1 || !mine.IsSet(cpu) {
			t.Errorf("pinned thread's CPUs: %d, want only %d", mine.Count(), cpu)
		}
		got <- pinned{}
	}()
	p := <-got
	if p.err != nil {
		t.Fatal(p.err)
	}
	if p.moved == 0 {
		t.Fatal("no other thread moved")
	}
	tids, err := threads()
	if err != nil {
		t.Fatal(err)
	}
	for _, tid := range tids {
		if tid != p.tid {
			checkOff(t, tid, cpu)
		}
	}
	// New threads started by the others.
	checkGoroutinesOff(t, 8, cpu)
	close(release)
	<-got
}

// TestIsolateOnlyCPU: with one CPU allowed, the thread is pinned and the
// others are left where they are, said by ErrNoOtherCPU.
func TestIsolateOnlyCPU(t *testing.T) {
	var all unix.CPUSet
	if err := unix.SchedGetaffinity(0, &all); err != nil {
		t.Fatal(err)
	}
	defer restore(t, &all)
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		cpu := -1
		for c := 0; c < len(all)*64; c++ {
			if all.IsSet(c) {
				cpu = c
				break
			}
		}
		var one unix.CPUSet
		one.Set(cpu)
		if err := unix.SchedSetaffinity(0, &one); err != nil {
			done <- err
			return
		}
		// This thread's own mask is what Isolate reads.
		_, err := Isolate(cpu)
		if !errors.Is(err, ErrNoOtherCPU) {
			done <- err
			return
		}
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatalf("Isolate on the only CPU: %v, want ErrNoOtherCPU", err)
	}
}

// checkGoroutinesOff checks, from n goroutines each locked to the thread
// it runs on (threads the runtime may start for them), that none may run
// on cpu.
func checkGoroutinesOff(t *testing.T, n, cpu int) {
	t.Helper()
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			checkOff(t, 0, cpu)
			runtime.UnlockOSThread()
		}()
	}
	wg.Wait()
}

func checkOff(t *testing.T, tid, cpu int) {
	t.Helper()
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(tid, &set); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return
		}
		t.Error(err)
		return
	}
	if set.IsSet(cpu) {
		t.Errorf("thread %d may still run on CPU %d", tid, cpu)
	}
}

// restore gives every thread of the test process its CPUs back.
func restore(t *testing.T, all *unix.CPUSet) {
	tids, err := threads()
	if err != nil {
		t.Error(err)
		return
	}
	for _, tid := range tids {
		_ = unix.SchedSetaffinity(tid, all)
	}
}

// TestPlace puts a locked thread on one CPU at nice 7, and Isolate of
// another CPU keeps it there.
func TestPlace(t *testing.T) {
	var all unix.CPUSet
	if err := unix.SchedGetaffinity(0, &all); err != nil {
		t.Fatal(err)
	}
	defer restore(t, &all)
	var cpus []int
	for c := 0; c < len(all)*64; c++ {
		if all.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	type placed struct {
		tid int
		err error
	}
	got := make(chan placed)
	hold := make(chan struct{})
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine, nice and all
		err := Place(cpus[:1], 7)
		got <- placed{unix.Gettid(), err}
		<-hold
	}()
	p := <-got
	defer close(hold)
	if p.err != nil {
		t.Fatal(p.err)
	}
	nice, err := unix.Getpriority(unix.PRIO_PROCESS, p.tid)
	if err != nil {
		t.Fatal(err)
	}
	// getpriority's system call returns 20 - nice.
	if 20-nice != 7 {
		t.Errorf("placed thread's nice: %d, want 7", 20-nice)
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(p.tid, &set); err != nil {
		t.Fatal(err)
	}
	if set.Count() != 1 || !set.IsSet(cpus[0]) {
		t.Errorf("placed thread's CPUs: %d of them, want only %d", set.Count(), cpus[0])
	}
	if len(cpus) < 2 {
		return
	}
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		_, err := Isolate(cpus[1])
		done <- err
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := unix.SchedGetaffinity(p.tid, &set); err != nil {
		t.Fatal(err)
	}
	if set.Count() != 1 || !set.IsSet(cpus[0]) {
		t.Errorf("after Isolate(%d), the placed thread has %d CPUs, want only %d", cpus[1], set.Count(), cpus[0])
	}
}
