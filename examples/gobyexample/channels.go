// Go by Example, "Channels": the Go side of examples/gobyexample/channels.cpp.
package main

import "fmt"

func main() {
	messages := make(chan string)

	go func() { messages <- "ping" }()

	msg := <-messages
	fmt.Println(msg)
}
