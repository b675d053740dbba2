// Command pause is the sandbox ("pause") image of the e2e node (test/e2e/support/node.ts): the first process
// of every pod, holding its namespaces. It sleeps until SIGTERM or SIGINT, then exits 0, and reaps any child
// that is re-parented to it (it is PID 1 of the pod when the pod shares its process namespace).
// Static (CGO_ENABLED=0), no dependencies; scripts/e2e-node-tools.sh builds it.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for sig := range sigs {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var status syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
