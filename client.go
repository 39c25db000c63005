package restycache

import (
	"github.com/go-resty/resty/v2"
)

// Client is a resty client with a cache in its request path. It embeds
// *resty.Client, and every fluent resty setter is available on it and
// returns *Client, so configuration chains never fall back to a resty type.
type Client struct {
	*resty.Client
}

// R returns a new request of this client.
func (c *Client) R() *Request { return &Request{Request: c.Client.R(), client: c} }
