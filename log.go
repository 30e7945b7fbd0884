package ginfresh

import (
	"context"
	"log/slog"
)

// event logs a security event. Callers pass subjects, session IDs, token
// IDs and client addresses; never a token, password or key.
func (a *Auth) event(ctx context.Context, msg string, args ...any) {
	if a.logger == nil {
		return
	}
	a.logger.Log(ctx, slog.LevelInfo, "ginfresh: "+msg, args...)
}
