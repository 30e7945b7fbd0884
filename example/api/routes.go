package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginfresh/ginfresh"
)

// Routes mounts the app's own routes on g, behind auth's guards:
//
//	GET    /protected                 any access token
//	GET    /protected-fresh           a fresh one
//	POST   /payments                  a fresh one from a login with a one-time code (acr "mfa"), at most 5 minutes old
//	POST   /account/change-password   a fresh one at most 5 minutes old, and the current password
//	GET    /sessions                  the user's devices
//	DELETE /sessions/:sid             sign a device out (a fresh token)
//
// now is the clock auth runs on, for the ages the pages show.
func Routes(g gin.IRouter, auth *ginfresh.Auth, u *Users, now func() time.Time) {
	recent := ginfresh.MaxAge(5 * time.Minute)
	g.GET("/protected", auth.RequireAccess(), Whoami(now))
	g.GET("/protected-fresh", auth.RequireFresh(), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"user": ginfresh.MustClaims(c).Subject})
	})
	g.POST("/payments", auth.RequireFresh(recent, ginfresh.ACRValues("mfa")), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"user": ginfresh.MustClaims(c).Subject, "paid": true})
	})
	g.POST("/account/change-password", auth.RequireFresh(recent), changePassword(auth, u))
	g.GET("/sessions", auth.RequireAccess(), listSessions(auth))
	g.DELETE("/sessions/:sid", auth.RequireFresh(), func(c *gin.Context) {
		err := auth.RevokeSession(c.Request.Context(), ginfresh.MustClaims(c).Subject, c.Param("sid"))
		if err != nil {
			auth.Fail(c, err) // ErrSessionNotFound answers 404, a store failure 503
			return
		}
		c.Status(http.StatusNoContent)
	})
}

// Whoami answers who is asking: the access token's subject and dates, or
// on a route without a guard and a request without a token, an anonymous
// caller in the same shape (so that a load test of a public and a guarded
// route compares their authentication alone).
func Whoami(now func() time.Time) gin.HandlerFunc {
	unix := func(t time.Time) int64 {
		if t.IsZero() {
			return 0
		}
		return t.Unix()
	}
	return func(c *gin.Context) {
		claims, ok := ginfresh.ClaimsFrom(c)
		if !ok {
			claims = &ginfresh.Claims{Subject: "anonymous"}
		}
		c.JSON(http.StatusOK, gin.H{
			"user": claims.Subject, "fresh": claims.Fresh, "acr": claims.ACR, "sid": claims.SessionID,
			"auth_time": unix(claims.AuthTime), "expires_at": unix(claims.ExpiresAt), "now": now().Unix(),
		})
	}
}

// listSessions answers the user's live sessions, marking the one asking.
func listSessions(auth *ginfresh.Auth) gin.HandlerFunc {
	type device struct {
		ID        string `json:"id"`
		Current   bool   `json:"current"`
		Started   int64  `json:"started"`
		Refreshed int64  `json:"refreshed,omitempty"`
		UserAgent string `json:"user_agent"`
		Address   string `json:"address"`
	}
	return func(c *gin.Context) {
		claims := ginfresh.MustClaims(c)
		list, err := auth.Sessions(c.Request.Context(), claims.Subject)
		if err != nil {
			auth.Fail(c, err)
			return
		}
		out := make([]device, 0, len(list))
		for _, s := range list {
			d := device{ID: s.ID, Current: s.ID == claims.SessionID, Started: s.Started.Unix(), UserAgent: s.UserAgent, Address: s.Address}
			if !s.Refreshed.IsZero() {
				d.Refreshed = s.Refreshed.Unix()
			}
			out = append(out, d)
		}
		c.JSON(http.StatusOK, gin.H{"sessions": out})
	}
}

// changePassword takes {"current_password","new_password"}. The route
// demands a recent login too: a token taken from an unattended browser, or
// an hour-old fresh one, is not enough to lock the owner out.
func changePassword(auth *ginfresh.Auth, u *Users) gin.HandlerFunc {
	return func(c *gin.Context) {
		var body struct {
			Current *string `json:"current_password"`
			New     *string `json:"new_password"`
		}
		if err := c.ShouldBindJSON(&body); err != nil || body.Current == nil || body.New == nil {
			auth.Fail(c, &ginfresh.Error{Status: http.StatusBadRequest, Code: "invalid_request",
				Description: `The body must be {"current_password": "...", "new_password": "..."}.`, Err: ginfresh.ErrInvalidRequest})
			return
		}
		sub := ginfresh.MustClaims(c).Subject
		if !u.CheckPassword(sub, *body.Current) {
			auth.Fail(c, ginfresh.ErrInvalidCredentials)
			return
		}
		if err := u.SetPassword(sub, *body.New); err != nil {
			if errors.Is(err, ErrWeakPassword) {
				auth.Fail(c, &ginfresh.Error{Status: http.StatusBadRequest, Code: "invalid_request",
					Description: "The new password must be 8 to 72 bytes.", Err: ginfresh.ErrInvalidRequest})
				return
			}
			auth.Fail(c, err)
			return
		}
		// Every session of the user ends: tokens minted with the old
		// password, this one included, are refused from now on.
		if err := auth.RevokeSubject(c.Request.Context(), sub); err != nil {
			auth.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"user": sub, "password_changed": true, "sessions_revoked": true})
	}
}
