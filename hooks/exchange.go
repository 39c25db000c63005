package hooks

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/restycache/restycache/cache"
)

// conditional returns the request to send upstream for c: c.req itself, or
// a clone carrying the validators of entry.
func conditional(req *http.Request, entry *cache.Entry) *http.Request {
	if entry == nil || !entry.HasValidators() {
		return req
	}
	out := req.Clone(req.Context())
	if entry.ETag != "" {
		out.Header.Set("If-None-Match", entry.ETag)
	}
	if entry.LastModified != "" {
		out.Header.Set("If-Modified-Since", entry.LastModified)
	}
	return out
}

// outcome is the result of one exchange with the origin.
type outcome struct {
	// resp is the origin's answer with its body unread, when the caller
	// gets it as the origin sent it (a miss or a refresh); nil when the
	// answer comes from a stored entry (serve).
	resp *http.Response
	// serve is the entry that answers the request instead: the stored
	// one confirmed by a 304, or served stale because the origin failed.
	serve *cache.Entry
	// entry is what resp is stored as, once its body is read, under key;
	// nil when resp is not stored.
	entry *cache.Entry
	key   cache.Key
	// status is what the exchange amounts to for the request.
	status Status
	// write, when set, stores (or deletes) what serve stands for: the
	// consumer runs it once the answer is out, so that no caller waits
	// for a write.
	write func()
}

// exchange asks the origin for c, conditionally when entry (what is stored
// for c, or nil) has validators, and decides what becomes of the answer:
// a 304 refreshes the stored entry (stored again or, no longer storable,
// deleted); an error or a 5xx inside stale-if-error serves the stored entry;
// a storable answer is to be stored under its (variant) key once its body is
// read; an unstorable one deletes what was stored, unless the origin failed.
// It is the one exchange that both the streaming path (fetch) and the
// buffered, shared path (fly) consume.
func (t *Transport) exchange(c *call, entry *cache.Entry) (outcome, error) {
	out := conditional(c.req, entry)
	requestTime := t.now()
	resp, err := t.Upstream().RoundTrip(out)
	responseTime := t.now()
	if entry != nil && failed(resp, err) && t.inStaleIfError(entry, responseTime, &c.cc) {
		discard(resp)
		return outcome{serve: entry, status: StatusStale}, nil
	}
	if err != nil {
		return outcome{}, err
	}
	if out != c.req && resp.StatusCode == http.StatusNotModified {
		discard(resp)
		e, write := t.refreshed(c, entry, resp.Header, requestTime, responseTime)
		return outcome{serve: e, status: StatusRevalidated, write: write}, nil
	}
	if c.req.Method == http.MethodHead && resp.StatusCode == http.StatusOK && t.policy.CacheControl && !c.customKey {
		t.freshenFromHead(c, resp.Header, requestTime, responseTime)
	}
	o := outcome{resp: resp, status: StatusMiss}
	if c.mustAsk {
		o.status = StatusRefresh
	}
	if o.entry = t.newEntry(c, resp, requestTime, responseTime); o.entry != nil {
		o.key = t.storedKey(c, o.entry)
	} else if entry != nil && resp.StatusCode < 500 {
		// The stored answer is no longer what the origin says.
		t.deleteKeys(c.req.Context(), c.entryKey)
	}
	return o, nil
}

// fetch answers c from the origin itself, streaming the answer to the
// caller and storing it, when storable, as its body is read to its end.
func (t *Transport) fetch(c *call, entry *cache.Entry) (*http.Response, error) {
	o, err := t.exchange(c, entry)
	if err != nil {
		return nil, err
	}
	if o.serve != nil {
		if o.write != nil {
			t.later(c.key, o.write)
		}
		t.record(c, Result{Status: o.status, Key: c.entryKey, StoredAt: o.serve.StoredAt, ExpiresAt: o.serve.ExpiresAt})
		if c.ranged != nil {
			return t.rangeResponse(c.ranged, o.serve, t.now()), nil
		}
		// A stale answer is the looked-up entry, which may be shared.
		return t.response(c.req, o.serve, o.status == StatusRevalidated || c.sharedEntry, t.now()), nil
	}
	resp := o.resp
	if o.entry == nil {
		t.record(c, Result{Status: o.status, Key: c.key})
		return resp, nil
	}
	t.record(c, Result{Status: o.status, Key: o.key, StoredAt: o.entry.StoredAt, ExpiresAt: o.entry.ExpiresAt})
	if resp.Body == nil || resp.Body == http.NoBody || c.req.Method == http.MethodHead {
		t.saveLater(c, o.entry, o.key)
		return resp, nil
	}
	resp.Body = &captureBody{src: resp.Body, t: t, c: c, e: o.entry, key: o.key,
		buf: make([]byte, 0, initialCapacity(resp.ContentLength, t.cfg.MaxBodySize))}
	return resp, nil
}

// failed reports whether an origin answer counts as an error for
// stale-if-error: a transport error or a 5xx status.
func failed(resp *http.Response, err error) bool {
	return err != nil || resp.StatusCode >= 500
}

// discard drains a little of an unused response body and closes it.
func discard(resp *http.Response) {
	if resp == nil || resp.Body == nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
}

// refreshed returns entry updated by a 304 answer's headers (RFC 9111
// section 4.3.4), with its age and expiry reset, and the write that stores
// it (or deletes the stored entry, when it is no longer storable).
func (t *Transport) refreshed(c *call, entry *cache.Entry, notModified http.Header, requestTime, responseTime time.Time) (*cache.Entry, func()) {
	header := cache.MergeHeaders(entry.Header, notModified)
	merged := &http.Response{StatusCode: entry.StatusCode, Header: header, Request: c.req}
	fr := t.policy.Freshness(c.lifetime, merged, requestTime, responseTime)
	delete(header, "Age") // folded into InitialAge
	e := *entry
	e.Header = header
	e.RequestTime, e.StoredAt = requestTime, responseTime
	e.ExpiresAt, e.InitialAge = fr.ExpiresAt, fr.InitialAge
	e.Flags, e.StaleWhileRevalidate, e.StaleIfError = fr.Flags, fr.StaleWhileRevalidate, fr.StaleIfError
	e.ETag, e.LastModified = cache.Validators(header)
	ctx, key := c.req.Context(), c.entryKey
	if fr.Store {
		return &e, func() { t.saveAt(key, &e) }
	}
	return &e, func() { t.deleteKeys(ctx, key) }
}

// freshenFromHead updates the stored GET response for c's URL with the
// header of a 200 answer to the HEAD request c (RFC 9111 section 4.3.5)
// when their validators match, and deletes it when they differ. A stored
// GET response without validators, answered by a HEAD without validators,
// is left as it is.
func (t *Transport) freshenFromHead(c *call, head http.Header, requestTime, responseTime time.Time) {
	get := *c.req
	get.Method = http.MethodGet
	gc := *c
	gc.req = &get
	gc.key = t.keyOf(&get, c.body)
	e := t.lookup(&gc)
	if e == nil || e.Method == http.MethodHead {
		return
	}
	etag, lastModified := cache.Validators(head)
	var match bool
	switch {
	case etag != "" || e.ETag != "":
		match = etag == e.ETag && !strings.HasPrefix(etag, "W/")
	case lastModified != "" || e.LastModified != "":
		match = lastModified == e.LastModified
	default:
		return
	}
	if !match {
		t.deleteKeys(c.req.Context(), gc.entryKey)
		return
	}
	_, write := t.refreshed(&gc, e, head, requestTime, responseTime)
	write()
}

// newEntry makes the entry for resp, without its body, or returns nil when
// resp must not be stored.
func (t *Transport) newEntry(c *call, resp *http.Response, requestTime, responseTime time.Time) *cache.Entry {
	fr := t.policy.Freshness(c.lifetime, resp, requestTime, responseTime)
	if !fr.Store {
		return nil
	}
	e := &cache.Entry{
		StatusCode:           resp.StatusCode,
		Status:               resp.Status,
		Proto:                resp.Proto,
		Header:               cache.StoredHeader(resp.Header),
		Method:               c.req.Method,
		URL:                  t.keyer.RedactURL(c.req.URL),
		RequestHeader:        t.keyer.StoredHeaders(c.req.Header),
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
	// Vary decides which stored response matches a request in both
	// modes; the mode decides freshness only.
	vary, all := cache.ParseVary(resp.Header)
	if all {
		return nil // "Vary: *" never matches a later request
	}
	e.Vary = vary
	e.ETag, e.LastModified = cache.Validators(e.Header)
	if c.req.Response != nil && !c.customKey {
		e.Aliases = t.redirectAliases(c.req)
	}
	return e
}

// storedKey is the key e is stored under for c: c.key, or the variant key
// when the response varies on request headers.
func (t *Transport) storedKey(c *call, e *cache.Entry) cache.Key {
	if len(e.Vary) > 0 {
		return cache.VariantKey(c.key, e.Vary, c.req.Header)
	}
	return c.key
}

// save stores e for c under key, as storedKey returned it: c.key, or, when
// the response varies on request headers, its variant key, with a variant
// index (and the redirect aliases) under c.key.
//
// Every key written is listed in the URL index of c's request, so that an
// unsafe request to the URL invalidates them all.
func (t *Transport) save(c *call, e *cache.Entry, key cache.Key) { t.saving(c, e, key)() }

// saving returns the write that save makes. It reads what it needs of c's
// request now, so that it may run after the caller has its answer.
func (t *Transport) saving(c *call, e *cache.Entry, key cache.Key) func() {
	if t.store.readOnly {
		return func() {}
	}
	ctx, primary := c.req.Context(), c.key
	index := t.keyer.URLIndexKey(c.req.URL, c.req.Host)
	return func() {
		until := t.keepUntil(e)
		if len(e.Vary) == 0 {
			t.saveUntil(key, e, until)
		} else {
			idx := &cache.Entry{Vary: e.Vary, Aliases: e.Aliases}
			variant := *e
			variant.Aliases = nil
			t.saveUntil(primary, idx, until)
			t.saveUntil(key, &variant, until)
		}
		_ = t.store.Index(ctx, index, until, primary, key)
	}
}

// saveLater is save run by later: c's answer does not wait for it.
func (t *Transport) saveLater(c *call, e *cache.Entry, key cache.Key) {
	t.later(c.key, t.saving(c, e, key))
}

// later runs write, which stores the answer a request for key was given,
// without holding that request: on a runner, as a flight that the next
// request for key waits for, and that Flush and Close wait for. While
// another flight for key is in progress (or once the Transport is closed)
// it runs write at once.
func (t *Transport) later(key cache.Key, write func()) {
	safe := func() {
		defer func() {
			if r := recover(); r != nil {
				t.store.rep.note(slog.LevelError, "restycache: storing a response panicked; it was not stored", "key", string(key), "panic", fmt.Sprint(r))
			}
		}()
		write()
	}
	if !t.flights.write(key, safe) {
		safe()
	}
}

// storesAsIs reports whether save stores e itself under its key, unchanged,
// so that its record can be made as its body is read (see saveRecord).
func (t *Transport) storesAsIs(e *cache.Entry) bool {
	return !t.store.readOnly && len(e.Vary) == 0 && (!t.cfg.StripSetCookie || e.Header["Set-Cookie"] == nil)
}

// saveRecord is save for an entry that storesAsIs accepted, whose record rec
// (Store.NewRecord) holds its body.
func (t *Transport) saveRecord(c *call, e *cache.Entry, key cache.Key, rec *Record) {
	until := t.keepUntil(e)
	_ = t.store.SaveRecord(context.Background(), key, e, rec, until) // the Store reports failures
	_ = t.store.Index(c.req.Context(), t.keyer.URLIndexKey(c.req.URL, c.req.Host), until, c.key, key)
}

// saveAt stores e under key for as long as e needs.
func (t *Transport) saveAt(key cache.Key, e *cache.Entry) { t.saveUntil(key, e, t.keepUntil(e)) }

// saveUntil stores e under key until the given time. The Store bounds the
// write by its timeout, detached from the caller's cancellation (a stored
// response must not be lost because its caller went away), and reports a
// failure.
func (t *Transport) saveUntil(key cache.Key, e *cache.Entry, until time.Time) {
	if t.store.readOnly {
		return
	}
	if t.cfg.StripSetCookie && e.Header["Set-Cookie"] != nil {
		stripped := *e
		stripped.Header = e.Header.Clone()
		delete(stripped.Header, "Set-Cookie")
		e = &stripped
	}
	_ = t.store.Save(context.Background(), key, e, until) // the Store reports failures
}

// redirectAliases returns the keys of the earlier requests of a redirect
// chain that ended with req, so that they are answered by req's entry.
func (t *Transport) redirectAliases(req *http.Request) []cache.Key {
	var keys []cache.Key
	for prev := req.Response; prev != nil && prev.Request != nil; prev = prev.Request.Response {
		if t.policy.MethodAllowed(prev.Request.Method) {
			keys = append(keys, t.keyOf(prev.Request, nil))
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
	extra := max(e.StaleWhileRevalidate, e.StaleIfError, t.cfg.StaleWhileRevalidate, t.cfg.StaleIfError)
	if e.HasValidators() {
		extra = max(extra, t.cfg.StaleRetention)
	}
	return e.ExpiresAt.Add(extra)
}

// captureBody passes a response body through to its reader and, once the
// body has been read to its end, stores the response without holding the
// reader (see Transport.later).
type captureBody struct {
	src  io.ReadCloser
	t    *Transport
	c    *call
	e    *cache.Entry
	key  cache.Key // where e is stored
	buf  []byte
	done bool // stored, or given up on
}

func (b *captureBody) Read(p []byte) (int, error) {
	n, err := b.src.Read(p)
	if !b.done {
		if int64(len(b.buf)+n) > b.t.cfg.MaxBodySize {
			b.done = true
			b.buf = nil
			b.t.store.rep.note(slog.LevelInfo, "restycache: response body too large to store; passed through", "key", string(b.c.key), "max", b.t.cfg.MaxBodySize)
		} else {
			b.buf = append(b.buf, p[:n]...)
		}
	}
	if err == io.EOF && !b.done {
		b.done = true
		b.e.Body = b.buf
		b.buf = nil
		b.t.saveLater(b.c, b.e, b.key)
	}
	return n, err
}

func (b *captureBody) Close() error {
	b.done = true
	b.buf = nil
	return b.src.Close()
}

func initialCapacity(contentLength, limit int64) int64 {
	if contentLength > 0 && contentLength <= limit {
		return contentLength
	}
	return 512
}

// storedHeader returns the header of an answer that is shared but not
// stored: a copy without the fields that are never stored
// (cache.StoredHeader), except Age, which such an answer passes on as the
// origin sent it (an entry folds it into its InitialAge instead).
func storedHeader(h http.Header) http.Header {
	out := cache.StoredHeader(h)
	if age, ok := h["Age"]; ok {
		out["Age"] = slices.Clone(age)
	}
	return out
}
