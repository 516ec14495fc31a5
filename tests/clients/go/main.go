// tests/clients/go: the Go client programs of the client suite (built once by
// tests/clients/setup into bin/goclients).
//
//	goclients go-redis standalone|cluster
//	goclients rueidis standalone|cluster|cache
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: goclients go-redis|rueidis MODE")
		os.Exit(2)
	}
	lib, mode := os.Args[1], os.Args[2]
	switch lib {
	case "go-redis":
		runSuite(func(s settings) adapter { return &goRedis{s: s, cluster: mode == "cluster"} })
	case "rueidis":
		runSuite(func(s settings) adapter { return &rueidisApp{s: s, mode: mode} })
	default:
		fmt.Fprintln(os.Stderr, "unknown library", lib)
		os.Exit(2)
	}
}
