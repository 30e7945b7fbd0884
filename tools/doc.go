// Package tools holds the repository's own tooling: apidump, which records
// every exported name of the published modules (make api), modproxy, which
// serves the working tree as a module proxy so that each nested module can
// be built as a user would fetch it (make modcheck), and the test that
// compiles every Go snippet of the README and docs/. It is a module of its
// own so that nothing it needs reaches the library's dependencies.
package tools
