// Command genresty writes resty_gen.go for package restycache: one forwarding
// method on restycache.Client for every fluent setter of *resty.Client, and one
// on restycache.Request for every fluent setter of *resty.Request, so that a
// configuration chain never falls back to a resty type.
//
// It reads resty's source with the standard library only (go/build, go/parser,
// go/ast, go/doc/comment), locating it with
//
//	go list -m -f {{.Dir}} github.com/go-resty/resty/v2
//
// so the module needs no extra dependency. Methods listed in [handWritten] are
// skipped; the restycache package defines them itself.
//
// Usage, from the restycache module root (see generate.go):
//
//	go generate ./...
//
// or directly:
//
//	go run ./internal/genresty [-o resty_gen.go]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

func main() {
	out := flag.String("o", "resty_gen.go", "output file, relative to the working directory")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(out string) error {
	mod, err := locateResty()
	if err != nil {
		return err
	}
	src, err := Generate(mod)
	if err != nil {
		return err
	}
	// Leave the file untouched when nothing changed, so repeated runs do not
	// even bump its modification time.
	if old, err := os.ReadFile(out); err == nil && bytes.Equal(old, src) {
		return nil
	}
	if err := os.WriteFile(out, src, 0o644); err != nil {
		return fmt.Errorf("restycache/genresty: write output: %w", err)
	}
	return nil
}

// restyPath is the module (and package) path of resty v2.
const restyPath = "github.com/go-resty/resty/v2"

// Module identifies the resty source tree to read.
type Module struct {
	// Dir is the directory holding resty's package source.
	Dir string
	// Version is the module version, written into the generated header
	// (for example "v2.17.2"). Empty means unknown and is left out.
	Version string
}

// locateResty asks the go command where the resty module the current module
// requires lives in the module cache.
func locateResty() (Module, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}\n{{.Version}}", restyPath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		return Module{}, fmt.Errorf("restycache/genresty: go list -m %s: %w: %s", restyPath, err, strings.TrimSpace(stderr.String()))
	}
	lines := strings.Split(strings.TrimSpace(string(outb)), "\n")
	if len(lines) != 2 || lines[0] == "" {
		return Module{}, fmt.Errorf("restycache/genresty: go list -m %s: unexpected output %q (is the module downloaded?)", restyPath, outb)
	}
	return Module{Dir: lines[0], Version: lines[1]}, nil
}
