package cache

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

func mustPattern(t *testing.T, p string) *URLPattern {
	t.Helper()
	pat, err := CompileURLPattern(p)
	if err != nil {
		t.Fatal(err)
	}
	return pat
}

func TestPolicyLifetimePrecedence(t *testing.T) {
	p := &Policy{
		ExpireAfter: TTL(time.Hour),
		URLs: []URLRule{
			{Pattern: mustPattern(t, "example.com/nocache*"), Lifetime: DoNotCache()},
			{Pattern: mustPattern(t, "example.com/short*"), Lifetime: TTL(time.Minute)},
			{Pattern: mustPattern(t, "example.com/short/longer*"), Lifetime: TTL(time.Hour)}, // shadowed
		},
	}
	u := func(s string) *url.URL { x, _ := url.Parse(s); return x }
	for _, tc := range []struct {
		name    string
		request Lifetime
		url     string
		want    Lifetime
	}{
		{"nothing applies", Lifetime{}, "https://example.com/other", Lifetime{}},
		{"URL rule", Lifetime{}, "https://example.com/short/x", TTL(time.Minute)},
		{"first matching rule wins", Lifetime{}, "https://example.com/short/longer", TTL(time.Minute)},
		{"request beats URL rule", TTL(time.Second), "https://example.com/short/x", TTL(time.Second)},
		{"DoNotCache rule beats request", TTL(time.Second), "https://example.com/nocache", DoNotCache()},
		{"DoNotCache request", DoNotCache(), "https://example.com/other", DoNotCache()},
	} {
		if got := p.Lifetime(tc.request, u(tc.url)); got != tc.want {
			t.Errorf("%s: Lifetime = %v, want %v", tc.name, got, tc.want)
		}
	}
	off := &Policy{ExpireAfter: DoNotCache()}
	if got := off.Lifetime(TTL(time.Hour), u("https://example.com/")); !got.IsDoNotCache() {
		t.Errorf("DoNotCache default: Lifetime = %v", got)
	}
}

func TestPolicyFreshness(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	date := now.Format(http.TimeFormat)
	resp := func(code int, kv ...string) *http.Response {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Add(kv[i], kv[i+1])
		}
		return &http.Response{StatusCode: code, Header: h}
	}
	headers := &Policy{CacheControl: true, ExpireAfter: TTL(time.Hour)}
	settings := &Policy{ExpireAfter: TTL(time.Hour)}
	headersOnly := &Policy{CacheControl: true}
	for _, tc := range []struct {
		name      string
		p         *Policy
		lifetime  Lifetime
		resp      *http.Response
		wantStore bool
		wantExp   time.Time // zero: never
		wantFlags Flags
	}{
		{"default lifetime", settings, Lifetime{}, resp(200), true, now.Add(time.Hour), 0},
		{"code not allowed", settings, Lifetime{}, resp(404), false, time.Time{}, 0},
		{"headers ignored when off", settings, Lifetime{}, resp(200, "Cache-Control", "no-store"), true, now.Add(time.Hour), 0},
		{"no-store", headers, Lifetime{}, resp(200, "Cache-Control", "no-store"), false, time.Time{}, 0},
		{"max-age", headers, Lifetime{}, resp(200, "Cache-Control", "max-age=60", "Date", date), true, now.Add(time.Minute), 0},
		{"max-age minus Age", headers, Lifetime{}, resp(200, "Cache-Control", "max-age=60", "Age", "20", "Date", date), true, now.Add(40 * time.Second), 0},
		{"invalid max-age is stale", headers, Lifetime{}, resp(200, "Cache-Control", "max-age=abc", "Etag", `"v"`), true, now, 0},
		{"stale at once without validator", headers, Lifetime{}, resp(200, "Cache-Control", "max-age=0"), false, time.Time{}, 0},
		{"stale at once, stale-if-error", headers, Lifetime{}, resp(200, "Cache-Control", "max-age=0, stale-if-error=60"), true, now, 0},
		{"headers decide: nothing", headersOnly, Lifetime{}, resp(200), false, time.Time{}, 0},
		{"headers decide: validator only", headersOnly, Lifetime{}, resp(200, "Etag", `"v"`), true, now, 0},
		{"headers decide: max-age", headersOnly, Lifetime{}, resp(200, "Cache-Control", "max-age=60", "Date", date), true, now.Add(time.Minute), 0},
		{"headers decide: heuristic", headersOnly, Lifetime{}, resp(200, "Last-Modified", now.Add(-10*time.Hour).Format(http.TimeFormat), "Date", date), true, now.Add(time.Hour), 0},
		{"headers decide: URL or request lifetime", headersOnly, TTL(time.Minute), resp(200), true, now.Add(time.Minute), 0},
		{"must-understand overrides no-store", headersOnly, Lifetime{}, resp(200, "Cache-Control", "must-understand, no-store, max-age=60", "Date", date), true, now.Add(time.Minute), 0},
		{"must-understand, unknown status", &Policy{CacheControl: true, AllowedCodes: []int{299}}, Lifetime{}, resp(299, "Cache-Control", "must-understand, max-age=60", "Date", date), false, time.Time{}, 0},
		{"qualified no-cache is not no-cache", headersOnly, Lifetime{}, resp(200, "Cache-Control", `no-cache="X-A", max-age=60`, "Date", date), true, now.Add(time.Minute), 0},
		{"Expires", headers, Lifetime{}, resp(200, "Expires", now.Add(time.Minute).Format(http.TimeFormat), "Date", date), true, now.Add(time.Minute), 0},
		{"max-age beats Expires", headers, Lifetime{}, resp(200, "Cache-Control", "max-age=10", "Expires", now.Add(time.Hour).Format(http.TimeFormat), "Date", date), true, now.Add(10 * time.Second), 0},
		{"invalid Expires is stale", headers, Lifetime{}, resp(200, "Expires", "0", "Last-Modified", date), true, now, 0},
		{"no-cache", headers, Lifetime{}, resp(200, "Cache-Control", "no-cache, must-revalidate", "Etag", `"v"`), true, now, FlagNoCache | FlagMustRevalidate},
		{"no-cache without validator", headers, Lifetime{}, resp(200, "Cache-Control", "no-cache"), false, time.Time{}, 0},
		{"Pragma no-cache", headers, Lifetime{}, resp(200, "Pragma", "no-cache", "Etag", `"v"`), true, now, FlagNoCache},
		{"heuristic", headers, Lifetime{}, resp(200, "Last-Modified", now.Add(-10*time.Hour).Format(http.TimeFormat), "Date", date), true, now.Add(time.Hour), 0},
		{"heuristic capped", headers, Lifetime{}, resp(200, "Last-Modified", now.Add(-1000*time.Hour).Format(http.TimeFormat), "Date", date), true, now.Add(HeuristicCap), 0},
		{"nothing explicit: default", headers, Lifetime{}, resp(200), true, now.Add(time.Hour), 0},
		{"request lifetime beats headers", headers, TTL(time.Second), resp(200, "Cache-Control", "max-age=60"), true, now.Add(time.Second), 0},
		{"never", settings, Never(), resp(200), true, time.Time{}, 0},
		{"immediately", settings, Immediately(), resp(200), true, now, 0},
		{"at", settings, Until(now.Add(time.Minute)), resp(200), true, now.Add(time.Minute), 0},
		{"do not cache", settings, DoNotCache(), resp(200), false, time.Time{}, 0},
		{"404 with max-age", headers, Lifetime{}, resp(404, "Cache-Control", "max-age=60", "Date", date), true, now.Add(time.Minute), 0},
		{"301 heuristically", headers, Lifetime{}, resp(301, "Last-Modified", now.Add(-10*time.Hour).Format(http.TimeFormat), "Date", date), true, now.Add(time.Hour), 0},
		{"404 without freshness", headers, Lifetime{}, resp(404), false, time.Time{}, 0},
		{"302 heuristically is not", headers, Lifetime{}, resp(302, "Last-Modified", now.Add(-10*time.Hour).Format(http.TimeFormat)), false, time.Time{}, 0},
		{"599 heuristically is not", headers, Lifetime{}, resp(599, "Last-Modified", now.Add(-10*time.Hour).Format(http.TimeFormat), "Date", date), false, time.Time{}, 0},
		{"599 public heuristically", headers, Lifetime{}, resp(599, "Cache-Control", "public", "Last-Modified", now.Add(-10*time.Hour).Format(http.TimeFormat), "Date", date), true, now.Add(time.Hour), 0},
		{"206 never", headers, Lifetime{}, resp(206, "Cache-Control", "max-age=60"), false, time.Time{}, 0},
		{"allowed codes narrow", &Policy{CacheControl: true, AllowedCodes: []int{200}}, Lifetime{}, resp(404, "Cache-Control", "max-age=60"), false, time.Time{}, 0},
		{"private is stored", headers, Lifetime{}, resp(200, "Cache-Control", "private, max-age=60", "Date", date), true, now.Add(time.Minute), 0},
		{"s-maxage ignored", headers, Lifetime{}, resp(200, "Cache-Control", "s-maxage=5, max-age=60", "Date", date), true, now.Add(time.Minute), 0},
	} {
		f := tc.p.Freshness(tc.lifetime, tc.resp, now, now)
		if f.Store != tc.wantStore {
			t.Errorf("%s: Store = %v, want %v", tc.name, f.Store, tc.wantStore)
			continue
		}
		if tc.wantStore && (!f.ExpiresAt.Equal(tc.wantExp) || f.Flags != tc.wantFlags) {
			t.Errorf("%s: ExpiresAt = %v flags %b, want %v flags %b", tc.name, f.ExpiresAt, f.Flags, tc.wantExp, tc.wantFlags)
		}
	}
}

func TestInitialAge(t *testing.T) {
	req := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	resp := req.Add(2 * time.Second)
	for _, tc := range []struct {
		name string
		h    http.Header
		want time.Duration
	}{
		{"no headers: response delay", http.Header{}, 2 * time.Second},
		{"Age plus delay", http.Header{"Age": {"10"}}, 12 * time.Second},
		{"apparent age from Date", http.Header{"Date": {req.Add(-time.Minute).Format(http.TimeFormat)}}, time.Minute + 2*time.Second},
		{"Date in the future", http.Header{"Date": {req.Add(time.Hour).Format(http.TimeFormat)}}, 2 * time.Second},
		{"negative Age is ignored", http.Header{"Age": {"-5"}}, 2 * time.Second},
		{"garbage Age is ignored", http.Header{"Age": {"soon"}}, 2 * time.Second},
		{"float Age is ignored", http.Header{"Age": {"7200.0"}}, 2 * time.Second},
		{"list Age: first member", http.Header{"Age": {"7200, 0"}}, 7202 * time.Second},
		{"two Age lines: first", http.Header{"Age": {"30", "0"}}, 32 * time.Second},
		{"empty Age is absent", http.Header{"Age": {""}}, 2 * time.Second},
	} {
		if got := initialAge(tc.h, req, resp); got != tc.want {
			t.Errorf("%s: initialAge = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestMethodAndCodeDefaults(t *testing.T) {
	var p Policy
	if !p.MethodAllowed("GET") || !p.MethodAllowed("head") || p.MethodAllowed("POST") {
		t.Errorf("default methods wrong")
	}
	if !p.CodeAllowed(200) || p.CodeAllowed(404) {
		t.Errorf("default codes wrong")
	}
}

func TestVariantKey(t *testing.T) {
	names := []string{"Accept", "Accept-Language"}
	k := func(kv ...string) Key {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Add(kv[i], kv[i+1])
		}
		return VariantKey("primary", names, h)
	}
	base := k("Accept", "text/html, application/json", "Accept-Language", "en")
	if got := k("Accept", "text/html,application/json", "Accept-Language", "en"); got != base {
		t.Errorf("white space around commas split variants")
	}
	if got := k("Accept", "text/html", "Accept", "application/json", "Accept-Language", "en"); got != base {
		t.Errorf("field lines vs one comma list split variants")
	}
	if got := k("Accept", "text/html, application/json", "Accept-Language", "de"); got == base {
		t.Errorf("different Accept-Language shared a variant")
	}
	if got := k("Accept", "text/html, application/json", "Accept-Language", "en", "X-Other", "1"); got != base {
		t.Errorf("a header not named by Vary split variants")
	}
	if VariantKey("other", names, http.Header{}) == VariantKey("primary", names, http.Header{}) {
		t.Errorf("variants of different primaries collide")
	}
	// Golden keys: stored variant indexes name their variants by these, so
	// a change here strands every variant already stored.
	golden := []string{"Accept-Encoding", "Accept-Language", "X-Api", "X-Missing"}
	for _, tc := range []struct {
		h    http.Header
		want Key
	}{
		{http.Header{}, "af205aa7c90db655866aa705e5960ff6b0f26408177f8aaee47f0ac5ee08e394"},
		{http.Header{"Accept-Encoding": {"gzip, br"}}, "052b17da034f635b6a93a935cd14311ccf2830bec41fdd87fe0e2f91fab0fb42"},
		{http.Header{"Accept-Language": {"de-DE, EN;q=0.5", "fr"}, "X-Api": {" a ,b", "c"}}, "57d592d74a3a8bab9d5855e08ffe76b1f8cb6c8069bf5e580fc1f3d6668cab9f"},
	} {
		if got := VariantKey("0123abcd", golden, tc.h); got != tc.want {
			t.Errorf("VariantKey(%v) = %s, want %s", tc.h, got, tc.want)
		}
	}
	// A plain single member takes a short cut; it must agree with the long
	// way, which an empty second field line (no members) forces.
	for _, v := range []string{"gzip", "GZIP", "gzip ", " gzip", "br;q=1", "a\u00a0b", "x\vy", "a,b", ""} {
		short := appendVaryNormalList(nil, []string{v})
		long := appendVaryNormalList(nil, []string{v, ""})
		if string(short) != string(long) {
			t.Errorf("%q normalised to %q by the short cut, %q the long way", v, short, long)
		}
	}
	if !(&Entry{Vary: names}).IsVariantIndex() || (&Entry{StatusCode: 200, Vary: names}).IsVariantIndex() {
		t.Errorf("IsVariantIndex wrong")
	}
}
