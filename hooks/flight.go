package hooks

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/restycache/restycache/cache"
)

// flight is one origin fetch for a key, shared by the concurrent requests
// for that key (request coalescing) or run in the background
// (stale-while-revalidate). Its result fields are written before done is
// closed and never changed afterwards.
type flight struct {
	done    chan struct{}
	waiters atomic.Int32 // requests waiting for it, the leader included

	entry     *cache.Entry // the answer, body included; stored or not
	status    Status       // StatusMiss, StatusRevalidated, or StatusHit from a recheck
	stored    cache.Key    // where entry was stored; empty when not stored
	err       error
	fallback  bool // the answer cannot be shared (too large): fetch alone
	streaming bool // its context lives on with the answer handed off

	// An answer too large to share goes, still streaming, to the request
	// that started the flight, if it is still waiting.
	mu         sync.Mutex
	handoff    *http.Response
	leaderGone bool
}

// abandon records that the leader stopped waiting, and closes an answer
// already handed to it.
func (f *flight) abandon() {
	f.mu.Lock()
	resp := f.handoff
	f.handoff, f.leaderGone = nil, true
	f.mu.Unlock()
	if resp != nil {
		resp.Body.Close()
	}
}

// handOff gives resp to the leader, or closes it when the leader is gone.
func (f *flight) handOff(resp *http.Response) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.leaderGone {
		resp.Body.Close()
		return
	}
	f.handoff = resp
}

// take returns the answer handed to the leader, once.
func (f *flight) take() *http.Response {
	f.mu.Lock()
	defer f.mu.Unlock()
	resp := f.handoff
	f.handoff = nil
	return resp
}

// join returns the flight in progress for key, or starts one and reports
// leader. It returns nil once the Transport is closed.
func (t *Transport) join(key cache.Key) (f *flight, leader bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, false
	}
	if f := t.flights[key]; f != nil {
		return f, false
	}
	f = &flight{done: make(chan struct{})}
	t.flights[key] = f
	t.wg.Add(1)
	return f, true
}

// shared answers c through the flight for its key, starting one when none
// is in progress. ok is false when c must fetch alone.
func (t *Transport) shared(c *call, entry *cache.Entry) (resp *http.Response, err error, ok bool) {
	f, leader := t.join(c.key)
	if f == nil {
		return nil, nil, false
	}
	if leader {
		// A flight for this key may have landed between our read and
		// join: what it stored answers us, and anyone who joined since.
		if e := t.lookup(c); e != nil && t.usable(e, t.now(), &c.cc) {
			f.entry, f.status, f.stored = e, StatusHit, c.entryKey
			t.land(f, c.key)
			t.wg.Done()
		} else {
			t.launch(f, c, entry)
		}
	}
	f.waiters.Add(1)
	ctx := c.req.Context()
	select {
	case <-f.done:
	case <-ctx.Done():
		// Stop waiting; the flight goes on for the others.
		if leader {
			f.abandon()
		}
		closeRequestBody(c.req)
		return nil, ctx.Err(), true
	}
	if leader && f.fallback {
		if resp := f.take(); resp != nil {
			closeRequestBody(c.req)
			resp.Request = c.req
			c.st.record(Result{Status: StatusMiss, Key: c.key})
			return resp, nil, true
		}
	}
	// A response that varies answers only the requests of its variant.
	if f.fallback || (f.err == nil && len(f.entry.Vary) > 0 && f.stored != cache.VariantKey(c.key, f.entry.Vary, c.req.Header)) {
		return nil, nil, false
	}
	now := t.now()
	if entry != nil && (f.err != nil || f.entry.StatusCode >= 500) && t.inStaleIfError(entry, now, &c.cc) {
		return t.serve(c, entry, StatusStale, now), nil, true
	}
	closeRequestBody(c.req)
	if f.err != nil {
		return nil, f.err, true
	}
	res := Result{Status: f.status, Key: c.key}
	if !leader {
		res.Status = StatusCoalesced
	}
	if f.stored != "" {
		res.Key, res.StoredAt, res.ExpiresAt = f.stored, f.entry.StoredAt, f.entry.ExpiresAt
	}
	c.st.record(res)
	return t.response(c.req, f.entry, true, now), nil, true
}

// revalidateInBackground refreshes c's stale entry on a background worker,
// unless a fetch for its key is already in progress or every worker is
// busy.
func (t *Transport) revalidateInBackground(c *call, entry *cache.Entry) {
	select {
	case t.workers <- struct{}{}:
	default:
		t.log.Debug("restycache: background revalidation skipped: all workers busy", "key", string(c.key))
		return
	}
	f, leader := t.join(c.key)
	if !leader {
		<-t.workers
		return
	}
	f.leaderGone = true // nobody waits for a background revalidation
	t.launch(f, c, entry, func() { <-t.workers })
}

// launch starts f's fetch for c on its own goroutine. The request is copied
// now, with a context of its own, so the caller may return and reuse its
// request while the fetch goes on.
func (t *Transport) launch(f *flight, c *call, entry *cache.Entry, after ...func()) {
	ctx, cancel := context.WithTimeout(t.base, t.bgTimeout)
	out := c.req.Clone(ctx)
	if c.body != nil {
		body := c.body
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		out.ContentLength = int64(len(body))
	} else if out.Body != nil {
		out.Body = http.NoBody
	}
	fc := *c
	fc.req = out
	fc.st = nil
	go func() {
		defer t.wg.Done()
		defer func() {
			if !f.streaming {
				cancel()
			}
		}()
		for _, fn := range after {
			defer fn()
		}
		defer t.land(f, c.key)
		defer func() {
			if r := recover(); r != nil {
				f.entry, f.err = nil, fmt.Errorf("restycache: shared fetch panicked: %v", r)
				t.log.Error("restycache: shared fetch panicked", "key", string(fc.key), "panic", r)
			}
		}()
		t.fly(f, &fc, entry, cancel)
		if f.err != nil {
			t.log.Warn("restycache: shared or background fetch failed", "key", string(fc.key), "error", f.err)
		}
	}()
}

// land removes the finished flight f and wakes its waiters.
func (t *Transport) land(f *flight, key cache.Key) {
	t.mu.Lock()
	if t.flights[key] == f {
		delete(t.flights, key)
	}
	t.mu.Unlock()
	close(f.done)
}

// fly fetches c from the origin, conditionally when entry has validators,
// reads the whole answer, stores it when storable, and records the result
// in f.
func (t *Transport) fly(f *flight, c *call, entry *cache.Entry, cancel context.CancelFunc) {
	out := conditional(c.req, entry)
	requestTime := t.now()
	resp, err := t.Upstream().RoundTrip(out)
	if err != nil {
		f.err = err
		return
	}
	responseTime := t.now()
	if out != c.req && resp.StatusCode == http.StatusNotModified {
		discard(resp)
		f.entry = t.refreshed(c, entry, resp.Header, requestTime, responseTime)
		f.status, f.stored = StatusRevalidated, c.entryKey
		return
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, t.maxBody+1))
	if err != nil {
		resp.Body.Close()
		f.err = fmt.Errorf("restycache: read response body: %w", err)
		return
	}
	if int64(len(body)) > t.maxBody {
		// Too large to share or store: the leader gets it as it streams,
		// the others fetch alone. The fetch's context lives until the
		// body is closed.
		t.log.Info("restycache: response body too large to store", "key", string(c.key), "max", t.maxBody)
		f.fallback, f.streaming = true, true
		rest := resp.Body
		resp.Body = &streamBody{Reader: io.MultiReader(bytes.NewReader(body), rest), rest: rest, cancel: cancel}
		f.handOff(resp)
		return
	}
	resp.Body.Close()
	f.status = StatusMiss
	e := t.newEntry(c, resp, requestTime, responseTime)
	if e == nil {
		if entry != nil && resp.StatusCode < 500 {
			t.deleteKeys(t.base, c.entryKey)
		}
		e = unstoredEntry(resp)
	} else {
		f.stored = t.storedKey(c, e)
	}
	e.Body = body
	if f.stored != "" {
		t.save(c, e, f.stored)
	}
	f.entry = e
}

// unstoredEntry holds an answer that is shared but not stored.
func unstoredEntry(resp *http.Response) *cache.Entry {
	status := resp.Status
	if status == "" {
		status = fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return &cache.Entry{StatusCode: resp.StatusCode, Status: status, Proto: resp.Proto, Header: storedHeader(resp.Header)}
}

// streamBody is an answer handed off while it still streams; closing it
// ends its fetch's context.
type streamBody struct {
	io.Reader
	rest   io.Closer
	cancel context.CancelFunc
}

func (b *streamBody) Close() error {
	err := b.rest.Close()
	b.cancel()
	return err
}
