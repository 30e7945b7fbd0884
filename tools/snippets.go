//go:build snippets

package tools

// The docs' snippets (see TestDocSnippets) compile in this module, so it
// requires what they import; these imports keep go mod tidy from dropping
// the requirements. The build tag keeps them out of every build.
import (
	_ "github.com/gin-gonic/gin"
	_ "github.com/ginfresh/ginfresh"
	_ "github.com/ginfresh/ginfresh/paseto"
	_ "github.com/ginfresh/ginfresh/redisstore"
	_ "github.com/ginfresh/ginfresh/sqlstore"
	_ "github.com/redis/go-redis/v9"
)
