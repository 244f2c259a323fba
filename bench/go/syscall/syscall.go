// Lab 05 benchmark, Go's side (bench/lab05_bench.cpp runs it): the cost of
// entering and leaving a system call the scheduler knows about, and the
// hand-off latency when the call blocks. Prints `figure value unit` lines.
//
//	overhead_ns     syscall.Syscall(SYS_GETPPID) minus syscall.RawSyscall
//	                (no entersyscall) per call, best of 5 runs
//	handoff_p50_us  on GOMAXPROCS=1: from a goroutine entering a blocking
//	handoff_p99_us  read(2) on a pipe until the goroutine queued behind it
//	                starts (sysmon's retake plus a thread wake-up)
package main

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"sort"
	"sync"
	"syscall"
	"time"
)

func perCall(n int, f func()) float64 {
	t0 := time.Now()
	for i := 0; i < n; i++ {
		f()
	}
	return float64(time.Since(t0).Nanoseconds()) / float64(n)
}

func main() {
	runtime.GOMAXPROCS(1)
	const n = 200000
	bare, wrapped := 1e18, 1e18
	for r := 0; r < 5; r++ {
		bare = math.Min(bare, perCall(n, func() { syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0) }))
		wrapped = math.Min(wrapped, perCall(n, func() { syscall.Syscall(syscall.SYS_GETPPID, 0, 0, 0) }))
	}
	fmt.Printf("bare_ns %.1f ns\n", bare)
	fmt.Printf("overhead_ns %.1f ns\n", wrapped-bare)

	const rounds = 300
	lat := make([]float64, 0, rounds)
	for i := 0; i < rounds; i++ {
		var p [2]int
		if err := syscall.Pipe(p[:]); err != nil { // blocking fds: not the netpoller
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		var t0, t1 time.Time
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { // B: queued behind A
			t1 = time.Now()
			syscall.Write(p[1], []byte{'x'})
			wg.Done()
		}()
		go func() { // A: runs first (runnext) and blocks
			var b [1]byte
			t0 = time.Now()
			syscall.Read(p[0], b[:])
			wg.Done()
		}()
		wg.Wait()
		syscall.Close(p[0])
		syscall.Close(p[1])
		lat = append(lat, float64(t1.Sub(t0).Nanoseconds())/1000)
	}
	sort.Float64s(lat)
	fmt.Printf("handoff_p50_us %.1f us\n", lat[len(lat)/2])
	fmt.Printf("handoff_p99_us %.1f us\n", lat[len(lat)*99/100])
}
