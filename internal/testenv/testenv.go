// Package testenv gives tests the test servers that .ci/run starts (their
// addresses and binaries come in environment variables) and free loopback
// ports for the servers a test starts itself. It is a test helper: nothing
// in the library imports it.
package testenv

import (
	"net"
	"os"
	"testing"
)

// Require returns the value of the environment variable name, which holds
// a test server's address or a server binary's path. Without it the test is
// skipped, or, when CI=true, fails: CI must run every test.
func Require(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set (CI=true): .ci/run exports it", name)
		}
		t.Skipf("%s is not set (see .ci/run)", name)
	}
	return v
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
