package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// KeyVersion is the version of the encoding a Keyer hashes into a Key. It is
// the first thing hashed, so keys derived under different versions never
// coincide. It changes only when the derivation changes: the same request
// yields the same Key in every process and every release that shares it.
const KeyVersion = 1

// DefaultSensitiveNames returns the header and parameter names whose values
// never reach storage: Authorization, Proxy-Authorization, Cookie, X-API-Key,
// X-Auth-Token, Private-Token (GitLab), Api-Key, X-API-Token,
// X-Access-Token, api_key, apikey and access_token. Names are matched
// case-insensitively. Every call returns a new slice.
func DefaultSensitiveNames() []string {
	return []string{
		"Authorization", "Proxy-Authorization", "Cookie", "X-API-Key",
		"X-Auth-Token", "Private-Token", "Api-Key", "X-API-Token",
		"X-Access-Token", "api_key", "apikey", "access_token",
	}
}

// KeyOptions configures a Keyer. The zero value keys requests on their
// method, URL and body alone (plus the values of sensitive headers other
// than Cookie, which are hashed but never stored).
type KeyOptions struct {
	// MatchHeaders lists the request headers whose values separate cache
	// entries, matched case-insensitively. Nil means none.
	MatchHeaders []string
	// MatchAllHeaders makes every request header separate cache entries.
	// False by default; when true, MatchHeaders is redundant.
	MatchAllHeaders bool
	// IgnoredParams lists names removed before keying from the query, from
	// the top-level object of a JSON body, from a form body and from the
	// matched headers. Parameter and JSON names match case-sensitively,
	// header names case-insensitively. They are also left out of stored
	// URLs (see Keyer.RedactURL), and their values are redacted from stored
	// headers. Nil means none.
	IgnoredParams []string
	// SensitiveNames lists header and parameter names, in addition to
	// DefaultSensitiveNames, whose values never reach storage. They match
	// case-insensitively. Nil means only the defaults.
	SensitiveNames []string
}

// Keyer derives cache keys from requests and redacts what is stored with
// them. Its settings are fixed by NewKeyer, and it is safe for concurrent
// use.
//
// The zero Keyer (and a nil *Keyer) behaves like NewKeyer(KeyOptions{}) but
// rebuilds its settings on every call; use NewKeyer.
type Keyer struct {
	c *keyConfig
}

// keyConfig is a Keyer's settings, prepared once by NewKeyer.
type keyConfig struct {
	matchAll  bool
	match     map[string]struct{} // lower-case MatchHeaders
	ignParam  map[string]struct{} // case-sensitive query, form and JSON names
	ignJSON   map[string]struct{} // ignParam in canonical JSON string form
	ignHeader map[string]struct{} // lower-case
	sensitive map[string]struct{} // lower-case
	pool      sync.Pool           // of *keyEncoder

	// memo maps the raw inputs of bodiless requests (see fingerprint) to
	// their keys, so that asking the same URL again skips normalising and
	// hashing it. It holds at most keyMemoSize keys and is emptied when full.
	memoMu sync.RWMutex
	memo   map[string]Key
}

// keyMemoSize bounds a Keyer's memo of recent keys.
const keyMemoSize = 2048

// NewKeyer returns a Keyer configured by o. The Keyer keeps no reference to
// o's slices.
func NewKeyer(o KeyOptions) *Keyer {
	c := &keyConfig{
		matchAll:  o.MatchAllHeaders,
		match:     make(map[string]struct{}, len(o.MatchHeaders)),
		ignParam:  make(map[string]struct{}, len(o.IgnoredParams)),
		ignJSON:   make(map[string]struct{}, len(o.IgnoredParams)),
		ignHeader: make(map[string]struct{}, len(o.IgnoredParams)),
		sensitive: make(map[string]struct{}, 12+len(o.SensitiveNames)),
		memo:      make(map[string]Key),
	}
	for _, n := range o.IgnoredParams {
		if n != "" {
			c.ignParam[n] = struct{}{}
			c.ignJSON[keyJSONName(n)] = struct{}{}
			c.ignHeader[keyLower(n)] = struct{}{}
		}
	}
	for _, n := range slices.Concat(DefaultSensitiveNames(), o.SensitiveNames) {
		if n != "" {
			c.sensitive[keyLower(n)] = struct{}{}
		}
	}
	for _, n := range o.MatchHeaders {
		if n != "" {
			c.match[keyLower(n)] = struct{}{}
		}
	}
	return &Keyer{c: c}
}

// config returns k's settings, or the defaults for a zero or nil Keyer.
func (k *Keyer) config() *keyConfig {
	if k == nil || k.c == nil {
		return NewKeyer(KeyOptions{}).c
	}
	return k.c
}

// Tags of the fields hashed into a key. Each field is a tag byte, the
// uvarint length of its content and the content, so no two different
// field sequences share an encoding.
const (
	keyTagVersion    = 0x00
	keyTagMethod     = 0x01
	keyTagScheme     = 0x02
	keyTagUser       = 0x03
	keyTagPassword   = 0x04
	keyTagHost       = 0x05
	keyTagPath       = 0x06
	keyTagOpaque     = 0x07
	keyTagQueryName  = 0x08
	keyTagQueryValue = 0x09
	keyTagBodyJSON   = 0x10
	keyTagBodyForm   = 0x11 // empty marker, followed by the form's pairs
	keyTagFormName   = 0x12
	keyTagFormValue  = 0x13
	keyTagBodyRaw    = 0x14
	keyTagHeaderName = 0x20
	keyTagHeaderVal  = 0x21
	keyTagSecretName = 0x30
	keyTagSecretVal  = 0x31
)

// keyFlushAt is how many bytes a keyEncoder buffers before hashing them.
const keyFlushAt = 2048

// keyEncoder hashes one key. Encoders are pooled per Keyer so that keying a
// request reuses their buffers.
type keyEncoder struct {
	h       hash.Hash
	buf     []byte // encoded bytes not yet hashed
	tmp     []byte // scratch for normalised fields
	url     []byte // the parts of the normalised URL (see normalURL)
	sum     []byte
	pairs   []keyPair
	names   []string
	secrets []string
	spans   []keySpan
	fp      []byte // a bodiless request's fingerprint
}

// keyPair is one raw (still percent-encoded) name=value pair.
type keyPair struct{ name, value string }

func (e *keyEncoder) flush() {
	e.h.Write(e.buf)
	e.buf = e.buf[:0]
}

func (e *keyEncoder) head(tag byte, n int) {
	e.buf = append(e.buf, tag)
	e.buf = binary.AppendUvarint(e.buf, uint64(n))
}

func (e *keyEncoder) field(tag byte, b []byte) {
	e.head(tag, len(b))
	if len(b) >= keyFlushAt {
		e.flush()
		e.h.Write(b)
		return
	}
	e.buf = append(e.buf, b...)
	if len(e.buf) >= keyFlushAt {
		e.flush()
	}
}

func (e *keyEncoder) fieldString(tag byte, s string) {
	e.head(tag, len(s))
	for len(s) > 0 {
		n := min(len(s), keyFlushAt)
		e.buf = append(e.buf, s[:n]...)
		s = s[n:]
		if len(e.buf) >= keyFlushAt {
			e.flush()
		}
	}
}

// fieldLower hashes s lower-cased (ASCII only).
func (e *keyEncoder) fieldLower(tag byte, s string) {
	e.tmp = keyAppendLower(e.tmp[:0], s)
	e.field(tag, e.tmp)
}

// fieldUnescaped hashes s with its query escapes decoded.
func (e *keyEncoder) fieldUnescaped(tag byte, s string) {
	e.tmp = keyAppendUnescape(e.tmp[:0], s)
	e.field(tag, e.tmp)
}

// encoder returns a pooled encoder. Its hash and buffer are made by
// startHash, the first time it hashes: a remembered key needs neither, and
// the pool loses its encoders at every garbage collection.
func (c *keyConfig) encoder() *keyEncoder {
	e, _ := c.pool.Get().(*keyEncoder)
	if e == nil {
		e = &keyEncoder{}
	}
	return e
}

// startHash readies e to hash a new key.
func (e *keyEncoder) startHash() {
	if e.h == nil {
		e.h = sha256.New()
		e.buf = make([]byte, 0, keyFlushAt+64)
	}
	e.h.Reset()
	e.buf = e.buf[:0]
}

func (c *keyConfig) release(e *keyEncoder) {
	const maxKeep = 64 << 10
	if cap(e.tmp) > maxKeep {
		e.tmp = nil
	}
	if cap(e.url) > maxKeep {
		e.url = nil
	}
	if cap(e.fp) > maxKeep {
		e.fp = nil
	}
	clear(e.pairs)
	clear(e.names)
	clear(e.secrets)
	e.pairs, e.names, e.secrets, e.spans = e.pairs[:0], e.names[:0], e.secrets[:0], e.spans[:0]
	c.pool.Put(e)
}

// Key derives the cache key of a request sent with body: the lower-case
// hexadecimal SHA-256 of a versioned encoding (see KeyVersion) of
//
//   - the method, upper-cased ("GET" when empty);
//   - the URL normalised: scheme and host lower-cased, the host taken from
//     r.Host when set, a default port dropped, the path's dot-segments
//     removed and its percent-encoding normalised (an empty path is "/"),
//     the query's pairs decoded, stripped of ignored parameters and sorted,
//     the fragment dropped; userinfo is hashed as a credential (RedactURL
//     writes out this same normal form, so URLs with one key are stored as
//     one URL);
//   - a non-empty body: canonical JSON (keys sorted at every depth,
//     insignificant whitespace dropped, numbers as written, ignored
//     top-level keys removed) when the Content-Type is JSON and the body
//     valid, sorted pairs without ignored fields for a form body, the raw
//     bytes otherwise;
//   - the matched headers, names lower-cased and sorted, values in order;
//   - the values of the sensitive headers that are present, matched or not,
//     so that different credentials never share an entry; except Cookie,
//     which separates entries only when matched (MatchHeaders,
//     MatchAllHeaders) or named by a response's Vary, as in browsers and
//     RFC 9111: a cookie jar's session or load-balancer cookies would
//     otherwise give every request a new key.
//
// Ignored headers are left out of both header groups. The body is passed in
// because r.Body has usually been consumed; r.Body itself is never read.
// Key returns "" when r is nil.
//
// A Keyer remembers the keys of recent requests without a body, by their
// exact method, URL fields and selected header values, so that asking the
// same URL again costs a map lookup.
func (k *Keyer) Key(r *http.Request, body []byte) Key {
	if r == nil {
		return ""
	}
	c := k.config()
	e := c.encoder()
	defer c.release(e)
	c.selectHeaders(e, r.Header)
	memo := len(body) == 0 && k != nil && k.c != nil
	if memo {
		e.fp = e.fingerprint(e.fp[:0], r)
		c.memoMu.RLock()
		key, ok := c.memo[string(e.fp)]
		c.memoMu.RUnlock()
		if ok {
			return key
		}
	}

	e.startHash()
	e.head(keyTagVersion, 1)
	e.buf = append(e.buf, KeyVersion)

	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	e.tmp = keyAppendUpper(e.tmp[:0], method)
	e.field(keyTagMethod, e.tmp)

	host := r.Host
	u := r.URL
	if u == nil {
		u = &url.URL{}
	}
	if host == "" {
		host = u.Host
	}
	c.encodeURL(e, u, host)
	if len(body) > 0 {
		c.encodeBody(e, r.Header.Get("Content-Type"), body)
	}
	e.headerGroup(r.Header, e.names, keyTagHeaderName, keyTagHeaderVal)
	e.headerGroup(r.Header, e.secrets, keyTagSecretName, keyTagSecretVal)

	e.flush()
	e.sum = e.h.Sum(e.sum[:0])
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], e.sum)
	key := Key(out[:])
	if memo {
		c.memoMu.Lock()
		if len(c.memo) >= keyMemoSize {
			clear(c.memo)
		}
		c.memo[string(e.fp)] = key
		c.memoMu.Unlock()
	}
	return key
}

// fingerprint appends to dst everything of r, a request without a body,
// that its key derives from, as given (not normalised): the method, the
// Host, every field of the URL, and the names and values of the headers
// that selectHeaders chose (e.names, e.secrets, sorted). Each field is
// length-prefixed, so two different requests never share a fingerprint.
func (e *keyEncoder) fingerprint(dst []byte, r *http.Request) []byte {
	str := func(s string) {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	str(r.Method)
	str(r.Host)
	u := r.URL
	if u == nil {
		u = &url.URL{}
	}
	str(u.Scheme)
	str(u.Opaque)
	if u.User != nil {
		p, ok := u.User.Password()
		dst = append(dst, 1+boolByte(ok))
		str(u.User.Username())
		str(p)
	} else {
		dst = append(dst, 0)
	}
	str(u.Host)
	str(u.Path)
	str(u.RawPath)
	str(u.RawQuery)
	str(u.Fragment)
	str(u.RawFragment)
	dst = append(dst, boolByte(u.ForceQuery), boolByte(u.OmitHost))
	for _, group := range [2][]string{e.names, e.secrets} {
		dst = binary.AppendUvarint(dst, uint64(len(group)))
		for _, name := range group {
			vs := r.Header[name]
			str(name)
			dst = binary.AppendUvarint(dst, uint64(len(vs)))
			for _, v := range vs {
				str(v)
			}
		}
	}
	return dst
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// encodeURL hashes the URL in the normal form of normalizeURL.
func (c *keyConfig) encodeURL(e *keyEncoder, u *url.URL, host string) {
	n := c.normalizeURL(e, u, host)
	e.field(keyTagScheme, n.scheme)
	if n.user != nil {
		e.fieldString(keyTagUser, n.user.Username())
		if p, ok := n.user.Password(); ok {
			e.fieldString(keyTagPassword, p)
		}
	}
	e.field(keyTagHost, n.host)
	if n.opaque {
		e.field(keyTagOpaque, n.path)
	} else {
		e.field(keyTagPath, n.path)
	}
	for _, p := range n.pairs {
		e.fieldUnescaped(keyTagQueryName, p.name)
		e.fieldUnescaped(keyTagQueryValue, p.value)
	}
}

// encodePairs hashes the name=value pairs of a form body as sortedPairs
// returns them, decoded.
func (c *keyConfig) encodePairs(e *keyEncoder, raw string, nameTag, valueTag byte) {
	for _, p := range c.sortedPairs(e, raw) {
		e.fieldUnescaped(nameTag, p.name)
		e.fieldUnescaped(valueTag, p.value)
	}
}

// sortedPairs returns the raw name=value pairs of a query or form, without
// empty pairs and ignored names, sorted by decoded name then decoded value,
// duplicates kept. The result is e.pairs, valid until its next use.
func (c *keyConfig) sortedPairs(e *keyEncoder, raw string) []keyPair {
	e.pairs = e.pairs[:0]
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		if c.ignoredParam(e, name) {
			continue
		}
		e.pairs = append(e.pairs, keyPair{name, value})
	}
	if !slices.IsSortedFunc(e.pairs, keyComparePairs) {
		slices.SortFunc(e.pairs, keyComparePairs)
	}
	return e.pairs
}

func keyComparePairs(a, b keyPair) int {
	if c := keyCompareUnescaped(a.name, b.name); c != 0 {
		return c
	}
	return keyCompareUnescaped(a.value, b.value)
}

// ignoredParam reports whether the raw (encoded) parameter name is ignored.
func (c *keyConfig) ignoredParam(e *keyEncoder, name string) bool {
	if len(c.ignParam) == 0 {
		return false
	}
	if !strings.ContainsAny(name, "%+") {
		_, ok := c.ignParam[name]
		return ok
	}
	e.tmp = keyAppendUnescape(e.tmp[:0], name)
	_, ok := c.ignParam[string(e.tmp)]
	return ok
}

func (c *keyConfig) encodeBody(e *keyEncoder, contentType string, body []byte) {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.TrimSpace(mt)
	switch {
	case keyIsJSONType(mt) && json.Valid(body):
		e.tmp = c.appendCanonicalJSON(e, e.tmp[:0], body)
		e.field(keyTagBodyJSON, e.tmp)
	case strings.EqualFold(mt, "application/x-www-form-urlencoded"):
		e.head(keyTagBodyForm, 0)
		c.encodePairs(e, string(body), keyTagFormName, keyTagFormValue)
	default:
		e.field(keyTagBodyRaw, body)
	}
}

// keyIsJSONType reports whether the media type (without parameters) is
// application/json or has a +json suffix.
func keyIsJSONType(mt string) bool {
	if strings.EqualFold(mt, "application/json") {
		return true
	}
	const suffix = "+json"
	return strings.IndexByte(mt, '/') > 0 && len(mt) > len(suffix) &&
		strings.EqualFold(mt[len(mt)-len(suffix):], suffix)
}

// selectHeaders sets e.names to the names of h's matched headers and
// e.secrets to those of its sensitive ones, each sorted (see
// keyCompareHeaderNames). Names are compared case-insensitively, so a
// header stored under a non-canonical key (h["authorization"]) counts as
// well. Ignored headers are in neither.
func (c *keyConfig) selectHeaders(e *keyEncoder, h http.Header) {
	e.names, e.secrets = e.names[:0], e.secrets[:0]
	for name := range h {
		e.tmp = keyAppendLower(e.tmp[:0], name)
		if _, ign := c.ignHeader[string(e.tmp)]; ign {
			continue
		}
		if _, ok := c.match[string(e.tmp)]; ok || c.matchAll {
			e.names = append(e.names, name)
		}
		if _, ok := c.sensitive[string(e.tmp)]; ok && string(e.tmp) != "cookie" {
			e.secrets = append(e.secrets, name)
		}
	}
	for _, names := range [2][]string{e.names, e.secrets} {
		if !slices.IsSortedFunc(names, keyCompareHeaderNames) {
			slices.SortFunc(names, keyCompareHeaderNames)
		}
	}
}

// headerGroup hashes the headers of h named by names, in that order.
func (e *keyEncoder) headerGroup(h http.Header, names []string, nameTag, valueTag byte) {
	for _, name := range names {
		e.fieldLower(nameTag, name)
		for _, v := range h[name] {
			e.fieldString(valueTag, v)
		}
	}
}

// keyCompareHeaderNames orders header names by their lower-case form, then
// by their spelling, so that the order never depends on map iteration.
func keyCompareHeaderNames(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		ca, cb := keyLowerByte(a[i]), keyLowerByte(b[i])
		if ca != cb {
			return int(ca) - int(cb)
		}
	}
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}
