package localproc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/cohort-clinical/cohort/internal/console"
)

// maxLog is the size at which an instance's log is set aside (as
// instance.log.1) when the process next starts.
const maxLog = 8 << 20

func openLog(spec console.Spec) (*os.File, error) {
	if err := os.MkdirAll(spec.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("create the directory of %s: %w", spec.Key, err)
	}
	if fi, err := os.Stat(spec.LogFile()); err == nil && fi.Size() > maxLog {
		os.Rename(spec.LogFile(), spec.LogFile()+".1")
	}
	f, err := os.OpenFile(spec.LogFile(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open the log of %s: %w", spec.Key, err)
	}
	return f, nil
}

// appendLog adds one of the console's own lines to an instance's log, so
// the log tells the whole story: starts, exits, restarts.
func appendLog(spec console.Spec, line string) {
	f, err := openLog(spec)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s %s\n", time.Now().UTC().Format(time.RFC3339), line)
}

// Logs returns the last lines of the instance's log.
func (r *Runtime) Logs(spec console.Spec, lines int) ([]string, error) {
	f, err := os.Open(spec.LogFile())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the log of %s: %w", spec.Key, err)
	}
	defer f.Close()
	const window = 64 << 10
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	off := max(fi.Size()-window, 0)
	buf := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read the log of %s: %w", spec.Key, err)
	}
	if off > 0 {
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[i+1:]
		}
	}
	all := strings.Split(strings.TrimRight(string(buf), "\n"), "\n")
	if len(all) == 1 && all[0] == "" {
		return nil, nil
	}
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return all, nil
}
