package protocol

import (
	"strings"
	"testing"
)

func TestDecodeFromClientAcceptsEchoAndKiss(t *testing.T) {
	message, err := DecodeFromClient([]byte(`{"id":18446744073709551615,"data":"\u00e9t\u00e9 你好","meta":"RUST","later":{"x":[1]}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := EchoRequest{ID: 18446744073709551615, Data: "été 你好", Meta: "RUST"}
	if message != want {
		t.Fatalf("got %+v, want %+v", message, want)
	}

	message, err = DecodeFromClient([]byte(`{"language":"fr_FR","encoding":"UTF-8","time_zone":"Europe/Paris"}`))
	if err != nil {
		t.Fatal(err)
	}
	if kiss := message.(KissResponse); kiss.TimeZone != "Europe/Paris" {
		t.Fatalf("got %+v", kiss)
	}
}

func TestDecodeFromClientRefusesMalformedInput(t *testing.T) {
	cases := map[string]string{
		`nope`: "not JSON",
		"{\"id\":1,\"data\":\"\xff\",\"meta\":\"M\"}": "not valid UTF-8",
		`[1]`:                              "not a JSON object",
		`null`:                             "not a JSON object",
		`{"id":"1","data":"x","meta":"M"}`: "`id` must be an unsigned 64-bit integer, got a string",
		`{"id":-1,"data":"x","meta":"M"}`:  "negative",
		`{"id":1.0,"data":"x","meta":"M"}`: "non-integer",
		`{"id":1e3,"data":"x","meta":"M"}`: "non-integer",
		`{"id":18446744073709551616,"data":"x","meta":"M"}`:    "too large",
		`{"id":1,"meta":"M"}`:                                  "`data` is missing",
		`{"id":1,"data":"x","meta":2}`:                         "`meta` must be a string",
		`{"id":1,"id":2,"data":"x","meta":"M"}`:                `key "id" appears twice`,
		`{"language":"en_US","encoding":"UTF-8"}`:              "`time_zone` is missing",
		`{"language":"","encoding":"UTF-8","time_zone":"UTC"}`: "`language` must not be empty",
		`{"hello":1}`: "unknown message",
	}
	for input, want := range cases {
		_, err := DecodeFromClient([]byte(input))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got error %v, want one saying %q", input, err, want)
		}
	}
}

func TestEchoResponseRoundTrip(t *testing.T) {
	request := EchoRequest{ID: 18446744073709551615, Data: "こんにちは <&>", Meta: "NODEJS"}
	encoded, err := Encode(NewEchoResponse(request, "1b4e28ba-2fa1-41d2-883f-0016d3cca427"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(encoded), `"idx":"18446744073709551615"`) ||
		!strings.Contains(string(encoded), `"data":"こんにちは <&>"`) {
		t.Fatalf("unexpected encoding %s", encoded)
	}
	message, err := DecodeFromServer(encoded)
	if err != nil {
		t.Fatal(err)
	}
	result := message.(EchoResponse).Results[0]
	if result.ID != request.ID || result.KV.Data != request.Data || result.KV.Meta != LanguageTag {
		t.Fatalf("got %+v", result)
	}
}

func TestDecodeFromServerReadsErrorsAndKiss(t *testing.T) {
	encoded, _ := Encode(NewErrorResponse("bad"))
	if string(encoded) != `{"status":400,"results":[],"error":"bad"}` {
		t.Fatalf("unexpected encoding %s", encoded)
	}
	if message, err := DecodeFromServer(encoded); err != nil || message.(ErrorResponse).Error != "bad" {
		t.Fatalf("got %+v, %v", message, err)
	}
	_, err := DecodeFromServer([]byte(`{"os_name":"Linux","os_version":"","os_release":"6","os_architecture":"x86_64"}`))
	if err == nil || !strings.Contains(err.Error(), "`os_version` must not be empty") {
		t.Fatalf("got %v", err)
	}
}
