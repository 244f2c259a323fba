// Go by Example, "Tickers": the Go side of tickers.cpp. Go by Example ticks
// every 500 ms for 1600 ms; here every 100 ms for 350 ms (three ticks, with
// 50 ms of slack on either side of the sleep's end).
package main

import (
	"fmt"
	"time"
)

func main() {
	ticker := time.NewTicker(100 * time.Millisecond)
	done := make(chan bool)

	go func() {
		for {
			select {
			case <-done:
				return
			case t := <-ticker.C:
				fmt.Println("Tick at", t)
			}
		}
	}()

	time.Sleep(350 * time.Millisecond)
	ticker.Stop()
	done <- true
	fmt.Println("Ticker stopped")
}
