package cache_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/restycache/restycache/cache"
)

func ExampleCompileURLPattern() {
	p, err := cache.CompileURLPattern("*.example.com/static*")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, raw := range []string{
		"https://cdn.example.com/static/a.png",
		"https://evil.org/x.example.com/static",
		"https://example.com.evil.org/static",
	} {
		u, _ := url.Parse(raw)
		fmt.Println(p.Match(u), raw)
	}
	// Output:
	// true https://cdn.example.com/static/a.png
	// false https://evil.org/x.example.com/static
	// false https://example.com.evil.org/static
}

func ExampleParseCacheControl() {
	h := http.Header{}
	h.Add("Cache-Control", `public, max-age=3600, no-cache="Set-Cookie"`)
	h.Add("Cache-Control", "stale-while-revalidate=60")
	d := cache.ParseCacheControl(h)
	fmt.Println(d.Public, d.NoCache, cache.FieldNames(d.NoCacheFields), d.MaxAge.Duration, d.StaleWhileRevalidate.Duration)

	// An invalid max-age is present with value 0: the response is stale.
	d = cache.ParseCacheControl(http.Header{"Cache-Control": {"max-age=soon"}})
	fmt.Println(d.MaxAge.Present, d.MaxAge.Invalid, d.MaxAge.Duration)
	// Output:
	// true false [Set-Cookie] 1h0m0s 1m0s
	// true true 0s
}

func ExampleExpiresAt() {
	t, ok := cache.ExpiresAt(http.Header{"Expires": {"Sun, 06 Nov 1994 08:49:37 GMT"}})
	fmt.Println(t, ok)
	t, ok = cache.ExpiresAt(http.Header{"Expires": {"0"}}) // invalid: already expired
	fmt.Println(t, ok)
	// Output:
	// 1994-11-06 08:49:37 +0000 UTC true
	// 1970-01-01 00:00:00 +0000 UTC true
}

func ExampleParseVary() {
	names, all := cache.ParseVary(http.Header{"Vary": {"accept-encoding, Accept", "ACCEPT"}})
	fmt.Println(names, all)
	// Output: [Accept Accept-Encoding] false
}

func ExampleDecodeEntry() {
	stored := cache.AppendEntry(nil, &cache.Entry{
		StatusCode: 200,
		Status:     "200 OK",
		Header:     http.Header{"Content-Type": {"text/plain"}},
		Body:       []byte("hello"),
		StoredAt:   time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
	})
	e, err := cache.DecodeEntry(stored) // e.Body aliases stored
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(e.Status, e.Header.Get("Content-Type"), string(e.Body), e.StoredAt)

	stored[2] = 99 // a format version from the future
	_, err = cache.DecodeEntry(stored)
	fmt.Println(errors.Is(err, cache.ErrUnknownVersion))
	// Output:
	// 200 OK text/plain hello 2024-05-06 07:08:09 +0000 UTC
	// true
}

func ExampleKeyer_Key() {
	k := cache.NewKeyer(cache.KeyOptions{
		MatchHeaders:  []string{"Accept"},
		IgnoredParams: []string{"ts"},
	})
	key := func(method, rawURL, accept string) cache.Key {
		r, _ := http.NewRequest(method, rawURL, nil)
		r.Header.Set("Accept", accept)
		r.Header.Set("User-Agent", "not matched")
		return k.Key(r, nil)
	}
	a := key("GET", "https://API.example.com:443/items/./?b=2&a=1&ts=1700000000", "application/json")
	b := key("GET", "https://api.example.com/items/?a=1&b=2", "application/json")
	fmt.Println(len(a), a == b)
	fmt.Println(a == key("GET", "https://api.example.com/items/?a=1&b=2", "text/html"))
	fmt.Println(a == key("HEAD", "https://api.example.com/items/?a=1&b=2", "application/json"))
	// Output:
	// 64 true
	// false
	// false
}

func ExampleKeyer_Key_jsonBody() {
	k := cache.NewKeyer(cache.KeyOptions{IgnoredParams: []string{"request_id"}})
	key := func(body string) cache.Key {
		r, _ := http.NewRequest("POST", "https://api.example.com/search", nil)
		r.Header.Set("Content-Type", "application/json")
		return k.Key(r, []byte(body))
	}
	fmt.Println(key(`{"q":"go","page":{"size":10,"n":1},"request_id":"a1"}`) ==
		key(`{ "page": {"n": 1, "size": 10}, "q": "go", "request_id": "b2" }`))
	// Output: true
}

func ExampleKeyer_RedactURL() {
	k := cache.NewKeyer(cache.KeyOptions{IgnoredParams: []string{"ts"}})
	u, _ := url.Parse("HTTPS://user:hunter2@API.example.com:443/v1/./items?page=2&api_key=s3cr3t&ts=1700000000#top")
	fmt.Println(k.RedactURL(u))
	// Output: https://REDACTED@api.example.com/v1/items?api_key=REDACTED&page=2
}

func ExampleKeyer_StoredHeaders() {
	k := cache.NewKeyer(cache.KeyOptions{MatchHeaders: []string{"Accept", "Authorization"}})
	h := http.Header{
		"Accept":        {"application/json"},
		"Authorization": {"Bearer s3cr3t"},
		"User-Agent":    {"demo"},
	}
	stored := k.StoredHeaders(h)
	fmt.Println(stored.Get("Accept"), stored.Get("Authorization"), len(stored))
	// Output: application/json REDACTED 2
}
