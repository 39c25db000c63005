// Package otelcache records what a restycache cache does as OpenTelemetry
// metrics, on instruments of a metric.MeterProvider the caller passes.
//
//	obs, err := otelcache.New(provider)
//	if err != nil { ... }
//	c := restycache.New(restycache.WithObserver(obs))
//
// The instruments (names, units, attributes):
//
//	restycache.requests               {request}  restycache.status, restycache.revalidation
//	restycache.request.duration       s          restycache.status
//	restycache.background             {event}    restycache.outcome
//	restycache.cross_process.waits    {wait}
//	restycache.backend.operations     {operation} restycache.backend.operation, restycache.outcome
//	restycache.backend.duration       s          restycache.backend.operation, restycache.outcome
//	restycache.written.records        {record}   restycache.record
//	restycache.written.bytes          By
//
// restycache.status is a CacheStatus name ("hit", "miss", "stale",
// "revalidated", "coalesced", "refresh", "bypass", "only-if-cached miss");
// restycache.revalidation is "none", "not-modified" or "replaced";
// restycache.backend.operation is an operation's name ("get", "set",
// "delete", ..., "decode" and "verify" for rejected records);
// restycache.outcome is "ok", "error", "skipped" (not sent to a failing
// backend) or "canceled" for backend operations, and "revalidated",
// "replaced", "stale", "hit", "failed" or "skipped" for background
// revalidations; restycache.record is "entry" (a response) or "index" (an
// alias or index record).
//
// Prometheus users export these with OpenTelemetry's Prometheus exporter
// (go.opentelemetry.io/otel/exporters/prometheus) as the MeterProvider's
// reader. Recording takes no lock of this package and allocates nothing:
// every attribute set is built once, in New.
package otelcache

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/restycache/restycache"
)

// ScopeName is the instrumentation scope (the Meter's name) of the
// instruments.
const ScopeName = "github.com/restycache/restycache/otelcache"

// Attribute keys of the instruments.
const (
	KeyStatus       = attribute.Key("restycache.status")
	KeyRevalidation = attribute.Key("restycache.revalidation")
	KeyOutcome      = attribute.Key("restycache.outcome")
	KeyOperation    = attribute.Key("restycache.backend.operation")
	KeyRecord       = attribute.Key("restycache.record")
)

// The number of values of each attribute that the attribute sets are
// built for; larger values are recorded under the last one.
const (
	numStatuses      = int(restycache.CacheOnlyIfCachedMiss) + 1
	numRevalidations = int(restycache.RevalidationReplaced) + 1
	numOps           = int(restycache.OpVerify) + 1
)

// backend outcomes
const (
	outOK = iota
	outError
	outSkipped
	outCanceled
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"ok", "error", "skipped", "canceled"}

// background outcomes
const (
	bgRevalidated = iota
	bgReplaced
	bgStale
	bgHit
	bgFailed
	bgSkipped
	numBackground
)

var backgroundNames = [numBackground]string{"revalidated", "replaced", "stale", "hit", "failed", "skipped"}

// Observer is a restycache.Observer that records OpenTelemetry metrics.
// Make one with New; it is safe for concurrent use.
type Observer struct {
	requests, background, waits, operations, records, bytes metric.Int64Counter
	requestDuration, backendDuration                        metric.Float64Histogram

	// Pre-built options, one per attribute combination.
	requestOpts  [numStatuses][numRevalidations][]metric.AddOption
	durationOpts [numStatuses][]metric.RecordOption
	bgOpts       [numBackground][]metric.AddOption
	opOpts       [numOps][numOutcomes][]metric.AddOption
	opDurOpts    [numOps][numOutcomes][]metric.RecordOption
	recordOpts   [2][]metric.AddOption
}

var _ restycache.Observer = (*Observer)(nil)

// New returns an Observer whose instruments come from the Meter that mp
// gives for ScopeName. Pass it to restycache.WithObserver. A nil mp is an
// error, as is an instrument mp fails to create.
func New(mp metric.MeterProvider) (*Observer, error) {
	if mp == nil {
		return nil, errors.New("restycache/otelcache: nil MeterProvider")
	}
	m := mp.Meter(ScopeName)
	o := &Observer{}
	var errs []error
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	histogram := func(name, desc string) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
			metric.WithExplicitBucketBoundaries(0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
		errs = append(errs, err)
		return h
	}
	o.requests = counter("restycache.requests", "{request}", "Requests that reached the cache, by final status and revalidation.")
	o.requestDuration = histogram("restycache.request.duration", "Time a request spent in the cache until its response's headers were ready.")
	o.background = counter("restycache.background", "{event}", "Background revalidations, by outcome.")
	o.waits = counter("restycache.cross_process.waits", "{wait}", "Fetches that waited for another process's fetch of the same key.")
	o.operations = counter("restycache.backend.operations", "{operation}", "Backend operations and rejected records, by operation and outcome.")
	o.backendDuration = histogram("restycache.backend.duration", "Backend operation latency.")
	o.records = counter("restycache.written.records", "{record}", "Records written to the backend.")
	o.bytes = counter("restycache.written.bytes", "By", "Bytes written to the backend, envelopes included.")
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("restycache/otelcache: %w", err)
	}
	for s := range numStatuses {
		status := KeyStatus.String(restycache.CacheStatus(s).String())
		for r := range numRevalidations {
			set := attribute.NewSet(status, KeyRevalidation.String(restycache.Revalidation(r).String()))
			o.requestOpts[s][r] = []metric.AddOption{metric.WithAttributeSet(set)}
		}
		o.durationOpts[s] = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(status))}
	}
	for b := range numBackground {
		o.bgOpts[b] = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(KeyOutcome.String(backgroundNames[b])))}
	}
	for op := range numOps {
		name := KeyOperation.String(restycache.BackendOp(op).String())
		for out := range numOutcomes {
			set := metric.WithAttributeSet(attribute.NewSet(name, KeyOutcome.String(outcomeNames[out])))
			o.opOpts[op][out] = []metric.AddOption{set}
			o.opDurOpts[op][out] = []metric.RecordOption{set}
		}
	}
	o.recordOpts[0] = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(KeyRecord.String("index")))}
	o.recordOpts[1] = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(KeyRecord.String("entry")))}
	return o, nil
}

// ObserveRequest implements restycache.Observer.
func (o *Observer) ObserveRequest(ctx context.Context, e restycache.RequestEvent) {
	switch e.Kind {
	case restycache.KindRequest:
		s, r := min(int(e.Status), numStatuses-1), min(int(e.Revalidation), numRevalidations-1)
		o.requests.Add(ctx, 1, o.requestOpts[s][r]...)
		o.requestDuration.Record(ctx, e.Duration.Seconds(), o.durationOpts[s]...)
	case restycache.KindBackground:
		b := bgFailed
		switch e.Status {
		case restycache.CacheRevalidated:
			b = bgRevalidated
		case restycache.CacheMiss:
			b = bgReplaced
		case restycache.CacheStale:
			b = bgStale
		case restycache.CacheHit:
			b = bgHit
		}
		o.background.Add(ctx, 1, o.bgOpts[b]...)
	case restycache.KindBackgroundSkipped:
		o.background.Add(ctx, 1, o.bgOpts[bgSkipped]...)
	case restycache.KindCrossProcessWait:
		o.waits.Add(ctx, 1)
	}
}

// ObserveBackend implements restycache.Observer.
func (o *Observer) ObserveBackend(ctx context.Context, e restycache.BackendEvent) {
	op := min(int(e.Op), numOps-1)
	out := outOK
	switch {
	case e.Skipped:
		out = outSkipped
	case e.Canceled:
		out = outCanceled
	case e.Err != nil:
		out = outError
	}
	o.operations.Add(ctx, 1, o.opOpts[op][out]...)
	if e.Duration > 0 {
		o.backendDuration.Record(ctx, e.Duration.Seconds(), o.opDurOpts[op][out]...)
	}
	if e.Op == restycache.OpSet && out == outOK {
		entry := 0
		if e.Entry {
			entry = 1
		}
		o.records.Add(ctx, 1, o.recordOpts[entry]...)
		o.bytes.Add(ctx, int64(e.Bytes))
	}
}
