//go:build unix

package console

import (
	"os"
	"syscall"
)

// processGone reports whether no process with this id runs on this host:
// a console that crashed leaves its heartbeat behind, and the next console
// on the same host need not wait for it to go stale.
func processGone(pid int) bool {
	if pid <= 0 || pid == os.Getpid() {
		return false
	}
	return syscall.Kill(pid, 0) == syscall.ESRCH
}
