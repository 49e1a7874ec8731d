//go:build unix

package release

import (
	"os"
	"syscall"
)

// fileStamp identifies a file's content without reading it: any write,
// truncation, chmod or replacement changes the inode's change time (which
// no user-space call can set back) or the inode itself.
type fileStamp struct {
	dev, ino   uint64
	size       int64
	ctimeNsec  int64
	mtimeNsec  int64
	okForStamp bool
}

func stampOf(fi os.FileInfo) fileStamp {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileStamp{}
	}
	return fileStamp{dev: uint64(st.Dev), ino: uint64(st.Ino), size: fi.Size(), ctimeNsec: st.Ctim.Nano(), mtimeNsec: fi.ModTime().UnixNano(), okForStamp: true}
}
