package restycache

import "github.com/go-resty/resty/v2"

// Response is resty's response plus what the cache did for it.
type Response struct {
	*resty.Response
}
