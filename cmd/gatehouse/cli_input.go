package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// readBodyFile reads a JSON request body from path ("-" is stdin). It is
// sent as given, so the server's strict decoding judges it; only an empty
// file is refused here.
func readBodyFile(cmd *cobra.Command, path string) ([]byte, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(cmd.InOrStdin())
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("read %s: the file is empty", path)
	}
	return data, nil
}

// parseKV turns repeated K=V flag values into a map; flag names the flag
// in errors.
func parseKV(pairs []string, flag string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--%s %q: want KEY=VALUE", flag, p)
		}
		m[k] = v
	}
	return m, nil
}

// marshalBody encodes a request body built from flags.
func marshalBody(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	return b, nil
}

// ifMatchHeader turns --if-match VERSION into the ETag the API sends
// (`"7"`); an ETag given whole is kept.
func ifMatchHeader(v string) (string, error) {
	if v == "" || strings.HasPrefix(v, `"`) || strings.HasPrefix(v, `W/`) {
		return v, nil
	}
	if _, err := strconv.ParseInt(v, 10, 64); err != nil {
		return "", fmt.Errorf("--if-match %q: want the version number (see `get`)", v)
	}
	return `"` + v + `"`, nil
}

// setIfChanged puts flag's value into body under key when the flag was
// given, so that an empty value given on purpose is sent.
func setIfChanged(cmd *cobra.Command, body map[string]any, flag, key string, value any) {
	if cmd.Flags().Changed(flag) {
		body[key] = value
	}
}
