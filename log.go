package ginfresh

import (
	"context"
	"fmt"
	"log/slog"
)

// Security events go to the logger of [WithLogger]. Each names who and
// where: the subject (or, before a login succeeded, a keyed digest of the
// account: a username field often holds a mistyped password), the client
// address (the TCP peer unless [Throttle].ClientAddress says otherwise),
// and the session and token by sid and jti. Never a token, a password, a
// key or a cookie value.
//
//	login, fresh login, refresh, logout, access token revoked,
//	session revoked, sessions revoked                        Info
//	login failed, login throttled, refresh token reuse,
//	refresh refused, fresh-login subject mismatch,
//	store failed, key set fetch failed                       Warn
type eventLog struct {
	logger *slog.Logger // nil: events are dropped
}

// event logs a routine security event.
func (l *eventLog) event(ctx context.Context, msg string, args ...any) {
	l.log(ctx, slog.LevelInfo, msg, args)
}

// alert logs an event worth a look: a failure, a replay, a block.
func (l *eventLog) alert(ctx context.Context, msg string, args ...any) {
	l.log(ctx, slog.LevelWarn, msg, args)
}

func (l *eventLog) log(ctx context.Context, level slog.Level, msg string, args []any) {
	if l.logger == nil {
		return
	}
	l.logger.Log(ctx, level, "ginfresh: "+msg, args...)
}

// storeFailed logs a failed store call once, with the operation and the
// store's error (which names keys by digest, never a token), and returns
// the error to answer: 503, try again.
func (l *eventLog) storeFailed(ctx context.Context, op string, err error) error {
	l.alert(ctx, "store failed", "op", op, "error", err.Error())
	return fmt.Errorf("%w: %s: %w", ErrStoreUnavailable, op, err)
}
