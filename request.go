package restycache

import "github.com/go-resty/resty/v2"

// Request is a resty request with per-request cache controls. It embeds
// *resty.Request; every fluent resty setter is available on it and returns
// *Request.
type Request struct {
	*resty.Request
	client *Client
}

// Execute sends the request with the given method to url.
func (r *Request) Execute(method, url string) (*Response, error) {
	resp, err := r.Request.Execute(method, url)
	return &Response{Response: resp}, err
}
