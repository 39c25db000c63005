package hooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/restycache/restycache/cache"
)

// Defaults applied by NewTransport to zero Config fields.
const (
	// DefaultMaxBodySize is the largest response body stored: 32 MiB.
	// Larger responses pass through unstored.
	DefaultMaxBodySize = 32 << 20
	// DefaultStaleRetention is how long an entry that can be revalidated
	// (it has an ETag or Last-Modified) is kept in storage past its
	// expiry, beside its stale-while-revalidate and stale-if-error
	// windows.
	DefaultStaleRetention = 24 * time.Hour
	// DefaultBackgroundTimeout bounds each shared or background origin
	// fetch (request coalescing, stale-while-revalidate).
	DefaultBackgroundTimeout = 30 * time.Second
	// DefaultBackgroundWorkers is how many background revalidations run at
	// once; more are skipped until a worker is free.
	DefaultBackgroundWorkers = 4
)

// ErrOnlyIfCached is the reason, given in the body of the 504 answer, when
// an only-if-cached request finds nothing usable stored.
var ErrOnlyIfCached = errors.New("restycache: only-if-cached request and no cached response")

// Config configures a Transport. Store is required; every other field has a
// default, applied by NewTransport, that its comment states.
type Config struct {
	// Store holds the entries. It is required: NewTransport panics
	// without one.
	Store *Store
	// Keyer derives cache keys and redacts what is stored; nil means
	// cache.NewKeyer(cache.KeyOptions{}).
	Keyer *cache.Keyer
	// Policy decides what is stored and for how long; nil means the zero
	// Policy (successful GET and HEAD responses, forever). With
	// Policy.CacheControl the Transport is an RFC 9111 private cache.
	Policy *cache.Policy
	// Upstream sends requests the cache cannot answer; nil means
	// http.DefaultTransport.
	Upstream http.RoundTripper
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
	// MaxBodySize is the largest response body stored, and the largest
	// request body read to derive a key (a larger one makes the request
	// uncacheable); 0 means DefaultMaxBodySize.
	MaxBodySize int64
	// StripSetCookie keeps Set-Cookie headers out of storage.
	StripSetCookie bool
	// StaleRetention is how long entries that can be revalidated (they
	// have validators) are kept past their expiry; 0 means
	// DefaultStaleRetention.
	StaleRetention time.Duration
	// StaleWhileRevalidate and StaleIfError are windows (RFC 5861) that
	// apply to entries whose response set none. Zero means none.
	StaleWhileRevalidate time.Duration
	StaleIfError         time.Duration
	// KeyFunc, when set, derives the cache key of each request from the
	// request and its body (as read for keying) in place of Keyer.Key; an
	// empty result falls back to Keyer.Key. A per-request Options.Key
	// still wins. Nil means Keyer.Key.
	KeyFunc func(req *http.Request, body []byte) string
	// DisableCoalescing stops concurrent identical requests from sharing
	// one origin fetch.
	DisableCoalescing bool
	// CrossProcessWait, when positive and the Store's backend is a
	// backend.Locker, makes concurrent misses of one key in several
	// processes share one origin fetch: one takes a lock in the backend
	// and fetches, the others wait up to CrossProcessWait for its entry.
	// Zero turns it off.
	CrossProcessWait time.Duration
	// BackgroundTimeout bounds shared and background fetches; 0 means
	// DefaultBackgroundTimeout.
	BackgroundTimeout time.Duration
	// BackgroundWorkers bounds concurrent background revalidations; 0
	// means DefaultBackgroundWorkers.
	BackgroundWorkers int
	// CacheStatus, when not empty, is the cache's identifier in the
	// Cache-Status response header (RFC 9211) that the Transport adds to
	// every response of a request that reached it, such as
	// "restycache; hit; ttl=42". It must be a structured-field token
	// (see ValidCacheStatusName). Empty (the default) adds no header.
	CacheStatus string
}

// withDefaults returns cfg with its zero fields set to their defaults.
func (cfg Config) withDefaults() Config {
	if cfg.Store == nil {
		panic("restycache/hooks: Config.Store is required")
	}
	if cfg.Keyer == nil {
		cfg.Keyer = cache.NewKeyer(cache.KeyOptions{})
	}
	if cfg.Policy == nil {
		cfg.Policy = &cache.Policy{}
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	cfg.MaxBodySize = orDefault(cfg.MaxBodySize, DefaultMaxBodySize)
	cfg.StaleRetention = orDefault(cfg.StaleRetention, DefaultStaleRetention)
	cfg.BackgroundTimeout = orDefault(cfg.BackgroundTimeout, DefaultBackgroundTimeout)
	cfg.BackgroundWorkers = orDefault(cfg.BackgroundWorkers, DefaultBackgroundWorkers)
	return cfg
}

// Transport is a caching http.RoundTripper. It answers fresh hits from its
// Store without contacting the origin, revalidates stale entries that have
// validators, serves stale entries where allowed, shares one origin fetch
// between concurrent identical requests, and stores storable responses. It
// keeps net/http's RoundTripper contract: it never modifies the caller's
// request, returns a non-nil body with a nil error for any HTTP status, and
// closes request bodies. Nothing the cache does fails a request that the
// origin answers: a failing backend makes it a pass-through.
//
// The per-request options come from the State in the request's context (see
// WithState); without one, the Transport caches with the Config alone, so it
// can serve a plain http.Client too. Close stops its background work.
type Transport struct {
	cfg      Config // defaults applied; read-only
	store    *Store
	keyer    *cache.Keyer
	policy   *cache.Policy
	now      func() time.Time
	upstream atomic.Pointer[upstream]
	flights  group
	workers  chan struct{}
}

type upstream struct{ rt http.RoundTripper }

// NewTransport returns a Transport configured by cfg. It panics when
// cfg.Store is nil.
func NewTransport(cfg Config) *Transport {
	cfg = cfg.withDefaults()
	t := &Transport{
		cfg:     cfg,
		store:   cfg.Store,
		keyer:   cfg.Keyer,
		policy:  cfg.Policy,
		now:     cfg.Clock,
		workers: make(chan struct{}, cfg.BackgroundWorkers),
	}
	t.flights.init()
	t.SetUpstream(cfg.Upstream)
	return t
}

func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
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

// Waiting reports how many requests are waiting for a shared origin fetch
// (coalesced requests, the one that started each fetch included).
func (t *Transport) Waiting() int { return t.flights.waiting() }

// Flush waits until the responses the Transport has already answered
// requests with have been stored: a shared fetch hands its answer to its
// callers first and writes it afterwards, so that no caller waits for the
// backend. It returns ctx's error if ctx ends first. Fetches still waiting
// for the origin are not waited for; Close waits for everything.
func (t *Transport) Flush(ctx context.Context) error { return t.flights.flush(ctx) }

// Now returns the current time by the Transport's clock.
func (t *Transport) Now() time.Time { return t.now() }

// Close stops the Transport's background work: it cancels shared and
// background fetches in progress and waits for them to end. Requests made
// afterwards still work, without coalescing or background revalidation.
// Close is idempotent and returns nil.
func (t *Transport) Close() error {
	t.flights.close()
	return nil
}

// call is one request on its way through the cache.
type call struct {
	req          *http.Request
	st           *State
	key          cache.Key // the request's key
	entryKey     cache.Key // where the stored entry was found (an alias's target, a variant)
	body         []byte    // the request body, as read for the key
	customKey    bool
	lifetime     cache.Lifetime
	ranged       *http.Request    // a GET with a Range header, as the caller sent it; req is it without Range and If-Range
	conditional  bool             // the caller's own If-None-Match or If-Modified-Since: answered from storage, else passed through
	cc           cache.Directives // the request's Cache-Control, with Policy.CacheControl
	skipRead     bool             // a retry: do not serve or revalidate what is stored
	mustAsk      bool             // refresh or no-cache: contact the origin
	onlyIfCached bool
	readFailed   bool      // the store failed to answer: do not ask it again for this request
	landings     uint64    // the flights landed before the store was read (see launch)
	sharedEntry  bool      // the entry lookup found is shared with other requests (a backend's memo): never modify it
	start        time.Time // when RoundTrip started
	validating   bool      // the origin is asked with the stored entry's validators
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.cfg.CacheStatus == "" {
		return t.roundTrip(req, t.store.started())
	}
	return t.withCacheStatus(req)
}

// roundTrip answers req, which arrived at start (zero when the Store's
// observers need no durations: see Store.started).
func (t *Transport) roundTrip(req *http.Request, start time.Time) (*http.Response, error) {
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
	var cc cache.Directives
	if t.policy.CacheControl {
		cc = cache.ParseCacheControl(req.Header)
		// A request's Pragma: no-cache counts when it has no
		// Cache-Control (RFC 9111 section 5.4).
		cc.NoCache = cc.NoCache || cache.PragmaNoCache(req.Header)
	}
	conds := cache.RequestConditions(req.Header)
	if opts.Bypass || Disabled(ctx) || cc.NoStore || conds == cache.OriginConditions ||
		(conds == cache.CacheConditions && req.Header.Get("Range") != "") {
		return t.forward(req, st)
	}
	if !t.policy.MethodAllowed(req.Method) {
		if t.policy.CacheControl && !isSafe(req.Method) {
			return t.forwardUnsafe(req, st)
		}
		return t.forward(req, st)
	}
	lifetime := t.policy.Lifetime(opts.Lifetime, req.URL)
	if lifetime.IsDoNotCache() {
		return t.forward(req, st)
	}
	req, body, ok, err := keyBody(req, t.cfg.MaxBodySize)
	if err != nil {
		return nil, fmt.Errorf("restycache: read request body: %w", err)
	}
	if !ok { // a request body too large to key: not cacheable
		return t.forward(req, st)
	}
	c := &call{
		req:          req,
		st:           st,
		key:          opts.Key,
		body:         body,
		customKey:    opts.Key != "",
		lifetime:     lifetime,
		cc:           cc,
		skipRead:     st != nil && st.isRetry(),
		mustAsk:      opts.Refresh || cc.NoCache,
		onlyIfCached: opts.OnlyIfCached || cc.OnlyIfCached,
		conditional:  conds == cache.CacheConditions,
	}
	if c.key == "" {
		c.key = t.keyOf(req, body)
	}
	if req.Method == http.MethodGet && req.Header.Get("Range") != "" {
		// Ranges are answered from a stored complete response; the
		// cache's own requests upstream never ask for one.
		c.ranged = req
		c.req = req.Clone(req.Context())
		c.req.Header.Del("Range")
		c.req.Header.Del("If-Range")
	}
	c.start = start
	var entry *cache.Entry
	if !c.skipRead {
		c.landings = t.flights.landings.Load()
		entry = t.lookup(c)
		if entry == nil && t.cfg.DisableCoalescing {
			// The answer to an earlier request for the key may be on its
			// way to storage (later): wait for it rather than ask again.
			if f := t.flights.pending(c.key); f != nil {
				if err := await(req, f.done); err != nil {
					closeRequestBody(req)
					return nil, err
				}
				entry = t.lookup(c)
			}
		}
		if entry == nil && req.Method == http.MethodHead && !c.customKey && !c.conditional {
			if resp := t.headFromGet(c); resp != nil {
				return resp, nil
			}
		}
	}
	if entry != nil && !opts.Refresh {
		now := t.now()
		switch t.decide(c, entry, now) {
		case cache.Fresh:
			return t.serve(c, entry, StatusHit, now), nil
		case cache.Stale:
			return t.serve(c, entry, StatusStale, now), nil
		case cache.StaleRevalidate:
			t.revalidateInBackground(c, entry)
			return t.serve(c, entry, StatusStale, now), nil
		}
	}
	c.validating = entry != nil && entry.HasValidators()
	if c.onlyIfCached {
		closeRequestBody(req)
		t.record(c, Result{Status: StatusOnlyIfCachedMiss, Key: c.key})
		return onlyIfCachedMiss(req), nil
	}
	if c.conditional {
		// Nothing stored may answer it: the origin evaluates the
		// caller's condition, and its answer passes through.
		return t.forward(req, st)
	}
	if c.ranged != nil {
		if entry != nil && entry.HasValidators() && entry.StatusCode == http.StatusOK {
			// Revalidate the whole response: a 304 lets the stored
			// body answer the range, a new 200 answers it whole.
			return t.fetch(c, entry)
		}
		// Nothing stored answers the range: the origin does, and its
		// partial answer is neither stored nor mistaken for a whole one.
		return t.forward(c.ranged, st)
	}
	if !t.cfg.DisableCoalescing && !c.skipRead && !c.mustAsk {
		if resp, err, ok := t.shared(c, entry); ok {
			return resp, err
		}
	}
	return t.fetch(c, entry)
}

// lookup returns the stored entry for c, following an alias and resolving a
// variant index with the request's headers, or nil. c.entryKey becomes the
// key the entry is stored under. Entries the filter now rejects are
// deleted.
func (t *Transport) lookup(c *call) *cache.Entry {
	ctx := c.req.Context()
	// A failed read is a miss; the Store counts and reports it.
	e, key, shared, err := t.store.lookup(ctx, c.key, true)
	if err == nil && e != nil && e.IsVariantIndex() {
		e, key, shared, err = t.store.lookup(ctx, cache.VariantKey(key, e.Vary, c.req.Header), true)
	}
	c.sharedEntry = shared
	if err != nil {
		c.readFailed = true
		return nil
	}
	if e == nil {
		return nil
	}
	c.entryKey = key
	if e.Flags.Has(cache.FlagVaryAll) {
		return nil
	}
	if t.policy.Filter != nil && t.policy.Filtered(t.response(c.req, e, c.sharedEntry, t.now())) {
		t.deleteKeys(ctx, key)
		return nil
	}
	return e
}

// headFromGet answers a HEAD request from a fresh stored GET response, as
// RFC 9111 section 4.3.5 allows, or returns nil.
func (t *Transport) headFromGet(c *call) *http.Response {
	if !t.policy.MethodAllowed(http.MethodGet) {
		return nil
	}
	get := *c.req
	get.Method = http.MethodGet
	gc := *c
	gc.req = &get
	gc.key = t.keyOf(&get, c.body)
	e := t.lookup(&gc)
	now := t.now()
	if e == nil || t.decide(c, e, now) != cache.Fresh {
		return nil
	}
	c.entryKey, c.sharedEntry = gc.entryKey, gc.sharedEntry
	resp := t.serve(c, e, StatusHit, now)
	resp.Body = http.NoBody
	return resp
}

// Key returns the cache key that req, sent with body, is stored under
// (without a per-request Options.Key): Config.KeyFunc's when it gives one,
// else the Keyer's.
func (t *Transport) Key(req *http.Request, body []byte) cache.Key { return t.keyOf(req, body) }

// keyOf derives the key of req, sent with body: by KeyFunc when it gives
// one, else by the Keyer.
func (t *Transport) keyOf(req *http.Request, body []byte) cache.Key {
	if t.cfg.KeyFunc != nil {
		if k := t.cfg.KeyFunc(req, body); k != "" {
			return cache.Key(k)
		}
	}
	return t.keyer.Key(req, body)
}

// serve answers c with the stored entry e and records status. A range
// request gets the range it asked for (see ranged).
func (t *Transport) serve(c *call, e *cache.Entry, status Status, now time.Time) *http.Response {
	closeRequestBody(c.req)
	t.record(c, Result{Status: status, Key: c.entryKey, StoredAt: e.StoredAt, ExpiresAt: e.ExpiresAt})
	if c.ranged != nil {
		return t.rangeResponse(c.ranged, e, now)
	}
	if c.conditional && cache.NotModified(c.req.Header, e) {
		return notModified(c.req, e, now)
	}
	return t.response(c.req, e, c.sharedEntry, now)
}

// notModified answers req, whose own condition the stored response e
// fails, with 304 Not Modified (RFC 9111 section 4.3.2).
func notModified(req *http.Request, e *cache.Entry, now time.Time) *http.Response {
	header := cache.NotModifiedHeader(e.Header)
	if !e.StoredAt.IsZero() {
		header["Age"] = []string{ageValue(e, now)}
	}
	return &http.Response{
		Status: "304 Not Modified", StatusCode: http.StatusNotModified,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: header, Body: http.NoBody, Request: req,
	}
}

// ageValue is the Age header value of e served at now, in seconds.
func ageValue(e *cache.Entry, now time.Time) string {
	return strconv.FormatInt(int64(min(e.Age(now), cache.MaxDelta)/time.Second), 10)
}

// rangeResponse answers the range request req from the stored complete
// response e (RFC 9110 section 14, RFC 9111 section 3.4): 206 with the one
// range asked for, 416 when it is unsatisfiable, and the whole response
// when the Range header is not a valid bytes range, when If-Range does not
// match e, when e is not a complete 200, or for several ranges.
func (t *Transport) rangeResponse(req *http.Request, e *cache.Entry, now time.Time) *http.Response {
	resp := t.response(req, e, true, now)
	if e.StatusCode != http.StatusOK || e.Method == http.MethodHead {
		return resp
	}
	if ir := req.Header.Get("If-Range"); ir != "" && !cache.IfRangeMatches(ir, e.Header, e.StoredAt) {
		return resp
	}
	size := int64(len(e.Body))
	r, kind := cache.ParseRange(req.Header.Get("Range"), size)
	switch kind {
	case cache.RangeSingle:
		resp.StatusCode, resp.Status = http.StatusPartialContent, "206 Partial Content"
		resp.Header.Set("Content-Range", r.ContentRange(size))
		resp.Header.Set("Content-Length", strconv.FormatInt(r.Len(), 10))
		resp.ContentLength = r.Len()
		resp.Body = newBodyReader(e.Body[r.First : r.Last+1])
	case cache.RangeUnsatisfiable:
		resp.StatusCode, resp.Status = http.StatusRequestedRangeNotSatisfiable, "416 Range Not Satisfiable"
		resp.Header.Set("Content-Range", cache.UnsatisfiedRange(size))
		resp.Header.Set("Content-Length", "0")
		resp.ContentLength = 0
		resp.Body = http.NoBody
	}
	return resp
}

// record is the one place where the outcome of a request that used the
// cache is recorded in its State and counted (by the Store, which tells
// its Observers), from its final status.
func (t *Transport) record(c *call, r Result) {
	c.st.record(r)
	e := RequestEvent{Status: r.Status, Duration: since(c.start)}
	if c.validating {
		switch {
		case r.Status == StatusRevalidated:
			e.Revalidation = RevalidationNotModified
		case (r.Status == StatusMiss || r.Status == StatusRefresh) && !r.StoredAt.IsZero():
			e.Revalidation = RevalidationReplaced
		}
	}
	t.store.ObserveRequest(c.req.Context(), e)
}

// forward sends req upstream without using the cache.
func (t *Transport) forward(req *http.Request, st *State) (*http.Response, error) {
	st.record(Result{Status: StatusBypass})
	start := t.store.started()
	resp, err := t.Upstream().RoundTrip(req)
	t.store.ObserveRequest(req.Context(), RequestEvent{Status: StatusBypass, Duration: since(start)})
	return resp, err
}

// response builds the response served for entry. Unless shared, the
// entry's header map is handed out as is: each decode makes a new one.
func (t *Transport) response(req *http.Request, e *cache.Entry, shared bool, now time.Time) *http.Response {
	// Age and Content-Length values, carved from one array (or from the
	// copied header's) so that a hit pays one allocation for both.
	var extra []string
	header := e.Header
	if shared || header == nil {
		header, extra = cloneHeader(e.Header, 2)
	} else {
		extra = make([]string, 2)
	}
	if !e.StoredAt.IsZero() {
		extra[0] = ageValue(e, now)
		header["Age"] = extra[0:1:1]
	}
	contentLength := int64(len(e.Body))
	if len(e.Body) > 0 || header["Content-Length"] == nil {
		extra[1] = strconv.FormatInt(contentLength, 10)
		header["Content-Length"] = extra[1:2:2]
	} else if n, err := strconv.ParseInt(header.Get("Content-Length"), 10, 64); err == nil && n >= 0 && req.Method == http.MethodHead {
		contentLength = n // a stored HEAD answer keeps the length it announced
	}
	proto, major, minor := e.Proto, 1, 1
	switch proto {
	case "", "HTTP/1.1":
		proto = "HTTP/1.1"
	default:
		if m, n, ok := http.ParseHTTPVersion(proto); ok {
			major, minor = m, n
		}
	}
	r := &hitResponse{body: bodyReader{}}
	r.body.Reset(e.Body)
	r.resp = http.Response{
		Status:        e.Status,
		StatusCode:    e.StatusCode,
		Proto:         proto,
		ProtoMajor:    major,
		ProtoMinor:    minor,
		Header:        header,
		Body:          &r.body,
		ContentLength: contentLength,
		Request:       req,
	}
	return &r.resp
}

// hitResponse is a response built from a stored entry and its body
// reader, allocated together.
type hitResponse struct {
	resp http.Response
	body bodyReader
}

// cloneHeader returns a copy of h with room for two more names, and extra
// more values taken from the same backing array as the copied ones (for the
// caller to add). Like http.Header.Clone, it copies the values into one
// array; the copies have no spare capacity, so appending to one copies it.
// The array is sized for one value per name, the common case, so that h is
// walked once; a name with more values than are left gets its own array.
func cloneHeader(h http.Header, extra int) (http.Header, []string) {
	backing := make([]string, len(h)+extra)
	out := make(http.Header, len(h)+2)
	for name, vs := range h {
		switch {
		case vs == nil:
			out[name] = nil
		case len(vs) > len(backing)-extra:
			out[name] = slices.Clone(vs)[:len(vs):len(vs)]
		default:
			m := copy(backing, vs)
			out[name] = backing[:m:m]
			backing = backing[m:]
		}
	}
	return out, backing[:extra:extra]
}

// ownHeader returns a copy of e with a header map of its own, for work
// that goes on while e's header is handed to a caller.
func ownHeader(e *cache.Entry) *cache.Entry {
	c := *e
	c.Header = e.Header.Clone()
	return &c
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
		replay := body
		out.Body = io.NopCloser(bytes.NewReader(replay))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(replay)), nil }
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

// isSafe reports whether method is safe (RFC 9110 section 9.2.1): requests
// with other methods, unknown ones included, invalidate stored responses.
func isSafe(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
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
