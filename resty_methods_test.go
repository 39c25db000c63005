package restycache

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-resty/resty/v2"
)

// This file checks restycache's Client and Request against resty's method
// sets. Our types embed resty's, so every resty method name exists on ours by
// promotion; what can go wrong is a promoted method that still returns a resty
// type, so a chain silently falls back to resty. Every test name starts with
// TestRestyMethods and every package-level helper with gap, to stay clear of
// the other test files in this package.

// Compile-time: long chains keep our types all the way. Never called.
var (
	_ = func(c *Client) *Client {
		return c.SetHeader("Accept", "application/json").SetRetryCount(1).SetBaseURL("http://127.0.0.1")
	}
	_ = func(c *Client) *Request {
		return c.R().SetHeader("Accept", "application/json").SetQueryParam("q", "1").SetPathParam("id", "7")
	}
)

// gapShape classifies a resty method by what it returns.
type gapShape int

const (
	gapReturnsClient   gapShape = iota // a single *resty.Client: fluent setters and Clone
	gapReturnsRequest                  // a single *resty.Request: fluent setters, R, NewRequest
	gapReturnsResponse                 // (*resty.Response, error): the execute methods
	gapOther                           // anything else: must be in gapAllowlist
)

func (s gapShape) String() string {
	switch s {
	case gapReturnsClient:
		return "returns *resty.Client"
	case gapReturnsRequest:
		return "returns *resty.Request"
	case gapReturnsResponse:
		return "returns (*resty.Response, error)"
	default:
		return "other"
	}
}

var (
	gapRestyClient   = reflect.TypeOf(&resty.Client{})
	gapRestyRequest  = reflect.TypeOf(&resty.Request{})
	gapRestyResponse = reflect.TypeOf(&resty.Response{})
	gapOurClient     = reflect.TypeOf(&Client{})
	gapOurRequest    = reflect.TypeOf(&Request{})
	gapOurResponse   = reflect.TypeOf(&Response{})
	gapErrorType     = reflect.TypeOf((*error)(nil)).Elem()
)

func gapShapeOf(ft reflect.Type) gapShape {
	switch {
	case ft.NumOut() == 1 && ft.Out(0) == gapRestyClient:
		return gapReturnsClient
	case ft.NumOut() == 1 && ft.Out(0) == gapRestyRequest:
		return gapReturnsRequest
	case ft.NumOut() == 2 && ft.Out(0) == gapRestyResponse && ft.Out(1) == gapErrorType:
		return gapReturnsResponse
	default:
		return gapOther
	}
}

// gapPinned is resty v2.17.2's method set, by receiver and shape (counted by
// reflection; see RESTY-NOTES §4). A resty upgrade that adds, removes or
// reshapes a method fails TestRestyMethodsPinned with the names involved.
func gapPinned() map[reflect.Type]map[gapShape][]string {
	return map[reflect.Type]map[gapShape][]string{
		gapRestyClient: {
			// 70 fluent setters plus Clone.
			gapReturnsClient: {
				"AddRetryAfterErrorCondition", "AddRetryCondition", "AddRetryHook", "Clone",
				"DisableGenerateCurlOnDebug", "DisableTrace", "EnableGenerateCurlOnDebug", "EnableTrace",
				"OnAfterResponse", "OnBeforeRequest", "OnError", "OnInvalid", "OnPanic", "OnRequestLog",
				"OnResponseLog", "OnSuccess", "RemoveProxy", "SetAllowGetMethodPayload", "SetAuthScheme",
				"SetAuthToken", "SetBaseURL", "SetBasicAuth", "SetCertificates", "SetClientRootCertificate",
				"SetClientRootCertificateFromString", "SetCloseConnection", "SetContentLength", "SetCookie",
				"SetCookieJar", "SetCookies", "SetDebug", "SetDebugBodyLimit", "SetDigestAuth", "SetDisableWarn",
				"SetDoNotParseResponse", "SetError", "SetFormData", "SetHeader", "SetHeaderVerbatim", "SetHeaders",
				"SetHostURL", "SetJSONEscapeHTML", "SetJSONMarshaler", "SetJSONUnmarshaler", "SetLogger",
				"SetOutputDirectory", "SetPathParam", "SetPathParams", "SetPreRequestHook", "SetProxy",
				"SetQueryParam", "SetQueryParams", "SetRateLimiter", "SetRawPathParam", "SetRawPathParams",
				"SetRedirectPolicy", "SetResponseBodyLimit", "SetRetryAfter", "SetRetryCount",
				"SetRetryMaxWaitTime", "SetRetryResetReaders", "SetRetryWaitTime", "SetRootCertificate",
				"SetRootCertificateFromString", "SetScheme", "SetTLSClientConfig", "SetTimeout", "SetTransport",
				"SetUnescapeQueryParams", "SetXMLMarshaler", "SetXMLUnmarshaler",
			},
			gapReturnsRequest:  {"NewRequest", "R"},
			gapReturnsResponse: {},
			gapOther:           {"GetClient", "IsProxySet", "Transport"},
		},
		gapRestyRequest: {
			gapReturnsClient: {},
			// 46 fluent setters.
			gapReturnsRequest: {
				"AddRetryCondition", "DisableGenerateCurlOnDebug", "EnableGenerateCurlOnDebug", "EnableTrace",
				"ExpectContentType", "ForceContentType", "SetAuthScheme", "SetAuthToken", "SetBasicAuth", "SetBody",
				"SetContentLength", "SetContext", "SetCookie", "SetCookies", "SetDebug", "SetDigestAuth",
				"SetDoNotParseResponse", "SetError", "SetFile", "SetFileReader", "SetFiles", "SetFormData",
				"SetFormDataFromValues", "SetHeader", "SetHeaderMultiValues", "SetHeaderVerbatim", "SetHeaders",
				"SetJSONEscapeHTML", "SetLogger", "SetMultipartBoundary", "SetMultipartField", "SetMultipartFields",
				"SetMultipartFormData", "SetOutput", "SetPathParam", "SetPathParams", "SetQueryParam",
				"SetQueryParams", "SetQueryParamsFromValues", "SetQueryString", "SetRawPathParam",
				"SetRawPathParams", "SetResponseBodyLimit", "SetResult", "SetSRV", "SetUnescapeQueryParams",
			},
			gapReturnsResponse: {"Delete", "Execute", "Get", "Head", "Options", "Patch", "Post", "Put", "Send"},
			gapOther:           {"Context", "GenerateCurlCommand", "TraceInfo"},
		},
	}
}

// gapPinnedTotals are the totals from RESTY-NOTES §4, kept separately from the
// name lists so that an edit to a list cannot quietly change them.
func gapPinnedTotals() map[reflect.Type]int {
	return map[reflect.Type]int{gapRestyClient: 76, gapRestyRequest: 58}
}

// gapAllowlist holds the deliberate exceptions: methods that return neither
// resty.Client, resty.Request nor resty.Response, and that restycache keeps
// with resty's exact signature. Each must still match resty's signature.
func gapAllowlist() map[string]string {
	return map[string]string{
		"Client.GetClient":            "returns the *http.Client; nothing to chain",
		"Client.IsProxySet":           "returns bool",
		"Client.Transport":            "returns (*http.Transport, error)",
		"Request.Context":             "returns context.Context",
		"Request.GenerateCurlCommand": "returns string",
		"Request.TraceInfo":           "returns resty.TraceInfo",
	}
}

// gapHandWritten is this test's own copy of the generator's table
// (internal/genresty): methods restycache writes by hand instead of
// generating. Used to word failure messages and to skip the zero-argument
// calls in TestRestyMethodsForwardersReturnReceiver.
func gapHandWritten() map[string]bool {
	names := []string{
		"Client.SetTransport", "Client.Clone", "Client.R", "Client.NewRequest", "Client.SetTLSClientConfig",
		"Client.SetProxy", "Client.RemoveProxy", "Client.SetCertificates", "Client.SetRootCertificate",
		"Client.SetRootCertificateFromString", "Client.SetClientRootCertificate",
		"Client.SetClientRootCertificateFromString", "Client.Transport", "Client.IsProxySet", "Client.GetClient",
		"Request.SetContext", "Request.Get", "Request.Head", "Request.Post", "Request.Put", "Request.Delete",
		"Request.Options", "Request.Patch", "Request.Send", "Request.Execute",
	}
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

func gapTypeName(t reflect.Type) string { return t.Elem().Name() }

// gapMapResult maps one of resty's result types to restycache's.
func gapMapResult(t reflect.Type) reflect.Type {
	switch t {
	case gapRestyClient:
		return gapOurClient
	case gapRestyRequest:
		return gapOurRequest
	case gapRestyResponse:
		return gapOurResponse
	}
	return t
}

// gapSignature returns a method's function type without its receiver.
func gapSignature(m reflect.Method) reflect.Type {
	ft := m.Type
	in := make([]reflect.Type, 0, ft.NumIn()-1)
	for i := 1; i < ft.NumIn(); i++ {
		in = append(in, ft.In(i))
	}
	out := make([]reflect.Type, 0, ft.NumOut())
	for i := 0; i < ft.NumOut(); i++ {
		out = append(out, ft.Out(i))
	}
	return reflect.FuncOf(in, out, ft.IsVariadic())
}

// gapWantSignature is resty's signature with its results mapped to ours:
// only whole results are mapped, and (*resty.Response) only when paired with
// error, as the execute methods return it.
func gapWantSignature(m reflect.Method) reflect.Type {
	sig := gapSignature(m)
	in := make([]reflect.Type, sig.NumIn())
	for i := range in {
		in[i] = sig.In(i)
	}
	out := make([]reflect.Type, sig.NumOut())
	for i := range out {
		out[i] = sig.Out(i)
	}
	switch gapShapeOf(m.Type) {
	case gapReturnsClient, gapReturnsRequest:
		out[0] = gapMapResult(out[0])
	case gapReturnsResponse:
		out[0] = gapOurResponse
	}
	return reflect.FuncOf(in, out, sig.IsVariadic())
}

func gapSortedDiff(want, got []string) (missing, extra []string) {
	w := map[string]bool{}
	for _, n := range want {
		w[n] = true
	}
	g := map[string]bool{}
	for _, n := range got {
		g[n] = true
		if !w[n] {
			extra = append(extra, n)
		}
	}
	for _, n := range want {
		if !g[n] {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	return missing, extra
}

// TestRestyMethodsPinned fails loudly when resty's method sets differ from
// the v2.17.2 sets this package was written against.
func TestRestyMethodsPinned(t *testing.T) {
	pinned := gapPinned()
	totals := gapPinnedTotals()
	for _, rt := range []reflect.Type{gapRestyClient, gapRestyRequest} {
		t.Run(gapTypeName(rt), func(t *testing.T) {
			got := map[gapShape][]string{}
			for i := 0; i < rt.NumMethod(); i++ {
				m := rt.Method(i)
				got[gapShapeOf(m.Type)] = append(got[gapShapeOf(m.Type)], m.Name)
			}
			if rt.NumMethod() != totals[rt] {
				t.Errorf("resty %v has %d exported methods, pinned %d: resty changed; review the lists below, regenerate (go generate ./...) and update this test",
					rt, rt.NumMethod(), totals[rt])
			}
			sum := 0
			for _, shape := range []gapShape{gapReturnsClient, gapReturnsRequest, gapReturnsResponse, gapOther} {
				want := pinned[rt][shape]
				sum += len(want)
				missing, extra := gapSortedDiff(want, got[shape])
				if len(missing) > 0 {
					t.Errorf("resty %v: methods that %s in v2.17.2 but no longer do (removed or changed shape): %s",
						rt, shape, strings.Join(missing, ", "))
				}
				if len(extra) > 0 {
					t.Errorf("resty %v: methods that now %s but were not pinned (new or changed shape): %s",
						rt, shape, strings.Join(extra, ", "))
				}
			}
			if sum != totals[rt] {
				t.Errorf("pinned lists for %v hold %d names, pinned total is %d: the lists in this test are inconsistent", rt, sum, totals[rt])
			}
		})
	}
	// The hand-written table must name real resty methods.
	for name := range gapHandWritten() {
		recv, meth, _ := strings.Cut(name, ".")
		rt := map[string]reflect.Type{"Client": gapRestyClient, "Request": gapRestyRequest}[recv]
		if _, ok := rt.MethodByName(meth); !ok {
			t.Errorf("hand-written table names %s, which resty %v does not have", name, rt)
		}
	}
	for name := range gapAllowlist() {
		recv, meth, _ := strings.Cut(name, ".")
		rt := map[string]reflect.Type{"Client": gapRestyClient, "Request": gapRestyRequest}[recv]
		if m, ok := rt.MethodByName(meth); !ok || gapShapeOf(m.Type) != gapOther {
			t.Errorf("allowlist names %s, which is not a non-fluent method of resty %v", name, rt)
		}
	}
}

// TestRestyMethodsGap checks every method of resty's Client and Request
// against ours: same parameters and variadic-ness, results mapped to our
// types. A method that still returns resty's type means a chain would fall
// back to resty.
func TestRestyMethodsGap(t *testing.T) {
	hand := gapHandWritten()
	allow := gapAllowlist()
	pairs := []struct{ resty, ours reflect.Type }{
		{gapRestyClient, gapOurClient},
		{gapRestyRequest, gapOurRequest},
	}
	for _, p := range pairs {
		t.Run(gapTypeName(p.resty), func(t *testing.T) {
			var gaps []string
			for i := 0; i < p.resty.NumMethod(); i++ {
				rm := p.resty.Method(i)
				qual := gapTypeName(p.resty) + "." + rm.Name
				want := gapWantSignature(rm)
				om, ok := p.ours.MethodByName(rm.Name)
				if !ok {
					gaps = append(gaps, fmt.Sprintf("%s: missing on %v; want %v", qual, p.ours, want))
					continue
				}
				got := gapSignature(om)
				if got == want {
					continue
				}
				var why string
				switch {
				case allow[qual] != "":
					why = "allowlisted (" + allow[qual] + "), so it must keep resty's signature"
				case hand[qual]:
					why = "hand-written method missing or wrong"
				case gapShapeOf(rm.Type) == gapReturnsClient || gapShapeOf(rm.Type) == gapReturnsRequest:
					why = "generated forwarder missing: run go generate ./..."
				default:
					why = "needs a hand-written method or an allowlist entry"
				}
				gaps = append(gaps, fmt.Sprintf("%s: %s\n\twant %v\n\tgot  %v", qual, why, want, got))
			}
			if len(gaps) > 0 {
				t.Errorf("%d of %d methods of %v do not match restycache's %v:\n%s",
					len(gaps), p.resty.NumMethod(), p.resty, p.ours, strings.Join(gaps, "\n"))
			}
		})
	}
}

// gapNewClient returns a real caching client (in-memory backend), closed
// when the test ends.
func gapNewClient(tb testing.TB) *Client {
	tb.Helper()
	c := New()
	tb.Cleanup(func() {
		if err := c.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return c
}

// gapArgs overrides the zero arguments for methods whose resty
// implementation rejects them (SetError(nil) panics inside resty).
func gapArgs() map[string][]any {
	return map[string][]any{
		"SetError": {&struct{}{}},
	}
}

// gapCallZero calls method name on recv with zero values (or gapArgs) for its
// fixed parameters, none for a variadic one, and returns the single result.
func gapCallZero(recv reflect.Value, name string) (res reflect.Value, err error) {
	m := recv.MethodByName(name)
	ft := m.Type()
	n := ft.NumIn()
	if ft.IsVariadic() {
		n--
	}
	args := make([]reflect.Value, n)
	override := gapArgs()[name]
	for i := range args {
		if i < len(override) {
			args[i] = reflect.ValueOf(override[i])
		} else {
			args[i] = reflect.Zero(ft.In(i))
		}
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panicked: %v", p)
		}
	}()
	out := m.Call(args)
	if len(out) != 1 {
		return reflect.Value{}, fmt.Errorf("returned %d results", len(out))
	}
	return out[0], nil
}

// TestRestyMethodsForwardersReturnReceiver calls every fluent method that is
// not hand-written (that is, every generated forwarder) on a fresh receiver
// and checks that it returns that very receiver.
func TestRestyMethodsForwardersReturnReceiver(t *testing.T) {
	hand := gapHandWritten()
	cases := []struct {
		recv      string
		restyT    reflect.Type
		ourT      reflect.Type
		shape     gapShape
		newRecv   func() reflect.Value
		wantCalls int
	}{
		{"Client", gapRestyClient, gapOurClient, gapReturnsClient, func() reflect.Value { return reflect.ValueOf(gapNewClient(t)) }, 61},
		{"Request", gapRestyRequest, gapOurRequest, gapReturnsRequest, func() reflect.Value { return reflect.ValueOf(gapNewClient(t).R()) }, 45},
	}
	for _, tc := range cases {
		t.Run(tc.recv, func(t *testing.T) {
			calls := 0
			for i := 0; i < tc.restyT.NumMethod(); i++ {
				rm := tc.restyT.Method(i)
				if hand[tc.recv+"."+rm.Name] || gapShapeOf(rm.Type) != tc.shape {
					continue
				}
				recv := tc.newRecv()
				got, err := gapCallZero(recv, rm.Name)
				if err != nil {
					t.Errorf("%s.%s: %v", tc.recv, rm.Name, err)
					continue
				}
				calls++
				if got.Type() != tc.ourT {
					t.Errorf("%s.%s returns %v, want %v", tc.recv, rm.Name, got.Type(), tc.ourT)
					continue
				}
				if got.Pointer() != recv.Pointer() {
					t.Errorf("%s.%s returned %#x, want the receiver %#x", tc.recv, rm.Name, got.Pointer(), recv.Pointer())
				}
			}
			if calls != tc.wantCalls {
				t.Errorf("called %d generated %s forwarders, want %d (RESTY-NOTES §4 minus the hand-written table)", calls, tc.recv, tc.wantCalls)
			}
		})
	}
}

// TestRestyMethodsForwardersReachResty checks representative forwarders pass
// their arguments to resty's method and return the receiver.
func TestRestyMethodsForwardersReachResty(t *testing.T) {
	policy := resty.NoRedirectPolicy()
	conditionsBefore := -1
	clientCases := []struct {
		name  string
		call  func(c *Client) *Client
		check func(c *resty.Client) error
	}{
		{"SetHeader", func(c *Client) *Client { return c.SetHeader("X-Gap", "1") }, func(c *resty.Client) error {
			if got := c.Header.Get("X-Gap"); got != "1" {
				return fmt.Errorf("header X-Gap = %q, want 1", got)
			}
			return nil
		}},
		{"SetRetryCount", func(c *Client) *Client { return c.SetRetryCount(3) }, func(c *resty.Client) error {
			if c.RetryCount != 3 {
				return fmt.Errorf("RetryCount = %d, want 3", c.RetryCount)
			}
			return nil
		}},
		{"SetBaseURL", func(c *Client) *Client { return c.SetBaseURL("http://127.0.0.1:1/") }, func(c *resty.Client) error {
			if c.BaseURL != "http://127.0.0.1:1" {
				return fmt.Errorf("BaseURL = %q, want trailing slash trimmed", c.BaseURL)
			}
			return nil
		}},
		{"SetTimeout", func(c *Client) *Client { return c.SetTimeout(7 * time.Second) }, func(c *resty.Client) error {
			if got := c.GetClient().Timeout; got != 7*time.Second {
				return fmt.Errorf("timeout = %v, want 7s", got)
			}
			return nil
		}},
		{"SetRedirectPolicy (variadic)", func(c *Client) *Client { return c.SetRedirectPolicy(policy, policy) }, func(c *resty.Client) error {
			if c.GetClient().CheckRedirect == nil {
				return fmt.Errorf("CheckRedirect not set")
			}
			return nil
		}},
		{"AddRetryAfterErrorCondition (no args)", func(c *Client) *Client {
			conditionsBefore = len(c.RetryConditions)
			return c.AddRetryAfterErrorCondition()
		}, func(c *resty.Client) error {
			if len(c.RetryConditions) != conditionsBefore+1 {
				return fmt.Errorf("%d retry conditions, want %d", len(c.RetryConditions), conditionsBefore+1)
			}
			return nil
		}},
	}
	for _, tc := range clientCases {
		t.Run("Client."+tc.name, func(t *testing.T) {
			c := gapNewClient(t)
			if got := tc.call(c); got != c {
				t.Fatalf("returned %p, want the receiver %p", got, c)
			}
			if err := tc.check(c.Client); err != nil {
				t.Error(err)
			}
		})
	}

	field := &resty.MultipartField{Param: "f", FileName: "a.txt", Reader: strings.NewReader("x")}
	requestCases := []struct {
		name  string
		call  func(r *Request) *Request
		check func(r *resty.Request) error
	}{
		{"SetHeader", func(r *Request) *Request { return r.SetHeader("X-Gap", "2") }, func(r *resty.Request) error {
			if got := r.Header.Get("X-Gap"); got != "2" {
				return fmt.Errorf("header X-Gap = %q, want 2", got)
			}
			return nil
		}},
		{"SetQueryParam", func(r *Request) *Request { return r.SetQueryParam("q", "v") }, func(r *resty.Request) error {
			if got := r.QueryParam.Get("q"); got != "v" {
				return fmt.Errorf("query q = %q, want v", got)
			}
			return nil
		}},
		{"SetPathParams", func(r *Request) *Request { return r.SetPathParams(map[string]string{"id": "7"}) }, func(r *resty.Request) error {
			if got := r.PathParams["id"]; got != "7" {
				return fmt.Errorf("path param id = %q, want 7", got)
			}
			return nil
		}},
		{"SetBody", func(r *Request) *Request { return r.SetBody("payload") }, func(r *resty.Request) error {
			if r.Body != "payload" {
				return fmt.Errorf("Body = %v, want payload", r.Body)
			}
			return nil
		}},
		{"SetMultipartFields (variadic)", func(r *Request) *Request { return r.SetMultipartFields(field, field) }, func(r *resty.Request) error {
			// multipartFields is unexported; the curl-free way to see it is
			// that the request became multipart and refuses a GET.
			_, err := r.Get("http://127.0.0.1:1/")
			if err == nil || !strings.Contains(err.Error(), "multipart") {
				return fmt.Errorf("GET of a multipart request: err = %v, want the multipart-method error", err)
			}
			return nil
		}},
		{"EnableTrace (no args)", func(r *Request) *Request { return r.EnableTrace() }, func(r *resty.Request) error {
			// Only a traced request reports a total time after it ran.
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
			defer srv.Close()
			if _, err := r.Get(srv.URL); err != nil {
				return fmt.Errorf("GET %s: %w", srv.URL, err)
			}
			if r.TraceInfo().TotalTime <= 0 {
				return fmt.Errorf("TraceInfo().TotalTime = %v after a traced request, want > 0", r.TraceInfo().TotalTime)
			}
			return nil
		}},
	}
	for _, tc := range requestCases {
		t.Run("Request."+tc.name, func(t *testing.T) {
			r := gapNewClient(t).R()
			if got := tc.call(r); got != r {
				t.Fatalf("returned %p, want the receiver %p", got, r)
			}
			if err := tc.check(r.Request); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestRestyMethodsChainsKeepOurTypes runs the long chains from the
// compile-time assertions and checks they stay on the same objects.
func TestRestyMethodsChainsKeepOurTypes(t *testing.T) {
	c := gapNewClient(t)
	var chained *Client = c.SetHeader("Accept", "application/json").SetRetryCount(1).SetBaseURL("http://127.0.0.1")
	if chained != c {
		t.Fatalf("client chain returned %p, want %p", chained, c)
	}
	r := c.R()
	var rchained *Request = r.SetHeader("Accept", "application/json").SetQueryParam("q", "1").SetOutput("")
	if rchained != r {
		t.Fatalf("request chain returned %p, want %p", rchained, r)
	}
	if c.RetryCount != 1 || c.BaseURL != "http://127.0.0.1" || r.QueryParam.Get("q") != "1" {
		t.Errorf("chain did not reach resty: RetryCount=%d BaseURL=%q q=%q", c.RetryCount, c.BaseURL, r.QueryParam.Get("q"))
	}
}

// BenchmarkRestyMethodsForwarder compares a setter chain through the
// generated forwarders with the same chain on resty's own types: the
// forwarders should add no allocation.
func BenchmarkRestyMethodsForwarder(b *testing.B) {
	c := gapNewClient(b)
	b.Run("restycache", func(b *testing.B) {
		b.ReportAllocs()
		r := c.R()
		for b.Loop() {
			r.SetHeader("Accept", "application/json").SetQueryParam("q", "1").SetAuthScheme("Bearer")
		}
	})
	b.Run("resty", func(b *testing.B) {
		b.ReportAllocs()
		r := c.Client.R()
		for b.Loop() {
			r.SetHeader("Accept", "application/json").SetQueryParam("q", "1").SetAuthScheme("Bearer")
		}
	})
}
