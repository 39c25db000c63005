package cache

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	k := NewKeyer(KeyOptions{IgnoredParams: []string{"ts"}, SensitiveNames: []string{"sig"}})
	tests := []struct {
		name    string
		in      string
		want    string
		secrets []string
	}{
		{"plain URL unchanged", "https://h/p?a=1&b=2", "https://h/p?a=1&b=2", nil},
		{"password", "https://user:pa55word@h/p", "https://REDACTED@h/p", []string{"user", "pa55word"}},
		{"token as username", "https://ghp_t0ken@h/p", "https://REDACTED@h/p", []string{"ghp_t0ken"}},
		{"fragment dropped", "https://h/p#s3cretfrag", "https://h/p", []string{"s3cretfrag"}},
		{"default sensitive params", "https://h/p?api_key=S1&apikey=S2&access_token=S3&keep=ok",
			"https://h/p?access_token=REDACTED&api_key=REDACTED&apikey=REDACTED&keep=ok", []string{"S1", "S2", "S3"}},
		{"sensitive params any case", "https://h/?API_KEY=S1&X-Api-Key=S2",
			"https://h/?API_KEY=REDACTED&X-Api-Key=REDACTED", []string{"S1", "S2"}},
		{"encoded sensitive name", "https://h/?%61pi_key=S1&api%5Fkey=S2",
			"https://h/?api_key=REDACTED&api_key=REDACTED", []string{"S1", "S2"}},
		{"custom sensitive param", "https://h/?sig=S1&x=1", "https://h/?sig=REDACTED&x=1", []string{"S1"}},
		{"ignored param left out", "https://h/?ts=1700000000&x=1", "https://h/?x=1", []string{"1700000000"}},
		{"ignored param is case-sensitive", "https://h/?TS=1&x=1", "https://h/?TS=1&x=1", nil},
		{"repeated and odd pairs normalised", "https://h/?api_key=S1&&a&api_key=S2&b=%zz",
			"https://h/?a=&api_key=REDACTED&api_key=REDACTED&b=%25zz", []string{"S1", "S2"}},
		{"empty sensitive value", "https://h/?api_key=&x", "https://h/?api_key=&x=", nil},
		{"all at once", "http://u:PW@h:8080/p?access_token=S1#F",
			"http://REDACTED@h:8080/p?access_token=REDACTED", []string{"PW", "S1"}},
		{"normalised like the key", "HTTPS://Ex.COM:443/a/./b/../c/%7e%2f?z=a+b&y=%41&x=1#f",
			"https://ex.com/a/c/~%2F?x=1&y=A&z=a+b", nil},
		{"escaped host", "http://[fe80::1%25en0]:80/", "http://[fe80::1%25en0]/", nil},
		{"opaque", "mailto:a@example.com?api_key=S1", "mailto:a@example.com?api_key=REDACTED", []string{"S1"}},
		{"relative reference", "/a/../b:c?z=1&a=2", "/b:c?a=2&z=1", nil},
		{"relative with colon", "./a:b/c", "./a:b/c", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			before := u.String()
			got := k.RedactURL(u)
			if got != tt.want {
				t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
			for _, s := range tt.secrets {
				if strings.Contains(got, s) {
					t.Errorf("RedactURL(%q) = %q still contains %q", tt.in, got, s)
				}
			}
			if u.String() != before {
				t.Errorf("RedactURL modified its argument: %q -> %q", before, u.String())
			}
		})
	}
	if got := k.RedactURL(nil); got != "" {
		t.Errorf("RedactURL(nil) = %q, want empty", got)
	}
}

// TestRedactURLUserinfo: userinfo is a secret whatever its form, and it
// still separates keys.
func TestRedactURLUserinfo(t *testing.T) {
	k := NewKeyer(KeyOptions{})
	tests := []struct {
		name, in string
		secrets  []string
	}{
		{"user only", "https://ghp_t0kenvalue@api.example.com/", []string{"ghp_t0kenvalue"}},
		{"user and password", "https://alice:hunter2pw@api.example.com/", []string{"alice", "hunter2pw"}},
		{"user with empty password (Stripe)", "https://sk_live_abc:@api.example.com/", []string{"sk_live_abc"}},
		{"empty user with password", "https://:s3cretpass@api.example.com/", []string{"s3cretpass"}},
		{"escaped", "https://us%65r%3Ax:p%40ss@api.example.com/", []string{"user", "us%65r", "p@ss", "p%40ss"}},
	}
	seen := map[Key]string{}
	plain := keyOf(t, k, get("https://api.example.com/"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got := k.RedactURL(u)
			if want := "https://REDACTED@api.example.com/"; got != want {
				t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, want)
			}
			for _, s := range tt.secrets {
				if strings.Contains(got, s) {
					t.Errorf("RedactURL(%q) = %q still contains %q", tt.in, got, s)
				}
			}
			key := keyOf(t, k, get(tt.in))
			if key == plain {
				t.Errorf("%q keys like the URL without userinfo", tt.in)
			}
			if other, dup := seen[key]; dup {
				t.Errorf("%q keys like %q", tt.in, other)
			}
			seen[key] = tt.in
		})
	}
	// The key hashes the credentials: another password is another key.
	if keyOf(t, k, get("https://sk_live_abc:@api.example.com/")) == keyOf(t, k, get("https://sk_live_abd:@api.example.com/")) {
		t.Error("different API keys in userinfo share a key")
	}
}

// TestRedactURLFollowsKey: URLs with one key have one stored URL, and URLs
// that must stay apart have different keys and stored URLs.
func TestRedactURLFollowsKey(t *testing.T) {
	k := NewKeyer(KeyOptions{IgnoredParams: []string{"ts"}})
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{"query order", "https://h/x?b=2&a=1", "https://h/x?a=1&b=2", true},
		{"same name by value", "https://h/x?a=2&a=1", "https://h/x?a=1&a=2", true},
		{"dot segments", "https://h/x/../b", "https://h/b", true},
		{"dot segment at start", "https://h/./b", "https://h/b", true},
		{"encoded dot segment", "https://h/a/%2E%2E/b", "https://h/b", true},
		{"scheme and host case", "HTTPS://H.Example/b", "https://h.example/b", true},
		{"default port", "https://h:443/b", "https://h/b", true},
		{"default port with zeros", "http://h:0080/b", "http://h/b", true},
		{"empty port", "http://h:/b", "http://h/b", true},
		{"empty path", "https://h", "https://h/", true},
		{"percent-encoded unreserved", "https://h/%7Euser/%61", "https://h/~user/a", true},
		{"hex case", "https://h/a%2fb?q=%2f", "https://h/a%2Fb?q=%2F", true},
		{"query escapes", "https://h/?q=a%20b", "https://h/?q=a+b", true},
		{"query escaped letter", "https://h/?%61=1", "https://h/?a=1", true},
		{"malformed escape", "https://h/?a=%zz", "https://h/?a=%25zz", true},
		{"empty pairs", "https://h/?a=1&&b=2&", "https://h/?b=2&a=1", true},
		{"name without value", "https://h/?a", "https://h/?a=", true},
		{"empty query", "https://h/?", "https://h/", true},
		{"fragment", "https://h/b#top", "https://h/b", true},
		{"ignored param", "https://h/?ts=1&a=1", "https://h/?a=1&ts=2", true},
		{"ignored param absent", "https://h/?ts=1&a=1", "https://h/?a=1", true},

		{"duplicates kept", "https://h/?a=1&a=1", "https://h/?a=1", false},
		{"values differ", "https://h/?a=1", "https://h/?a=2", false},
		{"name=value boundary", "https://h/?ab=c", "https://h/?a=bc", false},
		{"pair boundary", "https://h/?a=1%26b%3D2", "https://h/?a=1&b=2", false},
		{"encoded slash stays", "https://h/a%2Fb", "https://h/a/b", false},
		{"trailing slash", "https://h/a", "https://h/a/", false},
		{"path case", "https://h/A", "https://h/a", false},
		{"scheme", "http://h/", "https://h/", false},
		{"non-default port", "https://h:8443/", "https://h/", false},
		{"http on 443", "http://h:443/", "http://h/", false},
		{"query vs path", "https://h/a?b", "https://h/a%3Fb", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ua, err := url.Parse(tt.a)
			if err != nil {
				t.Fatal(err)
			}
			ub, err := url.Parse(tt.b)
			if err != nil {
				t.Fatal(err)
			}
			ka, kb := keyOf(t, k, get(tt.a)), keyOf(t, k, get(tt.b))
			ra, rb := k.RedactURL(ua), k.RedactURL(ub)
			if (ka == kb) != tt.same {
				t.Errorf("keys equal = %v, want %v", ka == kb, tt.same)
			}
			if (ra == rb) != tt.same {
				t.Errorf("stored URLs equal = %v, want %v: %q, %q", ra == rb, tt.same, ra, rb)
			}
			// The stored URL is a fixed point: parsed again it keys and
			// redacts the same.
			back, err := url.Parse(ra)
			if err != nil {
				t.Fatalf("stored URL %q does not parse: %v", ra, err)
			}
			if k.RedactURL(back) != ra || keyOf(t, k, get(ra)) != ka {
				t.Errorf("stored URL %q does not key or redact like %q", ra, tt.a)
			}
		})
	}
}

func TestRedactURLDoesNotModifyArgument(t *testing.T) {
	u, _ := url.Parse("https://u:pw@h/p?api_key=S#f")
	before := u.String()
	NewKeyer(KeyOptions{}).RedactURL(u)
	if u.String() != before {
		t.Errorf("URL modified: %q -> %q", before, u.String())
	}
}

func TestStoredHeaders(t *testing.T) {
	h := http.Header{
		"Accept":        {"application/json"},
		"Authorization": {"Bearer S-auth"},
		"Cookie":        {"sid=S-cookie1", "x=S-cookie2"},
		"X-Api-Key":     {"S-apikey"},
		"X-Request-Id":  {"S-reqid"},
		"X-Tenant":      {"S-tenant"},
		"User-Agent":    {"ua"},
	}
	secrets := []string{"S-auth", "S-cookie1", "S-cookie2", "S-apikey", "S-reqid", "S-tenant"}
	tests := []struct {
		name string
		opts KeyOptions
		want http.Header
	}{
		{"nothing matched", KeyOptions{}, nil},
		{"matched absent", KeyOptions{MatchHeaders: []string{"X-Absent"}}, nil},
		{"matched", KeyOptions{MatchHeaders: []string{"accept", "user-agent"}},
			http.Header{"Accept": {"application/json"}, "User-Agent": {"ua"}}},
		{"matched sensitive and ignored", KeyOptions{
			MatchHeaders:   []string{"Accept", "Authorization", "x-request-id", "X-Tenant"},
			IgnoredParams:  []string{"X-Request-ID"},
			SensitiveNames: []string{"x-tenant"},
		}, http.Header{"Accept": {"application/json"}, "Authorization": {Redacted},
			"X-Request-Id": {Redacted}, "X-Tenant": {Redacted}}},
		{"all", KeyOptions{MatchAllHeaders: true, IgnoredParams: []string{"x-request-id"}, SensitiveNames: []string{"X-Tenant"}},
			http.Header{"Accept": {"application/json"}, "Authorization": {Redacted}, "Cookie": {Redacted, Redacted},
				"X-Api-Key": {Redacted}, "X-Request-Id": {Redacted}, "X-Tenant": {Redacted}, "User-Agent": {"ua"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NewKeyer(tt.opts).StoredHeaders(h)
			if (got == nil) != (tt.want == nil) || len(got) != len(tt.want) {
				t.Fatalf("StoredHeaders = %v, want %v", got, tt.want)
			}
			for name, want := range tt.want {
				if strings.Join(got[name], "|") != strings.Join(want, "|") {
					t.Errorf("StoredHeaders[%s] = %q, want %q", name, got[name], want)
				}
			}
			for name, vs := range got {
				for _, v := range vs {
					for _, s := range secrets {
						if strings.Contains(name+v, s) {
							t.Errorf("stored %s: %q leaks %q", name, v, s)
						}
					}
				}
			}
		})
	}
}

func TestStoredHeadersNonCanonical(t *testing.T) {
	h := http.Header{"authorization": {"S-auth"}, "accept": {"a"}}
	got := NewKeyer(KeyOptions{MatchHeaders: []string{"Authorization", "Accept"}}).StoredHeaders(h)
	if got.Get("Authorization") != Redacted || got.Get("Accept") != "a" || len(got) != 2 {
		t.Errorf("StoredHeaders = %v, want canonical names, Authorization redacted", got)
	}
}

func TestStoredHeadersCopies(t *testing.T) {
	h := http.Header{"Accept": {"a"}}
	got := NewKeyer(KeyOptions{MatchHeaders: []string{"Accept"}}).StoredHeaders(h)
	got["Accept"][0] = "changed"
	if h.Get("Accept") != "a" {
		t.Error("StoredHeaders shares memory with its argument")
	}
	if got := (*Keyer)(nil).StoredHeaders(h); got != nil {
		t.Errorf("nil Keyer StoredHeaders = %v, want nil (nothing matched)", got)
	}
}
