package restycache_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/restycache/restycache"
	"github.com/restycache/restycache/backend/memory"
)

// TestCookieJarDoesNotSplitCache: an origin that sets a new load-balancer
// cookie on every response, through resty's default cookie jar, still gets
// one request for three identical GETs, in both modes.
func TestCookieJarDoesNotSplitCache(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		for _, header := range []bool{false, true} {
			t.Run(fmt.Sprintf("headerMode=%v", header), func(t *testing.T) {
				var n atomic.Int64
				o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
					http.SetCookie(w, &http.Cookie{Name: "AWSALB", Value: fmt.Sprintf("lb-%d", n.Add(1)), Path: "/"})
					w.Header().Set("Cache-Control", "max-age=60")
					_, _ = w.Write([]byte("doc"))
				})
				c := restycache.New(mode, restycache.WithCacheControl(header))
				defer c.Close()
				if c.GetClient().Jar == nil {
					t.Fatal("resty's client has no default cookie jar")
				}
				get(t, c, o.URL+"/doc")
				for i := 2; i <= 3; i++ {
					if r := get(t, c, o.URL+"/doc"); !r.FromCache() {
						t.Errorf("GET %d: status %v, want a hit", i, r.CacheStatus())
					}
				}
				if o.last().Header.Get("Cookie") != "" {
					t.Errorf("the origin saw a Cookie only on later requests; it should have seen one request")
				}
				if got := o.count(); got != 1 {
					t.Errorf("origin requests = %d, want 1", got)
				}
			})
		}
	})
}

func TestCookieHeaderAnsweredFromEntryWithout(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		o := headerOrigin(t, "Cache-Control", "max-age=60")
		c, _ := rfcClient(t, mode)
		get(t, c, o.URL+"/a")
		r, err := c.R().SetHeader("Cookie", "session=s1").Get(o.URL + "/a")
		if err != nil {
			t.Fatal(err)
		}
		if !r.FromCache() || o.count() != 1 {
			t.Errorf("with a Cookie: status %v, origin %d; want a hit from the entry stored without one", r.CacheStatus(), o.count())
		}
		// Authorization still separates entries.
		r, err = c.R().SetHeader("Authorization", "Bearer x").Get(o.URL + "/a")
		if err != nil {
			t.Fatal(err)
		}
		if r.FromCache() {
			t.Errorf("a request with credentials was answered from the entry stored without them")
		}
	})
}

func cookieEcho(t *testing.T, vary string) *origin {
	return newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		if vary != "" {
			w.Header().Set("Vary", vary)
		}
		_, _ = w.Write([]byte("cookie=" + r.Header.Get("Cookie")))
	})
}

func TestCookieSeparatesWhenAsked(t *testing.T) {
	for _, tc := range []struct {
		name string
		vary string
		opts []restycache.Option
	}{
		{"Vary: Cookie", "Cookie", nil},
		{"WithMatchHeaders(Cookie)", "", []restycache.Option{restycache.WithMatchHeaders("Cookie")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inBothModes(t, func(t *testing.T, mode restycache.Option) {
				o := cookieEcho(t, tc.vary)
				c, _ := rfcClient(t, append([]restycache.Option{mode}, tc.opts...)...)
				c.SetCookieJar(nil)
				ask := func(cookie string) *restycache.Response {
					r, err := c.R().SetHeader("Cookie", cookie).Get(o.URL + "/v")
					if err != nil {
						t.Fatal(err)
					}
					if got := r.String(); got != "cookie="+cookie {
						t.Errorf("Cookie %s answered with %q", cookie, got)
					}
					return r
				}
				ask("a=1")
				ask("a=2")
				if r := ask("a=1"); !r.FromCache() {
					t.Errorf("a=1 again: status %v, want a hit", r.CacheStatus())
				}
				if got := o.count(); got != 2 {
					t.Errorf("origin requests = %d, want 2", got)
				}
			})
		})
	}
}

// TestHeaderModeWithoutDefault: WithCacheControl(true) alone lets the
// headers decide; nothing says a response is fresh unless its headers (or
// an explicit setting) do.
func TestHeaderModeWithoutDefault(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		lm := time.Now().Add(-100 * time.Hour).UTC().Format(http.TimeFormat)
		for _, tc := range []struct {
			name    string
			headers []string
			opts    []restycache.Option
			ttl     time.Duration // per request
			want    restycache.CacheStatus
		}{
			{"no freshness, no validator: not stored", nil, nil, 0, restycache.CacheMiss},
			{"validator only: revalidated every time", []string{"Etag", `"v1"`}, nil, 0, restycache.CacheRevalidated},
			{"heuristic from Last-Modified", []string{"Last-Modified", lm}, nil, 0, restycache.CacheHit},
			{"max-age", []string{"Cache-Control", "max-age=60"}, nil, 0, restycache.CacheHit},
			{"explicit WithExpireAfter", nil, []restycache.Option{restycache.WithExpireAfter(time.Hour)}, 0, restycache.CacheHit},
			{"URL pattern", nil, []restycache.Option{restycache.WithURLExpireAfter("127.0.0.1*", time.Hour)}, 0, restycache.CacheHit},
			{"per-request TTL", nil, nil, time.Hour, restycache.CacheHit},
		} {
			t.Run(tc.name, func(t *testing.T) {
				o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
					for i := 0; i < len(tc.headers); i += 2 {
						w.Header().Set(tc.headers[i], tc.headers[i+1])
					}
					if inm := r.Header.Get("If-None-Match"); inm != "" && inm == w.Header().Get("Etag") {
						w.WriteHeader(http.StatusNotModified)
						return
					}
					_, _ = w.Write([]byte("body"))
				})
				c, _ := rfcClient(t, append([]restycache.Option{mode}, tc.opts...)...)
				do := func() *restycache.Response {
					r, err := c.R().SetCacheTTL(tc.ttl).Get(o.URL + "/x")
					if err != nil {
						t.Fatal(err)
					}
					return r
				}
				do()
				for i := 0; i < 2; i++ {
					r := do()
					if r.CacheStatus() != tc.want || r.String() != "body" {
						t.Errorf("use %d: status %v body %q, want %v", i+2, r.CacheStatus(), r.String(), tc.want)
					}
				}
			})
		}
	})
}

// TestSettingsModeDefaultUnchanged: without header mode, a response with
// no caching headers is still fresh forever.
func TestSettingsModeDefaultUnchanged(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		o := headerOrigin(t)
		c := restycache.New(mode)
		defer c.Close()
		get(t, c, o.URL+"/s")
		if r := get(t, c, o.URL+"/s"); !r.FromCache() {
			t.Errorf("settings mode: status %v, want a hit", r.CacheStatus())
		}
	})
}

// rangeOrigin serves a ten-byte document with a strong ETag, a
// Last-Modified well before its Date, and max-age=60, through
// http.ServeContent (so it answers ranges and conditionals itself).
func rangeOrigin(t *testing.T, ranges *atomic.Int64) *origin {
	modified := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	return newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") != "" {
			ranges.Add(1)
		}
		w.Header().Set("Etag", `"doc-v1"`)
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Date", time.Now().UTC().Format(http.TimeFormat))
		http.ServeContent(w, r, "doc.txt", modified, strings.NewReader("0123456789"))
	})
}

func TestRangeRequests(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		var ranges atomic.Int64
		o := rangeOrigin(t, &ranges)
		c, clk := rfcClient(t, mode)
		full := get(t, c, o.URL+"/doc")
		lm := full.Header().Get("Last-Modified")
		ask := func(kv ...string) *restycache.Response {
			t.Helper()
			r := c.R()
			for i := 0; i < len(kv); i += 2 {
				r.SetHeader(kv[i], kv[i+1])
			}
			resp, err := r.Get(o.URL + "/doc")
			if err != nil {
				t.Fatal(err)
			}
			return resp
		}
		for _, tc := range []struct {
			name         string
			kv           []string
			code         int
			body, cRange string
		}{
			{"single range", []string{"Range", "bytes=2-4"}, 206, "234", "bytes 2-4/10"},
			{"open-ended", []string{"Range", "bytes=7-"}, 206, "789", "bytes 7-9/10"},
			{"suffix", []string{"Range", "bytes=-3"}, 206, "789", "bytes 7-9/10"},
			{"last past the end", []string{"Range", "bytes=8-100"}, 206, "89", "bytes 8-9/10"},
			{"unsatisfiable", []string{"Range", "bytes=20-"}, 416, "", "bytes */10"},
			{"If-Range strong ETag", []string{"Range", "bytes=5-", "If-Range", `"doc-v1"`}, 206, "56789", "bytes 5-9/10"},
			{"If-Range other ETag: whole", []string{"Range", "bytes=5-", "If-Range", `"doc-v0"`}, 200, "0123456789", ""},
			{"If-Range weak ETag: whole", []string{"Range", "bytes=5-", "If-Range", `W/"doc-v1"`}, 200, "0123456789", ""},
			{"If-Range date", []string{"Range", "bytes=0-0", "If-Range", lm}, 206, "0", "bytes 0-0/10"},
			{"If-Range other date: whole", []string{"Range", "bytes=0-0", "If-Range", "Thu, 01 Jan 2015 00:00:00 GMT"}, 200, "0123456789", ""},
			{"not bytes: whole", []string{"Range", "lines=1-2"}, 200, "0123456789", ""},
		} {
			r := ask(tc.kv...)
			if r.StatusCode() != tc.code || r.String() != tc.body || r.Header().Get("Content-Range") != tc.cRange || !r.FromCache() {
				t.Errorf("%s: %d %q Content-Range %q FromCache %v, want %d %q %q from the cache",
					tc.name, r.StatusCode(), r.String(), r.Header().Get("Content-Range"), r.FromCache(), tc.code, tc.body, tc.cRange)
			}
		}
		if o.count() != 1 {
			t.Errorf("origin requests = %d, want 1: ranges of a stored response never reach it", o.count())
		}
		// A resumed download of a stale stored response: the origin
		// confirms the whole response (no Range sent), the stored body
		// answers the range.
		clk.Advance(2 * time.Minute)
		r := ask("Range", "bytes=6-", "If-Range", `"doc-v1"`)
		if r.StatusCode() != 206 || r.String() != "6789" || r.CacheStatus() != restycache.CacheRevalidated {
			t.Errorf("resumed stale download: %d %q %v, want 206 6789 revalidated", r.StatusCode(), r.String(), r.CacheStatus())
		}
		if ranges.Load() != 0 {
			t.Errorf("the origin was asked for a range %d times, want 0", ranges.Load())
		}
	})
}

func TestRangeMissIsNotStored(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		var ranges atomic.Int64
		o := rangeOrigin(t, &ranges)
		c, _ := rfcClient(t, mode)
		r, err := c.R().SetHeader("Range", "bytes=0-3").Get(o.URL + "/doc")
		if err != nil {
			t.Fatal(err)
		}
		if r.StatusCode() != 206 || r.String() != "0123" || ranges.Load() != 1 {
			t.Fatalf("range miss: %d %q (origin ranges %d), want the origin's 206", r.StatusCode(), r.String(), ranges.Load())
		}
		whole := get(t, c, o.URL+"/doc")
		if whole.FromCache() || whole.StatusCode() != 200 || whole.String() != "0123456789" {
			t.Errorf("after a range miss: %d %q FromCache %v: a partial answer must never serve as the whole", whole.StatusCode(), whole.String(), whole.FromCache())
		}
	})
}

func TestAgeHeaderValues(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		for _, tc := range []struct {
			age     string
			wantHit bool
		}{
			{"10", true},
			{"7200, 0", false}, // first member: older than max-age
			{"0, 7200", true},
			{"abc", true}, // invalid: ignored (RFC 9111 section 5.1)
			{"-7200", true},
			{"7200.0", true},
			{"2147483648", false}, // past any lifetime
		} {
			t.Run(tc.age, func(t *testing.T) {
				o := headerOrigin(t, "Cache-Control", "max-age=3600", "Age", tc.age)
				c, _ := rfcClient(t, mode)
				get(t, c, o.URL+"/a")
				if r := get(t, c, o.URL+"/a"); r.FromCache() != tc.wantHit {
					t.Errorf("Age %q: FromCache %v, want %v", tc.age, r.FromCache(), tc.wantHit)
				}
			})
		}
	})
}

func TestExpiresFormats(t *testing.T) {
	future := time.Now().Add(48 * time.Hour).UTC()
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		for _, tc := range []struct {
			name, expires string
			wantHit       bool
		}{
			{"IMF-fixdate", future.Format(http.TimeFormat), true},
			{"RFC 850", future.Format("Monday, 02-Jan-06 15:04:05 GMT"), true},
			{"asctime", future.Format("Mon Jan _2 15:04:05 2006"), true},
			{"lower-case gmt", strings.Replace(future.Format(http.TimeFormat), "GMT", "gmt", 1), true},
			{"extra space", strings.Replace(future.Format(http.TimeFormat), " ", "  ", 1), false},
			{"one-digit hour", "Thu, 01 Jan 2099 3:04:05 GMT", false},
			{"two-digit hour, same date", "Thu, 01 Jan 2099 03:04:05 GMT", true},
			{"trailing junk", future.Format(http.TimeFormat) + " x", false},
			{"UTC instead of GMT", strings.Replace(future.Format(http.TimeFormat), "GMT", "UTC", 1), false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				o := headerOrigin(t, "Expires", tc.expires)
				c, _ := rfcClient(t, mode)
				get(t, c, o.URL+"/e")
				if r := get(t, c, o.URL+"/e"); r.FromCache() != tc.wantHit {
					t.Errorf("Expires %q: FromCache %v, want %v", tc.expires, r.FromCache(), tc.wantHit)
				}
			})
		}
	})
}

func TestHeadersNotStored(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		o := headerOrigin(t,
			"Cache-Control", `max-age=60, no-cache="X-Nc", private="X-Pv"`,
			"Connection", "X-Hop",
			"X-Hop", "1", "X-Nc", "2", "X-Pv", "3", "X-Keep", "4")
		c, _ := rfcClient(t, mode)
		// The origin's own answer reaches its caller whole: only what is
		// stored, and served from storage, leaves the fields out.
		first := get(t, c, o.URL+"/h")
		for name, want := range map[string]string{"X-Nc": "2", "X-Pv": "3", "X-Keep": "4"} {
			if v := first.Header().Get(name); v != want {
				t.Errorf("first answer (from the origin): %s = %q, want %q", name, v, want)
			}
		}
		r := get(t, c, o.URL+"/h")
		if !r.FromCache() {
			t.Fatalf("status %v: a qualified no-cache must not force revalidation of the rest", r.CacheStatus())
		}
		for _, name := range []string{"X-Hop", "X-Nc", "X-Pv"} {
			if v := r.Header().Get(name); v != "" {
				t.Errorf("%s = %q served from the cache, want it left out", name, v)
			}
		}
		if r.Header().Get("X-Keep") != "4" {
			t.Errorf("X-Keep = %q, want 4", r.Header().Get("X-Keep"))
		}
	})
}

func TestImmutableReload(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		// A reload sends no-cache (curl, Firefox) or max-age=0 (Chrome,
		// fetch's "no-cache" mode).
		for _, reload := range []string{"no-cache", "max-age=0"} {
			for _, tc := range []struct {
				cc      string
				wantHit bool
			}{
				{"max-age=60, immutable", true},
				{"max-age=60", false},
			} {
				t.Run(reload+"/"+tc.cc, func(t *testing.T) {
					o := headerOrigin(t, "Cache-Control", tc.cc)
					c, clk := rfcClient(t, mode)
					get(t, c, o.URL+"/i")
					clk.Advance(time.Second) // older than max-age=0, still fresh
					r, err := c.R().SetHeader("Cache-Control", reload).Get(o.URL + "/i")
					if err != nil {
						t.Fatal(err)
					}
					if r.FromCache() != tc.wantHit || (o.count() == 1) != tc.wantHit {
						t.Errorf("reload (%s) of %q: FromCache %v, origin %d; want hit %v", reload, tc.cc, r.FromCache(), o.count(), tc.wantHit)
					}
				})
			}
		}
	})
}

func TestMustUnderstandNoStore(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		o := headerOrigin(t, "Cache-Control", "must-understand, no-store, max-age=60")
		c, _ := rfcClient(t, mode)
		get(t, c, o.URL+"/m")
		if r := get(t, c, o.URL+"/m"); !r.FromCache() {
			t.Errorf("must-understand, no-store 200: status %v, want a hit", r.CacheStatus())
		}
		p := headerOrigin(t, "Cache-Control", "no-store, max-age=60")
		get(t, c, p.URL+"/m")
		if r := get(t, c, p.URL+"/m"); r.FromCache() {
			t.Errorf("plain no-store was stored")
		}
	})
}

func TestVaryAcceptLanguageNormalised(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("Vary", "Accept-Language")
			_, _ = w.Write([]byte(r.Header.Get("Accept-Language")))
		})
		c, _ := rfcClient(t, mode)
		ask := func(lang string) *restycache.Response {
			r, err := c.R().SetHeader("Accept-Language", lang).Get(o.URL + "/l")
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		ask("en-US, de")
		for _, same := range []string{"de,EN-us", " en-us ,  DE "} {
			if r := ask(same); !r.FromCache() {
				t.Errorf("Accept-Language %q: status %v, want the variant of %q", same, r.CacheStatus(), "en-US, de")
			}
		}
		if r := ask("fr"); r.FromCache() || r.String() != "fr" {
			t.Errorf("Accept-Language fr answered by another variant")
		}
	})
}

func TestHeadFreshensStoredGet(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		var etag, version atomic.Value
		etag.Store(`"v1"`)
		version.Store("1")
		o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("Etag", etag.Load().(string))
			w.Header().Set("X-Version", version.Load().(string))
			_, _ = w.Write([]byte("body"))
		})
		c, _ := rfcClient(t, mode)
		get(t, c, o.URL+"/g")
		head := func() {
			if _, err := c.R().SetHeader("Cache-Control", "no-cache").Head(o.URL + "/g"); err != nil {
				t.Fatal(err)
			}
		}
		version.Store("2")
		head() // same ETag: the stored GET takes the new headers
		r := get(t, c, o.URL+"/g")
		if !r.FromCache() || r.Header().Get("X-Version") != "2" || r.String() != "body" {
			t.Errorf("after a matching HEAD: FromCache %v X-Version %q body %q, want a hit with version 2", r.FromCache(), r.Header().Get("X-Version"), r.String())
		}
		etag.Store(`"v2"`)
		head() // another ETag: the stored GET is no longer current
		before := o.count()
		if r := get(t, c, o.URL+"/g"); r.FromCache() || o.count() != before+1 {
			t.Errorf("after a HEAD with another ETag: FromCache %v, want the origin", r.FromCache())
		}
	})
}

func TestPostAnswerWithContentLocation(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		for _, tc := range []struct {
			name, location, cc string
			header             bool
			wantHit            bool
		}{
			{"same URL, max-age", "/doc", "max-age=60", true, true},
			{"absolute same URL", "", "max-age=60", true, true},
			{"other URL", "/other", "max-age=60", true, false},
			{"no explicit freshness", "/doc", "", true, false},
			{"settings mode", "/doc", "max-age=60", false, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var o *origin
				o = newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
					if r.Method == http.MethodPost {
						loc := tc.location
						if loc == "" {
							loc = o.URL + "/doc"
						}
						w.Header().Set("Content-Location", loc)
						if tc.cc != "" {
							w.Header().Set("Cache-Control", tc.cc)
						}
						_, _ = w.Write([]byte("posted"))
						return
					}
					w.Header().Set("Cache-Control", "max-age=60")
					_, _ = w.Write([]byte("got"))
				})
				c := restycache.New(mode, restycache.WithCacheControl(tc.header))
				defer c.Close()
				if _, err := c.R().SetBody("x").Post(o.URL + "/doc"); err != nil {
					t.Fatal(err)
				}
				r := get(t, c, o.URL+"/doc")
				if hit := r.FromCache() && r.String() == "posted"; hit != tc.wantHit {
					t.Errorf("GET after POST: FromCache %v body %q, want POST answer served %v", r.FromCache(), r.String(), tc.wantHit)
				}
			})
		}
	})
}

func TestReadOnly(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		o := jsonOrigin(t)
		mem := memory.New()
		writer := restycache.New(mode, restycache.WithBackend(mem))
		get(t, writer, o.URL+"/stored")
		ctx := t.Context()
		n, _ := writer.Cache().Len(ctx)

		ro := restycache.New(mode, restycache.WithBackend(mem), restycache.WithReadOnly(), restycache.WithCacheControl(true), restycache.WithExpireAfter(time.Hour))
		defer ro.Close() // closes mem once; writer is not closed
		if r := get(t, ro, o.URL+"/stored"); !r.FromCache() {
			t.Errorf("read-only client: status %v, want a hit", r.CacheStatus())
		}
		get(t, ro, o.URL+"/new")
		if r := get(t, ro, o.URL+"/new"); r.FromCache() {
			t.Errorf("read-only client stored a response")
		}
		if _, err := ro.R().Delete(o.URL + "/stored"); err != nil {
			t.Fatal(err)
		}
		if m, _ := ro.Cache().Len(ctx); m != n {
			t.Errorf("entries after read-only use: %d, want %d", m, n)
		}
		if r := get(t, ro, o.URL+"/stored"); !r.FromCache() {
			t.Errorf("an unsafe request through a read-only client invalidated the entry")
		}

		// A record it cannot decode is a miss for it, and left in place.
		var corrupt string
		for k, err := range mem.Keys(ctx, "") {
			if err != nil {
				t.Fatal(err)
			}
			if v, err := mem.Get(ctx, k); err == nil && len(v) > 16 && !strings.Contains(k, "u-") {
				corrupt = k
				v = bytes.Clone(v) // the backend's own slice is read-only
				v[len(v)/2] ^= 0xff
				if err := mem.Set(ctx, k, v, time.Time{}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if corrupt == "" {
			t.Fatal("no stored entry found to corrupt")
		}
		if r := get(t, ro, o.URL+"/stored"); r.FromCache() {
			t.Errorf("a corrupt entry was served")
		}
		if _, err := mem.Get(ctx, corrupt); err != nil {
			t.Errorf("the read-only client deleted the corrupt record: %v", err)
		}
	})
}

func TestAlwaysRevalidate(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/etag" {
				w.Header().Set("Etag", `"e"`)
				if r.Header.Get("If-None-Match") == `"e"` {
					w.WriteHeader(http.StatusNotModified)
					return
				}
			}
			_, _ = w.Write([]byte("body"))
		})
		c := restycache.New(mode, restycache.WithAlwaysRevalidate(), restycache.WithExpireAfter(time.Hour))
		defer c.Close()
		get(t, c, o.URL+"/etag")
		for i := 0; i < 2; i++ {
			r := get(t, c, o.URL+"/etag")
			if r.CacheStatus() != restycache.CacheRevalidated || r.String() != "body" {
				t.Errorf("use %d: %v %q, want revalidated", i+2, r.CacheStatus(), r.String())
			}
		}
		if got := o.count(); got != 3 {
			t.Errorf("origin requests = %d, want 3 (one conditional per use)", got)
		}
		get(t, c, o.URL+"/plain")
		if r := get(t, c, o.URL+"/plain"); r.CacheStatus() != restycache.CacheHit {
			t.Errorf("no validator: %v, want a plain hit", r.CacheStatus())
		}
	})
}

func TestKeyFunc(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		o := jsonOrigin(t)
		c := restycache.New(mode, restycache.WithKeyFunc(func(r *http.Request, body []byte) string {
			if r.URL.Path == "/default" {
				return ""
			}
			return "path:" + r.Method + r.URL.Path + string(body)
		}))
		defer c.Close()
		first := get(t, c, o.URL+"/a?x=1")
		if first.CacheKey() != "path:GET/a" {
			t.Errorf("CacheKey = %q, want the key function's", first.CacheKey())
		}
		req, _ := http.NewRequest(http.MethodGet, o.URL+"/a?x=9", nil)
		if k, err := c.Cache().KeyOf(req); err != nil || k != "path:GET/a" {
			t.Errorf("Cache().KeyOf = %q, %v; want the key function's", k, err)
		}
		if r := get(t, c, o.URL+"/a?x=2"); !r.FromCache() {
			t.Errorf("the key function ignores the query, yet ?x=2 missed")
		}
		if r, _ := c.R().SetCacheKey("mine").Get(o.URL + "/a?x=3"); r.FromCache() || r.CacheKey() != "mine" {
			t.Errorf("SetCacheKey: key %q FromCache %v, want its own key and a miss", r.CacheKey(), r.FromCache())
		}
		get(t, c, o.URL+"/default?x=1")
		if r := get(t, c, o.URL+"/default?x=2"); r.FromCache() {
			t.Errorf("an empty key function result must fall back to the built-in key")
		}
	})
}

func TestNewTransportForPlainClient(t *testing.T) {
	o := headerOrigin(t, "Cache-Control", "max-age=60")
	tr := restycache.NewTransport(restycache.WithCacheControl(true))
	defer tr.Close()
	hc := &http.Client{Transport: tr}
	for i := 0; i < 3; i++ {
		resp, err := hc.Get(o.URL + "/plain")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(b, []byte("answer 1")) {
			t.Errorf("GET %d: body %q, want the first answer", i+1, b)
		}
	}
	if o.count() != 1 {
		t.Errorf("origin requests = %d, want 1", o.count())
	}
	if n, err := tr.Cache().Len(t.Context()); err != nil || n == 0 {
		t.Errorf("Cache().Len = %d, %v; want the stored entry", n, err)
	}
}

func TestWithKeyFuncNilPanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "WithKeyFunc") {
			t.Errorf("New(WithKeyFunc(nil)) panicked with %v, want a message naming WithKeyFunc", r)
		}
	}()
	restycache.New(restycache.WithKeyFunc(nil))
}

// TestCallerConditionalRequests: a conditional request the caller built
// (If-None-Match, If-Modified-Since) is evaluated against a fresh stored
// response: 304 when it matches, the stored 200 when not, without the
// origin; with nothing fresh stored, or with If-Match, it passes through.
func TestCallerConditionalRequests(t *testing.T) {
	inBothModes(t, func(t *testing.T, mode restycache.Option) {
		o := headerOrigin(t, "Cache-Control", "max-age=60", "Etag", `"v1"`, "Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT")
		c, clk := rfcClient(t, mode)
		url := o.URL + "/c"
		get(t, c, url)
		for _, tc := range []struct {
			name, header, value string
			want                int
		}{
			{"matching ETag", "If-None-Match", `"v1"`, http.StatusNotModified},
			{"weakly matching ETag", "If-None-Match", `W/"v1", "v0"`, http.StatusNotModified},
			{"other ETag", "If-None-Match", `"v0"`, http.StatusOK},
			{"not modified since", "If-Modified-Since", "Thu, 22 Oct 2015 07:28:00 GMT", http.StatusNotModified},
			{"modified since", "If-Modified-Since", "Tue, 20 Oct 2015 07:28:00 GMT", http.StatusOK},
		} {
			r, err := c.R().SetHeader(tc.header, tc.value).Get(url)
			if err != nil || r.StatusCode() != tc.want || !r.FromCache() {
				t.Errorf("%s: status %d FromCache %v err %v, want %d from the cache", tc.name, r.StatusCode(), r.FromCache(), err, tc.want)
				continue
			}
			if tc.want == http.StatusNotModified && (len(r.Body()) != 0 || r.Header().Get("Etag") != `"v1"` || r.Header().Get("Content-Length") != "") {
				t.Errorf("%s: 304 with body %q, ETag %q, Content-Length %q", tc.name, r.Body(), r.Header().Get("Etag"), r.Header().Get("Content-Length"))
			}
			if tc.want == http.StatusOK && r.String() != "answer 1" {
				t.Errorf("%s: body %q, want the stored one", tc.name, r.String())
			}
		}
		if n := o.count(); n != 1 {
			t.Errorf("origin requests = %d, want 1 (every conditional answered from storage)", n)
		}
		if r, _ := c.R().SetHeader("If-Match", `"v1"`).Get(url); r.FromCache() || o.count() != 2 {
			t.Errorf("If-Match: FromCache %v, origin requests %d; want it passed to the origin", r.FromCache(), o.count())
		}
		clk.Advance(2 * time.Minute)
		if r, _ := c.R().SetHeader("If-None-Match", `"v1"`).Get(url); r.FromCache() || o.count() != 3 {
			t.Errorf("stale entry: FromCache %v, origin requests %d; want the conditional passed to the origin", r.FromCache(), o.count())
		}
	})
}
