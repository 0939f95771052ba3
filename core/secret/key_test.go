package secret

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseKey(t *testing.T) {
	key := make([]byte, KeySize)
	for i := range key {
		key[i] = byte(i*7 + 250) // wraps, so both base64 alphabets differ
	}
	valid := []struct {
		name  string
		input string
	}{
		{"64 hex characters are accepted", hex.EncodeToString(key)},
		{"upper-case hex is accepted", strings.ToUpper(hex.EncodeToString(key))},
		{"padded standard base64 is accepted", base64.StdEncoding.EncodeToString(key)},
		{"unpadded standard base64 is accepted", base64.RawStdEncoding.EncodeToString(key)},
		{"padded URL-safe base64 is accepted", base64.URLEncoding.EncodeToString(key)},
		{"unpadded URL-safe base64 is accepted", base64.RawURLEncoding.EncodeToString(key)},
		{"surrounding whitespace is ignored", "  " + base64.StdEncoding.EncodeToString(key) + "\n"},
	}
	for _, tt := range valid {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKey(tt.input)
			if err != nil {
				t.Fatalf("ParseKey: %v", err)
			}
			if !bytes.Equal(got, key) {
				t.Fatalf("ParseKey decoded the wrong bytes")
			}
		})
	}

	invalid := []struct {
		name  string
		input string
	}{
		{"an empty key is refused", ""},
		{"a 16-byte base64 key is refused", base64.StdEncoding.EncodeToString(key[:16])},
		{"a 48-byte base64 key is refused", base64.StdEncoding.EncodeToString(append(key, key[:16]...))},
		{"62 hex characters are refused", hex.EncodeToString(key)[:62]},
		{"a passphrase is refused", "correct horse battery staple!"},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseKey(tt.input)
			if err == nil {
				t.Fatal("ParseKey accepted it")
			}
			if tt.input != "" && strings.Contains(err.Error(), tt.input) {
				t.Fatalf("error echoes the key: %v", err)
			}
		})
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	t.Run("a key from the environment wins and writes no file", func(t *testing.T) {
		dir := t.TempDir()
		want := testKey(9)
		got, err := LoadOrCreateKey(dir, base64.StdEncoding.EncodeToString(want))
		if err != nil {
			t.Fatalf("LoadOrCreateKey: %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Fatal("wrong key")
		}
		if _, err := os.Stat(filepath.Join(dir, KeyFile)); !os.IsNotExist(err) {
			t.Fatalf("key file exists or stat failed: %v", err)
		}
	})

	t.Run("a malformed key in the environment is a clear error", func(t *testing.T) {
		_, err := LoadOrCreateKey(t.TempDir(), "too-short")
		if err == nil || !strings.Contains(err.Error(), "environment") {
			t.Fatalf("err = %v, want an error naming the environment", err)
		}
	})

	t.Run("a missing key file is generated with mode 0600 in a 0700 dir", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		key, err := LoadOrCreateKey(dir, "")
		if err != nil {
			t.Fatalf("LoadOrCreateKey: %v", err)
		}
		if len(key) != KeySize {
			t.Fatalf("key is %d bytes", len(key))
		}
		assertMode(t, filepath.Join(dir, KeyFile), 0o600)
		assertMode(t, dir, 0o700)
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Fatalf("data dir holds %d entries, want only the key file", len(entries))
		}
	})

	t.Run("a generated key is read back on the next start", func(t *testing.T) {
		dir := t.TempDir()
		first, err := LoadOrCreateKey(dir, "")
		if err != nil {
			t.Fatal(err)
		}
		second, err := LoadOrCreateKey(dir, "")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, second) {
			t.Fatal("the key changed between starts")
		}
	})

	t.Run("two generated keys differ", func(t *testing.T) {
		a, _ := LoadOrCreateKey(t.TempDir(), "")
		b, _ := LoadOrCreateKey(t.TempDir(), "")
		if bytes.Equal(a, b) {
			t.Fatal("two fresh data dirs got the same key")
		}
	})

	t.Run("a corrupt key file is an error and is left alone", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, KeyFile)
		if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadOrCreateKey(dir, ""); err == nil {
			t.Fatal("LoadOrCreateKey accepted a corrupt key file")
		}
		data, _ := os.ReadFile(path)
		if string(data) != "garbage" {
			t.Fatal("the corrupt key file was overwritten")
		}
	})
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Fatalf("%s has mode %o, want %o", path, got, want)
	}
}
