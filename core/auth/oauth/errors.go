package oauth

import (
	"encoding/json"
	"errors"
	"net/http"
)

// OAuth error codes (RFC 6749 §4.1.2.1 and §5.2, RFC 7591 §3.2.2,
// RFC 8707 §2).
const (
	ErrInvalidRequest          = "invalid_request"
	ErrInvalidClient           = "invalid_client"
	ErrInvalidGrant            = "invalid_grant"
	ErrUnauthorizedClient      = "unauthorized_client"
	ErrUnsupportedGrantType    = "unsupported_grant_type"
	ErrUnsupportedResponseType = "unsupported_response_type"
	ErrInvalidScope            = "invalid_scope"
	ErrAccessDenied            = "access_denied"
	ErrInvalidTarget           = "invalid_target"
	ErrServerError             = "server_error"
	ErrTemporarilyUnavailable  = "temporarily_unavailable"
	ErrInvalidRedirectURI      = "invalid_redirect_uri"
	ErrInvalidClientMetadata   = "invalid_client_metadata"
	ErrUnsupportedTokenType    = "unsupported_token_type"
)

// Error is an OAuth error answer: its code, a description for the
// developer, and the HTTP status of a direct (non-redirect) answer.
type Error struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	Status      int    `json:"-"`
	// cause is the internal error behind a server_error (logged, not sent).
	cause error
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

// Unwrap is the internal cause, if any.
func (e *Error) Unwrap() error { return e.cause }

func oerr(code, desc string) *Error {
	st := http.StatusBadRequest
	switch code {
	case ErrInvalidClient:
		st = http.StatusUnauthorized
	case ErrServerError:
		st = http.StatusInternalServerError
	case ErrTemporarilyUnavailable:
		st = http.StatusServiceUnavailable
	}
	return &Error{Code: code, Description: desc, Status: st}
}

func serverError(cause error) *Error {
	e := oerr(ErrServerError, "the authorization server failed; try again")
	e.cause = cause
	return e
}

// asOAuth turns any error into an OAuth error (server_error unless it is
// one already).
func asOAuth(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return serverError(err)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *Error) {
	if e.Code == ErrInvalidClient {
		w.Header().Set("WWW-Authenticate", `Basic realm="gatehouse"`)
	}
	writeJSON(w, e.Status, e)
}
