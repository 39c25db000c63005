module github.com/restycache/restycache

go 1.26

require (
	github.com/go-resty/resty/v2 v2.17.2
	github.com/mattn/go-sqlite3 v1.14.53
)

require golang.org/x/net v0.43.0 // indirect
