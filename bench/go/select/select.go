// Go side of gort's select and timer benchmarks (bench/select_bench.cpp has
// the same figures, sizes and output). One figure per process, named on the
// command line; GOMAXPROCS from its suffix (_1p, _2p; else all CPUs).
package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

const (
	selectReady   = 2000000
	selectPark    = 500000
	timers        = 1000000
	timeoutRounds = 300000
)

func benchSelectReady() float64 {
	a := make(chan int64, selectReady)
	b := make(chan int64)
	for i := int64(0); i < selectReady; i++ {
		a <- i
	}
	var sum int64
	start := time.Now()
	for i := 0; i < selectReady; i++ {
		select {
		case v := <-a:
			sum += v
		case <-b:
		}
	}
	ns := float64(time.Since(start).Nanoseconds())
	if sum != selectReady*(selectReady-1)/2 {
		panic("select_ready sum")
	}
	return ns / selectReady
}

func benchSelectPark() float64 {
	ping, pong, quit := make(chan int64), make(chan int64), make(chan int64)
	go func() {
		for {
			select {
			case v := <-ping:
				pong <- v + 1
			case <-quit:
				return
			}
		}
	}()
	start := time.Now()
	for r := int64(0); r < selectPark; r++ {
		ping <- r
		if <-pong != r+1 {
			panic("select_park value")
		}
	}
	ns := float64(time.Since(start).Nanoseconds())
	close(quit)
	return ns / selectPark
}

func benchTimers() float64 {
	ts := make([]*time.Timer, 0, timers)
	start := time.Now()
	x := uint64(88172645463325252)
	for i := 0; i < timers; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		ts = append(ts, time.NewTimer(time.Duration(x%50000)*time.Microsecond))
	}
	for _, t := range ts {
		<-t.C
	}
	return float64(time.Since(start).Nanoseconds()) / 1e6
}

func benchTimeoutPingPong() float64 {
	ping, pong := make(chan int64), make(chan int64)
	go func() {
		for r := 0; r < timeoutRounds; r++ {
			t := time.NewTimer(time.Second)
			got := int64(-1)
			select {
			case v := <-ping:
				got = v
			case <-t.C:
			}
			t.Stop()
			pong <- got + 1
		}
	}()
	start := time.Now()
	for r := int64(0); r < timeoutRounds; r++ {
		ping <- r
		if <-pong != r+1 {
			panic("timeout_pingpong value")
		}
	}
	return float64(time.Since(start).Nanoseconds()) / timeoutRounds
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gort_bench_go_select FIGURE")
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
	case "select_ready_1p":
		value = benchSelectReady()
	case "select_park_1p", "select_park_2p":
		value = benchSelectPark()
	case "timers_1m":
		value, unit = benchTimers(), "ms"
	case "timeout_pingpong_1p":
		value = benchTimeoutPingPong()
	default:
		fmt.Fprintf(os.Stderr, "gort_bench_go_select: unknown figure %q\n", name)
		os.Exit(2)
	}
	fmt.Printf("%s %.2f %s\n", name, value, unit)
}
