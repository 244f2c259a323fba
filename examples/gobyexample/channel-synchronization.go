// Go by Example, "Channel Synchronization": the Go side of
// channel-synchronization.cpp. Timings are Go by Example's divided by 10.
package main

import (
	"fmt"
	"time"
)

func worker(done chan bool) {
	fmt.Print("working...")
	time.Sleep(100 * time.Millisecond)
	fmt.Println("done")

	done <- true
}

func main() {
	done := make(chan bool, 1)
	go worker(done)

	<-done
}
