package hooks

import (
	"context"
	"runtime"
	"testing"
	"time"
)

func TestBoundContext(t *testing.T) {
	type key struct{}
	caller, cancelCaller := context.WithCancel(context.WithValue(context.Background(), key{}, "span"))
	b := &budget{timeout: 50 * time.Millisecond, base: time.Now()}
	ctx := b.bound(caller)
	latest := time.Now().Add(b.timeout)
	cancelCaller()
	if ctx.Value(key{}) != "span" {
		t.Error("the bound context lost the caller's values")
	}
	if ctx.Err() != nil {
		t.Error("the caller's cancellation reached the bound context")
	}
	if d, ok := ctx.Deadline(); !ok || d.After(latest) {
		t.Errorf("deadline %v (set %v), want at most the timeout %v from now", d, ok, b.timeout)
	}
	ran := make(chan struct{})
	context.AfterFunc(ctx, func() { close(ran) })
	<-ran // the deadline passes within the budget's timeout
	if ctx.Err() != context.DeadlineExceeded {
		t.Errorf("Err after the deadline = %v", ctx.Err())
	}

	long := &budget{timeout: time.Hour, base: time.Now()}
	stop := context.AfterFunc(long.bound(context.Background()), func() { t.Error("a stopped AfterFunc ran") })
	if !stop() {
		t.Error("stop reported that f had run")
	}
}

// A context.AfterFunc or context.WithCancel on a bound context registers
// with the shared deadline context rather than starting a goroutine.
func TestBoundContextStartsNoGoroutines(t *testing.T) {
	b := &budget{timeout: time.Hour, base: time.Now()}
	const n = 1000
	var stops []func() bool
	var cancels []context.CancelFunc
	before := runtime.NumGoroutine()
	for range n {
		ctx := b.bound(context.Background())
		stops = append(stops, context.AfterFunc(ctx, func() {}))
		_, cancel := context.WithCancel(ctx)
		cancels = append(cancels, cancel)
	}
	if grown := runtime.NumGoroutine() - before; grown >= n/10 {
		t.Errorf("%d AfterFuncs and WithCancels on bound contexts started %d goroutines", n, grown)
	}
	for i := range stops {
		stops[i]()
		cancels[i]()
	}
}
