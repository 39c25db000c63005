module github.com/restycache/restycache/bench

go 1.26.0

replace github.com/restycache/restycache => ../

require (
	github.com/bartventer/httpcache v0.13.0
	github.com/go-resty/resty/v2 v2.17.2
	github.com/gomodule/redigo v1.9.3
	github.com/gregjones/httpcache v0.0.0-20190611155906-901d90724c79
	github.com/mattn/go-sqlite3 v1.14.53
	github.com/redis/go-redis/v9 v9.23.0
	github.com/restycache/restycache v0.0.0
	github.com/sandrolain/httpcache v1.4.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/net v0.56.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
)
