package secret

import (
	"bytes"
	"errors"
	"testing"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func mustBox(t *testing.T, key []byte) *Box {
	t.Helper()
	box, err := New(key)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return box
}

func TestNewRejectsKeysOfTheWrongSize(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := New(make([]byte, n)); err == nil {
			t.Errorf("New accepted a %d-byte key", n)
		}
	}
}

func TestSealOpen(t *testing.T) {
	box := mustBox(t, testKey(1))
	tests := []struct {
		name      string
		plaintext []byte
		aad       []byte
	}{
		{"a short secret round-trips", []byte("sekret-123"), []byte("connector/abc/auth.token")},
		{"an empty secret round-trips", []byte{}, []byte("x")},
		{"a secret without aad round-trips", []byte("value"), nil},
		{"a large binary secret round-trips", bytes.Repeat([]byte{0, 1, 2, 255}, 4096), []byte("big")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealed := box.Seal(tt.plaintext, tt.aad)
			if len(tt.plaintext) >= 4 && bytes.Contains(sealed, tt.plaintext) {
				t.Fatal("sealed value contains the plaintext")
			}
			got, err := box.Open(sealed, tt.aad)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(got, tt.plaintext) {
				t.Fatalf("Open = %q, want %q", got, tt.plaintext)
			}
		})
	}
}

func TestSealUsesAFreshNonceEachTime(t *testing.T) {
	box := mustBox(t, testKey(1))
	a := box.Seal([]byte("same"), []byte("aad"))
	b := box.Seal([]byte("same"), []byte("aad"))
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same plaintext are identical")
	}
}

func TestOpenRejects(t *testing.T) {
	box := mustBox(t, testKey(1))
	aad := []byte("connector/abc/auth.token")
	sealed := box.Seal([]byte("sekret-123"), aad)
	flip := func(i int) []byte {
		c := bytes.Clone(sealed)
		c[i] ^= 0x01
		return c
	}
	tests := []struct {
		name   string
		box    *Box
		sealed []byte
		aad    []byte
	}{
		{"a flipped ciphertext byte is detected", box, flip(len(sealed) - 20), aad},
		{"a flipped tag byte is detected", box, flip(len(sealed) - 1), aad},
		{"a flipped nonce byte is detected", box, flip(1), aad},
		{"an unknown version byte is refused", box, flip(0), aad},
		{"a truncated value is refused", box, sealed[:10], aad},
		{"an empty value is refused", box, nil, aad},
		{"a different aad is refused", box, sealed, []byte("connector/abc/env/KEY")},
		{"a missing aad is refused", box, sealed, nil},
		{"a different key is refused", mustBox(t, testKey(2)), sealed, aad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.box.Open(tt.sealed, tt.aad)
			if !errors.Is(err, ErrDecrypt) {
				t.Fatalf("Open = %q, %v; want ErrDecrypt", got, err)
			}
			if bytes.Contains([]byte(err.Error()), []byte("sekret")) {
				t.Fatalf("error leaks the plaintext: %v", err)
			}
		})
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{"identical tokens are equal", "gh_abc123", "gh_abc123", true},
		{"two empty strings are equal", "", "", true},
		{"tokens differing in the last byte are not equal", "gh_abc123", "gh_abc124", false},
		{"a prefix is not equal to the whole", "gh_abc", "gh_abc123", false},
		{"an empty string is not equal to a token", "", "gh_abc123", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Equal(tt.a, tt.b); got != tt.want {
				t.Fatalf("Equal(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestHashToken(t *testing.T) {
	t.Run("the hash is the hex SHA-256 of the token", func(t *testing.T) {
		// printf abc | sha256sum
		const want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
		if got := HashToken("abc"); got != want {
			t.Fatalf("HashToken(abc) = %s, want %s", got, want)
		}
	})
	t.Run("different tokens hash differently", func(t *testing.T) {
		if HashToken("a") == HashToken("b") {
			t.Fatal("collision")
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	box, _ := New(testKey(1))
	pt, aad := []byte("Bearer sk-0123456789abcdef0123456789abcdef"), []byte("connector/0123456789abcdef/auth.token")
	b.ReportAllocs()
	for b.Loop() {
		box.Seal(pt, aad)
	}
}

func BenchmarkOpen(b *testing.B) {
	box, _ := New(testKey(1))
	aad := []byte("connector/0123456789abcdef/auth.token")
	sealed := box.Seal([]byte("Bearer sk-0123456789abcdef0123456789abcdef"), aad)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := box.Open(sealed, aad); err != nil {
			b.Fatal(err)
		}
	}
}
