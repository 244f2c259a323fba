// Go by Example, "Goroutines": the Go side of examples/gobyexample/goroutines.cpp.
// Timings are Go by Example's divided by 10 (see README.md).
package main

import (
	"fmt"
	"time"
)

func f(from string) {
	for i := 0; i < 3; i++ {
		fmt.Println(from, ":", i)
	}
}

func main() {
	f("direct")

	go f("goroutine")

	go func(msg string) {
		fmt.Println(msg)
	}("going")

	time.Sleep(100 * time.Millisecond)
	fmt.Println("done")
}
