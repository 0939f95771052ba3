package mcp

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// methodNames reads the Method* constants of protocol.go, so the check
// below follows the list without a copy of it.
func methodNames(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "protocol.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || len(vs.Values) != 1 || !strings.HasPrefix(vs.Names[0].Name, "Method") {
			return true
		}
		if lit, ok := vs.Values[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
			v, _ := strconv.Unquote(lit.Value)
			names[v] = vs.Names[0].Name
		}
		return true
	})
	if len(names) < 20 {
		t.Fatalf("read %d method constants from protocol.go; the parse missed them", len(names))
	}
	return names
}

// TestMethodNamesAreConstants keeps MCP method names out of string
// literals in the gateway's non-test code: each is named through core/mcp.
// Skipped places: core/mcp itself, guards/parts (built into the WASM
// guards; its own test checks its copies) and test/ (peers and fixtures
// that stand for other implementations).
func TestMethodNamesAreConstants(t *testing.T) {
	names := methodNames(t)
	root := filepath.Join("..", "..")
	skip := map[string]bool{"core/mcp": true, "guards/parts": true, "test": true, ".tools": true, "node_modules": true}
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if skip[filepath.ToSlash(rel)] || strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if v, err := strconv.Unquote(lit.Value); err == nil && names[v] != "" {
				t.Errorf("%s: %q is a string literal; use mcp.%s", fset.Position(lit.Pos()), v, names[v])
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Fatalf("checked %d files; the walk did not reach the tree", checked)
	}
}
