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
		{"password", "https://user:pa55word@h/p", "https://user:REDACTED@h/p", []string{"pa55word"}},
		{"token as username", "https://ghp_t0ken@h/p", "https://REDACTED@h/p", []string{"ghp_t0ken"}},
		{"fragment dropped", "https://h/p#s3cretfrag", "https://h/p", []string{"s3cretfrag"}},
		{"default sensitive params", "https://h/p?api_key=S1&apikey=S2&access_token=S3&keep=ok",
			"https://h/p?api_key=REDACTED&apikey=REDACTED&access_token=REDACTED&keep=ok", []string{"S1", "S2", "S3"}},
		{"sensitive params any case", "https://h/?API_KEY=S1&X-Api-Key=S2",
			"https://h/?API_KEY=REDACTED&X-Api-Key=REDACTED", []string{"S1", "S2"}},
		{"encoded sensitive name", "https://h/?%61pi_key=S1&api%5Fkey=S2",
			"https://h/?%61pi_key=REDACTED&api%5Fkey=REDACTED", []string{"S1", "S2"}},
		{"custom sensitive param", "https://h/?sig=S1&x=1", "https://h/?sig=REDACTED&x=1", []string{"S1"}},
		{"ignored param", "https://h/?ts=1700000000&x=1", "https://h/?ts=REDACTED&x=1", []string{"1700000000"}},
		{"ignored param is case-sensitive", "https://h/?TS=1&x=1", "https://h/?TS=1&x=1", nil},
		{"repeated and odd pairs kept", "https://h/?api_key=S1&&a&api_key=S2&b=%zz",
			"https://h/?api_key=REDACTED&&a&api_key=REDACTED&b=%zz", []string{"S1", "S2"}},
		{"all at once", "http://u:PW@h:8080/p?access_token=S1#F",
			"http://u:REDACTED@h:8080/p?access_token=REDACTED", []string{"PW", "S1"}},
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
