// Command conformance is a forward proxy for measuring restycache against
// an HTTP cache conformance suite (such as github.com/http-tests/cache-tests,
// whose test server and client are run separately, on 127.0.0.1): every
// request it receives is sent through a restycache client configured as a
// new user would (WithCacheControl(true), nothing else, resty's default
// cookie jar) to the origin given by -origin, and the answer copied back.
// It prints the address it listens on.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"

	"github.com/go-resty/resty/v2"

	"github.com/restycache/restycache"
)

func main() {
	origin := flag.String("origin", "http://127.0.0.1:8000", "the test server")
	flag.Parse()
	c := restycache.New(restycache.WithCacheControl(true))
	defer c.Close()
	c.SetRedirectPolicy(resty.NoRedirectPolicy())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ln.Addr().String())
	os.Stdout.Sync()
	log.Fatal(http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := c.R()
		for name, values := range r.Header {
			switch name {
			case "Connection", "Content-Length", "Keep-Alive", "Te", "Upgrade":
				continue
			}
			req.SetHeaderMultiValues(map[string][]string{name: values})
		}
		if r.ContentLength != 0 {
			var b bytes.Buffer
			_, _ = b.ReadFrom(r.Body)
			req.SetBody(b.Bytes())
		}
		resp, err := req.Execute(r.Method, *origin+r.URL.RequestURI())
		if err != nil && resp == nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		for name, values := range resp.Header() {
			switch name {
			case "Connection", "Content-Length", "Transfer-Encoding", "Keep-Alive":
				continue
			}
			w.Header()[name] = values
		}
		w.WriteHeader(resp.StatusCode())
		_, _ = w.Write(resp.Body())
	})))
}
