// HTTP/1.1 "hello" server in Go's net/http, the counterpart of gort's
// demos/demo_http.cpp for measuring both under wrk by hand (bench/README.md):
//
//	GOMAXPROCS=1 taskset -c 0 ./hello 18082
//
// Listens on 127.0.0.1 only.
package main

import (
	"net/http"
	"os"
)

func main() {
	port := "8081"
	if len(os.Args) > 1 {
		port = os.Args[1]
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("Hello, World!"))
	})
	http.ListenAndServe("127.0.0.1:"+port, nil)
}
