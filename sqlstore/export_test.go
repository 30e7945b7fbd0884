package sqlstore

import "time"

// Statement is one of a dialect's statements with arguments of the right
// types, for tests that look at query plans.
type Statement struct {
	Name string
	SQL  string
	Args []any
}

// Statements lists every statement the store runs on d, except Migrate's.
func Statements(d Dialect) []Statement {
	q := &postgresStatements
	if d == SQLite {
		q = &sqliteStatements
	}
	k, now, fence := digest("id"), us(time.Now()), time.Now().Add(time.Second)
	all := []Statement{
		{"rotate", q.rotate, []any{k, k, k, now, now, fence}},
		{"revoke session", q.revokeSession, []any{k, k, now}},
		{"cut", q.cut, []any{k, now, now}},
		{"revoke all", q.revokeAll, []any{k}},
		{"revoked", q.revoked, []any{k}},
		{"sessions", q.sessions, []any{k, now}},
		{"incr", q.incr, []any{k, now, now}},
		{"reset", q.reset, []any{k}},
		{"sweep sessions", q.sweep[0], []any{now, 500}},
		{"sweep subjects", q.sweep[1], []any{now, 500}},
		{"sweep counters", q.sweep[2], []any{now, 500}},
	}
	if d == SQLite {
		all[0].Args = all[0].Args[:5]
		return append(all,
			Statement{"subject", q.subject, []any{k, now, now}},
			Statement{"insert session", q.insertSession, []any{k, now, now, now, k, k, "id", "ua", "ip"}})
	}
	return append(all, Statement{"create session", q.createSession, []any{k, k, k, now, now, now, "id", "ua", "ip", fence}})
}
