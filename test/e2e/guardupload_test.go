//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
)

// TestGuardUploadLimit: a guard built with the Go SDK (the built-in Tool
// Call Guard, about 6 MiB) uploads through the admin API, which the 1 MiB
// admin body cap refused; a module over the guard upload cap, and an
// ordinary admin document over 1 MiB, are still refused with too_large.
func TestGuardUploadLimit(t *testing.T) {
	g := startGateway(t, "")
	wasm, err := os.ReadFile("../../guards/builtin/wasm/tool-call-guard.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if len(wasm) <= 1<<20 {
		t.Fatalf("the built-in guard is %d bytes; this test needs one above the 1 MiB admin cap", len(wasm))
	}
	upload := func(name string, body []byte) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, g.base+"/admin/v1/guards?name="+name, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("Content-Type", "application/wasm")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(data)
	}
	t.Run("a Go SDK guard of several MiB uploads", func(t *testing.T) {
		code, body := upload("uploaded-call-guard", wasm)
		if code != http.StatusCreated && code != http.StatusOK {
			t.Fatalf("HTTP %d %.300s", code, body)
		}
		var list struct {
			Guards []struct{ Name string } `json:"guards"`
		}
		g.admin(http.MethodGet, "/guards", nil, &list)
		found := false
		for _, gd := range list.Guards {
			found = found || gd.Name == "uploaded-call-guard"
		}
		if !found {
			t.Errorf("the uploaded guard is not listed: %+v", list.Guards)
		}
	})
	// Headers only: the gateway answers from Content-Length before reading
	// a body, so the client reads the answer instead of racing a reset.
	headersOnly := func(method, path string, length int) (int, string) {
		t.Helper()
		conn, err := net.Dial("tcp", strings.TrimPrefix(g.base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: gatehouse\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n", method, path, adminToken, length)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(data)
	}
	t.Run("a module over the upload cap is refused naming the cap", func(t *testing.T) {
		code, body := headersOnly(http.MethodPost, "/admin/v1/guards?name=too-big", 32<<20+1)
		if code != http.StatusRequestEntityTooLarge || !strings.Contains(body, `"too_large"`) || !strings.Contains(body, fmt.Sprint(32<<20)) {
			t.Errorf("HTTP %d %.300s", code, body)
		}
	})
	t.Run("other admin documents keep the 1 MiB cap", func(t *testing.T) {
		code, body := headersOnly(http.MethodPut, "/admin/v1/guards/settings", 2<<20)
		if code != http.StatusRequestEntityTooLarge || !strings.Contains(body, fmt.Sprint(1<<20)) {
			t.Errorf("HTTP %d %.300s", code, body)
		}
	})
}
