package platform

import "testing"

func TestParseLocale(t *testing.T) {
	cases := []struct{ locale, language, encoding string }{
		{"fr_FR.ISO-8859-15@euro", "fr_FR", "ISO-8859-15"},
		{"zh_CN.UTF-8", "zh_CN", "UTF-8"},
		{"de_DE", "de_DE", "UTF-8"},
		{"sr_RS@latin", "sr_RS", "UTF-8"},
		{"", "en_US", "UTF-8"},
		{"C", "en_US", "UTF-8"},
		{"POSIX", "en_US", "UTF-8"},
		{"C.UTF-8", "en_US", "UTF-8"},
	}
	for _, c := range cases {
		language, encoding := ParseLocale(c.locale)
		if language != c.language || encoding != c.encoding {
			t.Errorf("ParseLocale(%q) = %q, %q; want %q, %q", c.locale, language, encoding, c.language, c.encoding)
		}
	}
}

func TestTimeZoneFromTZ(t *testing.T) {
	cases := map[string]string{
		"Europe/Paris":                   "Europe/Paris",
		":America/New_York":              "America/New_York",
		"/usr/share/zoneinfo/Asia/Tokyo": "Asia/Tokyo",
		"":                               "UTC",
		"CET-1CEST,M3.5.0,M10.5.0/3":     "",
	}
	for tz, want := range cases {
		if got := zoneFromTZ(tz); got != want {
			t.Errorf("zoneFromTZ(%q) = %q, want %q", tz, got, want)
		}
	}
}

func TestHostFactsAreNeverEmpty(t *testing.T) {
	facts := HostFacts()
	for name, value := range map[string]string{
		"os_name": facts.OSName, "os_version": facts.OSVersion,
		"os_release": facts.OSRelease, "os_architecture": facts.OSArchitecture,
	} {
		if value == "" {
			t.Errorf("%s is empty", name)
		}
	}
}
