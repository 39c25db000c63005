package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/build"
	"go/doc/comment"
	"go/format"
	"go/parser"
	"go/printer"
	"go/token"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// handWrittenMethod names a fluent resty method that restycache defines by
// hand, so the generator must not emit a forwarder for it.
type handWrittenMethod struct {
	Recv string // "Client" or "Request"
	Name string
	Why  string
}

// handWritten is the one table of fluent resty methods the generator skips.
// Every entry must still exist in resty; Generate fails otherwise, so the
// table cannot silently go stale after a resty upgrade. Non-fluent methods
// (R, NewRequest, Transport, IsProxySet, GetClient, the execute methods) are
// listed too: they are never generated anyway, but restycache writes or
// deliberately keeps them, and listing them keeps the picture in one place.
func handWritten() []handWrittenMethod {
	return []handWrittenMethod{
		{"Client", "SetTransport", "re-wraps the caching RoundTripper around the new transport"},
		{"Client", "Clone", "must clone the cache wiring too"},
		{"Client", "R", "returns *restycache.Request"},
		{"Client", "NewRequest", "returns *restycache.Request"},
		{"Client", "SetTLSClientConfig", "reaches the *http.Transport under the cache"},
		{"Client", "SetProxy", "reaches the *http.Transport under the cache"},
		{"Client", "RemoveProxy", "reaches the *http.Transport under the cache"},
		{"Client", "SetCertificates", "reaches the *http.Transport under the cache"},
		{"Client", "SetRootCertificate", "reaches the *http.Transport under the cache"},
		{"Client", "SetRootCertificateFromString", "reaches the *http.Transport under the cache"},
		{"Client", "SetClientRootCertificate", "reaches the *http.Transport under the cache"},
		{"Client", "SetClientRootCertificateFromString", "reaches the *http.Transport under the cache"},
		{"Client", "Transport", "returns the *http.Transport under the cache"},
		{"Client", "IsProxySet", "reads the *http.Transport under the cache"},
		{"Client", "GetClient", "kept as resty's"},
		{"Request", "SetContext", "keeps the per-request cache options"},
		{"Request", "Get", "returns *restycache.Response"},
		{"Request", "Head", "returns *restycache.Response"},
		{"Request", "Post", "returns *restycache.Response"},
		{"Request", "Put", "returns *restycache.Response"},
		{"Request", "Delete", "returns *restycache.Response"},
		{"Request", "Options", "returns *restycache.Response"},
		{"Request", "Patch", "returns *restycache.Response"},
		{"Request", "Send", "returns *restycache.Response"},
		{"Request", "Execute", "returns *restycache.Response"},
	}
}

// receiver is a resty type that gets forwarders, with the receiver name used
// on the restycache side.
type receiver struct{ Type, Var string }

// receivers lists the resty types that get forwarders, in output order.
func receivers() []receiver {
	return []receiver{{"Client", "c"}, {"Request", "r"}}
}

// buildContext fixes GOOS/GOARCH so the file set (and so the output) does not
// depend on the machine running the generator.
func buildContext() build.Context {
	ctx := build.Default
	ctx.GOOS = "linux"
	ctx.GOARCH = "amd64"
	ctx.CgoEnabled = false
	ctx.BuildTags = nil
	return ctx
}

// restySource is the parsed resty package.
type restySource struct {
	fset     *token.FileSet
	topLevel map[string]bool            // every package-level identifier
	methods  map[string]map[string]bool // receiver type -> method names (exported and not)
	decls    map[string][]methodDecl    // receiver type -> declarations
	structs  map[string]*ast.StructType
}

type methodDecl struct {
	decl *ast.FuncDecl
	file *ast.File
}

func loadResty(dir string) (*restySource, error) {
	ctx := buildContext()
	bp, err := ctx.ImportDir(dir, 0)
	if err != nil {
		return nil, fmt.Errorf("restycache/genresty: read package in %s: %w", dir, err)
	}
	if len(bp.GoFiles) == 0 {
		return nil, fmt.Errorf("restycache/genresty: no Go files in %s", dir)
	}
	src := &restySource{
		fset:     token.NewFileSet(),
		topLevel: map[string]bool{},
		methods:  map[string]map[string]bool{},
		decls:    map[string][]methodDecl{},
		structs:  map[string]*ast.StructType{},
	}
	names := append([]string(nil), bp.GoFiles...)
	sort.Strings(names)
	for _, name := range names {
		f, err := parser.ParseFile(src.fset, filepath.Join(dir, name), nil, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("restycache/genresty: parse resty source: %w", err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					src.topLevel[d.Name.Name] = true
					continue
				}
				recv := receiverType(d.Recv.List[0].Type)
				if recv == "" {
					continue
				}
				if src.methods[recv] == nil {
					src.methods[recv] = map[string]bool{}
				}
				src.methods[recv][d.Name.Name] = true
				src.decls[recv] = append(src.decls[recv], methodDecl{decl: d, file: f})
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						src.topLevel[s.Name.Name] = true
						if st, ok := s.Type.(*ast.StructType); ok {
							src.structs[s.Name.Name] = st
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							src.topLevel[n.Name] = true
						}
					}
				}
			}
		}
	}
	return src, nil
}

// receiverType returns the base type name of a receiver expression: T, *T.
func receiverType(e ast.Expr) string {
	if s, ok := e.(*ast.StarExpr); ok {
		e = s.X
	}
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return "" // generic receivers: resty has none we care about
}

// Generate returns the gofmt'ed source of resty_gen.go for the resty package
// in mod.Dir, skipping the methods in the hand-written table. The output
// depends only on resty's source and mod.Version.
func Generate(mod Module) ([]byte, error) {
	return generate(mod, handWritten())
}

// generate is Generate with the hand-written table as a parameter, so tests
// can run it on a small stand-in for resty.
func generate(mod Module, table []handWrittenMethod) ([]byte, error) {
	src, err := loadResty(mod.Dir)
	if err != nil {
		return nil, err
	}
	skip := map[string]bool{}
	for _, h := range table {
		if !src.methods[h.Recv][h.Name] {
			return nil, fmt.Errorf("restycache/genresty: hand-written table names %s.%s, which resty no longer has", h.Recv, h.Name)
		}
		skip[h.Recv+"."+h.Name] = true
	}

	g := &gen{src: src, imports: map[string]string{}, skip: skip}
	var body bytes.Buffer
	for _, rv := range receivers() {
		st := src.structs[rv.Type]
		if st == nil {
			return nil, fmt.Errorf("restycache/genresty: resty has no struct type %s", rv.Type)
		}
		for _, f := range st.Fields.List {
			if len(f.Names) == 0 {
				// Promoted methods would be missed by a source walk.
				return nil, fmt.Errorf("restycache/genresty: resty.%s has an embedded field; promoted methods are not supported", rv.Type)
			}
		}
		decls := append([]methodDecl(nil), src.decls[rv.Type]...)
		sort.Slice(decls, func(i, j int) bool { return decls[i].decl.Name.Name < decls[j].decl.Name.Name })
		for _, md := range decls {
			if !g.wanted(rv.Type, md.decl) {
				continue
			}
			if err := g.forwarder(&body, rv.Type, rv.Var, md); err != nil {
				return nil, err
			}
		}
	}

	var out bytes.Buffer
	version := ""
	if mod.Version != "" {
		version = " " + mod.Version
	}
	fmt.Fprintf(&out, "// Code generated by github.com/restycache/restycache/internal/genresty from %s%s; DO NOT EDIT.\n\n", restyPath, version)
	out.WriteString("package restycache\n\n")
	paths := make([]string, 0, len(g.imports))
	for p := range g.imports {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	if len(paths) > 0 {
		// Standard library first, then the rest, as goimports groups them.
		sort.SliceStable(paths, func(i, j int) bool { return isStd(paths[i]) && !isStd(paths[j]) })
		out.WriteString("import (\n")
		for i, p := range paths {
			if i > 0 && isStd(paths[i-1]) != isStd(p) {
				out.WriteString("\n")
			}
			if name := g.imports[p]; name != path.Base(p) {
				fmt.Fprintf(&out, "\t%s %s\n", name, strconv.Quote(p))
			} else {
				fmt.Fprintf(&out, "\t%s\n", strconv.Quote(p))
			}
		}
		out.WriteString(")\n\n")
	}
	out.Write(body.Bytes())
	formatted, err := format.Source(out.Bytes())
	if err != nil {
		return nil, fmt.Errorf("restycache/genresty: format output: %w", err)
	}
	return formatted, nil
}

type gen struct {
	src     *restySource
	imports map[string]string // import path -> package name used in the output
	skip    map[string]bool   // "Recv.Name" of hand-written methods
}

// wanted reports whether d is an exported method whose only result is *recv,
// and is not hand-written.
func (g *gen) wanted(recv string, d *ast.FuncDecl) bool {
	if !d.Name.IsExported() || g.skip[recv+"."+d.Name.Name] || d.Type.TypeParams != nil {
		return false
	}
	res := d.Type.Results
	if res == nil || len(res.List) != 1 || len(res.List[0].Names) > 1 {
		return false
	}
	star, ok := res.List[0].Type.(*ast.StarExpr)
	if !ok {
		return false
	}
	id, ok := star.X.(*ast.Ident)
	return ok && id.Name == recv
}

// ourMethod reports whether restycache's type recv has a method name:
// generated or hand-written.
func (g *gen) ourMethod(recv, name string) bool {
	if g.skip[recv+"."+name] {
		return true
	}
	for _, md := range g.src.decls[recv] {
		if md.decl.Name.Name == name {
			return g.wanted(recv, md.decl)
		}
	}
	return false
}

func (g *gen) forwarder(w *bytes.Buffer, recv, rv string, md methodDecl) error {
	d := md.decl
	name := d.Name.Name
	w.WriteString(g.docComment(recv, name, d.Doc))

	var params, args []string
	used := map[string]bool{rv: true}
	for _, f := range d.Type.Params.List {
		typ, err := g.qualify(f.Type, md.file)
		if err != nil {
			return fmt.Errorf("restycache/genresty: %s.%s: %w", recv, name, err)
		}
		var ts bytes.Buffer
		if err := printer.Fprint(&ts, token.NewFileSet(), typ); err != nil {
			return fmt.Errorf("restycache/genresty: %s.%s: print type: %w", recv, name, err)
		}
		_, variadic := f.Type.(*ast.Ellipsis)
		n := len(f.Names)
		if n == 0 {
			n = 1
		}
		var names []string
		for i := 0; i < n; i++ {
			pn := ""
			if i < len(f.Names) {
				pn = f.Names[i].Name
			}
			if pn == "" || pn == "_" {
				pn = "arg"
			}
			// Keep names unique and clear of the receiver.
			for base, k := pn, len(args); used[pn]; k++ {
				pn = base + strconv.Itoa(k)
			}
			used[pn] = true
			names = append(names, pn)
			if variadic {
				args = append(args, pn+"...")
			} else {
				args = append(args, pn)
			}
		}
		params = append(params, strings.Join(names, ", ")+" "+ts.String())
	}
	fmt.Fprintf(w, "func (%s *%s) %s(%s) *%s {\n\t%s.%s.%s(%s)\n\treturn %s\n}\n\n",
		rv, recv, name, strings.Join(params, ", "), recv,
		rv, recv, name, strings.Join(args, ", "), rv)
	return nil
}

// docComment copies resty's doc comment for recv.name, rewriting doc links so
// they resolve from package restycache: links to resty's package-level names
// become [resty.Name]; links to methods of Client/Request stay as they are
// when restycache's type has that method too (generated or hand-written), and
// are qualified otherwise.
func (g *gen) docComment(recv, name string, cg *ast.CommentGroup) string {
	text := ""
	if cg != nil {
		text = cg.Text()
	}
	if strings.TrimSpace(text) == "" {
		return fmt.Sprintf("// %s calls [resty.%s.%s] and returns the receiver.\n", name, recv, name)
	}
	p := comment.Parser{
		LookupPackage: func(pkg string) (string, bool) {
			if pkg == "resty" {
				return restyPath, true
			}
			return "", false // fall back to the standard library
		},
		LookupSym: func(recv, name string) bool {
			if recv == "" {
				return g.src.topLevel[name]
			}
			return g.src.methods[recv][name]
		},
	}
	doc := p.Parse(text)
	for _, b := range doc.Content {
		g.rewriteBlock(b)
	}
	// Printer.Comment gives the text without comment markers.
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(string((&comment.Printer{}).Comment(doc)), "\n"), "\n") {
		switch {
		case line == "":
			b.WriteString("//\n")
		case line[0] == '\t':
			b.WriteString("//" + line + "\n")
		default:
			b.WriteString("// " + line + "\n")
		}
	}
	return b.String()
}

func (g *gen) rewriteBlock(b comment.Block) {
	switch b := b.(type) {
	case *comment.Paragraph:
		g.rewriteText(b.Text)
	case *comment.Heading:
		g.rewriteText(b.Text)
	case *comment.List:
		for _, it := range b.Items {
			for _, c := range it.Content {
				g.rewriteBlock(c)
			}
		}
	}
}

func (g *gen) rewriteText(ts []comment.Text) {
	for _, t := range ts {
		switch t := t.(type) {
		case *comment.DocLink:
			if t.ImportPath != "" {
				continue // already qualified ([http.Client], [resty.Logger])
			}
			if t.Recv != "" && g.ourMethod(t.Recv, t.Name) {
				continue // [Client.SetHeader] names our forwarder
			}
			t.ImportPath = restyPath
			label := "resty."
			if t.Recv != "" {
				label += t.Recv + "."
			}
			t.Text = []comment.Text{comment.Plain(label + t.Name)}
		case *comment.Link:
			g.rewriteText(t.Text)
		}
	}
}

// qualify returns a copy of the type expression e, read in resty's file f,
// that means the same thing in package restycache: resty's exported names
// get the resty qualifier, other packages keep theirs, and every package
// used is recorded in g.imports. Unexported resty names are an error, since
// restycache could not spell them.
func (g *gen) qualify(e ast.Expr, f *ast.File) (ast.Expr, error) {
	var err error
	q := func(x ast.Expr) ast.Expr {
		if err != nil || x == nil {
			return nil
		}
		var y ast.Expr
		y, err = g.qualify(x, f)
		return y
	}
	fields := func(fl *ast.FieldList) *ast.FieldList {
		if fl == nil {
			return nil
		}
		out := &ast.FieldList{}
		for _, fd := range fl.List {
			nf := &ast.Field{Type: q(fd.Type)}
			for _, n := range fd.Names {
				nf.Names = append(nf.Names, ast.NewIdent(n.Name))
			}
			out.List = append(out.List, nf)
		}
		return out
	}
	var r ast.Expr
	switch e := e.(type) {
	case *ast.Ident:
		switch {
		case !g.src.topLevel[e.Name]:
			r = ast.NewIdent(e.Name) // predeclared: string, error, any, ...
		case !e.IsExported():
			return nil, fmt.Errorf("parameter uses resty's unexported %s", e.Name)
		default:
			g.imports[restyPath] = "resty"
			r = &ast.SelectorExpr{X: ast.NewIdent("resty"), Sel: ast.NewIdent(e.Name)}
		}
	case *ast.SelectorExpr:
		pkg, ok := e.X.(*ast.Ident)
		if !ok {
			return nil, fmt.Errorf("unexpected selector type %T", e.X)
		}
		ip, err := importPathOf(f, pkg.Name)
		if err != nil {
			return nil, err
		}
		if err := g.addImport(ip, pkg.Name); err != nil {
			return nil, err
		}
		r = &ast.SelectorExpr{X: ast.NewIdent(pkg.Name), Sel: ast.NewIdent(e.Sel.Name)}
	case *ast.StarExpr:
		r = &ast.StarExpr{X: q(e.X)}
	case *ast.Ellipsis:
		r = &ast.Ellipsis{Elt: q(e.Elt)}
	case *ast.ArrayType:
		r = &ast.ArrayType{Len: q(e.Len), Elt: q(e.Elt)}
	case *ast.MapType:
		r = &ast.MapType{Key: q(e.Key), Value: q(e.Value)}
	case *ast.ChanType:
		r = &ast.ChanType{Dir: e.Dir, Value: q(e.Value)}
	case *ast.ParenExpr:
		r = &ast.ParenExpr{X: q(e.X)}
	case *ast.FuncType:
		r = &ast.FuncType{Func: token.NoPos, Params: fields(e.Params), Results: fields(e.Results)}
		if r.(*ast.FuncType).Params == nil {
			r.(*ast.FuncType).Params = &ast.FieldList{}
		}
	case *ast.InterfaceType:
		if e.Methods == nil || len(e.Methods.List) == 0 {
			// Without positions go/printer would split the braces over
			// two lines; spell it as resty does.
			r = ast.NewIdent("interface{}")
			break
		}
		r = &ast.InterfaceType{Methods: fields(e.Methods)}
	case *ast.StructType:
		if e.Fields == nil || len(e.Fields.List) == 0 {
			r = ast.NewIdent("struct{}")
			break
		}
		r = &ast.StructType{Fields: fields(e.Fields)}
	case *ast.BasicLit:
		r = &ast.BasicLit{Kind: e.Kind, Value: e.Value}
	case *ast.IndexExpr:
		r = &ast.IndexExpr{X: q(e.X), Index: q(e.Index)}
	case *ast.IndexListExpr:
		il := &ast.IndexListExpr{X: q(e.X)}
		for _, x := range e.Indices {
			il.Indices = append(il.Indices, q(x))
		}
		r = il
	default:
		return nil, fmt.Errorf("unsupported type expression %T", e)
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// addImport records that the output refers to package path under name.
func (g *gen) addImport(ip, name string) error {
	if name == "resty" && ip != restyPath {
		return fmt.Errorf("package %s would shadow resty's qualifier", ip)
	}
	for p, n := range g.imports {
		if n == name && p != ip {
			return fmt.Errorf("packages %s and %s are both named %s", p, ip, name)
		}
	}
	g.imports[ip] = name
	return nil
}

// importPathOf resolves the package name pkg used in file f to its import
// path. An unaliased import is matched by the last element of its path,
// ignoring a major-version suffix such as /v2.
func importPathOf(f *ast.File, pkg string) (string, error) {
	for _, is := range f.Imports {
		ip, err := strconv.Unquote(is.Path.Value)
		if err != nil {
			return "", fmt.Errorf("bad import path %s: %w", is.Path.Value, err)
		}
		if is.Name != nil {
			if is.Name.Name == pkg {
				return ip, nil
			}
			continue
		}
		if defaultName(ip) == pkg {
			return ip, nil
		}
	}
	return "", fmt.Errorf("cannot resolve package %s", pkg)
}

// isStd reports whether ip looks like a standard-library path (no dot in its
// first element).
func isStd(ip string) bool {
	first, _, _ := strings.Cut(ip, "/")
	return !strings.Contains(first, ".")
}

func defaultName(ip string) string {
	base := path.Base(ip)
	if len(base) > 1 && base[0] == 'v' && strings.Trim(base[1:], "0123456789") == "" && path.Dir(ip) != "." {
		base = path.Base(path.Dir(ip))
	}
	return strings.TrimPrefix(base, "go-")
}
