// Package bench compares the per-request cost of ginfresh with a bare gin
// route, with appleboy/gin-jwt and with a bare golang-jwt parse, in one
// benchmark run. It is a module of its own so the library never depends on
// its peers; run it with make bench from the repository root.
package bench
