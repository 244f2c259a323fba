// gobench: the Go side of gort's side-by-side benchmarks (bench/).
//
// Each run measures ONE figure, named on the command line, in a fresh process
// (so a 1M-goroutine memory figure is never polluted by an earlier one) and
// prints one line "name value unit". The same figures, with the same sizes,
// exist in bench_gort.cpp and bench_fiber.cpp; bench_driver runs the three
// alternately and compares medians. GOMAXPROCS is set from the figure's
// suffix (_1p / _2p), not from the environment.
//
// Built by CMake with `go build` (GO111MODULE=off, no dependencies) into the
// build directory only; nothing here is part of the runtime.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Sizes shared with the C++ implementations (keep in sync).
const (
	yieldRounds    = 1000000 // per goroutine; two goroutines
	pingPongRounds = 500000
	spawnCount     = 1000000
	skynetSize     = 1000000
	skynetDiv      = 10
	blockedCount   = 1000000
)

func benchYield() float64 {
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			for r := 0; r < yieldRounds; r++ {
				runtime.Gosched()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	return float64(time.Since(start).Nanoseconds()) / float64(2*yieldRounds)
}

func benchPingPong() float64 {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
		close(pong)
	}()
	start := time.Now()
	for r := 0; r < pingPongRounds; r++ {
		ping <- r
		if v := <-pong; v != r+1 {
			panic("ping-pong: wrong value")
		}
	}
	elapsed := time.Since(start)
	close(ping)
	return float64(elapsed.Nanoseconds()) / pingPongRounds
}

// Chained creation: each goroutine starts its successor and exits, so at
// most two exist at a time and every one is created, run and destroyed.
func benchSpawn() float64 {
	done := make(chan struct{})
	var link func(left int)
	link = func(left int) {
		if left == 0 {
			close(done)
			return
		}
		go link(left - 1)
	}
	start := time.Now()
	go link(spawnCount)
	<-done
	return float64(time.Since(start).Nanoseconds()) / spawnCount
}

func skynet(out chan<- int64, num, size, div int64) {
	if size == 1 {
		out <- num
		return
	}
	sub := make(chan int64)
	for i := int64(0); i < div; i++ {
		go skynet(sub, num+i*(size/div), size/div, div)
	}
	var sum int64
	for i := int64(0); i < div; i++ {
		sum += <-sub
	}
	out <- sum
}

func benchSkynet() float64 {
	out := make(chan int64)
	start := time.Now()
	go skynet(out, 0, skynetSize, skynetDiv)
	sum := <-out
	elapsed := time.Since(start)
	if want := int64(skynetSize) * (skynetSize - 1) / 2; sum != want {
		fmt.Fprintf(os.Stderr, "skynet: sum %d, want %d\n", sum, want)
		os.Exit(1)
	}
	return float64(elapsed.Microseconds()) / 1000.0
}

const (
	fibN      = 35
	fibCutoff = 20
)

func fibSeq(n int64) int64 {
	if n < 2 {
		return n
	}
	return fibSeq(n-1) + fibSeq(n-2)
}

// fibFork is fork-join fib: a goroutine per call above the cutoff.
func fibFork(n int64) int64 {
	if n < fibCutoff {
		return fibSeq(n)
	}
	var a int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		a = fibFork(n - 1)
		wg.Done()
	}()
	b := fibFork(n - 2)
	wg.Wait()
	return a + b
}

func benchFib() float64 {
	start := time.Now()
	f := fibFork(fibN)
	elapsed := time.Since(start)
	if f != 9227465 {
		fmt.Fprintf(os.Stderr, "fib: %d, want 9227465\n", f)
		os.Exit(1)
	}
	return float64(elapsed.Microseconds()) / 1000.0
}

func rssBytes() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		panic(err)
	}
	fields := strings.Fields(string(data))
	pages, _ := strconv.ParseInt(fields[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func benchBlocked() float64 {
	gate := make(chan struct{})
	var started, finished sync.WaitGroup
	started.Add(blockedCount)
	finished.Add(blockedCount)
	runtime.GC()
	before := rssBytes()
	for i := 0; i < blockedCount; i++ {
		go func() {
			started.Done()
			<-gate
			finished.Done()
		}()
	}
	started.Wait()
	time.Sleep(20 * time.Millisecond) // let the last few reach the receive
	after := rssBytes()
	close(gate)
	finished.Wait()
	return float64(after-before) / blockedCount / 1024.0
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gort_bench_go FIGURE (yield_1p pingpong_1p pingpong_2p spawn_1p skynet_1p skynet_2p mem_blocked_1m fib_1p fib_2p)")
		os.Exit(2)
	}
	name := os.Args[1]
	procs := runtime.NumCPU()
	if strings.HasSuffix(name, "_1p") {
		procs = 1
	} else if strings.HasSuffix(name, "_2p") {
		procs = 2
	}
	runtime.GOMAXPROCS(procs)
	var value float64
	unit := "ns"
	switch name {
	case "yield_1p":
		value = benchYield()
	case "pingpong_1p", "pingpong_2p":
		value = benchPingPong()
	case "spawn_1p":
		value = benchSpawn()
	case "skynet_1p", "skynet_2p":
		value, unit = benchSkynet(), "ms"
	case "mem_blocked_1m":
		value, unit = benchBlocked(), "KiB"
	case "fib_1p", "fib_2p":
		value, unit = benchFib(), "ms"
	default:
		fmt.Fprintf(os.Stderr, "gort_bench_go: unknown figure %q\n", name)
		os.Exit(2)
	}
	fmt.Printf("%s %.2f %s\n", name, value, unit)
}
