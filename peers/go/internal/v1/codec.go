package v1

import (
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"
)

// ErrorCode is the code of an ERROR message (section 11.4).
type ErrorCode int32

// The error codes of section 11.4.
const (
	CodeDecode          ErrorCode = 1 // a payload or frame that does not decode
	CodeUnknownType     ErrorCode = 2 // a type v1 does not define (or, in a session, one sent the wrong way)
	CodeLengthOverrun   ErrorCode = 3 // a payload length larger than the bytes that follow
	CodeBadMagic        ErrorCode = 4
	CodeBadVersion      ErrorCode = 5
	CodeSessionNotFound ErrorCode = 6
	CodeInternal        ErrorCode = 7
)

// ClosesSession tells whether a receiver closes the session (with 1002) after
// answering this code: all but unknown type do.
func (c ErrorCode) ClosesSession() bool { return c != CodeUnknownType }

// DecodeError is why a frame was refused: the code to answer with, and a
// description that repeats none of the frame's bytes.
type DecodeError struct {
	Code   ErrorCode
	Reason string
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("%s (v1 error code %d)", e.Reason, e.Code)
}

func refuse(code ErrorCode, format string, args ...any) *DecodeError {
	return &DecodeError{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// IsV1 tells whether a binary message's first byte makes a session v1
// (section 12.1).
func IsV1(message []byte) bool {
	return len(message) > 0 && message[0] == Magic
}

// Encode writes message as one frame, with flags 0.
func Encode(message Message) []byte {
	w := &writer{buf: make([]byte, HeaderSize, 64)}
	w.buf[0], w.buf[1], w.buf[2] = Magic, Version, byte(message.Type())
	message.encodePayload(w)
	binary.BigEndian.PutUint32(w.buf[4:HeaderSize], uint32(len(w.buf)-HeaderSize))
	return w.buf
}

// Decode reads one frame. The checks run in the order of section 11.4: size,
// magic, version, length, type, payload; the first that fails gives the
// *DecodeError's code. Flags are ignored.
func Decode(frame []byte) (Message, error) {
	if len(frame) < HeaderSize {
		return nil, refuse(CodeDecode, "frame of %d bytes, under the 8-byte header", len(frame))
	}
	if frame[0] != Magic {
		return nil, refuse(CodeBadMagic, "bad magic")
	}
	if frame[1] != Version {
		return nil, refuse(CodeBadVersion, "bad version %d", frame[1])
	}
	declared := uint64(binary.BigEndian.Uint32(frame[4:HeaderSize]))
	following := uint64(len(frame) - HeaderSize)
	switch {
	case declared > following:
		return nil, refuse(CodeLengthOverrun, "payload length %d, but %d bytes follow", declared, following)
	case declared < following:
		return nil, refuse(CodeDecode, "payload length %d, but %d bytes follow", declared, following)
	}
	kind := Type(frame[2])
	if !kind.Known() {
		return nil, refuse(CodeUnknownType, "unknown message type %s", kind)
	}
	r := &reader{rest: frame[HeaderSize:]}
	message := decodePayload(kind, r)
	if r.err != nil {
		return nil, refuse(CodeDecode, "%s: %s", kind, r.err)
	}
	if len(r.rest) > 0 {
		return nil, refuse(CodeDecode, "%s: %d bytes after the last field", kind, len(r.rest))
	}
	return message, nil
}

func decodePayload(kind Type, r *reader) Message {
	switch kind {
	case TypeHello:
		return Hello{ClientLanguage: r.string("client_language")}
	case TypeBonjour:
		return Bonjour{ServerLanguage: r.string("server_language")}
	case TypeEchoRequest:
		return EchoRequest{ID: r.i64("id"), Meta: r.string("meta"), Data: r.string("data")}
	case TypeEchoResponse:
		return decodeEchoResponse(r)
	case TypeKissRequest:
		return KissRequest{
			OSName:         r.string("os_name"),
			OSVersion:      r.string("os_version"),
			OSRelease:      r.string("os_release"),
			OSArchitecture: r.string("os_architecture"),
		}
	case TypeKissResponse:
		return KissResponse{
			Language: r.string("language"),
			Encoding: r.string("encoding"),
			TimeZone: r.string("time_zone"),
		}
	case TypePing:
		return Ping{TimestampMS: r.i64("timestamp_ms")}
	case TypePong:
		return Pong{TimestampMS: r.i64("timestamp_ms")}
	case TypeTimeNotification:
		return TimeNotification{TimestampMS: r.i64("timestamp_ms"), ISO8601: r.string("iso8601")}
	case TypeRandomNumber:
		return RandomNumber{ID: r.i64("id"), Number: r.i64("number")}
	case TypeHashResponse:
		return HashResponse{ID: r.i64("id"), HashHex: r.string("hash_hex")}
	case TypeDisconnect:
		return Disconnect{Reason: r.string("reason")}
	case TypeError:
		return Error{Code: r.i32("code"), Message: r.string("message")}
	}
	panic("decodePayload: type " + kind.String() + " is known but not decoded")
}

// The fewest bytes an element can take, to check a count against what is left.
const (
	minResultSize = 8 + 1 + 4 // idx, type, an empty kv
	minEntrySize  = 4 + 4     // two empty strings
)

func decodeEchoResponse(r *reader) EchoResponse {
	response := EchoResponse{Status: r.i32("status")}
	count := r.count("results", minResultSize)
	response.Results = make([]Result, 0, count)
	for i := 0; i < count && r.err == nil; i++ {
		result := Result{Idx: r.i64("results[].idx")}
		switch kind := r.u8("results[].type"); ResultType(kind) {
		case ResultOK, ResultError:
			result.Type = ResultType(kind)
		default:
			r.fail("results[].type %d is neither 0 (OK) nor 1 (ERROR)", kind)
		}
		entries := r.count("results[].kv", minEntrySize)
		result.KV = make([]KV, 0, entries)
		for j := 0; j < entries && r.err == nil; j++ {
			result.KV = append(result.KV, KV{Key: r.string("kv key"), Value: r.string("kv value")})
		}
		response.Results = append(response.Results, result)
	}
	return response
}

// reader takes fields off a payload. The first failure sticks: later reads
// return zero values, and err says what went wrong.
type reader struct {
	rest []byte
	err  error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

// take returns the next n bytes; ok is false when fewer are left (or an
// earlier read failed).
func (r *reader) take(n uint64, field string) (taken []byte, ok bool) {
	if r.err != nil {
		return nil, false
	}
	if n > uint64(len(r.rest)) {
		r.fail("%s needs %d bytes, %d are left", field, n, len(r.rest))
		return nil, false
	}
	taken, r.rest = r.rest[:n], r.rest[n:]
	return taken, true
}

func (r *reader) u8(field string) byte {
	if b, ok := r.take(1, field); ok {
		return b[0]
	}
	return 0
}

func (r *reader) u32(field string) uint32 {
	if b, ok := r.take(4, field); ok {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (r *reader) i32(field string) int32 { return int32(r.u32(field)) }

func (r *reader) i64(field string) int64 {
	if b, ok := r.take(8, field); ok {
		return int64(binary.BigEndian.Uint64(b))
	}
	return 0
}

// string reads a u32 length and that many bytes of UTF-8. The length is
// checked against the bytes left before anything is copied.
func (r *reader) string(field string) string {
	length := r.u32(field + " length")
	b, ok := r.take(uint64(length), field)
	if !ok {
		return ""
	}
	if !utf8.Valid(b) {
		r.fail("%s is not valid UTF-8", field)
		return ""
	}
	return string(b)
}

// count reads a u32 element count, refusing one whose elements could not fit
// in the bytes left even at minSize each, so that nothing is allocated for it.
func (r *reader) count(field string, minSize uint64) int {
	count := uint64(r.u32(field + " count"))
	if r.err != nil {
		return 0
	}
	if count*minSize > uint64(len(r.rest)) {
		r.fail("%s count %d cannot fit in the %d bytes left", field, count, len(r.rest))
		return 0
	}
	return int(count)
}

// writer appends fields to a frame.
type writer struct{ buf []byte }

func (w *writer) u8(v byte)    { w.buf = append(w.buf, v) }
func (w *writer) u32(v uint32) { w.buf = binary.BigEndian.AppendUint32(w.buf, v) }
func (w *writer) i32(v int32)  { w.u32(uint32(v)) }
func (w *writer) i64(v int64)  { w.buf = binary.BigEndian.AppendUint64(w.buf, uint64(v)) }

func (w *writer) count(n int) {
	if n > math.MaxUint32 {
		panic("v1: more than 2^32-1 elements cannot be encoded")
	}
	w.u32(uint32(n))
}

func (w *writer) string(s string) {
	w.count(len(s))
	w.buf = append(w.buf, s...)
}

func (m Hello) encodePayload(w *writer)   { w.string(m.ClientLanguage) }
func (m Bonjour) encodePayload(w *writer) { w.string(m.ServerLanguage) }

func (m EchoRequest) encodePayload(w *writer) {
	w.i64(m.ID)
	w.string(m.Meta)
	w.string(m.Data)
}

func (m EchoResponse) encodePayload(w *writer) {
	w.i32(m.Status)
	w.count(len(m.Results))
	for _, result := range m.Results {
		w.i64(result.Idx)
		w.u8(byte(result.Type))
		w.count(len(result.KV))
		for _, entry := range result.KV {
			w.string(entry.Key)
			w.string(entry.Value)
		}
	}
}

func (m KissRequest) encodePayload(w *writer) {
	w.string(m.OSName)
	w.string(m.OSVersion)
	w.string(m.OSRelease)
	w.string(m.OSArchitecture)
}

func (m KissResponse) encodePayload(w *writer) {
	w.string(m.Language)
	w.string(m.Encoding)
	w.string(m.TimeZone)
}

func (m Ping) encodePayload(w *writer) { w.i64(m.TimestampMS) }
func (m Pong) encodePayload(w *writer) { w.i64(m.TimestampMS) }

func (m TimeNotification) encodePayload(w *writer) {
	w.i64(m.TimestampMS)
	w.string(m.ISO8601)
}

func (m RandomNumber) encodePayload(w *writer) {
	w.i64(m.ID)
	w.i64(m.Number)
}

func (m HashResponse) encodePayload(w *writer) {
	w.i64(m.ID)
	w.string(m.HashHex)
}

func (m Disconnect) encodePayload(w *writer) { w.string(m.Reason) }

func (m Error) encodePayload(w *writer) {
	w.i32(m.Code)
	w.string(m.Message)
}
