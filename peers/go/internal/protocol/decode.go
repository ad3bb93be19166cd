package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// object is a JSON object whose values are still raw JSON.
type object map[string]json.RawMessage

func (o object) hasAny(keys ...string) bool {
	for _, key := range keys {
		if _, ok := o[key]; ok {
			return true
		}
	}
	return false
}

// DecodeFromClient reads a message a server receives: an EchoRequest or a
// KissResponse, classified as PROTOCOL.md section 3.7 says. The error says
// what is wrong, fit to be sent back in an ErrorResponse.
func DecodeFromClient(data []byte) (any, error) {
	obj, err := parseObject(data)
	if err != nil {
		return nil, err
	}
	switch {
	case obj.hasAny("id", "data", "meta"):
		return decodeEchoRequest(obj)
	case obj.hasAny("language", "encoding", "time_zone"):
		return decodeKissResponse(obj)
	default:
		return nil, errors.New("unknown message: expected an Echo request (keys id, data, meta) " +
			"or a Kiss response (keys language, encoding, time_zone)")
	}
}

// DecodeFromServer reads a message a client receives: an EchoResponse, an
// ErrorResponse or a KissRequest, classified as PROTOCOL.md section 3.7 says.
func DecodeFromServer(data []byte) (any, error) {
	obj, err := parseObject(data)
	if err != nil {
		return nil, err
	}
	switch {
	case obj.hasAny("status"):
		status, err := intField(obj, "status")
		if err != nil {
			return nil, fmt.Errorf("response: %w", err)
		}
		if status == 200 {
			return decodeEchoResponse(obj)
		}
		return decodeErrorResponse(obj, status)
	case obj.hasAny("os_name", "os_version", "os_release", "os_architecture"):
		return decodeKissRequest(obj)
	default:
		return nil, errors.New("unknown message: expected a response (key status) " +
			"or a Kiss request (keys os_name, os_version, os_release, os_architecture)")
	}
}

func decodeEchoRequest(obj object) (EchoRequest, error) {
	var request EchoRequest
	var err error
	if request.ID, err = uint64Field(obj, "id"); err != nil {
		return request, fmt.Errorf("Echo request: %w", err)
	}
	if request.Data, err = stringField(obj, "data", true); err != nil {
		return request, fmt.Errorf("Echo request: %w", err)
	}
	if request.Meta, err = stringField(obj, "meta", true); err != nil {
		return request, fmt.Errorf("Echo request: %w", err)
	}
	return request, nil
}

func decodeKissResponse(obj object) (KissResponse, error) {
	var kiss KissResponse
	fields := []struct {
		key   string
		value *string
	}{
		{"language", &kiss.Language},
		{"encoding", &kiss.Encoding},
		{"time_zone", &kiss.TimeZone},
	}
	for _, field := range fields {
		value, err := stringField(obj, field.key, false)
		if err != nil {
			return kiss, fmt.Errorf("Kiss response: %w", err)
		}
		*field.value = value
	}
	return kiss, nil
}

func decodeKissRequest(obj object) (KissRequest, error) {
	var kiss KissRequest
	fields := []struct {
		key   string
		value *string
	}{
		{"os_name", &kiss.OSName},
		{"os_version", &kiss.OSVersion},
		{"os_release", &kiss.OSRelease},
		{"os_architecture", &kiss.OSArchitecture},
	}
	for _, field := range fields {
		value, err := stringField(obj, field.key, false)
		if err != nil {
			return kiss, fmt.Errorf("Kiss request: %w", err)
		}
		*field.value = value
	}
	return kiss, nil
}

func decodeEchoResponse(obj object) (EchoResponse, error) {
	response := EchoResponse{Status: 200}
	raw, ok := obj["results"]
	if !ok {
		return response, errors.New("Echo response: `results` is missing")
	}
	var results []json.RawMessage
	if kindOf(raw) != "an array" || json.Unmarshal(raw, &results) != nil {
		return response, fmt.Errorf("Echo response: `results` must be an array, got %s", kindOf(raw))
	}
	if len(results) != 1 {
		return response, fmt.Errorf("Echo response: `results` must have exactly one element, got %d", len(results))
	}
	result, err := parseObject(results[0])
	if err != nil {
		return response, fmt.Errorf("Echo response: `results[0]`: %w", err)
	}
	var echo EchoResult
	if echo.ID, err = uint64Field(result, "id"); err != nil {
		return response, fmt.Errorf("Echo response: results[0].%w", err)
	}
	if echo.Type, err = stringField(result, "type", false); err != nil {
		return response, fmt.Errorf("Echo response: results[0].%w", err)
	}
	if echo.Type != "OK" {
		return response, fmt.Errorf("Echo response: results[0].type must be \"OK\", got %q", echo.Type)
	}
	rawKV, ok := result["kv"]
	if !ok {
		return response, errors.New("Echo response: results[0].kv is missing")
	}
	kv, err := parseObject(rawKV)
	if err != nil {
		return response, fmt.Errorf("Echo response: results[0].kv: %w", err)
	}
	fields := []struct {
		key        string
		value      *string
		allowEmpty bool
	}{
		{"id", &echo.KV.ID, false},
		{"idx", &echo.KV.Idx, false},
		{"data", &echo.KV.Data, true},
		{"meta", &echo.KV.Meta, true},
	}
	for _, field := range fields {
		if *field.value, err = stringField(kv, field.key, field.allowEmpty); err != nil {
			return response, fmt.Errorf("Echo response: results[0].kv.%w", err)
		}
	}
	response.Results = []EchoResult{echo}
	return response, nil
}

func decodeErrorResponse(obj object, status int64) (ErrorResponse, error) {
	response := ErrorResponse{Status: int(status), Results: []EchoResult{}}
	var err error
	if response.Error, err = stringField(obj, "error", false); err != nil {
		return response, fmt.Errorf("Error response (status %d): %w", status, err)
	}
	return response, nil
}

// parseObject reads data as one JSON object. It refuses invalid UTF-8, a
// value that is not an object, and a key that appears twice in any object.
func parseObject(data []byte) (object, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("not JSON: the message is not valid UTF-8")
	}
	var obj object
	if !json.Valid(data) {
		var value any
		err := json.Unmarshal(data, &value)
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	if kind := kindOf(data); kind != "an object" {
		return nil, fmt.Errorf("not a JSON object: got %s", kind)
	}
	if err := checkDuplicateKeys(data); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	return obj, nil
}

// checkDuplicateKeys walks valid JSON and fails on the first object that has
// a key twice.
func checkDuplicateKeys(data []byte) error {
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.UseNumber()
	return walkValue(decoder)
}

func walkValue(decoder *json.Decoder) error {
	token, err := decoder.Token()
	if err != nil {
		return err
	}
	switch token {
	case json.Delim('{'):
		seen := make(map[string]bool)
		for decoder.More() {
			keyToken, err := decoder.Token()
			if err != nil {
				return err
			}
			key := keyToken.(string)
			if seen[key] {
				return fmt.Errorf("malformed JSON object: key %q appears twice", key)
			}
			seen[key] = true
			if err := walkValue(decoder); err != nil {
				return err
			}
		}
		_, err = decoder.Token()
		return err
	case json.Delim('['):
		for decoder.More() {
			if err := walkValue(decoder); err != nil {
				return err
			}
		}
		_, err = decoder.Token()
		return err
	}
	return nil
}

// kindOf names the kind of a valid JSON value, for error messages.
func kindOf(raw []byte) string {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

func stringField(obj object, key string, allowEmpty bool) (string, error) {
	raw, ok := obj[key]
	if !ok {
		return "", fmt.Errorf("`%s` is missing", key)
	}
	var value string
	if kindOf(raw) != "a string" || json.Unmarshal(raw, &value) != nil {
		return "", fmt.Errorf("`%s` must be a string, got %s", key, kindOf(raw))
	}
	if value == "" && !allowEmpty {
		return "", fmt.Errorf("`%s` must not be empty", key)
	}
	return value, nil
}

// uint64Field reads an unsigned 64-bit integer written as a JSON integer
// literal, from the literal itself so that no precision is lost.
func uint64Field(obj object, key string) (uint64, error) {
	raw, ok := obj[key]
	if !ok {
		return 0, fmt.Errorf("`%s` is missing", key)
	}
	problem := fmt.Sprintf("`%s` must be an unsigned 64-bit integer", key)
	if kind := kindOf(raw); kind != "a number" {
		return 0, fmt.Errorf("%s, got %s", problem, kind)
	}
	literal := abbreviate(string(raw))
	switch {
	case strings.HasPrefix(literal, "-"):
		return 0, fmt.Errorf("%s, got the negative number %s", problem, literal)
	case strings.ContainsAny(literal, ".eE"):
		return 0, fmt.Errorf("%s, got the non-integer literal %s", problem, literal)
	}
	value, err := strconv.ParseUint(string(raw), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s, got %s, which is too large", problem, literal)
	}
	return value, nil
}

func intField(obj object, key string) (int64, error) {
	raw := obj[key]
	if kind := kindOf(raw); kind != "a number" {
		return 0, fmt.Errorf("`%s` must be an integer, got %s", key, kind)
	}
	value, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("`%s` must be an integer, got %s", key, abbreviate(string(raw)))
	}
	return value, nil
}

// abbreviate keeps error messages short when they quote the input.
func abbreviate(text string) string {
	const limit = 40
	if len(text) <= limit {
		return text
	}
	return text[:limit] + "..."
}
