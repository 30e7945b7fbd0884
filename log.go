package ginfresh

import (
	"context"
	"log/slog"

	"github.com/gin-gonic/gin"
)

// Security events go to the logger of [WithLogger]. Each names who and
// where: the subject (or, before a password check succeeded, a keyed digest
// of the account: a username field often holds a mistyped password), the
// client address (the TCP peer unless [Throttle].ClientAddress says
// otherwise), and the session and token by sid and jti. Never a token,
// a password, a key or a cookie value.
//
//	login, fresh login, refresh, logout, access token revoked,
//	sessions revoked                                        Info
//	login failed, login throttled, refresh token reuse,
//	refresh refused, fresh-login subject mismatch           Warn

// event logs a routine security event.
func (a *Auth) event(ctx context.Context, msg string, args ...any) {
	a.log(ctx, slog.LevelInfo, msg, args)
}

// alert logs an event worth a look: a failure, a replay, a block.
func (a *Auth) alert(ctx context.Context, msg string, args ...any) {
	a.log(ctx, slog.LevelWarn, msg, args)
}

func (a *Auth) log(ctx context.Context, level slog.Level, msg string, args []any) {
	if a.logger == nil {
		return
	}
	a.logger.Log(ctx, level, "ginfresh: "+msg, args...)
}

// client is the request's client address, as the login throttle counts it,
// so a log line and a counter always name the same client.
func (a *Auth) client(c *gin.Context) string {
	return a.throttle.ClientAddress(c)
}
