//go:build !unix

package localproc

import (
	"os"
	"syscall"
)

func ownProcessGroup() *syscall.SysProcAttr { return nil }

func terminate(p *os.Process) { p.Kill() }

func alive(pid int) bool { return false }

func isInstance(pid int, basePath string) bool { return false }

func sigterm(pid int) {}
func sigkill(pid int) {}
