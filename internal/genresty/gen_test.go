package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCheckedInFileIsCurrent regenerates resty_gen.go from the resty source
// go.mod requires and compares it with the checked-in file, so the file
// cannot drift from resty (or from this generator).
func TestCheckedInFileIsCurrent(t *testing.T) {
	mod, err := locateResty()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Generate(mod)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "resty_gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		i := 0
		for i < len(gl) && i < len(wl) && gl[i] == wl[i] {
			i++
		}
		line := func(ls []string) string {
			if i < len(ls) {
				return ls[i]
			}
			return "<end of file>"
		}
		t.Fatalf("resty_gen.go is stale; run `go generate ./...` in the module root.\nfirst difference at line %d:\n\tchecked in: %s\n\tgenerated:  %s",
			i+1, line(wl), line(gl))
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	mod, err := locateResty()
	if err != nil {
		t.Fatal(err)
	}
	a, err := Generate(mod)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(mod)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two runs of Generate gave different output")
	}
}

// TestHandWrittenTableIsSkipped checks on the real resty source that no
// hand-written method gets a forwarder and that the counts match the notes
// (RESTY-NOTES §4: 71 Client methods return *Client, 46 Request methods
// return *Request; 10 and 1 of them are hand-written).
func TestHandWrittenTableIsSkipped(t *testing.T) {
	mod, err := locateResty()
	if err != nil {
		t.Fatal(err)
	}
	out, err := Generate(mod)
	if err != nil {
		t.Fatal(err)
	}
	src := string(out)
	for _, h := range handWritten() {
		sig := "func (c *Client) " + h.Name + "("
		if h.Recv == "Request" {
			sig = "func (r *Request) " + h.Name + "("
		}
		if strings.Contains(src, sig) {
			t.Errorf("hand-written %s.%s was generated", h.Recv, h.Name)
		}
	}
	if n := strings.Count(src, "\nfunc (c *Client) "); n != 61 {
		t.Errorf("%d Client forwarders, want 61", n)
	}
	if n := strings.Count(src, "\nfunc (r *Request) "); n != 45 {
		t.Errorf("%d Request forwarders, want 45", n)
	}
	if !strings.HasPrefix(src, "// Code generated ") || !strings.Contains(strings.SplitN(src, "\n", 2)[0], " DO NOT EDIT.") {
		t.Errorf("missing the standard generated-code header; first line: %q", strings.SplitN(src, "\n", 2)[0])
	}
}

// fakeResty is a small stand-in for resty's package covering the cases the
// generator must handle.
const fakeResty = `package resty

import (
	stdhttp "net/http"
	"time"
)

// Client is a client.
type Client struct {
	Header stdhttp.Header
	hidden int
}

// Request is a request.
type Request struct{ URL string }

// Response is a response.
type Response struct{}

// Body returns the body.
func (r *Response) Body() []byte { return nil }

// Middleware runs before a request.
type Middleware func(*Client, *Request) error

type secret int

// SetHeader sets a header. See [Request.SetHeader], [Client.R], [Client],
// [Response.Body], [Middleware] and [stdhttp.Header].
//
// Deprecated: use [Client.SetTimeout].
func (cl *Client) SetHeader(header, value string) *Client { return cl }

// SetJar sets the cookie jar.
func (cl *Client) SetJar(j stdhttp.CookieJar) *Client { return cl }

// SetTimeout sets the timeout.
func (cl *Client) SetTimeout(d time.Duration) *Client { return cl }

func (cl *Client) NoDoc(_ int, c []string, _ ...interface{}) *Client { return cl }

// OnBefore adds a middleware.
func (cl *Client) OnBefore(m Middleware, f func(r *Request) (*Response, error)) *Client { return cl }

// R is not fluent.
func (cl *Client) R() *Request { return nil }

// Clone is hand-written in these tests.
func (cl *Client) Clone() *Client { return cl }

// Pair is not fluent.
func (cl *Client) Pair() (*Client, error) { return cl, nil }

func (cl *Client) unexported() *Client { return cl }

// SetHeader sets a header.
func (r *Request) SetHeader(header, value string) *Request { return r }

// Get is not fluent.
func (r *Request) Get(url string) (*Response, error) { return nil, nil }
`

func writeFake(t *testing.T, src string) Module {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "resty.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	// A file for another platform must be ignored.
	js := "//go:build js\n\npackage resty\n\nfunc (c *Client) SetJS() *Client { return c }\n"
	if err := os.WriteFile(filepath.Join(dir, "js.go"), []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	return Module{Dir: dir, Version: "v2.0.0-test"}
}

func TestGenerateFake(t *testing.T) {
	mod := writeFake(t, fakeResty)
	out, err := generate(mod, []handWrittenMethod{{"Client", "Clone", "test"}})
	if err != nil {
		t.Fatal(err)
	}
	src := string(out)
	tests := []struct {
		name    string
		want    string
		present bool
	}{
		{"header names the version", "from github.com/go-resty/resty/v2 v2.0.0-test; DO NOT EDIT.", true},
		{"aliased import kept", "stdhttp \"net/http\"", true},
		{"aliased qualifier kept", "func (c *Client) SetJar(j stdhttp.CookieJar) *Client {", true},
		{"resty import", "resty \"github.com/go-resty/resty/v2\"", true},
		{"grouped params, receiver renamed", "func (c *Client) SetHeader(header, value string) *Client {\n\tc.Client.SetHeader(header, value)\n\treturn c\n}", true},
		{"other package qualifier kept", "func (c *Client) SetTimeout(d time.Duration) *Client {", true},
		{"blank and colliding names, variadic forwarded", "func (c *Client) NoDoc(arg int, c1 []string, arg2 ...interface{}) *Client {\n\tc.Client.NoDoc(arg, c1, arg2...)\n\treturn c\n}", true},
		{"fallback doc", "// NoDoc calls [resty.Client.NoDoc] and returns the receiver.\n", true},
		{"resty names qualified, func type params kept", "func (c *Client) OnBefore(m resty.Middleware, f func(r *resty.Request) (*resty.Response, error)) *Client {", true},
		{"request forwarder", "func (r *Request) SetHeader(header, value string) *Request {\n\tr.Request.SetHeader(header, value)\n\treturn r\n}", true},
		{"link to our forwarder kept", "See [Request.SetHeader]", true},
		{"link to non-fluent method qualified", "[resty.Client.R]", true},
		{"type link qualified", "[resty.Client],", true},
		{"method link on other type qualified", "[resty.Response.Body]", true},
		{"type link qualified 2", "[resty.Middleware]", true},
		{"other package link kept", "[stdhttp.Header]", true},
		{"deprecated paragraph kept, link to forwarder", "//\n// Deprecated: use [Client.SetTimeout].\n", true},
		{"hand-written skipped", "Clone(", false},
		{"non-fluent R skipped", ") R(", false},
		{"two results skipped", "Pair(", false},
		{"unexported skipped", "unexported", false},
		{"execute skipped", "Get(", false},
		{"other platform ignored", "SetJS", false},
	}
	for _, tc := range tests {
		if got := strings.Contains(src, tc.want); got != tc.present {
			t.Errorf("%s: Contains(%q) = %v, want %v\n--- output ---\n%s", tc.name, tc.want, got, tc.present, src)
		}
	}
	again, err := generate(mod, []handWrittenMethod{{"Client", "Clone", "test"}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, again) {
		t.Error("output not deterministic")
	}
}

func TestGenerateErrors(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		table   []handWrittenMethod
		wantErr string
	}{
		{
			name:    "stale hand-written entry",
			src:     fakeResty,
			table:   []handWrittenMethod{{"Client", "Gone", "test"}},
			wantErr: "hand-written table names Client.Gone, which resty no longer has",
		},
		{
			name:    "unexported parameter type",
			src:     fakeResty + "\n// SetSecret takes an unexported type.\nfunc (cl *Client) SetSecret(s secret) *Client { return cl }\n",
			wantErr: "Client.SetSecret: parameter uses resty's unexported secret",
		},
		{
			name:    "embedded field",
			src:     strings.Replace(fakeResty, "type Request struct{ URL string }", "type Request struct{ Response }", 1),
			wantErr: "resty.Request has an embedded field",
		},
		{
			name:    "missing type",
			src:     strings.Replace(fakeResty, "type Request struct{ URL string }", "type Request = Response", 1),
			wantErr: "resty has no struct type Request",
		},
		{
			name:    "syntax error",
			src:     fakeResty + "\nfunc (",
			wantErr: "restycache/genresty: parse resty source",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := generate(writeFake(t, tc.src), tc.table)
			if err == nil {
				t.Fatalf("generate succeeded, want an error containing %q", tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %q, want it to contain %q", err, tc.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "restycache/genresty: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestRunWritesOnlyOnChange(t *testing.T) {
	mod, err := locateResty()
	if err != nil {
		t.Fatal(err)
	}
	want, err := Generate(mod)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "resty_gen.go")
	if err := run(out); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("run wrote something other than Generate's output")
	}
	// Backdate the file: a second run with no change must leave it alone.
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	if err := os.Chtimes(out, old, old); err != nil {
		t.Fatal(err)
	}
	if err := run(out); err != nil {
		t.Fatalf("second run: %v", err)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.ModTime().Equal(old) {
		t.Errorf("unchanged output was rewritten: mtime %v, want %v", fi.ModTime(), old)
	}
}
