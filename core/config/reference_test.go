package config

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestReferenceIsCurrent: docs/config.md is generated from the Config
// struct (keys, types, defaults from Default(), environment overrides
// from EnvOverrides, descriptions from the fields' doc comments), so it
// cannot drift. `make config-doc` rewrites it.
func TestReferenceIsCurrent(t *testing.T) {
	want := reference(t)
	path := filepath.Join("..", "..", "docs", "config.md")
	if os.Getenv("GATEHOUSE_UPDATE_DOCS") == "1" {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run make config-doc)", err)
	}
	if string(got) != want {
		t.Errorf("docs/config.md is not current: run make config-doc")
	}
}

// fieldDocs reads the doc comments of the package's struct fields:
// "Type.Field" → text.
func fieldDocs(t *testing.T) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	docs := map[string]string{}
	files, _ := filepath.Glob("*.go")
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return true
			}
			prev, prevLine := "", 0
			for _, fl := range st.Fields.List {
				text := ""
				line := fset.Position(fl.Pos()).Line
				switch {
				case fl.Doc != nil:
					text = fl.Doc.Text()
				case fl.Comment != nil:
					text = fl.Comment.Text()
				case line == prevLine+1:
					// A field right below another, without a comment of its
					// own, shares the group's comment.
					text = prev
				}
				prev, prevLine = text, fset.Position(fl.End()).Line
				for _, id := range fl.Names {
					docs[ts.Name.Name+"."+id.Name] = strings.Join(strings.Fields(text), " ")
				}
			}
			return false
		})
	}
	return docs
}

func reference(t *testing.T) string {
	docs := fieldDocs(t)
	env := map[string]string{}
	for _, o := range EnvOverrides {
		env[o.Key] = o.Name
	}
	var b strings.Builder
	b.WriteString("# Configuration reference\n\n")
	b.WriteString("Generated from `core/config` by `make config-doc`; `go test ./core/config` fails when it is stale.\n")
	b.WriteString("Give the file with `gatehouse serve --config FILE` (YAML; an unknown key is an error naming the keys allowed there).\n")
	b.WriteString("An environment variable, where one is listed, wins over the file when set and not empty.\n\n")
	b.WriteString("| key | type | default | environment | meaning |\n|---|---|---|---|---|\n")
	var walk func(prefix string, v reflect.Value)
	walk = func(prefix string, v reflect.Value) {
		tp := v.Type()
		for i := range tp.NumField() {
			f := tp.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			key := prefix + name
			fv := v.Field(i)
			doc := docs[tp.Name()+"."+f.Name]
			switch {
			case f.Type.Kind() == reflect.Struct && f.Type != durationType:
				walk(key+".", fv)
			case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
				row(&b, key, "list", "none", env[key], doc)
				walk(key+"[].", reflect.New(f.Type.Elem()).Elem())
			default:
				row(&b, key, typeName(f.Type), defaultText(fv), env[key], doc)
			}
		}
	}
	walk("", reflect.ValueOf(Default()))
	return b.String()
}

func row(b *strings.Builder, key, typ, def, env, doc string) {
	if env != "" {
		env = "`" + env + "`"
	}
	fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s |\n", key, typ, def, env, strings.ReplaceAll(doc, "|", `\|`))
}

func typeName(t reflect.Type) string {
	switch {
	case t == durationType:
		return "duration"
	case t.Kind() == reflect.Slice:
		return "list of " + typeName(t.Elem())
	case t.Kind() == reflect.Map:
		return "map of " + typeName(t.Elem())
	case t.Kind() == reflect.Int:
		return "integer"
	case t.Kind() == reflect.Float64:
		return "number"
	default:
		return t.Kind().String()
	}
}

func defaultText(v reflect.Value) string {
	switch {
	case v.Type() == durationType:
		if d := time.Duration(v.Int()); d != 0 {
			return "`" + d.String() + "`"
		}
	case v.Kind() == reflect.String:
		if s := v.String(); s != "" {
			return "`" + s + "`"
		}
	case v.Kind() == reflect.Bool:
		return fmt.Sprintf("`%v`", v.Bool())
	case v.Kind() == reflect.Int:
		return fmt.Sprintf("`%d`", v.Int())
	case v.Kind() == reflect.Slice:
		if v.Len() > 0 {
			parts := make([]string, v.Len())
			for i := range v.Len() {
				parts[i] = fmt.Sprint(v.Index(i).Interface())
			}
			return "`" + strings.Join(parts, ",") + "`"
		}
	}
	return "none"
}
