package hooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/restycache/restycache/cache"
)

// Defaults applied by NewTransport to zero Config fields.
const (
	// DefaultMaxBodySize is the largest response body stored: 32 MiB.
	// Larger responses pass through unstored.
	DefaultMaxBodySize = 32 << 20
	// DefaultStaleRetention is how long an entry that can still be used
	// after it expired (it has validators or stale windows) is kept in
	// storage past its expiry.
	DefaultStaleRetention = 24 * time.Hour
	// DefaultWriteTimeout bounds each storage write made for a response.
	DefaultWriteTimeout = 10 * time.Second
)

// ErrOnlyIfCached is the reason, given in the logs and the body of the 504
// answer, when an only-if-cached request finds nothing stored.
var ErrOnlyIfCached = errors.New("restycache: only-if-cached request and no cached response")

// Config configures a Transport. Store, Keyer and Policy are required.
type Config struct {
	// Store holds the entries.
	Store *Store
	// Keyer derives cache keys and redacts what is stored.
	Keyer *cache.Keyer
	// Policy decides what is stored and for how long.
	Policy *cache.Policy
	// Upstream sends requests the cache cannot answer; nil means
	// http.DefaultTransport.
	Upstream http.RoundTripper
	// Logger receives cache failures that do not fail a request; nil
	// discards them.
	Logger *slog.Logger
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
	// MaxBodySize is the largest body stored; 0 means DefaultMaxBodySize.
	MaxBodySize int64
	// StripSetCookie keeps Set-Cookie headers out of storage.
	StripSetCookie bool
	// StaleRetention is how long entries that can be revalidated are kept
	// past their expiry; 0 means DefaultStaleRetention.
	StaleRetention time.Duration
	// WriteTimeout bounds each storage write; 0 means DefaultWriteTimeout.
	WriteTimeout time.Duration
}

// Transport is a caching http.RoundTripper. It answers fresh hits from its
// Store without contacting the origin, revalidates stale entries that have
// validators, and stores storable responses as their bodies are read. It
// keeps net/http's RoundTripper contract: it never modifies the caller's
// request, always returns a non-nil body with a nil error, closes request
// bodies, and returns a nil error for any HTTP status.
//
// The per-request options come from the State in the request's context (see
// WithState); without one, the Transport caches with the Config alone, so it
// can serve a plain http.Client too.
type Transport struct {
	store          *Store
	keyer          *cache.Keyer
	policy         *cache.Policy
	log            *slog.Logger
	now            func() time.Time
	maxBody        int64
	stripSetCookie bool
	retention      time.Duration
	writeTimeout   time.Duration

	upstream atomic.Pointer[upstream]
}

type upstream struct{ rt http.RoundTripper }

// NewTransport returns a Transport configured by cfg.
func NewTransport(cfg Config) *Transport {
	t := &Transport{
		store:          cfg.Store,
		keyer:          cfg.Keyer,
		policy:         cfg.Policy,
		log:            cfg.Logger,
		now:            cfg.Clock,
		maxBody:        cfg.MaxBodySize,
		stripSetCookie: cfg.StripSetCookie,
		retention:      cfg.StaleRetention,
		writeTimeout:   cfg.WriteTimeout,
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	if t.now == nil {
		t.now = time.Now
	}
	if t.maxBody <= 0 {
		t.maxBody = DefaultMaxBodySize
	}
	if t.retention <= 0 {
		t.retention = DefaultStaleRetention
	}
	if t.writeTimeout <= 0 {
		t.writeTimeout = DefaultWriteTimeout
	}
	t.SetUpstream(cfg.Upstream)
	return t
}

// Upstream returns the RoundTripper that requests the cache cannot answer
// are sent through.
func (t *Transport) Upstream() http.RoundTripper { return t.upstream.Load().rt }

// SetUpstream replaces the upstream RoundTripper; nil means
// http.DefaultTransport. It is safe to call while requests are in flight.
func (t *Transport) SetUpstream(rt http.RoundTripper) {
	if rt == nil {
		rt = http.DefaultTransport
	}
	t.upstream.Store(&upstream{rt: rt})
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		// net/http calls us even with a cancelled context; a hit must not
		// succeed where a miss would fail.
		closeRequestBody(req)
		return nil, err
	}
	st := StateFrom(ctx)
	var opts Options
	if st != nil {
		opts = st.Options
	}
	if opts.Bypass || Disabled(ctx) || !t.policy.MethodAllowed(req.Method) || isConditional(req.Header) {
		return t.forward(req, st)
	}
	lifetime := t.policy.Lifetime(opts.Lifetime, req.URL)
	if lifetime.IsDoNotCache() {
		return t.forward(req, st)
	}
	req, body, ok, err := keyBody(req, t.maxBody)
	if err != nil {
		return nil, fmt.Errorf("restycache: read request body: %w", err)
	}
	if !ok { // a request body too large to key: not cacheable
		return t.forward(req, st)
	}
	key := opts.Key
	if key == "" {
		key = t.keyer.Key(req, body)
	}

	refresh := opts.Refresh || (st != nil && st.isRetry())
	var entry *cache.Entry
	if !refresh {
		var err error
		entry, key, err = t.store.Lookup(ctx, key)
		if err != nil {
			t.log.WarnContext(ctx, "restycache: cache read failed, asking the origin", "error", err)
		}
		if entry != nil {
			resp := t.response(req, entry)
			switch {
			case t.policy.Filtered(resp):
				t.deleteEntry(ctx, key)
				entry = nil
			case t.fresh(entry):
				closeRequestBody(req)
				st.record(Result{Status: StatusHit, Key: key, StoredAt: entry.StoredAt, ExpiresAt: entry.ExpiresAt})
				return resp, nil
			}
		}
	}
	if opts.OnlyIfCached {
		closeRequestBody(req)
		st.record(Result{Status: StatusOnlyIfCachedMiss, Key: key})
		return onlyIfCachedMiss(req), nil
	}
	return t.fetch(req, st, key, opts.Key != "", lifetime, entry, refresh)
}

// fetch asks the origin, conditionally when entry has validators, and
// arranges for a storable answer to be stored.
func (t *Transport) fetch(req *http.Request, st *State, key cache.Key, customKey bool, lifetime cache.Lifetime, entry *cache.Entry, refresh bool) (*http.Response, error) {
	out := req
	if entry != nil && entry.HasValidators() {
		out = req.Clone(req.Context())
		if entry.ETag != "" {
			out.Header.Set("If-None-Match", entry.ETag)
		}
		if entry.LastModified != "" {
			out.Header.Set("If-Modified-Since", entry.LastModified)
		}
	}
	requestTime := t.now()
	resp, err := t.Upstream().RoundTrip(out)
	if err != nil {
		return nil, err
	}
	responseTime := t.now()
	if out != req && resp.StatusCode == http.StatusNotModified {
		return t.revalidated(req, st, key, lifetime, entry, resp, requestTime, responseTime), nil
	}

	status := StatusMiss
	if refresh {
		status = StatusRefresh
	}
	fr := t.policy.Freshness(lifetime, resp, requestTime, responseTime)
	if !fr.Store {
		if entry != nil { // the stored answer is no longer what the origin says
			t.deleteEntry(req.Context(), key)
		}
		st.record(Result{Status: status, Key: key})
		return resp, nil
	}
	e := t.newEntry(req, resp, fr, requestTime, responseTime)
	if req.Response != nil && !customKey {
		e.Aliases = t.redirectAliases(req)
	}
	st.record(Result{Status: status, Key: key, StoredAt: e.StoredAt, ExpiresAt: e.ExpiresAt})
	if resp.Body == nil || resp.Body == http.NoBody || req.Method == http.MethodHead {
		t.save(key, e)
		return resp, nil
	}
	resp.Body = &captureBody{
		src:  resp.Body,
		t:    t,
		key:  key,
		e:    e,
		buf:  make([]byte, 0, initialCapacity(resp.ContentLength, t.maxBody)),
		max:  t.maxBody,
		done: false,
	}
	return resp, nil
}

// revalidated serves entry, confirmed by a 304 answer, with the 304's
// headers merged in (RFC 9111 section 4.3.4), and stores the update.
func (t *Transport) revalidated(req *http.Request, st *State, key cache.Key, lifetime cache.Lifetime, entry *cache.Entry, notModified *http.Response, requestTime, responseTime time.Time) *http.Response {
	_, _ = io.Copy(io.Discard, io.LimitReader(notModified.Body, 4<<10))
	notModified.Body.Close()

	header := entry.Header.Clone()
	if header == nil {
		header = make(http.Header)
	}
	for name, values := range notModified.Header {
		switch name {
		case "Content-Length", "Content-Encoding", "Transfer-Encoding", "Content-Range":
			continue
		}
		header[name] = values
	}
	merged := &http.Response{StatusCode: entry.StatusCode, Header: header, Request: req}
	fr := t.policy.Freshness(lifetime, merged, requestTime, responseTime)
	e := *entry
	e.Header = header
	e.RequestTime, e.StoredAt = requestTime, responseTime
	e.ExpiresAt, e.InitialAge = fr.ExpiresAt, fr.InitialAge
	e.Flags, e.StaleWhileRevalidate, e.StaleIfError = fr.Flags, fr.StaleWhileRevalidate, fr.StaleIfError
	e.ETag, e.LastModified = validators(header)
	if fr.Store {
		t.save(key, &e)
	} else {
		t.deleteEntry(req.Context(), key)
	}
	st.record(Result{Status: StatusRevalidated, Key: key, StoredAt: e.StoredAt, ExpiresAt: e.ExpiresAt})
	resp := t.response(req, &e)
	resp.Header = header.Clone()
	return resp
}

// forward sends req upstream without using the cache.
func (t *Transport) forward(req *http.Request, st *State) (*http.Response, error) {
	st.record(Result{Status: StatusBypass})
	return t.Upstream().RoundTrip(req)
}

// fresh reports whether entry may be served without contacting the origin.
func (t *Transport) fresh(e *cache.Entry) bool {
	return !e.Flags.Has(cache.FlagNoCache) && !e.IsExpired(t.now())
}

// response builds the response served for entry. The entry's header map is
// handed out as is: each decode makes a new one.
func (t *Transport) response(req *http.Request, e *cache.Entry) *http.Response {
	header := e.Header
	if header == nil {
		header = make(http.Header)
	}
	proto, major, minor := e.Proto, 1, 1
	if proto == "" {
		proto = "HTTP/1.1"
	} else if m, n, ok := http.ParseHTTPVersion(proto); ok {
		major, minor = m, n
	}
	return &http.Response{
		Status:        e.Status,
		StatusCode:    e.StatusCode,
		Proto:         proto,
		ProtoMajor:    major,
		ProtoMinor:    minor,
		Header:        header,
		Body:          newBodyReader(e.Body),
		ContentLength: int64(len(e.Body)),
		Request:       req,
	}
}

// newEntry makes the entry stored for resp, without its body.
func (t *Transport) newEntry(req *http.Request, resp *http.Response, fr cache.Freshness, requestTime, responseTime time.Time) *cache.Entry {
	header := make(http.Header, len(resp.Header))
	for name, values := range resp.Header {
		if unstoredHeader(name) || (t.stripSetCookie && name == "Set-Cookie") {
			continue
		}
		header[name] = values
	}
	e := &cache.Entry{
		StatusCode:           resp.StatusCode,
		Status:               resp.Status,
		Proto:                resp.Proto,
		Header:               header,
		Method:               req.Method,
		URL:                  t.keyer.RedactURL(req.URL),
		RequestHeader:        t.keyer.StoredHeaders(req.Header),
		RequestTime:          requestTime,
		StoredAt:             responseTime,
		ExpiresAt:            fr.ExpiresAt,
		InitialAge:           fr.InitialAge,
		Flags:                fr.Flags,
		StaleWhileRevalidate: fr.StaleWhileRevalidate,
		StaleIfError:         fr.StaleIfError,
	}
	if e.Status == "" {
		e.Status = fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	e.ETag, e.LastModified = validators(header)
	return e
}

// redirectAliases returns the keys of the earlier requests of a redirect
// chain that ended with req, so that they are answered by req's entry.
func (t *Transport) redirectAliases(req *http.Request) []cache.Key {
	var keys []cache.Key
	for prev := req.Response; prev != nil && prev.Request != nil; prev = prev.Request.Response {
		if t.policy.MethodAllowed(prev.Request.Method) {
			keys = append(keys, t.keyer.Key(prev.Request, nil))
		}
	}
	return keys
}

// keepUntil is how long e stays in storage: past its expiry when it can
// still be revalidated or served stale.
func (t *Transport) keepUntil(e *cache.Entry) time.Time {
	if e.ExpiresAt.IsZero() {
		return time.Time{}
	}
	extra := max(e.StaleWhileRevalidate, e.StaleIfError)
	if e.HasValidators() {
		extra = max(extra, t.retention)
	}
	return e.ExpiresAt.Add(extra)
}

// save stores e under key with its own timeout, detached from any request:
// a stored response must not be lost because its caller went away.
func (t *Transport) save(key cache.Key, e *cache.Entry) {
	ctx, cancel := context.WithTimeout(context.Background(), t.writeTimeout)
	defer cancel()
	if err := t.store.Save(ctx, key, e, t.keepUntil(e)); err != nil {
		t.log.Warn("restycache: storing a response failed", "key", string(key), "error", err)
	}
}

func (t *Transport) deleteEntry(ctx context.Context, key cache.Key) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.writeTimeout)
	defer cancel()
	if err := t.store.Delete(ctx, key); err != nil {
		t.log.WarnContext(ctx, "restycache: deleting an entry failed", "key", string(key), "error", err)
	}
}

// captureBody passes a response body through to its reader and stores the
// response once the body has been read to its end.
type captureBody struct {
	src  io.ReadCloser
	t    *Transport
	key  cache.Key
	e    *cache.Entry
	buf  []byte
	max  int64
	done bool // stored, or given up on
}

func (b *captureBody) Read(p []byte) (int, error) {
	n, err := b.src.Read(p)
	if !b.done {
		if int64(len(b.buf)+n) > b.max {
			b.done = true
			b.buf = nil
			b.t.log.Info("restycache: response body too large to store", "key", string(b.key), "max", b.max)
		} else {
			b.buf = append(b.buf, p[:n]...)
		}
	}
	if err == io.EOF && !b.done {
		b.done = true
		b.e.Body = b.buf
		b.buf = nil
		b.t.save(b.key, b.e)
	}
	return n, err
}

func (b *captureBody) Close() error {
	b.done = true
	b.buf = nil
	return b.src.Close()
}

func initialCapacity(contentLength, max int64) int64 {
	if contentLength > 0 && contentLength <= max {
		return contentLength
	}
	return 512
}

// bodyReader serves a stored body without copying it.
type bodyReader struct{ bytes.Reader }

func newBodyReader(b []byte) *bodyReader {
	r := &bodyReader{}
	r.Reset(b)
	return r
}

// Close implements io.Closer; it does nothing.
func (*bodyReader) Close() error { return nil }

// keyBody returns the request body for keying, and the request to send: req
// itself, or a copy whose body can still be read when req's could not be
// read twice. ok is false when the body is larger than limit.
func keyBody(req *http.Request, limit int64) (_ *http.Request, body []byte, ok bool, err error) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, nil, true, nil
	}
	if req.GetBody != nil && req.ContentLength >= 0 && req.ContentLength <= limit {
		rc, err := req.GetBody()
		if err != nil {
			closeRequestBody(req)
			return req, nil, false, err
		}
		defer rc.Close()
		body, err = io.ReadAll(io.LimitReader(rc, limit+1))
		if err != nil {
			closeRequestBody(req)
			return req, nil, false, err
		}
		return req, body, int64(len(body)) <= limit, nil
	}
	body, err = io.ReadAll(io.LimitReader(req.Body, limit+1))
	if err != nil {
		closeRequestBody(req)
		return req, nil, false, err
	}
	out := req.WithContext(req.Context())
	rest := req.Body
	if int64(len(body)) <= limit {
		rest.Close()
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		return out, body, true, nil
	}
	out.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), rest), rest}
	out.GetBody = nil
	return out, nil, false, nil
}

func closeRequestBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// isConditional reports whether the caller built a conditional request
// itself; such requests pass through untouched.
func isConditional(h http.Header) bool {
	return h.Get("If-None-Match") != "" || h.Get("If-Modified-Since") != "" ||
		h.Get("If-Match") != "" || h.Get("If-Unmodified-Since") != "" || h.Get("If-Range") != ""
}

// unstoredHeader reports whether a response header is left out of entries:
// hop-by-hop headers and Content-Length, which the served body's length
// replaces.
func unstoredHeader(name string) bool {
	switch name {
	case "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Connection",
		"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length":
		return true
	}
	return false
}

func validators(h http.Header) (etag, lastModified string) {
	return strings.TrimSpace(h.Get("Etag")), strings.TrimSpace(h.Get("Last-Modified"))
}

func onlyIfCachedMiss(req *http.Request) *http.Response {
	body := []byte(ErrOnlyIfCached.Error())
	return &http.Response{
		Status:        "504 Gateway Timeout (restycache: only-if-cached, not in cache)",
		StatusCode:    http.StatusGatewayTimeout,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"text/plain; charset=utf-8"}},
		Body:          newBodyReader(body),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

// Now returns the current time by the Transport's clock.
func (t *Transport) Now() time.Time { return t.now() }
