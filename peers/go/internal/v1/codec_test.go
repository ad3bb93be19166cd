package v1

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// vector is one entry of vectors/v1.json (PROTOCOL.md, section 11.5).
type vector struct {
	Name   string `json:"name"`
	Hex    string `json:"hex"`
	Expect struct {
		Type   string         `json:"type"`
		Fields map[string]any `json:"fields"`
		Error  *int32         `json:"error"`
	} `json:"expect"`
}

// loadVectors reads vectors/v1.json from the repository: ../../vectors from
// the peer folder, the nearest folder above this package holding go.mod.
func loadVectors(t *testing.T) []vector {
	t.Helper()
	peer, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(peer, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(peer)
		if parent == peer {
			t.Fatal("no go.mod above the test's folder: cannot find the peer folder")
		}
		peer = parent
	}
	path := filepath.Join(peer, "..", "..", "vectors", "v1.json")
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the shared test vectors: %v", err)
	}
	var vectors []vector
	if err := json.Unmarshal(text, &vectors); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(vectors) == 0 {
		t.Fatalf("%s holds no vectors", path)
	}
	return vectors
}

func TestVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			frame, err := hex.DecodeString(v.Hex)
			if err != nil {
				t.Fatalf("bad hex in the vector: %v", err)
			}
			message, err := Decode(frame)
			if v.Expect.Error != nil {
				var refused *DecodeError
				switch {
				case err == nil:
					t.Fatalf("decoded to %#v, want error code %d", message, *v.Expect.Error)
				case !errors.As(err, &refused):
					t.Fatalf("error %v is not a *DecodeError", err)
				case int32(refused.Code) != *v.Expect.Error:
					t.Fatalf("refused with code %d (%v), want code %d", refused.Code, err, *v.Expect.Error)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if got := message.Type().String(); got != v.Expect.Type {
				t.Fatalf("type %s, want %s", got, v.Expect.Type)
			}
			if got := fieldsOf(t, message); !reflect.DeepEqual(got, v.Expect.Fields) {
				t.Fatalf("fields\n got  %v\n want %v", got, v.Expect.Fields)
			}
			want := append([]byte(nil), frame...)
			want[3] = 0 // flags aside: a sender writes 0
			if got := Encode(message); !reflect.DeepEqual(got, want) {
				t.Fatalf("encodes to %x, want %x", got, want)
			}
		})
	}
}

// fieldsOf writes a message's fields as vectors/v1.json does: integers as
// decimal strings, a kv as a list of [key, value] pairs, results as objects.
func fieldsOf(t *testing.T, message Message) map[string]any {
	t.Helper()
	i64 := func(n int64) string { return strconv.FormatInt(n, 10) }
	var fields map[string]any
	switch m := message.(type) {
	case Hello:
		fields = map[string]any{"client_language": m.ClientLanguage}
	case Bonjour:
		fields = map[string]any{"server_language": m.ServerLanguage}
	case EchoRequest:
		fields = map[string]any{"id": i64(m.ID), "meta": m.Meta, "data": m.Data}
	case EchoResponse:
		results := []any{}
		for _, result := range m.Results {
			kv := []any{}
			for _, entry := range result.KV {
				kv = append(kv, []any{entry.Key, entry.Value})
			}
			results = append(results, map[string]any{
				"idx": i64(result.Idx), "type": i64(int64(result.Type)), "kv": kv,
			})
		}
		fields = map[string]any{"status": i64(int64(m.Status)), "results": results}
	case KissRequest:
		fields = map[string]any{"os_name": m.OSName, "os_version": m.OSVersion,
			"os_release": m.OSRelease, "os_architecture": m.OSArchitecture}
	case KissResponse:
		fields = map[string]any{"language": m.Language, "encoding": m.Encoding, "time_zone": m.TimeZone}
	case Ping:
		fields = map[string]any{"timestamp_ms": i64(m.TimestampMS)}
	case Pong:
		fields = map[string]any{"timestamp_ms": i64(m.TimestampMS)}
	case TimeNotification:
		fields = map[string]any{"timestamp_ms": i64(m.TimestampMS), "iso8601": m.ISO8601}
	case RandomNumber:
		fields = map[string]any{"id": i64(m.ID), "number": i64(m.Number)}
	case HashResponse:
		fields = map[string]any{"id": i64(m.ID), "hash_hex": m.HashHex}
	case Disconnect:
		fields = map[string]any{"reason": m.Reason}
	case Error:
		fields = map[string]any{"code": i64(int64(m.Code)), "message": m.Message}
	default:
		t.Fatalf("no fields for %T", message)
	}
	return fields
}

func TestHugeCountsAreRefusedBeforeAllocating(t *testing.T) {
	// A result count of 2^32-1 in a 12-byte payload: refused without
	// allocating room for four billion results.
	frame, _ := hex.DecodeString("480104000000000c000000c8ffffffff00000000")
	allocations := testing.AllocsPerRun(10, func() { Decode(frame) })
	if _, err := Decode(frame); err == nil {
		t.Fatal("decoded a count that cannot fit")
	}
	if allocations > 10 {
		t.Fatalf("%v allocations to refuse a huge count", allocations)
	}
}

func TestExamplesOfThePROTOCOL(t *testing.T) {
	cases := []struct {
		message Message
		hex     string
	}{
		{Hello{ClientLanguage: "Go"}, "480101000000000600000002476f"},
		{EchoRequest{ID: 7, Meta: "RUST", Data: "Hi"}, "48010300000000160000000000000007000000045255535400000002" + "4869"},
		{Ping{TimestampMS: 1700000000123}, "48010700000000080000018bcfe5687b"},
		{Error{Code: int32(CodeBadMagic), Message: "bad magic"}, "48017f00000000110000000400000009626164206d61676963"},
	}
	for _, c := range cases {
		if got := hex.EncodeToString(Encode(c.message)); got != c.hex {
			t.Errorf("%s encodes to %s, want %s", c.message.Type(), got, c.hex)
		}
	}
}

func TestHashHex(t *testing.T) {
	if got := HashHex(-1); got != "1bad6b8cf9" {
		t.Fatalf("HashHex(-1) = %s, want 1bad6b8cf9", got)
	}
}

func TestEchoResponseAsSection12_4Says(t *testing.T) {
	response := NewEchoResponse(EchoRequest{ID: -5, Meta: "RUST", Data: "x"}, "GO")
	want := EchoResponse{Status: 200, Results: []Result{{Idx: -5, Type: ResultOK,
		KV: []KV{{"id", "-5"}, {"data", "x"}, {"meta", "GO"}, {"idx", "-5"}}}}}
	if !reflect.DeepEqual(response, want) {
		t.Fatalf("got %+v, want %+v", response, want)
	}
}

func TestTimeNotificationNamesOneMillisecond(t *testing.T) {
	now := time.Date(2026, 12, 1, 20, 57, 43, 123_999_999, time.FixedZone("X", 3600))
	got := NewTimeNotification(now)
	if got.ISO8601 != "2026-12-01T19:57:43.123Z" || got.TimestampMS != now.UnixMilli() {
		t.Fatalf("got %+v", got)
	}
}

func TestDirections(t *testing.T) {
	for kind := range typeNames {
		if kind != TypeError && kind.SentByClient() == kind.SentByServer() {
			t.Errorf("%s is sent by both sides or by neither", kind)
		}
	}
	if !TypeError.SentByClient() || !TypeError.SentByServer() {
		t.Error("ERROR is sent by both sides")
	}
}
