package restycache_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/restycache/restycache"
	"github.com/restycache/restycache/hooks"
)

// restyLogger is a resty.Logger that writes every record to a buffer, with
// its level, so a test can see what resty logged (resty reports a failed
// transport setter only through its logger).
type restyLogger struct{ buf *syncBuffer }

func (l restyLogger) Errorf(format string, v ...interface{}) { l.write("ERROR", format, v...) }
func (l restyLogger) Warnf(format string, v ...interface{})  { l.write("WARN", format, v...) }
func (l restyLogger) Debugf(format string, v ...interface{}) { l.write("DEBUG", format, v...) }

func (l restyLogger) write(level, format string, v ...interface{}) {
	fmt.Fprintf(l.buf, level+" "+format+"\n", v...)
}

// newLoggedClient returns a client whose resty logger writes to the
// returned buffer.
func newLoggedClient(t *testing.T, opts ...restycache.Option) (*restycache.Client, *syncBuffer) {
	t.Helper()
	buf := &syncBuffer{}
	c := restycache.New(opts...).SetLogger(restyLogger{buf: buf})
	t.Cleanup(func() { _ = c.Close() })
	return c, buf
}

// assertCacheInPlace checks that the client's requests still go through
// its cache and that resty logged no error.
func assertCacheInPlace(t *testing.T, c *restycache.Client, log *syncBuffer) {
	t.Helper()
	if rt := c.GetClient().Transport; rt != c.CacheTransport() {
		t.Errorf("GetClient().Transport = %T, want the cache transport", rt)
	}
	if strings.Contains(log.String(), "ERROR") {
		t.Errorf("resty logged an error:\n%s", log.String())
	}
}

func assertHit(t *testing.T, c *restycache.Client, url string) {
	t.Helper()
	if r := get(t, c, url); !r.FromCache() {
		t.Errorf("GET %s: status %v, want a hit", url, r.CacheStatus())
	}
}

func TestTrapSetProxy(t *testing.T) {
	o := jsonOrigin(t)
	var proxied atomic.Int64
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.Add(1)
		_, _ = io.WriteString(w, "via proxy "+r.URL.String())
	}))
	t.Cleanup(proxy.Close)

	c, log := newLoggedClient(t)
	get(t, c, o.URL+"/cached")

	c.SetProxy(proxy.URL)
	assertCacheInPlace(t, c, log)
	if !c.IsProxySet() {
		t.Errorf("IsProxySet() = false after SetProxy")
	}
	tr, err := c.Transport()
	if err != nil {
		t.Fatalf("Transport(): %v", err)
	}
	if tr.Proxy == nil {
		t.Fatalf("upstream transport has no Proxy func")
	}
	req, _ := http.NewRequest(http.MethodGet, o.URL+"/x", nil)
	if u, err := tr.Proxy(req); err != nil || u == nil || u.String() != proxy.URL {
		t.Errorf("upstream Proxy(req) = %v, %v; want %s", u, err, proxy.URL)
	}
	assertHit(t, c, o.URL+"/cached")
	if proxied.Load() != 0 {
		t.Errorf("a hit went to the proxy")
	}

	// A miss really goes through the proxy.
	r := get(t, c, o.URL+"/new")
	if proxied.Load() != 1 || !strings.HasPrefix(r.String(), "via proxy ") {
		t.Errorf("miss after SetProxy: proxy saw %d requests, body %q", proxied.Load(), r.String())
	}

	c.RemoveProxy()
	assertCacheInPlace(t, c, log)
	if c.IsProxySet() {
		t.Errorf("IsProxySet() = true after RemoveProxy")
	}
	if tr, err := c.Transport(); err != nil || tr.Proxy != nil {
		t.Errorf("after RemoveProxy: Transport() = %v, %v; want a transport without Proxy", tr, err)
	}
	before := o.count()
	get(t, c, o.URL+"/direct")
	if o.count() != before+1 || proxied.Load() != 1 {
		t.Errorf("after RemoveProxy: origin +%d, proxy %d; want the origin asked directly", o.count()-before, proxied.Load())
	}
	assertHit(t, c, o.URL+"/cached")
	assertHit(t, c, o.URL+"/new")
}

// selfSignedPEM returns a new self-signed CA certificate in PEM.
func selfSignedPEM(t *testing.T) (string, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(42),
		Subject:               pkix.Name{CommonName: "restycache test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), cert
}

func TestTrapTLSSettersReachUpstream(t *testing.T) {
	o := jsonOrigin(t)

	t.Run("SetTLSClientConfig", func(t *testing.T) {
		c, log := newLoggedClient(t)
		get(t, c, o.URL+"/a")
		cfg := &tls.Config{ServerName: "example.test", MinVersion: tls.VersionTLS12}
		c.SetTLSClientConfig(cfg)
		assertCacheInPlace(t, c, log)
		tr, err := c.Transport()
		if err != nil {
			t.Fatal(err)
		}
		if tr.TLSClientConfig != cfg {
			t.Errorf("upstream TLSClientConfig = %v, want the config given", tr.TLSClientConfig)
		}
		assertHit(t, c, o.URL+"/a")
	})

	t.Run("SetRootCertificateFromString", func(t *testing.T) {
		c, log := newLoggedClient(t)
		get(t, c, o.URL+"/a")
		pemText, cert := selfSignedPEM(t)
		c.SetRootCertificateFromString(pemText)
		assertCacheInPlace(t, c, log)
		tr, err := c.Transport()
		if err != nil {
			t.Fatal(err)
		}
		if tr.TLSClientConfig == nil || tr.TLSClientConfig.RootCAs == nil {
			t.Fatalf("upstream has no RootCAs after SetRootCertificateFromString")
		}
		want := x509.NewCertPool()
		want.AddCert(cert)
		if !tr.TLSClientConfig.RootCAs.Equal(want) {
			t.Errorf("upstream RootCAs do not hold exactly the certificate given")
		}
		assertHit(t, c, o.URL+"/a")
	})

	t.Run("TLS origin", func(t *testing.T) {
		var hits atomic.Int64
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			_, _ = io.WriteString(w, "secure")
		}))
		t.Cleanup(srv.Close)
		pool := x509.NewCertPool()
		pool.AddCert(srv.Certificate())

		c, log := newLoggedClient(t)
		c.SetTLSClientConfig(&tls.Config{RootCAs: pool})
		assertCacheInPlace(t, c, log)
		first := get(t, c, srv.URL+"/s")
		second := get(t, c, srv.URL+"/s")
		if first.String() != "secure" || second.String() != "secure" {
			t.Errorf("bodies %q and %q", first.String(), second.String())
		}
		if first.FromCache() || !second.FromCache() || hits.Load() != 1 {
			t.Errorf("FromCache %v then %v, origin hits %d; want a miss, a hit and 1", first.FromCache(), second.FromCache(), hits.Load())
		}
	})
}

// countingTransport counts the requests it forwards.
type countingTransport struct {
	n    atomic.Int64
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

func TestTrapSetTransport(t *testing.T) {
	o := jsonOrigin(t)
	c, log := newLoggedClient(t)
	custom := &countingTransport{next: o.Client().Transport}
	c.SetTransport(custom)
	assertCacheInPlace(t, c, log)
	if up := c.CacheTransport().Upstream(); up != custom {
		t.Errorf("upstream = %T, want the custom RoundTripper", up)
	}
	first := get(t, c, o.URL+"/t")
	second := get(t, c, o.URL+"/t")
	if n := custom.n.Load(); n != 1 {
		t.Errorf("custom RoundTripper calls = %d, want 1 for two identical GETs", n)
	}
	if first.FromCache() || !second.FromCache() {
		t.Errorf("FromCache %v then %v, want a miss then a hit", first.FromCache(), second.FromCache())
	}
	if _, err := c.Transport(); err == nil {
		t.Errorf("Transport() with a custom RoundTripper upstream: want an error")
	}
	c.SetTransport(nil) // ignored, as in resty
	if up := c.CacheTransport().Upstream(); up != custom || c.GetClient().Transport != c.CacheTransport() {
		t.Errorf("SetTransport(nil) changed the transports")
	}
}

// forEachCoalescing runs f as a subtest with request coalescing on (the
// default: a shared fetch reads the whole answer) and off (the answer
// streams to the caller and is stored as it is read).
func forEachCoalescing(t *testing.T, f func(t *testing.T, opt restycache.Option)) {
	t.Run("coalescing", func(t *testing.T) { f(t, restycache.WithCoalescing(true)) })
	t.Run("streaming", func(t *testing.T) { f(t, restycache.WithCoalescing(false)) })
}

func TestTrapDoNotParseResponse(t *testing.T) { forEachCoalescing(t, testTrapDoNotParseResponse) }

func testTrapDoNotParseResponse(t *testing.T, opt restycache.Option) {
	o := jsonOrigin(t)
	c := restycache.New(opt)
	defer c.Close()
	url := o.URL + "/raw"

	read := func() (*restycache.Response, string) {
		t.Helper()
		r, err := c.R().SetDoNotParseResponse(true).Get(url)
		if err != nil {
			t.Fatal(err)
		}
		raw := r.RawBody()
		if raw == nil {
			t.Fatal("RawBody() is nil")
		}
		b, err := io.ReadAll(raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := raw.Close(); err != nil {
			t.Fatal(err)
		}
		return r, string(b)
	}
	miss, missBody := read()
	hit, hitBody := read()
	if missBody != `{"path":"/raw","n":1}` {
		t.Errorf("miss body = %q", missBody)
	}
	if hitBody != missBody {
		t.Errorf("hit body = %q, want %q", hitBody, missBody)
	}
	if miss.FromCache() || !hit.FromCache() || o.count() != 1 {
		t.Errorf("FromCache %v then %v, origin hits %d; want a miss, a hit and 1", miss.FromCache(), hit.FromCache(), o.count())
	}
}

func TestTrapSetOutput(t *testing.T) { forEachCoalescing(t, testTrapSetOutput) }

func testTrapSetOutput(t *testing.T, opt restycache.Option) {
	o := jsonOrigin(t)
	c := restycache.New(opt)
	defer c.Close()
	dir := t.TempDir()
	want := `{"path":"/file","n":1}`

	for i, wantHit := range []bool{false, true} {
		path := filepath.Join(dir, fmt.Sprintf("out%d.json", i))
		r, err := c.R().SetOutput(path).Get(o.URL + "/file")
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("request %d: file holds %q, want %q", i, got, want)
		}
		if r.FromCache() != wantHit {
			t.Errorf("request %d: FromCache = %v, want %v", i, r.FromCache(), wantHit)
		}
	}
	if o.count() != 1 {
		t.Errorf("origin hits = %d, want 1", o.count())
	}
}

func TestTrapSetTimeout(t *testing.T) { forEachCoalescing(t, testTrapSetTimeout) }

func testTrapSetTimeout(t *testing.T, opt restycache.Option) {
	o := jsonOrigin(t)
	c := restycache.New(opt).SetTimeout(10 * time.Second)
	defer c.Close()
	url := o.URL + "/timeout"

	if r := get(t, c, url); r.FromCache() || r.String() != `{"path":"/timeout","n":1}` {
		t.Fatalf("miss: FromCache %v body %q", r.FromCache(), r.String())
	}
	const n = 8
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := c.R().Get(url)
			switch {
			case err != nil:
				errs <- err
			case !r.FromCache():
				errs <- fmt.Errorf("status %v, want a hit", r.CacheStatus())
			case r.String() != `{"path":"/timeout","n":1}`:
				errs <- fmt.Errorf("body %q", r.String())
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// A new URL is a miss through the same timeout path.
	if r := get(t, c, url+"2"); r.FromCache() || r.StatusCode() != 200 {
		t.Errorf("second miss: FromCache %v status %d", r.FromCache(), r.StatusCode())
	}
	if o.count() != 2 {
		t.Errorf("origin hits = %d, want 2", o.count())
	}
}

func TestTrapSetTimeoutFiresOnAMiss(t *testing.T) {
	release := make(chan struct{})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-release
		}
		_, _ = io.WriteString(w, "ok")
	})
	t.Cleanup(func() { close(release) }) // runs before the origin closes

	// Generous enough for /fast on a loaded CI machine under -race; /slow
	// never answers, so the timeout fires whatever its length.
	c := restycache.New().SetTimeout(2 * time.Second)
	defer c.Close()
	get(t, c, o.URL+"/fast")

	done := make(chan error, 1)
	go func() {
		_, err := c.R().Get(o.URL + "/slow")
		done <- err
	}()
	select {
	case err := <-done:
		var ue interface{ Timeout() bool }
		if err == nil || !errors.As(err, &ue) || !ue.Timeout() {
			t.Errorf("GET /slow with a 2s timeout: error %v, want a timeout", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("GET /slow did not time out")
	}
	// The timeout did not break the client: the stored response is a hit.
	assertHit(t, c, o.URL+"/fast")
}

func TestTrapSetDebug(t *testing.T) {
	o := jsonOrigin(t)
	c, log := newLoggedClient(t)
	c.SetDebug(true)
	url := o.URL + "/debug"

	miss := get(t, c, url)
	hit := get(t, c, url)
	if miss.FromCache() || !hit.FromCache() || hit.String() != miss.String() {
		t.Errorf("FromCache %v then %v, bodies %q and %q", miss.FromCache(), hit.FromCache(), miss.String(), hit.String())
	}
	out := log.String()
	if got := strings.Count(out, "/debug"); got < 2 {
		t.Errorf("debug log names the URL %d times, want at least 2:\n%s", got, out)
	}
	if got := strings.Count(out, "~~~ RESPONSE ~~~"); got != 2 {
		t.Errorf("debug log shows %d responses, want 2 (miss and hit):\n%s", got, out)
	}
	if got := strings.Count(out, `"path": "/debug"`); got != 2 { // resty indents JSON bodies
		t.Errorf("debug log shows the body %d times, want 2 (miss and hit):\n%s", got, out)
	}
	if strings.Contains(out, "ERROR") {
		t.Errorf("resty logged an error:\n%s", out)
	}
}

func TestTrapOnAfterResponse(t *testing.T) {
	o := jsonOrigin(t)
	c := restycache.New()
	defer c.Close()

	var seen []*resty.Response
	var statuses []restycache.CacheStatus
	c.OnAfterResponse(func(_ *resty.Client, r *resty.Response) error {
		seen = append(seen, r)
		statuses = append(statuses, hooks.StateFrom(r.Request.Context()).Result().Status)
		return nil
	})
	var got []*restycache.Response
	for range 2 {
		got = append(got, get(t, c, o.URL+"/hooked"))
	}
	if len(seen) != 2 {
		t.Fatalf("OnAfterResponse ran %d times, want 2", len(seen))
	}
	for i, r := range got {
		if r.Response != seen[i] {
			t.Errorf("request %d: the hook saw another *resty.Response than the caller got", i)
		}
		if !bytes.Equal(seen[i].Body(), []byte(`{"path":"/hooked","n":1}`)) {
			t.Errorf("request %d: the hook saw body %q", i, seen[i].Body())
		}
	}
	if statuses[0] != restycache.CacheMiss || statuses[1] != restycache.CacheHit {
		t.Errorf("statuses seen by the hook = %v, want [miss hit]", statuses)
	}
}

func TestResponseAccessorsAreNilSafe(t *testing.T) {
	var r *restycache.Response
	if r.CacheStatus() != restycache.CacheNone || r.FromCache() || r.Revalidated() || r.IsStale() ||
		r.IsExpired() || r.CacheKey() != "" || !r.CachedAt().IsZero() || !r.ExpiresAt().IsZero() {
		t.Errorf("a nil *Response reported cache information")
	}
}
