// Package platform reads the facts of the local system that the Kiss exchange
// carries: the server host's OS, and the client's locale and time zone.
package platform

import (
	"os"
	"path/filepath"
	"strings"
	"time"
	_ "time/tzdata" // so that zone names can be checked on a system without a zone database

	"hello-websocket/peers/go/internal/protocol"
)

const unknown = "unknown"

func known(value string) string {
	if strings.TrimSpace(value) == "" {
		return unknown
	}
	return value
}

// ClientFacts reads the locale and time zone for a Kiss response.
func ClientFacts() protocol.KissResponse {
	language, encoding := ParseLocale(firstNonEmpty(
		os.Getenv("LC_ALL"), os.Getenv("LC_MESSAGES"), os.Getenv("LANG")))
	return protocol.KissResponse{
		Language: language,
		Encoding: encoding,
		TimeZone: TimeZone(),
	}
}

// ParseLocale splits a POSIX locale such as fr_FR.ISO-8859-15@euro into its
// language (before "." or "@") and encoding (after "."). An unset, C or POSIX
// language is en_US, a missing encoding UTF-8.
func ParseLocale(locale string) (language, encoding string) {
	locale, _, _ = strings.Cut(locale, "@")
	language, encoding, _ = strings.Cut(locale, ".")
	switch language {
	case "", "C", "POSIX":
		language = "en_US"
	}
	if encoding == "" {
		encoding = "UTF-8"
	}
	return language, encoding
}

// TimeZone finds the IANA name of the local time zone: from TZ, then from the
// /etc/localtime link, then from /etc/timezone; UTC when none says.
func TimeZone() string {
	if tz, set := os.LookupEnv("TZ"); set {
		if name := zoneFromTZ(tz); name != "" {
			return name
		}
	}
	if target, err := os.Readlink("/etc/localtime"); err == nil {
		if name := zoneFromPath(target); name != "" {
			return name
		}
	}
	if content, err := os.ReadFile("/etc/timezone"); err == nil {
		if name := strings.TrimSpace(string(content)); isZoneName(name) {
			return name
		}
	}
	return "UTC"
}

// zoneFromTZ reads the TZ variable: "" means UTC, a leading ":" is dropped,
// and a path into a zoneinfo folder names the zone after its place there.
func zoneFromTZ(tz string) string {
	tz = strings.TrimPrefix(tz, ":")
	switch {
	case tz == "":
		return "UTC"
	case filepath.IsAbs(tz):
		return zoneFromPath(tz)
	case isZoneName(tz):
		return tz
	}
	return ""
}

func zoneFromPath(path string) string {
	_, name, found := strings.Cut(filepath.ToSlash(path), "zoneinfo/")
	name = strings.TrimPrefix(name, "posix/")
	if found && isZoneName(name) {
		return name
	}
	return ""
}

// isZoneName accepts names the time zone database knows, such as Europe/Paris.
func isZoneName(name string) bool {
	if name == "" || name == "Local" {
		return false
	}
	_, err := time.LoadLocation(name)
	return err == nil
}

func firstNonEmpty(values ...string) string {
	for _, value := range values {
		if value != "" {
			return value
		}
	}
	return ""
}
