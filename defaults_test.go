package restycache_test

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/restycache/restycache"
	"github.com/restycache/restycache/cache"
)

// readmeOptionDefaults returns the README's configuration table as a map
// from the option's name (WithMaxBodySize, ...) to its Default cell.
func readmeOptionDefaults(t *testing.T, readme string) map[string]string {
	t.Helper()
	name := regexp.MustCompile("`(With[A-Za-z]+)\\(")
	out := map[string]string{}
	for _, line := range strings.Split(readme, "\n") {
		if !strings.HasPrefix(line, "| `With") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 3 {
			t.Fatalf("README table row with %d cells, want 3: %q", len(cells), line)
		}
		for _, m := range name.FindAllStringSubmatch(cells[0], -1) {
			out[m[1]] = strings.TrimSpace(cells[1])
		}
	}
	if len(out) == 0 {
		t.Fatal("README: configuration table not found")
	}
	return out
}

// docComments returns the doc comments of the root package's exported
// functions and constants, by name, and the set of functions that return
// an Option.
func docComments(t *testing.T) (map[string]string, map[string]bool) {
	t.Helper()
	fset := token.NewFileSet()
	var files []*ast.File
	matches, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range matches {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	pkg, err := doc.NewFromFiles(fset, files, "github.com/restycache/restycache")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	options := map[string]bool{}
	addValues := func(vs []*doc.Value) {
		for _, v := range vs {
			for _, spec := range v.Decl.Specs {
				vs := spec.(*ast.ValueSpec)
				for _, n := range vs.Names {
					out[n.Name] = vs.Doc.Text()
				}
			}
		}
	}
	addValues(pkg.Consts)
	for _, f := range pkg.Funcs {
		out[f.Name] = f.Doc
	}
	for _, typ := range pkg.Types {
		addValues(typ.Consts)
		for _, f := range typ.Funcs {
			out[f.Name] = f.Doc
			options[f.Name] = typ.Name == "Option"
		}
		for _, f := range typ.Methods {
			out[typ.Name+"."+f.Name] = f.Doc
		}
	}
	return out, options
}

// oneLine joins a doc comment's lines.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// backquoted returns the `quoted` words of s, in order.
func backquoted(s string) []string {
	var out []string
	for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// englishList splits "A, B and C" (or "A, B, C") into its items.
func englishList(s string) []string {
	s = strings.ReplaceAll(s, " and ", ", ")
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func TestDocumentedDefaultsMatchConstants(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	table := readmeOptionDefaults(t, readme)
	docs, _ := docComments(t)

	// The named defaults: each equals the value the docs give, the README
	// table states that value next to the name, and the option it is the
	// default of says so.
	named := []struct {
		name, value string // the value as the docs write it
		equal       bool   // the constant has that value
	}{
		{"DefaultMaxBodySize", "32 MiB", restycache.DefaultMaxBodySize == 32<<20},
		{"DefaultStaleRetention", "24h", restycache.DefaultStaleRetention == 24*time.Hour},
		{"DefaultBackgroundTimeout", "30s", restycache.DefaultBackgroundTimeout == 30*time.Second},
		{"DefaultBackendTimeout", "500ms", restycache.DefaultBackendTimeout == 500*time.Millisecond},
	}
	var declared []string
	for name := range docs {
		if strings.HasPrefix(name, "Default") {
			declared = append(declared, name)
		}
	}
	slices.Sort(declared)
	var listed []string
	for _, d := range named {
		listed = append(listed, d.name)
		if !d.equal {
			t.Errorf("%s is not %s, the value its docs give", d.name, d.value)
		}
		cell := d.value + " (`" + d.name + "`)"
		found := false
		for _, v := range table {
			found = found || v == cell
		}
		if !found {
			t.Errorf("README table: no default cell reads %q", cell)
		}
		mentioned := false
		for name, doc := range docs {
			mentioned = mentioned || (strings.HasPrefix(name, "With") && strings.Contains(oneLine(doc), "The default is "+d.name))
		}
		if !mentioned {
			t.Errorf("no With… option's doc says %q", "The default is "+d.name)
		}
	}
	slices.Sort(listed)
	if !slices.Equal(declared, listed) {
		t.Errorf("exported Default constants %q, this test checks %q: add the new ones here", declared, listed)
	}

	codes := make([]string, 0, len(cache.DefaultAllowedCodes()))
	for _, c := range cache.DefaultAllowedCodes() {
		codes = append(codes, strconv.Itoa(c))
	}
	methods := cache.DefaultAllowedMethods()

	// The README's configuration table.
	for _, tc := range []struct {
		option, want string
	}{
		{"WithMaxBodySize", "32 MiB (`DefaultMaxBodySize`)"},
		{"WithExpireAfter", "`" + restycache.NeverExpire.String() + "`"},
		{"WithAllowedCodes", strings.Join(codes, ", ")},
		{"WithAllowedMethods", strings.Join(methods, ", ")},
		{"WithCacheControl", "off"},
		{"WithStripSetCookie", "off"},
		{"WithBackend", "`memory.New()`"},
		{"WithClock", "`time.Now`"},
		{"WithLogger", "`slog.Default()`"},
		{"WithCrossProcessCoalescing", "off"},
		{"WithReadOnly", "off"},
		{"WithAlwaysRevalidate", "off"},
		{"WithKeyFunc", "the built-in key"},
	} {
		got, ok := table[tc.option]
		if !ok {
			t.Errorf("README table: no row for %s", tc.option)
			continue
		}
		if got != tc.want {
			t.Errorf("README table: %s default = %q, want %q", tc.option, got, tc.want)
		}
	}
	if (&cache.Policy{}).Default() != cache.Never() {
		t.Errorf("the zero Policy's default lifetime is %v, documented as NeverExpire", (&cache.Policy{}).Default())
	}
	if !strings.Contains(readme, "| `NeverExpire` | fresh until deleted (the client default in settings mode) |") {
		t.Errorf("README: the Expiration table no longer names NeverExpire as the settings-mode default")
	}
	// Header mode without a default: the headers decide.
	if got := (&cache.Policy{CacheControl: true}).Default(); got != cache.Immediately() {
		t.Errorf("header mode without WithExpireAfter: default lifetime %v, documented as \"the headers decide\" (stale at once)", got)
	}
	for _, row := range []string{
		"| 3 | the response's `Cache-Control: max-age` / `Expires` / `no-cache`, else heuristic freshness from `Last-Modified` (only with `WithCacheControl(true)`) | the origin |",
		"| 4 | client default: in settings mode `NeverExpire` unless set; in header mode only when set, else none (the response is stored only with a validator, and revalidated before every use) | `WithExpireAfter(l)` |",
	} {
		if !strings.Contains(readme, row) {
			t.Errorf("README precedence table: row missing or changed:\n%s", row)
		}
	}
	// Cookies: what separates entries and what does not.
	for _, sentence := range []string{
		"The request's `Cookie` header does not separate entries",
		"`WithMatchHeaders(\"Cookie\")`",
	} {
		if !strings.Contains(readme, sentence) {
			t.Errorf("README: %q not found (the Secrets and Cache keys sections say what separates entries)", sentence)
		}
	}

	// The README's list of sensitive names.
	m := regexp.MustCompile(`(?s)The sensitive names by default are\s+(.*?)\s+\(add more`).FindStringSubmatch(readme)
	if m == nil {
		t.Fatal("README: sentence listing the default sensitive names not found")
	}
	if got, want := backquoted(m[1]), cache.DefaultSensitiveNames(); !slices.Equal(got, want) {
		t.Errorf("README sensitive names = %q, want cache.DefaultSensitiveNames() = %q", got, want)
	}

	// The doc comments.
	for _, tc := range []struct {
		name, want string
	}{
		{"DefaultMaxBodySize", "(32 MiB)"},
		{"DefaultBackgroundTimeout", "(30s)"},
		{"DefaultBackendTimeout", "(500ms)"},
		{"WithLogger", "The default is slog.Default()"},
		{"WithExpireAfter", "The default is NeverExpire"},
		{"NeverExpire", "It is the client default"},
		{"WithAllowedCodes", "The default is " + strings.Join(codes, ", ") + " only"},
		{"WithAllowedMethods", "The default is " + strings.Join(methods, " and ")},
		{"WithCacheControl", "The default is off"},
		{"WithExpireAfter", "With WithCacheControl(true) and no WithExpireAfter, the headers decide"},
		{"WithReadOnly", "The default is off"},
		{"WithAlwaysRevalidate", "The default is off"},
		{"WithKeyFunc", "The default is the built-in key"},
		{"WithMatchHeaders", `WithMatchHeaders("Cookie")`},
		{"WithClock", "the default is time.Now"},
	} {
		d, ok := docs[tc.name]
		if !ok || d == "" {
			t.Errorf("%s has no doc comment", tc.name)
			continue
		}
		if !strings.Contains(oneLine(d), tc.want) {
			t.Errorf("doc of %s does not say %q:\n%s", tc.name, tc.want, d)
		}
	}
	m = regexp.MustCompile(`The defaults are (.*?)\.`).FindStringSubmatch(oneLine(docs["WithSensitiveNames"]))
	if m == nil {
		t.Fatalf("doc of WithSensitiveNames does not list the defaults:\n%s", docs["WithSensitiveNames"])
	}
	if got, want := englishList(m[1]), cache.DefaultSensitiveNames(); !slices.Equal(got, want) {
		t.Errorf("WithSensitiveNames doc lists %q, want cache.DefaultSensitiveNames() = %q", got, want)
	}
}

func TestEnglishList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"A", []string{"A"}},
		{"A and B", []string{"A", "B"}},
		{"A, B and C", []string{"A", "B", "C"}},
		{"A, B, C", []string{"A", "B", "C"}},
	} {
		if got := englishList(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("englishList(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestREADMEListsEveryOption checks that the README's configuration table
// has a row for every With… option, and names no option that does not
// exist.
func TestREADMEListsEveryOption(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	table := readmeOptionDefaults(t, string(b))
	_, options := docComments(t)
	for name, isOption := range options {
		if _, ok := table[name]; isOption && !ok {
			t.Errorf("README table: no row for %s", name)
		}
	}
	for name := range table {
		if !options[name] {
			t.Errorf("README table: %s is not an Option", name)
		}
	}
}

// TestREADMENamesRealTests checks that every test the README's
// "Reliability and security" table names exists, so the table cannot name a
// guarantee that nothing checks.
func TestREADMENamesRealTests(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "## Reliability and security")
	end := strings.Index(readme[start+1:], "\n## ")
	if start < 0 || end < 0 {
		t.Fatal(`README: no "Reliability and security" section`)
	}
	names := regexp.MustCompile("`((?:Test|Fuzz)[A-Za-z0-9]+)`").FindAllStringSubmatch(readme[start:start+1+end], -1)
	if len(names) < 10 {
		t.Fatalf("README names %d tests in its reliability table, want its table", len(names))
	}
	var sources strings.Builder
	err = filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, "_test.go") {
			b, err := os.ReadFile(path)
			sources.Write(b)
			return err
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range names {
		if !strings.Contains(sources.String(), "func "+m[1]+"(") {
			t.Errorf("README names %s, which no test file defines", m[1])
		}
	}
}
