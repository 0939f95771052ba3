package host

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrChecksum is wrapped when a plugin's executable does not match its
// configured SHA-256.
var ErrChecksum = errors.New("plugin checksum mismatch")

// fileSHA256 is the hex SHA-256 of the file at path.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// verify checks the file at path against want, naming both sums on a
// mismatch. It returns the file's digest for go-plugin to check again
// right before it executes the file.
func verify(path, want string) ([]byte, error) {
	got, err := fileSHA256(path)
	if err != nil {
		return nil, fmt.Errorf("read plugin executable: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return nil, fmt.Errorf("%w: %s has sha256 %s, the config expects %s; not started (update plugins.list[].sha256 only if you trust the new file)", ErrChecksum, path, got, want)
	}
	sum, _ := hex.DecodeString(got)
	return sum, nil
}
