module github.com/ginfresh/ginfresh/tools

go 1.26.0

// The docs' snippets compile in this module: it requires what they import.
require (
	github.com/gin-gonic/gin v1.12.0
	github.com/ginfresh/ginfresh v1.0.0
	github.com/ginfresh/ginfresh/paseto v1.0.0
	github.com/ginfresh/ginfresh/redisstore v1.0.0
	github.com/ginfresh/ginfresh/sqlstore v1.0.0
	github.com/redis/go-redis/v9 v9.23.0
	golang.org/x/mod v0.43.0
)
