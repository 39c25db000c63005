package hooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/restycache/restycache/cache"
)

// group is the set of origin fetches in progress, one per key: a small
// singleflight. golang.org/x/sync/singleflight does not serve here: a
// flight's fetch must run detached from every caller (no deadline, no
// Cancel channel, no httptrace hooks) under a context that Close cancels
// and waits for; a new leader must recheck the store before fetching; a
// panic must become every waiter's error (singleflight's DoChan re-panics
// on a goroutine of its own, which kills the process); and an answer too
// large to share must be handed, still streaming, to the one caller that
// started it.
type group struct {
	base   context.Context // cancelled by close
	cancel context.CancelFunc
	wg     sync.WaitGroup // flights not landed

	// Runners are the goroutines flights run on. One whose flight has
	// landed waits for the next (on tasks, unbuffered), up to
	// maxIdleRunners of them: a new goroutine would grow its stack again
	// through the HTTP client, several microseconds per miss.
	tasks   chan func()
	idle    atomic.Int32
	runners sync.WaitGroup

	mu       sync.Mutex
	flights  map[cache.Key]*flight
	closed   bool
	landings atomic.Uint64 // flights landed so far; changed under mu
}

// maxIdleRunners bounds the runners kept waiting for a flight.
const maxIdleRunners = 4

func (g *group) init() {
	g.base, g.cancel = context.WithCancel(context.Background())
	g.flights = make(map[cache.Key]*flight)
	g.tasks = make(chan func())
}

// spawn runs task on an idle runner, or on a new one.
func (g *group) spawn(task func()) {
	select {
	case g.tasks <- task:
	default:
		g.runners.Add(1)
		go g.runner(task)
	}
}

// runner runs task, then the tasks spawn hands it, until there are enough
// idle runners or the group closes.
func (g *group) runner(task func()) {
	defer g.runners.Done()
	for {
		task()
		if g.idle.Add(1) > maxIdleRunners {
			g.idle.Add(-1)
			return
		}
		select {
		case task = <-g.tasks:
			g.idle.Add(-1)
		case <-g.base.Done():
			g.idle.Add(-1)
			return
		}
	}
}

// join returns the flight in progress for key, or starts one and reports
// leader; a leader must call run. It returns nil once the group is closed.
func (g *group) join(key cache.Key) (f *flight, leader bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil, false
	}
	if f := g.flights[key]; f != nil {
		return f, false
	}
	f = &flight{ready: make(chan struct{}), done: make(chan struct{})}
	g.flights[key] = f
	g.wg.Add(1)
	return f, true
}

// run runs fn for the flight f of key on a runner of its own, with a
// context detached from every caller and bounded by timeout. Whatever fn
// does, panics included, f lands: its waiters wake and the key is free for
// a new flight. The context lives on, after f lands, while an answer handed
// off still streams (f.streaming); closing that answer ends it.
func (g *group) run(key cache.Key, f *flight, timeout time.Duration, fn func(ctx context.Context, cancel context.CancelFunc)) {
	ctx, cancel := context.WithTimeout(g.base, timeout)
	g.spawn(func() {
		defer g.wg.Done()
		defer func() {
			if !f.streaming {
				cancel()
			}
		}()
		defer g.land(key, f)
		defer func() {
			if r := recover(); r != nil {
				f.entry, f.err = nil, fmt.Errorf("restycache: shared fetch panicked: %v", r)
			}
		}()
		fn(ctx, cancel)
	})
}

// write runs fn, which stores the answer a request for key was given and
// must not panic, on a runner, as a flight whose answer is already out: a
// request for key that arrives meanwhile waits for it (see shared and
// pending), and flush and close wait for it. It returns false, having run
// nothing, when a flight for key is in progress or the group is closed.
func (g *group) write(key cache.Key, fn func()) bool {
	f := &flight{ready: make(chan struct{}), done: make(chan struct{})}
	f.publish()
	g.mu.Lock()
	if g.closed || g.flights[key] != nil {
		g.mu.Unlock()
		return false
	}
	g.flights[key] = f
	g.wg.Add(1)
	g.mu.Unlock()
	g.spawn(func() {
		defer g.wg.Done()
		defer g.land(key, f)
		fn()
	})
	return true
}

// pending returns the flight for key whose answer is out but not yet
// stored, or nil.
func (g *group) pending(key cache.Key) *flight {
	g.mu.Lock()
	f := g.flights[key]
	g.mu.Unlock()
	if f == nil || !f.published() {
		return nil
	}
	return f
}

// land removes the finished flight f and wakes its waiters, if its
// answer has not already.
func (g *group) land(key cache.Key, f *flight) {
	f.publish()
	g.mu.Lock()
	if g.flights[key] == f {
		delete(g.flights, key)
	}
	g.landings.Add(1)
	g.mu.Unlock()
	close(f.done)
}

// flush waits until every flight whose answer was out when it was called
// has landed (stored it), or until ctx is done. Flights still fetching,
// and flights published later, are not waited for, so a steady stream of
// misses cannot hold it.
func (g *group) flush(ctx context.Context) error {
	var pending []*flight
	g.mu.Lock()
	for _, f := range g.flights {
		if f.published() {
			pending = append(pending, f)
		}
	}
	g.mu.Unlock()
	for _, f := range pending {
		select {
		case <-f.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// waiting counts the requests waiting for the flights in progress.
func (g *group) waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, f := range g.flights {
		n += int(f.waiters.Load())
	}
	return n
}

// close stops new flights, cancels those in progress and waits for them.
func (g *group) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.cancel()
	g.wg.Wait()
	g.runners.Wait()
}

// flight is one origin fetch for a key, shared by the concurrent requests
// for that key (request coalescing) or run in the background
// (stale-while-revalidate). Its result fields are written before done is
// closed and never changed afterwards.
type flight struct {
	// ready closes when the answer below is set, which may be before the
	// flight has stored it: waiters wake then, and requests that join
	// while the write goes on are answered at once. done closes when the
	// flight has landed.
	ready     chan struct{}
	readyOnce sync.Once
	done      chan struct{}
	waiters   atomic.Int32 // requests waiting for it, the leader included

	entry     *cache.Entry // the answer, body included; stored or not
	origin    http.Header  // the origin's header of entry, as it came, for the leader; nil when entry came from storage
	status    Status       // StatusMiss, StatusRevalidated, StatusStale, or StatusHit from a recheck
	stored    cache.Key    // where entry is stored; empty when not stored
	err       error
	fallback  bool // the answer cannot be shared (too large): fetch alone
	streaming bool // its context lives on with the answer handed off

	// An answer too large to share goes, still streaming, to the request
	// that started the flight, if it is still waiting.
	mu         sync.Mutex
	handoff    *http.Response
	leaderGone bool
}

// publish wakes f's waiters: its answer (entry, status, stored, err,
// fallback) is set and no longer changes.
func (f *flight) publish() { f.readyOnce.Do(func() { close(f.ready) }) }

// published reports whether f's answer is out.
func (f *flight) published() bool {
	select {
	case <-f.ready:
		return true
	default:
		return false
	}
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

// shared answers c through the flight for its key, starting one when none
// is in progress. ok is false when c must fetch alone.
func (t *Transport) shared(c *call, entry *cache.Entry) (resp *http.Response, err error, ok bool) {
	f, leader := t.flights.join(c.key)
	if f == nil {
		return nil, nil, false
	}
	if !leader && f.published() {
		// Its answer is out and being stored: once it has landed, c is
		// answered as any later request, by what is stored; when the
		// write failed, by the flight's answer, as the requests that
		// waited for it were; else by a flight of its own.
		if err := await(c.req, f.done); err != nil {
			return t.giveUp(c, f, false, err)
		}
		e := t.lookup(c)
		if e != nil {
			now := t.now()
			if t.decide(c, e, now) == cache.Fresh {
				return t.serve(c, e, StatusHit, now), nil, true
			}
			entry = e
		}
		if unstoredAnswer := e == nil && f.entry != nil && f.err == nil; !unstoredAnswer {
			if f, leader = t.flights.join(c.key); f == nil || (!leader && f.published()) {
				return nil, nil, false // fetch alone rather than wait again
			}
		}
	}
	if leader {
		t.launch(f, c, entry, true)
	}
	f.waiters.Add(1)
	if err := await(c.req, f.ready); err != nil {
		return t.giveUp(c, f, leader, err)
	}
	if leader && f.fallback {
		if resp := f.take(); resp != nil {
			closeRequestBody(c.req)
			resp.Request = c.req
			t.record(c, Result{Status: StatusMiss, Key: c.key})
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
	t.record(c, res)
	if leader && f.origin != nil {
		// The request that went to the origin gets its answer whole; the
		// others are served as from storage, without the fields that are
		// not stored (RFC 9111 section 3.1).
		e := *f.entry
		e.Header = f.origin
		return t.response(c.req, &e, false, now), nil, true
	}
	return t.response(c.req, f.entry, true, now), nil, true
}

// await waits until ch closes, or returns why req stopped waiting first:
// its context ended, or its legacy Cancel channel (set by net/http's client
// timeout) closed.
func await(req *http.Request, ch <-chan struct{}) error {
	select {
	case <-ch:
		return nil
	case <-req.Context().Done():
		return req.Context().Err()
	case <-req.Cancel: //nolint:staticcheck // set by net/http's client timeout
		return errRequestCanceled
	}
}

// errRequestCanceled is the error of a request whose legacy Cancel channel
// closed while it waited for a shared fetch.
var errRequestCanceled = errors.New("restycache: request canceled")

// giveUp ends c's wait for the flight f, which goes on for the others.
func (t *Transport) giveUp(c *call, f *flight, leader bool, err error) (*http.Response, error, bool) {
	if leader {
		f.abandon()
	}
	closeRequestBody(c.req)
	return nil, err, true
}

// revalidateInBackground refreshes c's stale entry on a background worker,
// unless a fetch for its key is already in progress or every worker is
// busy.
func (t *Transport) revalidateInBackground(c *call, entry *cache.Entry) {
	select {
	case t.workers <- struct{}{}:
	default:
		t.store.rep.note(slog.LevelDebug, "restycache: background revalidation skipped: all workers busy", "key", string(c.key))
		t.store.ObserveRequest(c.req.Context(), RequestEvent{Kind: KindBackgroundSkipped})
		return
	}
	f, leader := t.flights.join(c.key)
	if !leader {
		<-t.workers
		t.store.ObserveRequest(c.req.Context(), RequestEvent{Kind: KindBackgroundSkipped})
		return
	}
	f.leaderGone = true // nobody waits for a background revalidation
	// The caller is served entry's own header map (a decode makes a new
	// one per request) and may change it: the revalidation works on a copy.
	t.launch(f, c, ownHeader(entry), false, func() { <-t.workers }, func() { t.observeBackground(f) })
}

// launch starts f's fetch for c. The request is copied now, carrying
// nothing of its caller's cancellation (no deadline, no Cancel channel, no
// httptrace hooks, no State), so the caller may return while the fetch goes
// on. With recheck, the flight first looks in the store again when a
// flight has landed since the caller's read (c.landings): that flight's
// entry may answer it.
func (t *Transport) launch(f *flight, c *call, entry *cache.Entry, recheck bool, after ...func()) {
	fc := *c
	fc.st = nil
	t.flights.run(c.key, f, t.cfg.BackgroundTimeout, func(ctx context.Context, cancel context.CancelFunc) {
		for _, fn := range after {
			defer fn()
		}
		fc.req = detachedRequest(ctx, c.req, c.body)
		if recheck && !c.readFailed && t.flights.landings.Load() != c.landings {
			if e := t.lookup(&fc); e != nil && t.usable(e, t.now(), &fc.cc) {
				f.entry, f.status, f.stored = e, StatusHit, fc.entryKey
				return
			}
		}
		if t.cfg.CrossProcessWait > 0 && !t.store.readOnly { // a read-only client stores nothing to wait for
			e, unlock := t.crossProcess(ctx, &fc)
			defer unlock()
			if e != nil {
				f.entry, f.status, f.stored = e, StatusHit, fc.entryKey
				return
			}
		}
		t.fly(f, &fc, entry, cancel)
		if f.err != nil && t.flights.base.Err() == nil { // not stopped by Close
			t.store.rep.note(slog.LevelWarn, "restycache: shared or background fetch failed", "key", string(fc.key), "error", f.err)
		}
	})
}

// detachedRequest returns a copy of req under ctx, with its body replayed
// from body, and without the legacy Cancel channel that net/http's client
// timeout sets on requests to RoundTrippers other than *http.Transport.
func detachedRequest(ctx context.Context, req *http.Request, body []byte) *http.Request {
	out := req.Clone(ctx)
	out.Cancel = nil //nolint:staticcheck // the deprecated channel must not reach a shared fetch
	switch {
	case body != nil:
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		out.ContentLength = int64(len(body))
	case out.Body != nil:
		out.Body = http.NoBody
	}
	return out
}

// fly consumes one exchange for the flight f: it reads the whole answer,
// stores it when storable, and records the result in f. An answer too
// large to share is handed, still streaming, to the flight's leader.
func (t *Transport) fly(f *flight, c *call, entry *cache.Entry, cancel context.CancelFunc) {
	o, err := t.exchange(c, entry)
	if err != nil {
		f.err = err
		return
	}
	f.status = o.status
	if o.serve != nil {
		f.entry = o.serve
		if o.status == StatusRevalidated {
			f.stored = c.entryKey
		}
		f.publish()
		if o.write != nil {
			o.write()
		}
		return
	}
	resp := o.resp
	limit := t.cfg.MaxBodySize
	// With a known length, the body is read into one buffer of that size:
	// the record to store, when the entry can be encoded around it (see
	// Store.NewRecord), so that the stored record holds the only copy.
	var rec *Record
	var room []byte
	if n := resp.ContentLength; n >= 0 && n <= limit {
		if o.entry != nil && t.storesAsIs(o.entry) {
			rec = t.store.NewRecord(o.key, o.entry, int(n))
		}
		if rec != nil {
			room = rec.Body()
		} else {
			room = make([]byte, n)
		}
	}
	body, inPlace, err := readBody(resp.Body, room, limit)
	if err != nil {
		resp.Body.Close()
		f.err = fmt.Errorf("restycache: read response body: %w", err)
		return
	}
	if !inPlace {
		rec = nil // the body did not fill the record's room: encode it anew
	}
	if int64(len(body)) > limit {
		// Too large to share or store: the leader gets it as it streams,
		// the others fetch alone. The fetch's context lives until the
		// body is closed.
		t.store.rep.note(slog.LevelInfo, "restycache: response body too large to store; passed through", "key", string(c.key), "max", limit)
		f.fallback, f.streaming = true, true
		rest := resp.Body
		resp.Body = &streamBody{Reader: io.MultiReader(bytes.NewReader(body), rest), rest: rest, cancel: cancel}
		f.handOff(resp)
		return
	}
	resp.Body.Close()
	e := o.entry
	if e == nil {
		e = unstoredEntry(resp)
	}
	e.Body = body
	f.entry, f.origin = e, resp.Header
	if o.entry == nil {
		return
	}
	f.stored = o.key
	// The answer is out before it is stored: no caller waits for the
	// write, and the flight stays in the group until the entry has
	// landed, so requests arriving meanwhile join it instead of fetching.
	f.publish()
	if rec != nil {
		t.saveRecord(c, e, o.key, rec)
	} else {
		t.save(c, e, o.key)
	}
}

// readBody reads r to its end, or to limit+1 bytes, as
// io.ReadAll(io.LimitReader(r, limit+1)) does. With room (the body's
// announced length, at most limit), it reads into room instead of a slice
// grown from 512 bytes: inPlace reports that the body filled room exactly
// and body is room. A body shorter or longer than announced is returned in
// a new slice, as io.ReadAll would return it.
func readBody(r io.Reader, room []byte, limit int64) (body []byte, inPlace bool, err error) {
	if room == nil {
		body, err = io.ReadAll(io.LimitReader(r, limit+1))
		return body, false, err
	}
	n := 0
	for n < len(room) {
		m, err := r.Read(room[n:])
		n += m
		if err == io.EOF {
			if n == len(room) {
				return room, true, nil
			}
			return slices.Clone(room[:n]), false, nil
		}
		if err != nil {
			return nil, false, err
		}
	}
	// The end must follow: read until EOF or one byte more.
	var one [1]byte
	for range 100 {
		m, err := r.Read(one[:])
		if m > 0 {
			rest, err := io.ReadAll(io.LimitReader(r, limit-int64(n)))
			return slices.Concat(room, one[:], rest), false, err
		}
		if err == io.EOF {
			return room, true, nil
		}
		if err != nil {
			return nil, false, err
		}
	}
	return nil, false, io.ErrNoProgress
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

// Polling bounds of a cross-process wait for another process's entry.
const (
	crossProcessMinPoll = 5 * time.Millisecond
	crossProcessMaxPoll = 50 * time.Millisecond
)

// crossProcess coalesces c's fetch with other processes sharing the store:
// it takes c's lock in the backend, or, while another process holds it,
// waits up to CrossProcessWait for that process's entry to land. It returns
// the entry it found, or nil and the function to call once c's own fetch is
// stored (it releases the lock when this process took it). When the lock
// comes free without an entry (its holder failed), a waiter takes it and
// fetches; past the wait, or when the backend fails, c fetches itself.
func (t *Transport) crossProcess(ctx context.Context, c *call) (*cache.Entry, func()) {
	ttl := t.cfg.CrossProcessWait
	deadline := time.Now().Add(ttl)
	poll := crossProcessMinPoll
	for {
		unlock, ok, err := t.store.TryLock(ctx, c.key, ttl)
		if err != nil {
			return nil, func() {}
		}
		if ok {
			// The holder before us may have stored its answer between
			// our last look and our taking the lock.
			if e := t.lookup(c); e != nil && t.usable(e, t.now(), &c.cc) {
				_ = unlock(ctx)
				return e, func() {}
			}
			return nil, func() { _ = unlock(ctx) }
		}
		wait := min(poll, time.Until(deadline))
		if wait <= 0 {
			return nil, func() {}
		}
		t.observeCrossProcessWait(ctx, poll == crossProcessMinPoll)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, func() {}
		case <-timer.C:
		}
		poll = min(2*poll, crossProcessMaxPoll)
		if e := t.lookup(c); e != nil && t.usable(e, t.now(), &c.cc) {
			return e, func() {}
		}
	}
}
