package restycache

import (
	"crypto/tls"
	"errors"
	"net/http"
	"sync"

	"github.com/go-resty/resty/v2"

	"github.com/restycache/restycache/backend"
	"github.com/restycache/restycache/backend/memory"
	"github.com/restycache/restycache/cache"
	"github.com/restycache/restycache/hooks"
)

// Client is a resty client with a cache in its request path. It embeds
// *resty.Client: every resty setter is available on it and returns
// *Client, so configuration chains never fall back to a resty type, and
// resty's features (result decoding, retries, middlewares, auth, logging)
// work on cache hits and misses alike.
//
// The cache is a caching http.RoundTripper installed under resty. Setters
// that configure resty's transport (SetTransport, SetProxy,
// SetTLSClientConfig, SetRootCertificate, ...) configure the upstream
// transport under the cache, which stays in place. Like resty's, the
// setters must not be called while requests are in flight.
type Client struct {
	*resty.Client

	transport *hooks.Transport
	cache     *Cache
	owner     bool        // Close closes the backend
	mu        *sync.Mutex // serialises upstream reconfiguration
}

// New returns a caching client over a new resty client (resty.New), for
// use in place of resty.New. Without options it caches successful GET and
// HEAD responses in memory, forever; see the With… options.
func New(opts ...Option) *Client {
	return Wrap(resty.New(), opts...)
}

// Wrap puts a cache in the request path of an existing resty client and
// returns it as a *Client. The resty client's current transport becomes
// the upstream transport under the cache. rc must not be used directly
// afterwards except through the returned Client.
func Wrap(rc *resty.Client, opts ...Option) *Client {
	t, c := build(rc.GetClient().Transport, opts)
	rc.GetClient().Transport = t
	rc.OnBeforeRequest(recordAttempt)
	return &Client{
		Client:    rc,
		transport: t,
		cache:     c,
		owner:     true,
		mu:        new(sync.Mutex),
	}
}

// Transport is the caching http.RoundTripper for a plain http.Client, made
// by NewTransport: a *hooks.Transport together with the cache it owns.
// Install it as any client's Transport, http.DefaultClient's included (the
// counterpart of requests-cache's install_cache):
//
//	http.DefaultClient.Transport = restycache.NewTransport(restycache.WithCacheControl(true))
//
// Requests are sent upstream through http.DefaultTransport unless
// SetUpstream says otherwise. Per-request controls are resty's; with a
// plain http.Client, use the request's Cache-Control (with
// WithCacheControl) or a context made by WithoutCache.
type Transport struct {
	*hooks.Transport
	cache *Cache
}

// NewTransport returns a caching http.RoundTripper configured by the same
// options as New, for use under a plain http.Client. Misconfiguration
// panics, as in New. Its Close stops its background work and closes its
// backend.
func NewTransport(opts ...Option) *Transport {
	t, c := build(nil, opts)
	return &Transport{Transport: t, cache: c}
}

// Cache returns the transport's cache, to inspect and manage stored
// responses.
func (t *Transport) Cache() *Cache { return t.cache }

// Close stops the transport's background work (waiting for it) and closes
// its backend. It is idempotent.
func (t *Transport) Close() error { return t.cache.close() }

// build applies opts and returns the caching transport over upstream (nil
// means http.DefaultTransport) and the cache it owns. It panics on
// misconfiguration.
func build(upstream http.RoundTripper, opts []Option) (*hooks.Transport, *Cache) {
	var cfg config
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	storage := cfg.storage
	if storage == nil && cfg.err() == nil {
		storage = memory.New()
	}
	policy := cfg.policy
	for _, p := range cfg.patterns {
		pat, err := cache.CompileURLPattern(p.pattern)
		if err != nil {
			cfg.invalid("WithURLExpireAfter", "%v", err)
			continue
		}
		policy.URLs = append(policy.URLs, cache.URLRule{Pattern: pat, Lifetime: p.lifetime})
	}
	if _, ok := storage.(backend.Locker); cfg.transport.CrossProcessWait > 0 && !ok {
		cfg.invalid("WithCrossProcessCoalescing", "the backend (%T) is no backend.Locker", storage)
	}
	checkKeys(&cfg)
	if err := cfg.err(); err != nil {
		panic(err)
	}
	store := hooks.NewStore(storage, cfg.store)
	keyer := cache.NewKeyer(cfg.keys)
	tc := cfg.transport
	tc.Store, tc.Keyer, tc.Policy, tc.Upstream = store, keyer, &policy, upstream
	t := hooks.NewTransport(tc)
	return t, &Cache{store: store, keyer: keyer, transport: t}
}

// checkKeys records what is wrong with the signing and encryption keys.
func checkKeys(cfg *config) {
	if len(cfg.store.SigningKeys) > 0 && len(cfg.store.EncryptionKeys) > 0 {
		cfg.invalid("WithSigningKeys and WithEncryptionKeys", "both given: an encrypted entry is authenticated already, give one")
		return
	}
	if err := hooks.CheckKeys(cfg.store.SigningKeys, nil); err != nil {
		cfg.invalid("WithSigningKeys", "%v", err)
	}
	if err := hooks.CheckKeys(nil, cfg.store.EncryptionKeys); err != nil {
		cfg.invalid("WithEncryptionKeys", "%v", err)
	}
}

// recordAttempt tells the cache which attempt of a retried request is being
// sent: retries skip the cache read.
func recordAttempt(_ *resty.Client, r *resty.Request) error {
	if st := hooks.StateFrom(r.Context()); st != nil {
		st.SetAttempt(r.Attempt)
	}
	return nil
}

// R returns a new request of this client.
func (c *Client) R() *Request { return &Request{Request: c.Client.R(), client: c} }

// NewRequest is an alias of R.
func (c *Client) NewRequest() *Request { return c.R() }

// Cache returns the client's cache, to inspect and manage stored responses.
func (c *Client) Cache() *Cache { return c.cache }

// Close stops the cache's background work (waiting for it) and closes its
// backend. It is idempotent. A client made by Clone shares its original's
// cache, and its Close does nothing.
func (c *Client) Close() error {
	if !c.owner {
		return nil
	}
	return c.cache.close()
}

// Clone returns a copy of the client, as resty's Clone does: the copy
// shares the cache, the http.Client and its transport with c, and must not
// be made while requests are in flight. Closing the copy does nothing;
// close the original.
func (c *Client) Clone() *Client {
	return &Client{Client: c.Client.Clone(), transport: c.transport, cache: c.cache, mu: c.mu}
}

// SetTransport sets the upstream transport under the cache; nil is ignored,
// as in resty. Use it to configure connection pooling, proxies or TLS.
func (c *Client) SetTransport(transport http.RoundTripper) *Client {
	if transport != nil {
		c.transport.SetUpstream(transport)
	}
	return c
}

// Transport returns the upstream transport under the cache, or an error
// when it is not an *http.Transport.
func (c *Client) Transport() (*http.Transport, error) {
	if t, ok := c.transport.Upstream().(*http.Transport); ok {
		return t, nil
	}
	return nil, errors.New("restycache: the upstream transport is not an *http.Transport")
}

// CacheTransport returns the caching http.RoundTripper that this client's
// requests go through.
func (c *Client) CacheTransport() *hooks.Transport { return c.transport }

// upstream runs one of resty's transport setters against the upstream
// transport, which it needs to find as resty's own transport.
func (c *Client) upstream(set func()) *Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	hc := c.Client.GetClient()
	hc.Transport = c.transport.Upstream()
	defer func() {
		c.transport.SetUpstream(hc.Transport)
		hc.Transport = c.transport
	}()
	set()
	return c
}

// SetTLSClientConfig sets the TLS configuration of the upstream transport
// (see resty.Client.SetTLSClientConfig).
func (c *Client) SetTLSClientConfig(config *tls.Config) *Client {
	return c.upstream(func() { c.Client.SetTLSClientConfig(config) })
}

// SetProxy sets the proxy URL of the upstream transport (see
// resty.Client.SetProxy).
func (c *Client) SetProxy(proxyURL string) *Client {
	return c.upstream(func() { c.Client.SetProxy(proxyURL) })
}

// RemoveProxy removes the upstream transport's proxy (see
// resty.Client.RemoveProxy).
func (c *Client) RemoveProxy() *Client {
	return c.upstream(func() { c.Client.RemoveProxy() })
}

// SetCertificates sets client certificates on the upstream transport (see
// resty.Client.SetCertificates).
func (c *Client) SetCertificates(certs ...tls.Certificate) *Client {
	return c.upstream(func() { c.Client.SetCertificates(certs...) })
}

// SetRootCertificate adds a PEM root certificate file to the upstream
// transport (see resty.Client.SetRootCertificate).
func (c *Client) SetRootCertificate(pemFilePath string) *Client {
	return c.upstream(func() { c.Client.SetRootCertificate(pemFilePath) })
}

// SetRootCertificateFromString adds a PEM root certificate to the upstream
// transport (see resty.Client.SetRootCertificateFromString).
func (c *Client) SetRootCertificateFromString(pemContent string) *Client {
	return c.upstream(func() { c.Client.SetRootCertificateFromString(pemContent) })
}

// SetClientRootCertificate adds a PEM client root certificate file to the
// upstream transport (see resty.Client.SetClientRootCertificate).
func (c *Client) SetClientRootCertificate(pemFilePath string) *Client {
	return c.upstream(func() { c.Client.SetClientRootCertificate(pemFilePath) })
}

// SetClientRootCertificateFromString adds a PEM client root certificate to
// the upstream transport (see
// resty.Client.SetClientRootCertificateFromString).
func (c *Client) SetClientRootCertificateFromString(pemContent string) *Client {
	return c.upstream(func() { c.Client.SetClientRootCertificateFromString(pemContent) })
}
