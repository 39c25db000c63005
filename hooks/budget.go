package hooks

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// budget hands out the contexts that bound backend calls on a request's
// path, without a timer per call: calls share a deadline context that is
// replaced a few times per timeout, so each call's deadline falls between
// three quarters of the timeout and the whole of it after the call starts.
// A hit then pays no allocation for its bound. The context a call gets
// keeps the caller's values (a trace span, say) but not its cancellation:
// a caller that gives up leaves the call to end within the bound.
type budget struct {
	timeout time.Duration
	base    time.Time // with a monotonic reading: now is time.Since(base), one clock read
	cur     atomic.Pointer[slot]
	mu      sync.Mutex // serialises replacing cur
}

// slot is one shared deadline context and when it stops being handed out.
type slot struct {
	ctx       context.Context
	cancel    context.CancelFunc // never needed: the deadline releases ctx
	handOutTo time.Duration      // since the budget's base
}

// bound returns a context with ctx's values that is done at most the
// budget's timeout from now.
func (b *budget) bound(ctx context.Context) context.Context {
	return boundCtx{values: ctx, deadline: b.deadline()}
}

func (b *budget) deadline() context.Context {
	now := time.Since(b.base)
	if s := b.cur.Load(); s != nil && now < s.handOutTo {
		return s.ctx
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := b.cur.Load(); s != nil && now < s.handOutTo {
		return s.ctx
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	b.cur.Store(&slot{ctx: ctx, cancel: cancel, handOutTo: now + b.timeout/4})
	return ctx
}

// boundCtx is a context with the values of one context and the deadline
// and cancellation of another.
type boundCtx struct {
	values   context.Context
	deadline context.Context
}

func (c boundCtx) Deadline() (time.Time, bool) { return c.deadline.Deadline() }
func (c boundCtx) Done() <-chan struct{}       { return c.deadline.Done() }
func (c boundCtx) Err() error                  { return c.deadline.Err() }
func (c boundCtx) Value(key any) any           { return c.values.Value(key) }

// AfterFunc arranges for f to run once c is done, as context.AfterFunc
// does. context.AfterFunc and context.WithCancel use it for a context of
// a type they do not know: without it, each of them would start a
// goroutine to watch Done (mattn/go-sqlite3 calls context.AfterFunc on
// every query), where this registers f with the shared deadline context.
func (c boundCtx) AfterFunc(f func()) (stop func() bool) {
	return context.AfterFunc(c.deadline, f)
}
