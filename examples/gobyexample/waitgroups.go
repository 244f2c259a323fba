// Go by Example, "WaitGroups": the Go side of waitgroups.cpp.
// Timings are Go by Example's divided by 10 (see README.md).
package main

import (
	"fmt"
	"sync"
	"time"
)

func worker(id int) {
	fmt.Printf("Worker %d starting\n", id)

	time.Sleep(100 * time.Millisecond)
	fmt.Printf("Worker %d done\n", id)
}

func main() {
	var wg sync.WaitGroup

	for i := 1; i <= 5; i++ {
		wg.Add(1)
		i := i // before Go 1.22 each closure needs its own copy
		go func() {
			defer wg.Done()
			worker(i)
		}()
	}

	wg.Wait()
}
