package bench_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/restycache/restycache/bench"
)

// The origin serves each size's JSON body on /KIND/SIZE/... paths, with
// Cache-Control and an ETag, and counts what it answered per path.
func Example() {
	o := bench.NewOrigin(0)
	defer o.Close()
	for _, s := range bench.Sizes() {
		resp, err := http.Get(o.URL + "/hit/" + s.Name + "/example")
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(s.Name, resp.StatusCode, len(body) == s.N, json.Valid(body),
			resp.Header.Get("Cache-Control"), resp.Header.Get("Etag"))
	}
	fmt.Printf("%+v\n", o.Count("/hit/2KiB/example"))
	// Output:
	// 2KiB 200 true true max-age=3600 "2KiB-v1"
	// 64KiB 200 true true max-age=3600 "64KiB-v1"
	// 1MiB 200 true true max-age=3600 "1MiB-v1"
	// {OK:1 NotModified:0}
}
