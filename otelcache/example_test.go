package otelcache_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/restycache/restycache"
	"github.com/restycache/restycache/otelcache"
)

// Record a client's cache metrics on an OpenTelemetry MeterProvider. Here
// the provider has a manual reader; a program would give it an exporter's
// reader (OTLP, or Prometheus through OpenTelemetry's Prometheus exporter).
func Example() {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello")
	}))
	defer origin.Close()

	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())

	obs, err := otelcache.New(provider)
	if err != nil {
		log.Fatal(err)
	}
	c := restycache.New(restycache.WithObserver(obs))
	defer c.Close()
	for range 3 {
		if _, err := c.R().Get(origin.URL + "/greeting"); err != nil {
			log.Fatal(err)
		}
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		log.Fatal(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name != "restycache.requests" {
			continue
		}
		for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
			status, _ := dp.Attributes.Value(otelcache.KeyStatus)
			fmt.Printf("%s: %d\n", status.AsString(), dp.Value)
		}
	}
	// Unordered output:
	// miss: 1
	// hit: 2
}
