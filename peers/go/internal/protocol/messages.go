// Package protocol holds the messages of the Hello WebSocket protocol (PROTOCOL.md) and the
// rules for reading them, shared by the Go server and client.
package protocol

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// LanguageTag is this implementation's tag, sent in `meta` and in the `SVR` header.
const LanguageTag = "GO"

// EchoRequest is sent by the client; the server answers it with an EchoResponse.
type EchoRequest struct {
	ID   uint64 `json:"id"`
	Data string `json:"data"`
	Meta string `json:"meta"`
}

// EchoResponse answers one EchoRequest.
type EchoResponse struct {
	Status  int          `json:"status"`
	Results []EchoResult `json:"results"`
}

// EchoResult is the single element of EchoResponse.Results.
type EchoResult struct {
	ID   uint64 `json:"id"`
	Type string `json:"type"`
	KV   EchoKV `json:"kv"`
}

// EchoKV carries the echoed data.
type EchoKV struct {
	ID   string `json:"id"`
	Idx  string `json:"idx"`
	Data string `json:"data"`
	Meta string `json:"meta"`
}

// ErrorResponse is the server's answer to malformed input.
type ErrorResponse struct {
	Status  int          `json:"status"`
	Results []EchoResult `json:"results"`
	Error   string       `json:"error"`
}

// KissRequest is sent by the server every Kiss interval with the host's facts.
type KissRequest struct {
	OSName         string `json:"os_name"`
	OSVersion      string `json:"os_version"`
	OSRelease      string `json:"os_release"`
	OSArchitecture string `json:"os_architecture"`
}

// KissResponse is the client's answer to a KissRequest.
type KissResponse struct {
	Language string `json:"language"`
	Encoding string `json:"encoding"`
	TimeZone string `json:"time_zone"`
}

// NewEchoResponse builds the answer to request, with responseID as kv.id.
func NewEchoResponse(request EchoRequest, responseID string) EchoResponse {
	return EchoResponse{
		Status: 200,
		Results: []EchoResult{{
			ID:   request.ID,
			Type: "OK",
			KV: EchoKV{
				ID:   responseID,
				Idx:  strconv.FormatUint(request.ID, 10),
				Data: request.Data,
				Meta: LanguageTag,
			},
		}},
	}
}

// NewErrorResponse builds a 400 answer saying what was wrong.
func NewErrorResponse(problem string) ErrorResponse {
	return ErrorResponse{Status: 400, Results: []EchoResult{}, Error: problem}
}

// Encode writes message as compact JSON, with non-ASCII characters and HTML
// characters left as they are rather than escaped.
func Encode(message any) ([]byte, error) {
	var buf bytes.Buffer
	encoder := json.NewEncoder(&buf)
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(message); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
