// Package secret protects secrets at rest: it seals values with AES-256-GCM
// under one key loaded from the environment or the data dir, and offers the
// constant-time comparison and token hashing that authentication needs.
//
// A sealed value is laid out as
//
//	version (1 byte) | nonce (12 bytes) | ciphertext | GCM tag (16 bytes)
//
// The version byte lets the format change without guessing; it is also bound
// into the authenticated data, so it cannot be altered undetected.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
)

// KeySize is the length in bytes of the key that New accepts (AES-256).
const KeySize = 32

// formatV1 marks values sealed with AES-256-GCM and a random 96-bit nonce.
const formatV1 byte = 1

// ErrDecrypt is wrapped by every Open failure: a wrong key, a wrong aad,
// tampered or truncated data, or an unknown format version. Callers cannot
// and need not tell these apart; all mean the value is unusable.
var ErrDecrypt = errors.New("cannot decrypt secret")

// Box seals and opens secrets with one key. It is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
}

// New returns a Box for a KeySize-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secret key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	// The random-nonce GCM prepends its nonce to the ciphertext; random nonces
	// stay safe below 2^32 seals per key, far above what a gateway stores.
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plaintext and authenticates it together with aad. The same
// aad must be given to Open; callers use it to bind a ciphertext to where it
// is stored, so that it cannot be moved to another record or field.
func (b *Box) Seal(plaintext, aad []byte) []byte {
	out := make([]byte, 1, 1+len(plaintext)+b.aead.Overhead())
	out[0] = formatV1
	return b.aead.Seal(out, nil, plaintext, versionedAAD(formatV1, aad))
}

// Open authenticates and decrypts a value made by Seal with the same aad.
// Every failure wraps ErrDecrypt.
func (b *Box) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) == 0 {
		return nil, fmt.Errorf("%w: empty value", ErrDecrypt)
	}
	if sealed[0] != formatV1 {
		return nil, fmt.Errorf("%w: unknown format version %d", ErrDecrypt, sealed[0])
	}
	if len(sealed) < 1+b.aead.Overhead() {
		return nil, fmt.Errorf("%w: value is truncated", ErrDecrypt)
	}
	plain, err := b.aead.Open(nil, nil, sealed[1:], versionedAAD(formatV1, aad))
	if err != nil {
		return nil, fmt.Errorf("%w: wrong key, or the value or its context was altered", ErrDecrypt)
	}
	return plain, nil
}

func versionedAAD(version byte, aad []byte) []byte {
	out := make([]byte, 0, 1+len(aad))
	return append(append(out, version), aad...)
}

// Equal reports whether a and b are equal in time that depends on neither
// their contents nor their lengths: both are hashed first, so comparing a
// presented token against a stored one leaks nothing through timing.
func Equal(a, b string) bool {
	ha := sha256.Sum256([]byte(a))
	hb := sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// HashToken returns the hex SHA-256 of an API token, the form in which tokens
// are stored. A fast unsalted hash is right here because tokens are random
// and long, unlike passwords; it must not be used for passwords.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
