// Go by Example, "Timers": the Go side of timers.cpp.
// Timings are Go by Example's divided by 10 (see README.md).
package main

import (
	"fmt"
	"time"
)

func main() {
	timer1 := time.NewTimer(200 * time.Millisecond)

	<-timer1.C
	fmt.Println("Timer 1 fired")

	timer2 := time.NewTimer(100 * time.Millisecond)
	go func() {
		<-timer2.C
		fmt.Println("Timer 2 fired")
	}()
	stop2 := timer2.Stop()
	if stop2 {
		fmt.Println("Timer 2 stopped")
	}

	time.Sleep(200 * time.Millisecond)
}
