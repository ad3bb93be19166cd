// Package v1 is the binary dialect v1 of the Hello WebSocket protocol: its
// frames and messages (PROTOCOL.md, section 11), encoded and decoded.
package v1

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// Header bytes of every frame.
const (
	Magic      byte = 0x48 // 'H'
	Version    byte = 0x01
	HeaderSize      = 8
)

// Type is a message type, the third byte of a frame.
type Type byte

// The message types of section 11.3.
const (
	TypeHello            Type = 0x01
	TypeBonjour          Type = 0x02
	TypeEchoRequest      Type = 0x03
	TypeEchoResponse     Type = 0x04
	TypeKissRequest      Type = 0x05
	TypeKissResponse     Type = 0x06
	TypePing             Type = 0x07
	TypePong             Type = 0x08
	TypeTimeNotification Type = 0x09
	TypeRandomNumber     Type = 0x0A
	TypeHashResponse     Type = 0x0B
	TypeDisconnect       Type = 0x0C
	TypeError            Type = 0x7F
)

var typeNames = map[Type]string{
	TypeHello:            "HELLO",
	TypeBonjour:          "BONJOUR",
	TypeEchoRequest:      "ECHO_REQUEST",
	TypeEchoResponse:     "ECHO_RESPONSE",
	TypeKissRequest:      "KISS_REQUEST",
	TypeKissResponse:     "KISS_RESPONSE",
	TypePing:             "PING",
	TypePong:             "PONG",
	TypeTimeNotification: "TIME_NOTIFICATION",
	TypeRandomNumber:     "RANDOM_NUMBER",
	TypeHashResponse:     "HASH_RESPONSE",
	TypeDisconnect:       "DISCONNECT",
	TypeError:            "ERROR",
}

// String is the type's name as section 11.3 writes it, e.g. ECHO_REQUEST.
func (t Type) String() string {
	if name, ok := typeNames[t]; ok {
		return name
	}
	return fmt.Sprintf("0x%02X", byte(t))
}

// Known tells whether v1 defines the type.
func (t Type) Known() bool {
	_, ok := typeNames[t]
	return ok
}

// SentByClient tells whether a client sends messages of this type (ERROR is
// sent by both sides).
func (t Type) SentByClient() bool {
	switch t {
	case TypeHello, TypeEchoRequest, TypeKissResponse, TypePong, TypeRandomNumber,
		TypeDisconnect, TypeError:
		return true
	}
	return false
}

// SentByServer tells whether a server sends messages of this type.
func (t Type) SentByServer() bool {
	return t.Known() && (t == TypeError || !t.SentByClient())
}

// Message is one of the message structs below.
type Message interface {
	Type() Type
	encodePayload(w *writer)
}

// Hello is the client's greeting, answered by Bonjour.
type Hello struct{ ClientLanguage string }

// Bonjour answers each Hello.
type Bonjour struct{ ServerLanguage string }

// EchoRequest asks the server to send Data back.
type EchoRequest struct {
	ID   int64
	Meta string
	Data string
}

// EchoResponse answers an EchoRequest.
type EchoResponse struct {
	Status  int32
	Results []Result
}

// ResultType says whether a Result is OK or an error.
type ResultType byte

// The two result types; any other is a decode error.
const (
	ResultOK    ResultType = 0
	ResultError ResultType = 1
)

// Result is one element of EchoResponse.Results.
type Result struct {
	Idx  int64
	Type ResultType
	KV   []KV
}

// KV is one entry of a Result's ordered key-value list.
type KV struct{ Key, Value string }

// Get returns the value of the first entry named key.
func (r Result) Get(key string) (string, bool) {
	for _, entry := range r.KV {
		if entry.Key == key {
			return entry.Value, true
		}
	}
	return "", false
}

// KissRequest carries the server host's facts (section 3.5).
type KissRequest struct{ OSName, OSVersion, OSRelease, OSArchitecture string }

// KissResponse carries the client's locale (section 3.6).
type KissResponse struct{ Language, Encoding, TimeZone string }

// Ping carries the server's time in ms since the Unix epoch.
type Ping struct{ TimestampMS int64 }

// Pong echoes a Ping's timestamp.
type Pong struct{ TimestampMS int64 }

// TimeNotification carries the server's time, as ms and as RFC 3339 text.
type TimeNotification struct {
	TimestampMS int64
	ISO8601     string
}

// RandomNumber is the client's number, answered by HashResponse.
type RandomNumber struct{ ID, Number int64 }

// HashResponse carries the first 10 hex characters of the number's SHA-256.
type HashResponse struct {
	ID      int64
	HashHex string
}

// Disconnect ends a session; the server answers with Close 1000.
type Disconnect struct{ Reason string }

// Error says what was wrong with a frame; Code is one of the ErrorCode values.
type Error struct {
	Code    int32
	Message string
}

func (Hello) Type() Type            { return TypeHello }
func (Bonjour) Type() Type          { return TypeBonjour }
func (EchoRequest) Type() Type      { return TypeEchoRequest }
func (EchoResponse) Type() Type     { return TypeEchoResponse }
func (KissRequest) Type() Type      { return TypeKissRequest }
func (KissResponse) Type() Type     { return TypeKissResponse }
func (Ping) Type() Type             { return TypePing }
func (Pong) Type() Type             { return TypePong }
func (TimeNotification) Type() Type { return TypeTimeNotification }
func (RandomNumber) Type() Type     { return TypeRandomNumber }
func (HashResponse) Type() Type     { return TypeHashResponse }
func (Disconnect) Type() Type       { return TypeDisconnect }
func (Error) Type() Type            { return TypeError }

// NewEchoResponse is the answer of section 12.4 to request: status 200 and one
// OK result whose idx is the id and whose kv is id, data, meta, idx.
func NewEchoResponse(request EchoRequest, serverTag string) EchoResponse {
	id := strconv.FormatInt(request.ID, 10)
	return EchoResponse{Status: 200, Results: []Result{{
		Idx:  request.ID,
		Type: ResultOK,
		KV:   []KV{{"id", id}, {"data", request.Data}, {"meta", serverTag}, {"idx", id}},
	}}}
}

// NewHashResponse answers a RandomNumber.
func NewHashResponse(number RandomNumber) HashResponse {
	return HashResponse{ID: number.ID, HashHex: HashHex(number.Number)}
}

// HashHex is the first 10 lowercase hex characters of SHA-256 of number
// written in ASCII decimal.
func HashHex(number int64) string {
	sum := sha256.Sum256([]byte(strconv.FormatInt(number, 10)))
	return hex.EncodeToString(sum[:5])
}

// NewTimeNotification names the millisecond of now, as ms and as RFC 3339 in
// UTC with milliseconds and Z.
func NewTimeNotification(now time.Time) TimeNotification {
	ms := now.UnixMilli()
	return TimeNotification{
		TimestampMS: ms,
		ISO8601:     time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z"),
	}
}
