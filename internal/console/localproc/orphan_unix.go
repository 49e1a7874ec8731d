//go:build unix

package localproc

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// ownProcessGroup keeps a terminal's Ctrl+C from reaching instances
// directly: the console stops them itself, gracefully.
func ownProcessGroup() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// terminate asks a process to finish its requests and exit.
func terminate(p *os.Process) { p.Signal(syscall.SIGTERM) }

// alive reports whether pid is a live process (not a zombie).
func alive(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // no /proc: trust the signal
	}
	// The state follows the command name in parentheses.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

// isInstance reports whether pid runs `cohort instance serve` for the given
// base path. Without /proc it cannot tell and says no, so a console never
// signals a process it cannot identify.
func isInstance(pid int, basePath string) bool {
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	args := strings.Split(string(cmdline), "\x00")
	serve, path := false, false
	for i, a := range args {
		if a == "instance" && i+1 < len(args) && args[i+1] == "serve" {
			serve = true
		}
		if a == "--base-path" && i+1 < len(args) && args[i+1] == basePath {
			path = true
		}
	}
	return serve && path
}

func signal(pid int, sig syscall.Signal) { syscall.Kill(pid, sig) }

func sigterm(pid int) { signal(pid, syscall.SIGTERM) }
func sigkill(pid int) { signal(pid, syscall.SIGKILL) }
