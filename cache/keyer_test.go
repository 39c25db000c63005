package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// keyReq describes a request for the key tests.
type keyReq struct {
	method string
	url    string
	host   string // r.Host, when set
	header http.Header
	ctype  string // Content-Type header, when set
	body   string
}

func (q keyReq) build(t testing.TB) *http.Request {
	t.Helper()
	u, err := url.Parse(q.url)
	if err != nil {
		t.Fatalf("url.Parse(%q): %v", q.url, err)
	}
	h := http.Header{}
	for k, vs := range q.header {
		h[k] = append([]string(nil), vs...)
	}
	if q.ctype != "" {
		h.Set("Content-Type", q.ctype)
	}
	return &http.Request{Method: q.method, URL: u, Host: q.host, Header: h}
}

func keyOf(t testing.TB, k *Keyer, q keyReq) Key {
	t.Helper()
	return k.Key(q.build(t), []byte(q.body))
}

func get(u string) keyReq { return keyReq{method: "GET", url: u} }

func withHeader(q keyReq, kv ...string) keyReq {
	q.header = http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.header.Add(kv[i], kv[i+1])
	}
	return q
}

func post(u, ctype, body string) keyReq {
	return keyReq{method: "POST", url: u, ctype: ctype, body: body}
}

func TestKeyEquivalence(t *testing.T) {
	ignore := KeyOptions{IgnoredParams: []string{"ts", "X-Request-Id", "nonce"}}
	accept := KeyOptions{MatchHeaders: []string{"accept"}}
	all := KeyOptions{MatchAllHeaders: true}
	tests := []struct {
		name string
		opts KeyOptions
		a, b keyReq
		same bool
	}{
		// Method.
		{"method case", KeyOptions{}, keyReq{method: "get", url: "http://h/"}, get("http://h/"), true},
		{"empty method is GET", KeyOptions{}, keyReq{url: "http://h/"}, get("http://h/"), true},
		{"GET vs HEAD", KeyOptions{}, get("http://h/"), keyReq{method: "HEAD", url: "http://h/"}, false},

		// Scheme and host.
		{"scheme case", KeyOptions{}, get("HTTP://h/"), get("http://h/"), true},
		{"host case", KeyOptions{}, get("http://Example.COM/"), get("http://example.com/"), true},
		{"http default port", KeyOptions{}, get("http://h:80/"), get("http://h/"), true},
		{"https default port", KeyOptions{}, get("https://h:443/"), get("https://h/"), true},
		{"empty port", KeyOptions{}, get("http://h:/"), get("http://h/"), true},
		{"port with leading zero", KeyOptions{}, get("http://h:080/"), get("http://h/"), true},
		{"http port 443 kept", KeyOptions{}, get("http://h:443/"), get("http://h/"), false},
		{"other port kept", KeyOptions{}, get("http://h:8080/"), get("http://h/"), false},
		{"scheme separates", KeyOptions{}, get("http://h/"), get("https://h/"), false},
		{"host separates", KeyOptions{}, get("http://a/"), get("http://b/"), false},
		{"IPv6 default port", KeyOptions{}, get("http://[::1]:80/"), get("http://[::1]/"), true},
		{"IPv6 other port", KeyOptions{}, get("http://[::1]:8080/"), get("http://[::1]/"), false},
		{"IPv6 not a port", KeyOptions{}, get("http://[::1]/"), get("http://[::2]/"), false},
		{"r.Host overrides URL host", KeyOptions{},
			keyReq{method: "GET", url: "http://127.0.0.1/", host: "api.example.com"}, get("http://api.example.com/"), true},
		{"r.Host separates", KeyOptions{},
			keyReq{method: "GET", url: "http://127.0.0.1/", host: "a.example"}, get("http://127.0.0.1/"), false},
		{"userinfo separates", KeyOptions{}, get("http://u:p1@h/"), get("http://u:p2@h/"), false},
		{"userinfo vs none", KeyOptions{}, get("http://u@h/"), get("http://h/"), false},

		// Path.
		{"dot segments", KeyOptions{}, get("http://h/a/./b/../c"), get("http://h/a/c"), true},
		{"leading dot-dot", KeyOptions{}, get("http://h/../a"), get("http://h/a"), true},
		{"trailing dot-dot", KeyOptions{}, get("http://h/a/b/.."), get("http://h/a/"), true},
		{"encoded tilde", KeyOptions{}, get("http://h/%7euser"), get("http://h/~user"), true},
		{"encoded letter", KeyOptions{}, get("http://h/%61"), get("http://h/a"), true},
		{"hex case", KeyOptions{}, get("http://h/a%2fb"), get("http://h/a%2Fb"), true},
		{"encoded slash stays", KeyOptions{}, get("http://h/a%2Fb"), get("http://h/a/b"), false},
		{"encoded dot segment", KeyOptions{}, get("http://h/a/%2E%2E/b"), get("http://h/b"), true},
		{"encoded space", KeyOptions{}, get("http://h/a%20b"), get("http://h/a b"), true},
		{"empty path", KeyOptions{}, get("http://h"), get("http://h/"), true},
		{"trailing slash separates", KeyOptions{}, get("http://h/a"), get("http://h/a/"), false},
		{"path case separates", KeyOptions{}, get("http://h/A"), get("http://h/a"), false},
		{"fragment ignored", KeyOptions{}, get("http://h/a#frag"), get("http://h/a"), true},

		// Query.
		{"query order", KeyOptions{}, get("http://h/?b=2&a=1"), get("http://h/?a=1&b=2"), true},
		{"same name order by value", KeyOptions{}, get("http://h/?a=2&a=1"), get("http://h/?a=1&a=2"), true},
		{"duplicates kept", KeyOptions{}, get("http://h/?a=1&a=1"), get("http://h/?a=1"), false},
		{"empty query", KeyOptions{}, get("http://h/?"), get("http://h/"), true},
		{"empty pairs", KeyOptions{}, get("http://h/?a=1&&b=2&"), get("http://h/?b=2&a=1"), true},
		{"query escapes", KeyOptions{}, get("http://h/?q=a%20b"), get("http://h/?q=a+b"), true},
		{"query hex case", KeyOptions{}, get("http://h/?q=%2f"), get("http://h/?q=%2F"), true},
		{"value separates", KeyOptions{}, get("http://h/?a=1"), get("http://h/?a=2"), false},
		{"name=value boundary", KeyOptions{}, get("http://h/?ab=c"), get("http://h/?a=bc"), false},
		{"pair boundary", KeyOptions{}, get("http://h/?a=1%26b%3D2"), get("http://h/?a=1&b=2"), false},
		{"malformed escape kept", KeyOptions{}, get("http://h/?a=%zz"), get("http://h/?a=%25zz"), true},
		{"malformed vs other", KeyOptions{}, get("http://h/?a=%zz"), get("http://h/?a=zz"), false},
		{"query vs path", KeyOptions{}, get("http://h/a?b"), get("http://h/a%3Fb"), false},
		{"ignored param", ignore, get("http://h/?a=1&ts=1"), get("http://h/?ts=2&a=1"), true},
		{"ignored param gone", ignore, get("http://h/?a=1&ts=1"), get("http://h/?a=1"), true},
		{"ignored param escaped name", ignore, get("http://h/?a=1&%74s=1"), get("http://h/?a=1"), true},
		{"ignored param is case-sensitive", ignore, get("http://h/?a=1&TS=1"), get("http://h/?a=1"), false},
		{"sensitive param in key", KeyOptions{}, get("http://h/?api_key=1"), get("http://h/?api_key=2"), false},

		// Body.
		{"JSON key order", KeyOptions{}, post("http://h/", "application/json", `{"a":1,"b":2}`),
			post("http://h/", "application/json", `{"b":2,"a":1}`), true},
		{"JSON nested key order", KeyOptions{}, post("http://h/", "application/json", `{"x":[{"a":1,"b":{"d":4,"c":3}}]}`),
			post("http://h/", "application/json", `{ "x" : [ { "b" : { "c" : 3 , "d" : 4 } , "a" : 1 } ] }`), true},
		{"JSON whitespace", KeyOptions{}, post("http://h/", "application/json", "{\n\t\"a\": [1, 2]\n}"),
			post("http://h/", "application/json", `{"a":[1,2]}`), true},
		{"JSON content type parameters", KeyOptions{}, post("http://h/", "Application/JSON; charset=utf-8", `{"b":2,"a":1}`),
			post("http://h/", "application/json", `{"a":1,"b":2}`), true},
		{"+json suffix", KeyOptions{}, post("http://h/", "application/problem+json", `{"b":2,"a":1}`),
			post("http://h/", "application/problem+json", `{"a":1,"b":2}`), true},
		{"JSON string escapes", KeyOptions{}, post("http://h/", "application/json", `{"k":"\u00e9\/\u0041"}`),
			post("http://h/", "application/json", `{"k":"é/A"}`), true},
		{"JSON array order separates", KeyOptions{}, post("http://h/", "application/json", `[1,2]`),
			post("http://h/", "application/json", `[2,1]`), false},
		{"JSON numbers as written", KeyOptions{}, post("http://h/", "application/json", `{"n":1.0}`),
			post("http://h/", "application/json", `{"n":1}`), false},
		{"JSON big numbers not rounded", KeyOptions{}, post("http://h/", "application/json", `{"n":12345678901234567890}`),
			post("http://h/", "application/json", `{"n":12345678901234567891}`), false},
		{"JSON duplicate keys keep order", KeyOptions{}, post("http://h/", "application/json", `{"a":1,"a":2}`),
			post("http://h/", "application/json", `{"a":2,"a":1}`), false},
		{"JSON value separates", KeyOptions{}, post("http://h/", "application/json", `{"a":1}`),
			post("http://h/", "application/json", `{"a":2}`), false},
		{"JSON ignored top-level key", ignore, post("http://h/", "application/json", `{"a":1,"nonce":"x"}`),
			post("http://h/", "application/json", `{"nonce":"y","a":1}`), true},
		{"JSON ignored only at top level", ignore, post("http://h/", "application/json", `{"o":{"nonce":"x"}}`),
			post("http://h/", "application/json", `{"o":{"nonce":"y"}}`), false},
		{"JSON vs raw same bytes", KeyOptions{}, post("http://h/", "application/json", `{"a":1}`),
			post("http://h/", "text/plain", `{"a":1}`), false},
		{"invalid JSON is raw", KeyOptions{}, post("http://h/", "application/json", `{"a":`),
			post("http://h/", "text/plain", `{"a":`), true},
		{"raw body separates", KeyOptions{}, post("http://h/", "text/plain", "a"), post("http://h/", "text/plain", "b"), false},
		{"raw body whitespace matters", KeyOptions{}, post("http://h/", "text/plain", `{"a":1}`),
			post("http://h/", "text/plain", `{ "a":1}`), false},
		{"body vs none", KeyOptions{}, post("http://h/", "text/plain", "x"), post("http://h/", "text/plain", ""), false},
		{"form order", KeyOptions{}, post("http://h/", "application/x-www-form-urlencoded", "b=2&a=1"),
			post("http://h/", "application/x-www-form-urlencoded", "a=1&b=2"), true},
		{"form ignored field", ignore, post("http://h/", "application/x-www-form-urlencoded", "a=1&ts=1"),
			post("http://h/", "application/x-www-form-urlencoded", "ts=2&a=1"), true},
		{"form vs raw same bytes", KeyOptions{}, post("http://h/", "application/x-www-form-urlencoded", "a=1"),
			post("http://h/", "text/plain", "a=1"), false},
		{"form body vs query", KeyOptions{}, post("http://h/", "application/x-www-form-urlencoded", "a=1"),
			post("http://h/?a=1", "", ""), false},

		// Headers.
		{"headers not matched", KeyOptions{}, withHeader(get("http://h/"), "Accept", "a"),
			withHeader(get("http://h/"), "Accept", "b"), true},
		{"match Accept splits", accept, withHeader(get("http://h/"), "Accept", "text/html"),
			withHeader(get("http://h/"), "Accept", "application/json"), false},
		{"match Accept present vs absent", accept, withHeader(get("http://h/"), "Accept", "x"), get("http://h/"), false},
		{"match Accept ignores others", accept, withHeader(get("http://h/"), "Accept", "a", "User-Agent", "x"),
			withHeader(get("http://h/"), "Accept", "a", "User-Agent", "y"), true},
		{"matched values in order", accept, withHeader(get("http://h/"), "Accept", "a", "Accept", "b"),
			withHeader(get("http://h/"), "Accept", "b", "Accept", "a"), false},
		{"match all splits on any", all, withHeader(get("http://h/"), "X-Anything", "1"),
			withHeader(get("http://h/"), "X-Anything", "2"), false},
		{"match all header order", all, withHeader(get("http://h/"), "B", "2", "A", "1"),
			withHeader(get("http://h/"), "A", "1", "B", "2"), true},
		{"match all ignored header", KeyOptions{MatchAllHeaders: true, IgnoredParams: []string{"x-request-id"}},
			withHeader(get("http://h/"), "X-Request-Id", "1"), withHeader(get("http://h/"), "X-Request-Id", "2"), true},
		{"matched ignored header", KeyOptions{MatchHeaders: []string{"X-Request-Id"}, IgnoredParams: []string{"x-request-ID"}},
			withHeader(get("http://h/"), "X-Request-Id", "1"), get("http://h/"), true},
		{"authorization splits unmatched", KeyOptions{}, withHeader(get("http://h/"), "Authorization", "Bearer a"),
			withHeader(get("http://h/"), "Authorization", "Bearer b"), false},
		{"authorization vs none", KeyOptions{}, withHeader(get("http://h/"), "Authorization", "Bearer a"), get("http://h/"), false},
		{"cookie does not split unmatched", KeyOptions{}, withHeader(get("http://h/"), "Cookie", "s=1"),
			withHeader(get("http://h/"), "Cookie", "s=2"), true},
		{"cookie or none, unmatched", KeyOptions{}, withHeader(get("http://h/"), "Cookie", "s=1"), get("http://h/"), true},
		{"matched cookie splits", KeyOptions{MatchHeaders: []string{"cookie"}}, withHeader(get("http://h/"), "Cookie", "s=1"),
			withHeader(get("http://h/"), "Cookie", "s=2"), false},
		{"custom sensitive header splits", KeyOptions{SensitiveNames: []string{"x-tenant-token"}},
			withHeader(get("http://h/"), "X-Tenant-Token", "1"), withHeader(get("http://h/"), "X-Tenant-Token", "2"), false},
		{"ignored sensitive header", KeyOptions{IgnoredParams: []string{"Cookie"}},
			withHeader(get("http://h/"), "Cookie", "s=1"), withHeader(get("http://h/"), "Cookie", "s=2"), true},
		{"non-canonical authorization splits", KeyOptions{},
			keyReq{method: "GET", url: "http://h/", header: http.Header{"authorization": {"a"}}},
			keyReq{method: "GET", url: "http://h/", header: http.Header{"authorization": {"b"}}}, false},
		{"header name case", accept,
			keyReq{method: "GET", url: "http://h/", header: http.Header{"accept": {"a"}}},
			withHeader(get("http://h/"), "Accept", "a"), true},
		{"matched vs secret header not confused", KeyOptions{MatchHeaders: []string{"X-A"}},
			withHeader(get("http://h/"), "X-A", "v"), withHeader(get("http://h/"), "X-Api-Key", "v"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := NewKeyer(tt.opts)
			a, b := keyOf(t, k, tt.a), keyOf(t, k, tt.b)
			if (a == b) != tt.same {
				t.Errorf("keys equal = %v, want %v\n a: %+v -> %s\n b: %+v -> %s", a == b, tt.same, tt.a, a, tt.b, b)
			}
		})
	}
}

// TestKeyGolden pins keys: they must not change across processes or
// releases unless KeyVersion changes. The first, fourth, fifth and sixth
// were checked against an independent (Python) encoder of the format that
// TestKeyEncodingVersion documents.
func TestKeyGolden(t *testing.T) {
	opts := KeyOptions{MatchHeaders: []string{"Accept"}, IgnoredParams: []string{"ts"}}
	tests := []struct {
		req  keyReq
		want Key
	}{
		{get("http://example.com/"), "b4603f6ddc48f2afb340597e91c1c94202bc031c8b861591571b8b354bb11e5f"},
		{get("https://Example.com:443/a/./b/../c?z=1&a=2&ts=9#f"), "a4b8a48429885f323e2daadff81e8a72de97fbc1ac31120d4b79d6169241ed03"},
		{withHeader(get("http://example.com/items?page=2"), "Accept", "application/json", "User-Agent", "x"),
			"fd111517fa01ee10ca6a4c2d6d40d8c7f3d8195e391614b652482f0405bd1f75"},
		{withHeader(get("http://example.com/"), "Authorization", "Bearer secret"),
			"37f8c4775b341281504a50102f6065e5ee8e1cda9d641605fec2172747835f22"},
		{post("http://example.com/search", "application/json", `{"q":"go","page":{"size":10,"n":1},"ts":5}`),
			"610e3c403711009e12a92cbead74819f9240dc93cd696f2b4f29bb69d1fb8113"},
		{post("http://example.com/form", "application/x-www-form-urlencoded", "b=2&a=1+2&ts=3"),
			"85ed2075cbc09ec842c29a532264909bc784d6172acd2c6d8737ea93d46e8443"},
		{post("http://example.com/raw", "application/octet-stream", "\x00\x01\x02"),
			"8dc213c61ecebaa895b0ea4c7c84bb97c27296e5b0b7a20f3881e4cb7e222ca2"},
	}
	k := NewKeyer(opts)
	for _, tt := range tests {
		if got := keyOf(t, k, tt.req); got != tt.want {
			t.Errorf("Key(%s %s) = %s, want %s", tt.req.method, tt.req.url, got, tt.want)
		}
	}
}

// TestKeyEncodingVersion documents the encoding of KeyVersion 1 by
// building it by hand: fields of tag byte, uvarint length and content.
func TestKeyEncodingVersion(t *testing.T) {
	if KeyVersion != 1 {
		t.Fatalf("KeyVersion = %d; a new version needs new golden keys and this test updated", KeyVersion)
	}
	var enc []byte
	field := func(tag byte, s string) {
		enc = append(enc, tag)
		enc = binary.AppendUvarint(enc, uint64(len(s)))
		enc = append(enc, s...)
	}
	field(0x00, "\x01") // version
	field(0x01, "POST") // method
	field(0x02, "http") // scheme
	field(0x05, "example.com:8080")
	field(0x06, "/p")
	field(0x08, "a") // query name, decoded
	field(0x09, "1 2")
	field(0x08, "b")
	field(0x09, "")
	field(0x10, `{"x":1,"y":[true,null]}`) // canonical JSON body
	field(0x20, "accept")                  // matched header, lower-cased
	field(0x21, "text/plain")
	field(0x30, "authorization") // sensitive header, hashed only
	field(0x31, "Bearer t")
	sum := sha256.Sum256(enc)
	want := Key(hex.EncodeToString(sum[:]))

	req := post("HTTP://EXAMPLE.com:8080/q/../p?b&a=1+2#x", "application/json", `{"y":[true,null], "x":1}`)
	req.header = http.Header{"Accept": {"text/plain"}, "Authorization": {"Bearer t"}, "X-Other": {"o"}}
	got := keyOf(t, NewKeyer(KeyOptions{MatchHeaders: []string{"ACCEPT"}}), req)
	if got != want {
		t.Errorf("Key = %s, want %s (hand-built encoding)", got, want)
	}
}

func TestKeyFormat(t *testing.T) {
	k := NewKeyer(KeyOptions{})
	got := string(keyOf(t, k, get("http://h/")))
	if len(got) != 64 {
		t.Fatalf("len(key) = %d, want 64", len(got))
	}
	if strings.Trim(got, "0123456789abcdef") != "" {
		t.Errorf("key %q is not lower-case hex", got)
	}
}

func TestKeyEdgeCases(t *testing.T) {
	k := NewKeyer(KeyOptions{MatchAllHeaders: true})
	if got := k.Key(nil, nil); got != "" {
		t.Errorf("Key(nil) = %q, want empty", got)
	}
	// No URL, no header map: no panic and a well-formed key.
	if got := k.Key(&http.Request{Method: "GET"}, []byte("x")); len(got) != 64 {
		t.Errorf("Key(request without URL) = %q", got)
	}
	want := NewKeyer(KeyOptions{}).Key(get("http://h/?a=1").build(t), nil)
	var zero Keyer
	if got := zero.Key(get("http://h/?a=1").build(t), nil); got != want {
		t.Errorf("zero Keyer key = %s, want %s", got, want)
	}
	var nilKeyer *Keyer
	if got := nilKeyer.Key(get("http://h/?a=1").build(t), nil); got != want {
		t.Errorf("nil Keyer key = %s, want %s", got, want)
	}
}

func TestKeyerDoesNotKeepOptions(t *testing.T) {
	o := KeyOptions{MatchHeaders: []string{"Accept"}, IgnoredParams: []string{"ts"}}
	k := NewKeyer(o)
	before := keyOf(t, k, withHeader(get("http://h/?ts=1"), "Accept", "a"))
	o.MatchHeaders[0], o.IgnoredParams[0] = "X-Other", "other"
	if after := keyOf(t, k, withHeader(get("http://h/?ts=1"), "Accept", "a")); after != before {
		t.Errorf("key changed after the options' slices were modified")
	}
}

func TestKeyDoesNotModifyRequest(t *testing.T) {
	r := withHeader(get("http://H/a/../b?z=1&a=2#f"), "Accept", "x").build(t)
	before := r.URL.String()
	NewKeyer(KeyOptions{MatchAllHeaders: true}).Key(r, []byte(`{"b":1,"a":2}`))
	if r.URL.String() != before || r.Header.Get("Accept") != "x" || len(r.Header) != 1 {
		t.Errorf("request modified: %s %v", r.URL, r.Header)
	}
}

func TestKeyConcurrent(t *testing.T) {
	k := NewKeyer(KeyOptions{MatchHeaders: []string{"Accept"}, IgnoredParams: []string{"ts"}})
	reqs := []keyReq{
		withHeader(get("http://h/?b=2&a=1&ts=3"), "Accept", "a"),
		post("http://h/j", "application/json", `{"b":{"y":1,"x":2},"a":[1,2,3]}`),
		post("http://h/f", "application/x-www-form-urlencoded", "z=1&y=2"),
	}
	want := make([]Key, len(reqs))
	for i, q := range reqs {
		want[i] = keyOf(t, k, q)
	}
	const workers, rounds = 8, 200
	errs := make(chan string, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < rounds; n++ {
				i := (w + n) % len(reqs)
				r := reqs[i]
				u, _ := url.Parse(r.url)
				req := &http.Request{Method: r.method, URL: u, Header: http.Header{}}
				for name, vs := range r.header {
					req.Header[name] = vs
				}
				if r.ctype != "" {
					req.Header.Set("Content-Type", r.ctype)
				}
				if got := k.Key(req, []byte(r.body)); got != want[i] {
					errs <- "request " + r.url + ": key " + string(got) + " != " + string(want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// A Keyer's memo of recent keys changes no key: requests that differ in
// any input keep different keys when one of them is remembered, the same
// request keeps its key, and the memo stays bounded.
func TestKeyMemo(t *testing.T) {
	opts := KeyOptions{MatchHeaders: []string{"Accept"}, IgnoredParams: []string{"ts"}}
	reqs := []keyReq{
		get("http://h/a?b=1&a=2"),
		get("http://h/a?a=2&b=1"),
		get("http://h/a?a=2&b=1&ts=9"),
		get("http://H:80/./a?a=2&b=1"),
		get("http://h/a%2Fb"),
		get("http://h/a/b"),
		get("https://h/a"),
		get("http://u:p@h/a"),
		get("http://u:q@h/a"),
		get("http://u@h/a"),
		get("http://h/a#frag"),
		{method: "HEAD", url: "http://h/a"},
		{method: "get", url: "http://h/a"},
		{method: "GET", url: "http://h/a", host: "other"},
		withHeader(get("http://h/a"), "Accept", "text/html"),
		withHeader(get("http://h/a"), "Accept", "application/json"),
		withHeader(get("http://h/a"), "accept", "application/json"),
		withHeader(get("http://h/a"), "Accept", "a", "Accept", "b"),
		withHeader(get("http://h/a"), "Accept", "a,b"),
		withHeader(get("http://h/a"), "Authorization", "Bearer alice"),
		withHeader(get("http://h/a"), "Authorization", "Bearer bob"),
		withHeader(get("http://h/a"), "X-API-Key", "alice"),
		withHeader(get("http://h/a"), "Cookie", "id=1"),
		withHeader(get("http://h/a"), "X-Unmatched", "1"),
	}
	k := NewKeyer(opts)
	for round := range 3 {
		for _, q := range reqs {
			if got, want := keyOf(t, k, q), keyOf(t, NewKeyer(opts), q); got != want {
				t.Errorf("round %d, %s %s %v: remembered key %s, fresh key %s", round, q.method, q.url, q.header, got, want)
			}
		}
	}
	if len(k.c.memo) == 0 {
		t.Fatal("the Keyer remembered no key")
	}
	for i := range keyMemoSize + 10 {
		keyOf(t, k, get("http://h/n"+strconv.Itoa(i)))
	}
	if n := len(k.c.memo); n > keyMemoSize {
		t.Errorf("memo holds %d keys, want at most %d", n, keyMemoSize)
	}
	if got, want := keyOf(t, k, post("http://h/a", "text/plain", "x")), keyOf(t, NewKeyer(opts), post("http://h/a", "text/plain", "x")); got != want {
		t.Errorf("a request with a body: key %s, fresh key %s", got, want)
	}
}

func TestKeyAllocs(t *testing.T) {
	k := NewKeyer(KeyOptions{MatchHeaders: []string{"Accept", "X-Client"}})
	r := withHeader(get("http://api.example.com/v1/items?page=2&sort=name"),
		"Accept", "application/json", "X-Client", "test").build(t)
	if raceDetector {
		t.Skip("the race detector makes sync.Pool drop entries at random: allocation counts mean nothing")
	}
	k.Key(r, nil) // warm the pool
	got := testing.AllocsPerRun(200, func() { k.Key(r, nil) })
	if limit := 4.0; got > limit {
		t.Errorf("Key allocated %.1f times per GET, want <= %.0f", got, limit)
	}
}

func TestDefaultSensitiveNames(t *testing.T) {
	want := []string{"Authorization", "Proxy-Authorization", "Cookie", "X-API-Key",
		"X-Auth-Token", "Private-Token", "Api-Key", "X-API-Token", "X-Access-Token",
		"api_key", "apikey", "access_token"}
	got := DefaultSensitiveNames()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("DefaultSensitiveNames() = %v, want %v", got, want)
	}
	got[0] = "changed"
	if DefaultSensitiveNames()[0] != "Authorization" {
		t.Error("DefaultSensitiveNames returned shared state")
	}
}

func BenchmarkKey(b *testing.B) {
	k := NewKeyer(KeyOptions{MatchHeaders: []string{"Accept", "X-Client"}})
	b.Run("GET", func(b *testing.B) {
		r := withHeader(get("http://api.example.com/v1/items?page=2&sort=name"),
			"Accept", "application/json", "X-Client", "bench").build(b)
		b.ReportAllocs()
		for b.Loop() {
			k.Key(r, nil)
		}
	})
	b.Run("GET-unsorted-escaped", func(b *testing.B) {
		r := withHeader(get("http://API.example.com:80/v1/./items/%7Eme?sort=na%6De&page=2"),
			"Accept", "application/json", "X-Client", "bench").build(b)
		b.ReportAllocs()
		for b.Loop() {
			k.Key(r, nil)
		}
	})
	b.Run("POST-JSON-2KiB", func(b *testing.B) {
		var sb strings.Builder
		sb.WriteString(`{"query":{"filters":[`)
		for i := 0; sb.Len() < 2000; i++ {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(`{"name":"field`)
			sb.WriteString(strings.Repeat("x", i%7))
			sb.WriteString(`","op":"eq","value":12.50,"tags":["a","b"]}`)
		}
		sb.WriteString(`]},"page":{"size":50,"after":"c3Vyc29y"}}`)
		body := []byte(sb.String())
		r := post("http://api.example.com/v1/search", "application/json", "").build(b)
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			k.Key(r, body)
		}
	})
}

// TestDefaultSensitiveHeaders: each default sensitive header separates keys
// without being matched, and its value is never stored, matched or not.
func TestDefaultSensitiveHeaders(t *testing.T) {
	plain := NewKeyer(KeyOptions{})
	all := NewKeyer(KeyOptions{MatchAllHeaders: true})
	for _, name := range []string{"Private-Token", "Api-Key", "X-API-Token", "X-Access-Token",
		"Authorization", "X-API-Key", "X-Auth-Token", "private-token", "API-KEY"} {
		t.Run(name, func(t *testing.T) {
			a := withHeader(get("https://gitlab.example.com/api/v4/projects"), name, "S3cr3t-value-a")
			b := withHeader(get("https://gitlab.example.com/api/v4/projects"), name, "S3cr3t-value-b")
			none := get("https://gitlab.example.com/api/v4/projects")
			for _, k := range []*Keyer{plain, all} {
				ka, kb, kn := keyOf(t, k, a), keyOf(t, k, b), keyOf(t, k, none)
				if ka == kb || ka == kn || kb == kn {
					t.Errorf("keys do not separate on %s: %s %s %s", name, ka, kb, kn)
				}
			}
			stored := all.StoredHeaders(a.build(t).Header)
			if len(stored) != 1 {
				t.Fatalf("StoredHeaders = %v, want the one header", stored)
			}
			for n, vs := range stored {
				if strings.Join(vs, ",") != Redacted {
					t.Errorf("StoredHeaders[%s] = %q, want %q", n, vs, Redacted)
				}
				if strings.Contains(n+strings.Join(vs, ","), "S3cr3t") {
					t.Errorf("stored header leaks the value: %s: %q", n, vs)
				}
			}
			if got := plain.StoredHeaders(a.build(t).Header); got != nil {
				t.Errorf("unmatched header stored: %v", got)
			}
			// As query parameters, the same names are redacted from the
			// stored URL too.
			u, _ := url.Parse("https://h/?" + url.QueryEscape(name) + "=S3cr3t-value-a")
			if got := plain.RedactURL(u); strings.Contains(got, "S3cr3t") {
				t.Errorf("RedactURL(%q) = %q leaks the value", u, got)
			}
		})
	}
}
