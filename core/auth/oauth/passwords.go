package oauth

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// defaultPasswordCost is bcrypt's work factor for new hashes: 2^12
// rounds, about a quarter second on a server core.
const defaultPasswordCost = 12

// MinPasswordLength is the shortest password SetPassword accepts.
const MinPasswordLength = 12

// ErrBadPassword wraps a password SetPassword refuses.
var ErrBadPassword = errors.New("password refused")

// errSignIn is every sign-in failure: which part was wrong is not told.
var errSignIn = errors.New("wrong user name or password")

// SetPassword sets user's sign-in password: at least MinPasswordLength
// characters and at most 72 bytes (bcrypt's input limit; longer ones are
// refused rather than silently truncated). The bcrypt hash is stored
// sealed. The admin API audits the change.
func (s *Server) SetPassword(ctx context.Context, user, password string) error {
	switch {
	case utf8.RuneCountInString(password) < MinPasswordLength:
		return fmt.Errorf("%w: at least %d characters", ErrBadPassword, MinPasswordLength)
	case len(password) > 72:
		return fmt.Errorf("%w: at most 72 bytes", ErrBadPassword)
	}
	if _, err := s.d.Users.User(ctx, user); err != nil {
		return fmt.Errorf("set password of %q: %w", user, err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cfg.PasswordCost)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadPassword, err)
	}
	if err := s.d.Store.Put(ctx, kindPassword, user, hash, 0, true); err != nil {
		return fmt.Errorf("set password of %q: %w", user, err)
	}
	return nil
}

// DeletePassword removes user's password: they can no longer sign in.
func (s *Server) DeletePassword(ctx context.Context, user string) error {
	if err := s.d.Store.Delete(ctx, kindPassword, user); err != nil {
		return fmt.Errorf("delete password of %q: %w", user, err)
	}
	return nil
}

// CheckPassword verifies a sign-in: the user exists, is enabled and has
// this password. An unknown user costs a bcrypt comparison too, so the
// answer's timing does not tell which users exist.
func (s *Server) CheckPassword(ctx context.Context, user, password string) error {
	hash, err := s.d.Store.Get(ctx, kindPassword, user)
	if err != nil || user == "" {
		_ = bcrypt.CompareHashAndPassword(s.dummyHash(), []byte(password))
		return errSignIn
	}
	if err := bcrypt.CompareHashAndPassword(hash, []byte(password)); err != nil {
		return errSignIn
	}
	u, err := s.d.Users.User(ctx, user)
	if err != nil || u.Disabled {
		return errSignIn
	}
	return nil
}

// dummyHash is a hash of nothing at the configured cost, made once.
func (s *Server) dummyHash() []byte {
	s.dummyOnce.Do(func() {
		s.dummy, _ = bcrypt.GenerateFromPassword([]byte("gatehouse timing equaliser"), s.cfg.PasswordCost)
	})
	return s.dummy
}
