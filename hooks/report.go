package hooks

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// reporter reports backend failures through a logger at a limited rate:
// once when a kind of operation starts failing, then at most once per
// interval with the number of failures not reported, and once when it
// succeeds again. Its success path is one atomic load.
type reporter struct {
	log      *slog.Logger
	interval time.Duration

	failing [numOps]atomic.Bool
	mu      sync.Mutex
	conds   [numOps]condition
	events  map[string]*condition // note's, by message
}

// condition is one kind of operation's current run of failures.
type condition struct {
	since, reported time.Time
	failures        int // in this run
	suppressed      int // since the last report
}

func newReporter(log *slog.Logger, interval time.Duration) *reporter {
	if log == nil {
		log = slog.Default()
	}
	if interval <= 0 {
		interval = DefaultReportInterval
	}
	return &reporter{log: log, interval: interval}
}

// fail records a failure of op and reports it unless one was reported less
// than an interval ago.
func (r *reporter) fail(op Op, err error) {
	now := time.Now()
	r.mu.Lock()
	c := &r.conds[op]
	first := !r.failing[op].Load()
	if first {
		*c = condition{since: now}
		r.failing[op].Store(true)
	}
	c.failures++
	if !first && now.Sub(c.reported) < r.interval {
		c.suppressed++
		r.mu.Unlock()
		return
	}
	suppressed, since := c.suppressed, c.since
	c.reported, c.suppressed = now, 0
	r.mu.Unlock()
	if first {
		r.log.Warn(fmt.Sprintf("restycache: backend %s failed; the cache passes requests through while it fails", op),
			"op", op.String(), "error", err)
		return
	}
	r.log.Warn(fmt.Sprintf("restycache: backend %s still failing", op),
		"op", op.String(), "error", err, "suppressed", suppressed, "failing_for", now.Sub(since).Round(time.Millisecond))
}

// note reports an event that does not fail a request (a response too
// large to store, a shared fetch that failed), at most once per interval
// for each message, with the number of its reports suppressed meanwhile.
func (r *reporter) note(level slog.Level, msg string, attrs ...any) {
	now := time.Now()
	r.mu.Lock()
	if r.events == nil {
		r.events = make(map[string]*condition)
	}
	c := r.events[msg]
	if c == nil {
		c = &condition{}
		r.events[msg] = c
	} else if now.Sub(c.reported) < r.interval {
		c.suppressed++
		r.mu.Unlock()
		return
	}
	suppressed := c.suppressed
	c.reported, c.suppressed = now, 0
	r.mu.Unlock()
	if suppressed > 0 {
		attrs = append(attrs, "suppressed", suppressed)
	}
	r.log.Log(context.Background(), level, msg, attrs...)
}

// ok records a success of op, reporting the end of a run of failures.
func (r *reporter) ok(op Op) {
	if !r.failing[op].Load() {
		return
	}
	r.mu.Lock()
	if !r.failing[op].Load() {
		r.mu.Unlock()
		return
	}
	r.failing[op].Store(false)
	c := r.conds[op]
	r.mu.Unlock()
	r.log.Info(fmt.Sprintf("restycache: backend %s works again", op),
		"op", op.String(), "failures", c.failures, "failed_for", time.Since(c.since).Round(time.Millisecond))
}

// Breaker settings: after breakerThreshold request-path failures in a row,
// the backend is left alone for a pause that starts at breakerMinPause and
// doubles with each failed retry up to breakerMaxPause.
const (
	breakerThreshold = 3
	breakerMinPause  = 50 * time.Millisecond
	breakerMaxPause  = 2 * time.Second
)

// breaker keeps requests away from a backend that keeps failing, so that a
// hung or dead store costs requests nothing but an occasional retry. Its
// healthy path is two atomic loads.
type breaker struct {
	until  atomic.Int64 // unix nanoseconds before which calls are skipped; 0: closed
	streak atomic.Int32 // failures in a row

	mu    sync.Mutex
	pause time.Duration // the current pause, while open
}

// allow reports whether a call may go to the backend. While the breaker is
// open, it lets one call through each time the pause has passed.
func (b *breaker) allow() bool {
	until := b.until.Load()
	if until == 0 {
		return true
	}
	now := time.Now().UnixNano()
	if now < until {
		return false
	}
	// The pause is over: this caller retries, the others keep waiting.
	return b.until.CompareAndSwap(until, now+int64(breakerMaxPause))
}

// record notes the outcome of a call that was allowed.
func (b *breaker) record(ok bool) {
	if ok {
		if b.streak.Load() == 0 && b.until.Load() == 0 {
			return
		}
		b.mu.Lock()
		b.streak.Store(0)
		b.pause = 0
		b.until.Store(0)
		b.mu.Unlock()
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.streak.Add(1) < breakerThreshold {
		return
	}
	b.pause = min(max(2*b.pause, breakerMinPause), breakerMaxPause)
	b.until.Store(time.Now().Add(b.pause).UnixNano())
}
