package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/gorilla/websocket"

	"hello-websocket/peers/go/internal/platform"
	"hello-websocket/peers/go/internal/protocol"
	v1 "hello-websocket/peers/go/internal/v1"
)

// v1State is what the v1 client keeps beside the Echo requests: the
// RANDOM_NUMBERs awaiting their HASH_RESPONSE. It is guarded by client.mu.
type v1State struct {
	nextRandomID int64
	hashes       map[int64]string // RANDOM_NUMBER id -> the hash due
	randomSent   int
	hashesRight  int
}

// v1Opening is HELLO, then the ECHO_REQUESTs, ids 1..count
// (peers/README.md, the v1 client).
func (c *client) v1Opening() [][]byte {
	c.v1.hashes = make(map[int64]string)
	opening := [][]byte{v1.Encode(v1.Hello{ClientLanguage: protocol.LanguageTag})}
	for id := 1; id <= c.cfg.count; id++ {
		opening = append(opening, v1.Encode(v1.EchoRequest{
			ID: int64(id), Meta: protocol.LanguageTag, Data: c.pendingData(uint64(id)),
		}))
	}
	return opening
}

// sendRandomNumber sends a RANDOM_NUMBER and remembers the hash it is due.
func (c *client) sendRandomNumber() {
	c.mu.Lock()
	c.v1.nextRandomID++
	number := v1.RandomNumber{ID: c.v1.nextRandomID, Number: rand.Int64() - rand.Int64()}
	c.v1.hashes[number.ID] = v1.HashHex(number.Number)
	c.v1.randomSent++
	c.mu.Unlock()
	c.queueReply(reply{data: v1.Encode(number)})
}

// handleV1 takes one message of a v1 session (PROTOCOL.md, section 12).
func (c *client) handleV1(kind int, data []byte) {
	if kind != websocket.BinaryMessage {
		c.fault("the server sent a text message in a v1 session")
		return
	}
	message, err := v1.Decode(data)
	if err != nil {
		c.fault("unusable frame from the server: %v", err)
		return
	}
	switch message := message.(type) {
	case v1.Bonjour:
		fmt.Printf("bonjour server_language=%q\n", message.ServerLanguage)
	case v1.EchoResponse:
		c.checkV1EchoAnswer(message)
	case v1.HashResponse:
		c.checkHash(message)
	case v1.Ping:
		c.lastPing.Store(int64(time.Since(c.started)))
		c.queueReply(reply{data: v1.Encode(v1.Pong{TimestampMS: message.TimestampMS})})
	case v1.KissRequest:
		fmt.Printf("kiss os_name=%q os_version=%q os_release=%q os_architecture=%q\n",
			message.OSName, message.OSVersion, message.OSRelease, message.OSArchitecture)
		facts := platform.ClientFacts()
		c.queueReply(reply{isKiss: true, data: v1.Encode(v1.KissResponse{
			Language: facts.Language, Encoding: facts.Encoding, TimeZone: facts.TimeZone,
		})})
	case v1.TimeNotification:
		fmt.Printf("time %s (%d ms)\n", message.ISO8601, message.TimestampMS)
	case v1.Error:
		if v1.ErrorCode(message.Code) == v1.CodeUnknownType {
			fmt.Printf("warning: the server did not know a frame: ERROR %d %q\n", message.Code, message.Message)
			return
		}
		c.fault("the server answered with ERROR %d: %s", message.Code, message.Message)
	default:
		c.fault("the server sent %s, which a server does not send", message.Type())
	}
}

// checkV1EchoAnswer matches an ECHO_RESPONSE by kv.id and checks kv.data
// (section 12.4).
func (c *client) checkV1EchoAnswer(response v1.EchoResponse) {
	if response.Status != 200 || len(response.Results) != 1 || response.Results[0].Type != v1.ResultOK {
		c.fault("ECHO_RESPONSE with status %d and %d results: want 200 and one OK result",
			response.Status, len(response.Results))
		return
	}
	result := response.Results[0]
	kvID, _ := result.Get("id")
	data, _ := result.Get("data")
	meta, _ := result.Get("meta")
	fmt.Printf("echo kv.id=%s data=%q meta=%s idx=%d\n", kvID, data, meta, result.Idx)
	id, err := strconv.ParseUint(kvID, 10, 64)
	c.mu.Lock()
	defer c.mu.Unlock()
	sent, pending := c.pending[id]
	switch {
	case err != nil || !pending:
		c.faultLocked("ECHO_RESPONSE for kv.id %q, which is not pending", kvID)
		return
	case data != sent:
		c.faultLocked("ECHO_RESPONSE for id %d has data %q, sent %q", id, data, sent)
	}
	c.answeredEcho(id)
}

func (c *client) checkHash(response v1.HashResponse) {
	c.mu.Lock()
	defer c.mu.Unlock()
	due, pending := c.v1.hashes[response.ID]
	switch {
	case !pending:
		c.faultLocked("HASH_RESPONSE for id %d, which is not pending", response.ID)
		return
	case response.HashHex != due:
		c.faultLocked("HASH_RESPONSE for id %d is %q, want %q", response.ID, response.HashHex, due)
	default:
		c.v1.hashesRight++
	}
	delete(c.v1.hashes, response.ID)
}

// disconnect ends a v1 session (section 12.6): DISCONNECT, then the server's
// Close 1000, which gorilla answers; without one within --timeout, the
// client closes with 1000 itself.
func (c *client) disconnect(readDone <-chan error) {
	if !c.stopWriter() {
		c.fault("could not send DISCONNECT: the server has not read what came before it")
		return
	}
	if err := c.write(v1.Encode(v1.Disconnect{Reason: "done"})); err != nil {
		c.fault("could not send DISCONNECT: %v", err)
		return
	}
	select {
	case err := <-readDone:
		printClose(err)
		var closeErr *websocket.CloseError
		if !errors.As(err, &closeErr) || closeErr.Code != websocket.CloseNormalClosure {
			c.fault("the server ended the session with %v, not Close 1000, after DISCONNECT", err)
		}
	case <-time.After(c.cfg.timeout):
		fmt.Println("closed: no Close from the server after DISCONNECT; closing with 1000")
		c.conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, "done"),
			time.Now().Add(closeGrace))
	}
}
