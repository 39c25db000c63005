package cache

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func FuzzKey(f *testing.F) {
	f.Add("http://h/a/./b?z=1&a=2", []byte(`{"b":1,"a":[1,2]}`), "application/json")
	f.Add("https://u:p@[::1]:443/%7e%2f?%zz=%&&a", []byte("b=2&a=1&ts=0"), "application/x-www-form-urlencoded")
	f.Add("HTTP://H:80", []byte("\x00\xff"), "text/plain")
	f.Add("/relative/../path", []byte(`{"ts":1,"\ud800":"\u0000"}`), "application/problem+json; charset=utf-8")
	f.Add("http://h/", []byte(`[{"a":{"b":{"c":[]}}}, 1e400, -0]`), "application/json")
	opts := KeyOptions{MatchAllHeaders: true, IgnoredParams: []string{"ts", "a"}, SensitiveNames: []string{"x-secret"}}
	k := NewKeyer(opts)
	f.Fuzz(func(t *testing.T, rawURL string, body []byte, contentType string) {
		u, err := url.Parse(rawURL)
		if err != nil {
			return
		}
		h := http.Header{"Content-Type": {contentType}, "X-Secret": {rawURL}, "authorization": {"lower-case key"}}
		r := &http.Request{Method: "POST", URL: u, Header: h}
		before := u.String()
		key := k.Key(r, body)
		if len(key) != 64 || strings.Trim(string(key), "0123456789abcdef") != "" {
			t.Fatalf("malformed key %q", key)
		}
		if again := k.Key(r, body); again != key {
			t.Fatalf("Key not deterministic: %s then %s", key, again)
		}
		if u.String() != before {
			t.Fatalf("Key modified the URL: %q -> %q", before, u.String())
		}
		// r.Host takes the URL's host role: any string must be accepted.
		r.Host = rawURL
		if hk := k.Key(r, body); len(hk) != 64 {
			t.Fatalf("malformed key %q with Host %q", hk, rawURL)
		}
		// A remembered key is the key a fresh Keyer derives.
		r.Method, r.Host = "GET", ""
		for range 2 {
			if got, want := k.Key(r, nil), NewKeyer(opts).Key(r, nil); got != want {
				t.Fatalf("remembered key %s, fresh key %s", got, want)
			}
		}
	})
}

// keyCanonicalURL rebuilds u from its normalised parts: parsing the result
// must key the same as u.
func keyCanonicalURL(u *url.URL) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(u.Scheme))
	b.WriteString("://")
	b.Write(keyAppendHost(nil, u.Scheme, u.Host))
	b.Write(keyAppendPath(nil, u.EscapedPath()))
	var pairs [][2]string
	for _, p := range strings.Split(u.RawQuery, "&") {
		if p == "" {
			continue
		}
		n, v, _ := strings.Cut(p, "=")
		pairs = append(pairs, [2]string{string(keyAppendUnescape(nil, n)), string(keyAppendUnescape(nil, v))})
	}
	slices.SortFunc(pairs, func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	})
	for i, p := range pairs {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p[0]) + "=" + url.QueryEscape(p[1]))
	}
	return b.String()
}

func FuzzNormalizeURL(f *testing.F) {
	for _, s := range []string{
		"http://h/a/./b/../c", "HTTPS://EXAMPLE.com:443/%7e%2f%2E%2E/x?b=2&a=1",
		"http://[::1]:80/..//../a/.", "http://h:/%zz/%/%4", "http://h/a b/\xff?q=a+b%20c&&",
		"/a/b/../../..", "http://h/%2e%2e%2f", "http://h/a/.%2E/b",
	} {
		f.Add(s)
	}
	k := NewKeyer(KeyOptions{})
	f.Fuzz(func(t *testing.T, s string) {
		u, err := url.Parse(s)
		if err != nil {
			return
		}
		p1 := keyAppendPath(nil, u.EscapedPath())
		if p2 := keyAppendPath(nil, string(p1)); !bytes.Equal(p1, p2) {
			t.Fatalf("path not idempotent: %q -> %q -> %q", u.EscapedPath(), p1, p2)
		}
		h1 := keyAppendHost(nil, u.Scheme, u.Host)
		if h2 := keyAppendHost(nil, u.Scheme, string(h1)); !bytes.Equal(h1, h2) {
			t.Fatalf("host not idempotent: %q -> %q -> %q", u.Host, h1, h2)
		}
		if u.Opaque != "" || u.User != nil || u.Scheme == "" || u.Host == "" {
			return
		}
		canon := keyCanonicalURL(u)
		v, err := url.Parse(canon)
		if err != nil {
			return // e.g. a host url.Parse accepted only with its original case
		}
		if again := keyCanonicalURL(v); again != canon {
			t.Fatalf("normalising twice: %q -> %q -> %q", s, canon, again)
		}
		a := k.Key(&http.Request{Method: "GET", URL: u}, nil)
		b := k.Key(&http.Request{Method: "GET", URL: v}, nil)
		if a != b {
			t.Fatalf("Key(%q) != Key(normalised %q)", s, canon)
		}
		// One key, one stored URL.
		if ra, rb := k.RedactURL(u), k.RedactURL(v); ra != rb {
			t.Fatalf("same key, different stored URLs: %q -> %q, %q -> %q", s, ra, canon, rb)
		}
	})
}

func FuzzCanonicalJSON(f *testing.F) {
	for _, s := range []string{
		`{"b":1,"a":{"d":[1,{"z":0,"y":1}],"c":null}}`, `[1, 2.50, -3e10, true, false, null]`,
		`"\u0041\ud83d\ude00\ud800\/\n"`, `{"a":1,"a":2,"\u0061":3}`, ` {} `, `12345678901234567890`,
	} {
		f.Add([]byte(s))
	}
	c := NewKeyer(KeyOptions{}).c
	f.Fuzz(func(t *testing.T, in []byte) {
		if !json.Valid(in) {
			return
		}
		e := c.encoder()
		defer c.release(e)
		out := c.appendCanonicalJSON(e, nil, in)
		if !json.Valid(out) {
			t.Fatalf("canonical form of %q is invalid JSON: %q", in, out)
		}
		if again := c.appendCanonicalJSON(e, nil, out); !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, out, again)
		}
		if a, b := keyDecodeJSON(t, in), keyDecodeJSON(t, out); !reflect.DeepEqual(a, b) {
			t.Fatalf("meaning changed: %q (%v) -> %q (%v)", in, a, out, b)
		}
	})
}

func keyDecodeJSON(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return v
}

func FuzzRedactURL(f *testing.F) {
	f.Add("https://u:p@h/p?api_key=s1&ts=s2&X-API-KEY=s3&ok=1#frag")
	f.Add("http://tok@h/?%61pikey=s&access_token&=x&&")
	f.Add("HTTP://sk_live:@H:80/a/../b/%7e?z=%zz&a=1+2&A=3")
	f.Add("https://:pw@[fe80::1%25en0]:443/")
	k := NewKeyer(KeyOptions{IgnoredParams: []string{"ts"}})
	f.Fuzz(func(t *testing.T, s string) {
		u, err := url.Parse(s)
		if err != nil {
			return
		}
		out := k.RedactURL(u)
		v, err := url.Parse(out)
		if err != nil {
			if u.Scheme != "" && u.Host != "" {
				t.Fatalf("RedactURL(%q) = %q does not parse: %v", s, out, err)
			}
			return
		}
		if v.Fragment != "" {
			t.Fatalf("fragment kept: %q -> %q", s, out)
		}
		if v.User != nil && (v.User.Username() != Redacted || v.User.String() != Redacted) {
			t.Fatalf("userinfo kept: %q -> %q", s, out)
		}
		if (v.User != nil) != (u.User != nil) && u.Opaque == "" {
			t.Fatalf("userinfo presence changed: %q -> %q", s, out)
		}
		e := k.c.encoder()
		defer k.c.release(e)
		for _, pair := range strings.Split(v.RawQuery, "&") {
			name, value, _ := strings.Cut(pair, "=")
			if k.c.ignoredParam(e, name) {
				t.Fatalf("ignored %q kept in %q (from %q)", name, out, s)
			}
			if value != "" && k.c.sensitiveParam(e, name) && value != Redacted {
				t.Fatalf("%q kept its value in %q (from %q)", name, out, s)
			}
		}
		if u.Scheme != "" && u.Host != "" {
			if again := k.RedactURL(v); again != out {
				t.Fatalf("RedactURL not idempotent: %q -> %q -> %q", s, out, again)
			}
		}
	})
}
