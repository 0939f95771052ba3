package secret

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeyFile is the name of the generated key inside the data dir.
const KeyFile = "secret.key"

// LoadOrCreateKey returns the key that seals secrets at rest. A non-empty
// fromEnv (the value of GATEHOUSE_SECRET_KEY) wins and is parsed by ParseKey.
// Otherwise the key is read from <dataDir>/secret.key, and when that file does
// not exist a new random key is written there with mode 0600, creating
// dataDir with mode 0700 if needed. An existing but unreadable or malformed
// key file is an error, never silently replaced: replacing it would make every
// stored secret undecryptable.
func LoadOrCreateKey(dataDir, fromEnv string) ([]byte, error) {
	if fromEnv != "" {
		key, err := ParseKey(fromEnv)
		if err != nil {
			return nil, fmt.Errorf("secret key from environment: %w", err)
		}
		return key, nil
	}
	path := filepath.Join(dataDir, KeyFile)
	key, err := readKeyFile(path)
	if err == nil {
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir for secret key: %w", err)
	}
	key = make([]byte, KeySize)
	_, _ = rand.Read(key) // never fails since Go 1.24
	created, err := writeKeyFile(path, key)
	if err != nil {
		return nil, err
	}
	if !created {
		// Another process created the key first; use theirs.
		return readKeyFile(path)
	}
	return key, nil
}

// ParseKey decodes a KeySize-byte key given as 64 hex characters or as
// standard or URL-safe base64, padded or not. The error never echoes the
// input, which may be a real key with a typo.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*KeySize {
		if key, err := hex.DecodeString(s); err == nil {
			return key, nil
		}
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		key, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("key decodes to %d bytes, want %d; generate one with `openssl rand -base64 %d`",
				len(key), KeySize, KeySize)
		}
		return key, nil
	}
	return nil, fmt.Errorf("key of %d characters is neither 64 hex characters nor base64 of %d bytes; generate one with `openssl rand -base64 %d`",
		len(s), KeySize, KeySize)
}

func readKeyFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read secret key: %w", err)
	}
	key, err := ParseKey(string(data))
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, err)
	}
	return key, nil
}

// writeKeyFile writes the key to a temporary file and links it into place,
// so that the key file appears whole or not at all and an existing one is
// never overwritten. It reports false when path already existed.
func writeKeyFile(path string, key []byte) (bool, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret.key-*")
	if err != nil {
		return false, fmt.Errorf("write secret key: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp already uses 0600; Chmod documents and guarantees it.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return false, fmt.Errorf("write secret key: %w", err)
	}
	if _, err := tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		tmp.Close()
		return false, fmt.Errorf("write secret key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return false, fmt.Errorf("write secret key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("write secret key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, fmt.Errorf("write secret key: %w", err)
	}
	return true, syncDir(filepath.Dir(path))
}

// syncDir makes the new directory entry durable, so a crash right after the
// first start cannot lose the key while keeping data sealed with it.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync data dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync data dir: %w", err)
	}
	return nil
}
