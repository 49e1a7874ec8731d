package dictionary

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// Limits on an uploaded distribution archive. A MedDRA ASCII release is
// about 60 MB unpacked and WHODrug Global B3 a few hundred; the limits
// leave room for both and refuse archives built to exhaust the server
// (zip bombs): too many entries, too large unpacked, or compressed beyond
// any ratio text reaches.
const (
	MaxArchiveFiles    = 2000
	MaxArchiveFileSize = 1 << 30 // one file, unpacked
	MaxArchiveSize     = 2 << 30 // all files, unpacked
	maxCompression     = 200     // unpacked size / packed size of one file
)

// ErrBadArchive is wrapped by OpenZip's errors about the archive itself.
var ErrBadArchive = errors.New("bad archive")

// ArchiveError says what is wrong with an uploaded archive in a sentence.
type ArchiveError struct{ Msg string }

// Error returns the sentence.
func (e *ArchiveError) Error() string { return e.Msg }

// Unwrap lets errors.Is recognise ErrBadArchive.
func (e *ArchiveError) Unwrap() error { return ErrBadArchive }

// OpenZip opens a zip archive of a distribution, as the MSSO and the UMC
// ship them, as a file system that Parse and ImportFS read. It checks the
// archive before anything is unpacked: that it is a zip file at all, that
// its names stay inside it, and that its entry count and unpacked sizes are
// within the limits above. Reading beyond a size an entry declares fails,
// as archive/zip checks that. name is the uploaded file's name, for messages.
func OpenZip(r io.ReaderAt, size int64, name string) (fs.FS, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, &ArchiveError{fmt.Sprintf("The file %s is not a readable zip archive (%v); upload the .zip file of the distribution as downloaded.", name, err)}
	}
	if zr == nil {
		return nil, &ArchiveError{fmt.Sprintf("The file %s is not a readable zip archive; upload the .zip file of the distribution as downloaded.", name)}
	}
	if len(zr.File) > MaxArchiveFiles {
		return nil, &ArchiveError{fmt.Sprintf("The archive %s holds %d files; a distribution has far fewer (at most %d are accepted).", name, len(zr.File), MaxArchiveFiles)}
	}
	var total uint64
	for _, f := range zr.File {
		clean := path.Clean(strings.ReplaceAll(f.Name, `\`, "/"))
		if strings.HasPrefix(f.Name, "/") || clean == ".." || strings.HasPrefix(clean, "../") || !fs.ValidPath(strings.TrimSuffix(f.Name, "/")) {
			return nil, &ArchiveError{fmt.Sprintf("The archive %s holds a file named %q that points outside the archive; it was refused.", name, f.Name)}
		}
		if f.Flags&0x1 != 0 {
			return nil, &ArchiveError{fmt.Sprintf("The archive %s is password-protected (%s is encrypted); unpack it with the password your licence came with, zip the files again without a password and upload that.", name, f.Name)}
		}
		if f.UncompressedSize64 > MaxArchiveFileSize {
			return nil, &ArchiveError{fmt.Sprintf("In the archive %s, %s is %d MB unpacked, more than the %d MB accepted for one file.", name, f.Name, f.UncompressedSize64>>20, MaxArchiveFileSize>>20)}
		}
		if f.CompressedSize64 > 0 && f.UncompressedSize64/f.CompressedSize64 > maxCompression && f.UncompressedSize64 > 1<<20 {
			return nil, &ArchiveError{fmt.Sprintf("In the archive %s, %s is compressed more than %d times, which no dictionary file is; the archive was refused.", name, f.Name, maxCompression)}
		}
		total += f.UncompressedSize64
	}
	if total > MaxArchiveSize {
		return nil, &ArchiveError{fmt.Sprintf("The archive %s is %d MB unpacked, more than the %d MB accepted.", name, total>>20, uint64(MaxArchiveSize)>>20)}
	}
	return zr, nil
}
