package oauth

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
)

//go:embed templates/pages.html
var pageFiles embed.FS

// pages renders the sign-in, consent and message pages (html/template:
// every value is escaped; no JavaScript).
type pages struct{ t *template.Template }

func newPages() (*pages, error) {
	t, err := template.ParseFS(pageFiles, "templates/pages.html")
	if err != nil {
		return nil, err
	}
	return &pages{t: t}, nil
}

type loginView struct {
	Title, Refresh              string
	Request, CSRF, Client, User string
	Error                       string
	// SSO names the identity provider offered beside the password form.
	SSO string
}

type consentView struct {
	Title, Refresh                      string
	Request, CSRF, User, Client         string
	ClientID, RedirectHost, RedirectURI string
	LocalhostOnly                       bool
	Resource, Scope, Source             string
}

type pendingView struct {
	Title, Refresh                 string
	Client, RedirectURI, PendingID string
	Retry                          string
}

type messageView struct {
	Title, Refresh, Text, Next string
}

func (p *pages) render(w http.ResponseWriter, status int, name string, v any) {
	var buf bytes.Buffer
	if err := p.t.ExecuteTemplate(&buf, name, v); err != nil {
		http.Error(w, "page rendering failed", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Frame-Options", "DENY") // no clickjacking of the consent button
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (p *pages) login(w http.ResponseWriter, v loginView, errText string) {
	v.Title, v.Error = "Sign in", errText
	status := http.StatusOK
	if errText != "" {
		status = http.StatusUnauthorized
	}
	p.render(w, status, "login", v)
}

func (p *pages) consent(w http.ResponseWriter, v consentView) {
	v.Title = "Allow access"
	p.render(w, http.StatusOK, "consent", v)
}

func (p *pages) pending(w http.ResponseWriter, client, redirectURI, pendingID, retry string) {
	p.render(w, http.StatusAccepted, "pending", pendingView{Title: "Waiting for admin approval", Refresh: "15",
		Client: client, RedirectURI: redirectURI, PendingID: pendingID, Retry: retry})
}

func (p *pages) message(w http.ResponseWriter, status int, title, text, next string) {
	p.render(w, status, "message", messageView{Title: title, Text: text, Next: next})
}
