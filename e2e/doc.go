// Package e2e drives the example's browser demo in a real Chromium: the
// page, the cookies, the CSRF checks and cross-site attacks, concurrent
// refreshes, signing one device out from another, and a payment that asks
// for a one-time code. It is a module of its own so that the library does
// not depend on a browser driver.
//
// Run it with `go test ./...` in this folder. It needs Debian's chromium
// (apt-get install -y chromium); without it the test skips, or fails when
// CI=true. Screenshots land in out/.
package e2e
