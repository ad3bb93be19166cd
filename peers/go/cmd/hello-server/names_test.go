package main

import (
	"bufio"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestSessionNameFallsBackFromWhoAmIToUserIDToTheQueryToTheID(t *testing.T) {
	query := url.Values{"whoami": {"carol"}}
	cases := []struct {
		header http.Header
		query  url.Values
		want   string
	}{
		{http.Header{"Whoami": {"alice"}, "Userid": {"bob"}}, query, "alice"},
		{http.Header{"Whoami": {"  "}, "Userid": {" bob "}}, query, "bob"},
		{http.Header{"Whoami": {""}}, query, "carol"},
		{http.Header{}, url.Values{"whoami": {" \t "}}, "the-id"},
		{http.Header{}, url.Values{"WhoAmI": {"case matters in a query"}}, "the-id"},
		{http.Header{}, nil, "the-id"},
	}
	for _, c := range cases {
		if got := sessionName(c.header, c.query, "the-id"); got != c.want {
			t.Errorf("sessionName(%v, %v) = %q, want %q", c.header, c.query, got, c.want)
		}
	}
}

// The name from the query goes through net/http's own parsing of a request
// line, as ServeHTTP sees it: the path leaves the query out, and the query is
// decoded as a form value (+ is a space), then trimmed, made valid UTF-8 and
// cut like any name.
func TestTheQueryNameIsDecodedAsAFormValueAndThePathLeavesItOut(t *testing.T) {
	long := strings.Repeat("%C3%A9", 70) // 70 é, 140 bytes
	cases := map[string]string{
		"/ws?whoami=alice":                          "alice",
		"/ws?whoami=q+name":                         "q name",
		"/ws?whoami=%20caf%C3%A9%2Bbar%26x%3Dy%20":  "café+bar&x=y",
		"/ws?x=1&whoami=second&whoami=third":        "second",
		"/ws?whoami=%FF":                            "\uFFFD",
		"/ws?whoami=line%0Abreak":                   "line\nbreak",
		"/ws?whoami=%zz&whoami=bad-pair-left-out":   "bad-pair-left-out",
		"/ws?whoami=":                               "the-id",
		"/ws?whoami":                                "the-id",
		"/ws?":                                      "the-id",
		"/ws?whoami=" + long:                        strings.Repeat("é", 64),
		"/ws?whoami=a;whoami=b":                     "the-id", // net/url refuses ; as a separator
		"/ws?userId=not-the-header&whoami=the-name": "the-name",
	}
	for target, want := range cases {
		request, err := http.ReadRequest(bufio.NewReader(strings.NewReader(
			"GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")))
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		if request.URL.Path != "/ws" {
			t.Errorf("%s: path %q, want /ws", target, request.URL.Path)
		}
		if got := sessionName(request.Header, request.URL.Query(), "the-id"); got != want {
			t.Errorf("%s: name %q, want %q", target, got, want)
		}
	}
}

func TestCleanNameCutsAtACharacterBoundary(t *testing.T) {
	name := cleanName(" " + strings.Repeat("a", 127) + "é and more ")
	if name != strings.Repeat("a", 127) {
		t.Fatalf("got %q (%d bytes): é straddles byte 128 and must go", name, len(name))
	}
	if got := cleanName("x\xffy"); got != "x\uFFFDy" {
		t.Fatalf("got %q, want the invalid byte replaced", got)
	}
}

// Found by the reference's fuzz target untrusted_name: a cut at 128 bytes can
// leave white space at the end of the name, which is trimmed too.
func TestACutThatEndsInWhiteSpaceIsTrimmedAgain(t *testing.T) {
	cases := map[string]string{
		strings.Repeat("a", 127) + " b":            strings.Repeat("a", 127),
		strings.Repeat("a", 122) + "\u3000\u3000b": strings.Repeat("a", 122),
	}
	for raw, want := range cases {
		if got := cleanName(raw); got != want {
			t.Errorf("cleanName(%q) = %q, want %q", raw, got, want)
		}
		header := http.Header{"Whoami": {raw}}
		if got := sessionName(header, nil, "the-id"); got != want {
			t.Errorf("sessionName(WhoAmI: %q) = %q, want %q", raw, got, want)
		}
		query := url.Values{"whoami": {raw}}
		if got := sessionName(http.Header{}, query, "the-id"); got != want {
			t.Errorf("sessionName(?whoami=%q) = %q, want %q", raw, got, want)
		}
	}
}

// The white space trimmed is the set Rust's str::trim strips (char::is_whitespace,
// Unicode's White_Space property), listed here from the reference's toolchain.
func TestWhiteSpaceIsRustsSet(t *testing.T) {
	rust := map[rune]bool{0x85: true, 0xA0: true, 0x1680: true, 0x2028: true, 0x2029: true,
		0x202F: true, 0x205F: true, 0x3000: true, ' ': true}
	for r := rune(0x09); r <= 0x0D; r++ {
		rust[r] = true
	}
	for r := rune(0x2000); r <= 0x200A; r++ {
		rust[r] = true
	}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		padded := "x" + string(r) + "x" + string(r)
		trimmed := cleanName(padded) != padded
		if trimmed != rust[r] || unicode.IsSpace(r) != rust[r] {
			t.Errorf("U+%04X: trimmed %v, White_Space %v", r, trimmed, rust[r])
		}
	}
}

func TestQuotedEscapesWhatCouldForgeAField(t *testing.T) {
	cases := map[string]string{
		`evil reason=pong timeout`: `"evil reason=pong timeout"`,
		"a\"b\\c":                  `"a\"b\\c"`,
		"line\nbreak\t\x1b":        `"line\nbreak\t\u001b"`,
		"<你好>":                     `"<你好>"`,
	}
	for value, want := range cases {
		if got := quoted(value); got != want {
			t.Errorf("quoted(%q) = %s, want %s", value, got, want)
		}
	}
}
