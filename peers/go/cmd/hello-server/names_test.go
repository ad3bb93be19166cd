package main

import (
	"net/http"
	"strings"
	"testing"
)

func TestSessionNameFallsBackFromWhoAmIToUserIDToTheID(t *testing.T) {
	cases := []struct {
		header http.Header
		want   string
	}{
		{http.Header{"Whoami": {"alice"}, "Userid": {"bob"}}, "alice"},
		{http.Header{"Whoami": {"  "}, "Userid": {" bob "}}, "bob"},
		{http.Header{}, "the-id"},
	}
	for _, c := range cases {
		if got := sessionName(c.header, "the-id"); got != c.want {
			t.Errorf("sessionName(%v) = %q, want %q", c.header, got, c.want)
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
