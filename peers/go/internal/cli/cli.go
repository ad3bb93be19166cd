// Package cli holds what the server's and the client's command lines share:
// defaults taken from the environment, and usage errors.
package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// UsageExit is the exit status for a usage error.
const UsageExit = 2

// Fail reports a usage error and exits with status 2.
func Fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "error: "+format+"\n", args...)
	os.Exit(UsageExit)
}

// EnvString returns the variable's value, or fallback when it is unset or empty.
func EnvString(name, fallback string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return fallback
}

// EnvInt returns the variable's value as an integer, or fallback when it is
// unset or empty. A value that is not an integer is a usage error.
func EnvInt(name string, fallback int64) int64 {
	value := os.Getenv(name)
	if value == "" {
		return fallback
	}
	number, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		Fail("%s=%q is not an integer", name, value)
	}
	return number
}

// EnvDuration returns the variable's value as a duration such as 10s, 500ms
// or 1m, or fallback when it is unset or empty.
func EnvDuration(name string, fallback time.Duration) time.Duration {
	value := os.Getenv(name)
	if value == "" {
		return fallback
	}
	duration, err := time.ParseDuration(value)
	if err != nil {
		Fail("%s=%q is not a duration such as 10s, 500ms or 1m", name, value)
	}
	return duration
}

// RepoPath returns a path relative to the repository root, found from the
// location of the running program (peers/go/bin/NAME).
func RepoPath(parts ...string) string {
	executable, err := os.Executable()
	if err == nil {
		executable, err = filepath.EvalSymlinks(executable)
	}
	if err != nil {
		return filepath.Join(parts...)
	}
	root := filepath.Join(filepath.Dir(executable), "..", "..", "..")
	return filepath.Join(append([]string{root}, parts...)...)
}
