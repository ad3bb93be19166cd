package main

import (
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"hello-websocket/peers/go/internal/platform"
	"hello-websocket/peers/go/internal/protocol"
)

// jsonOpening is the JSON Echo requests, ids 1..count.
func (c *client) jsonOpening() [][]byte {
	requests := make([][]byte, 0, c.cfg.count)
	for id := 1; id <= c.cfg.count; id++ {
		request := protocol.EchoRequest{ID: uint64(id), Data: c.pendingData(uint64(id)), Meta: protocol.LanguageTag}
		encoded, err := protocol.Encode(request)
		if err != nil {
			panic(err) // an Echo request always encodes
		}
		requests = append(requests, encoded)
	}
	return requests
}

// handleJSON takes one message of a JSON session (PROTOCOL.md, section 3).
func (c *client) handleJSON(kind int, data []byte) {
	if kind == websocket.TextMessage && !utf8.Valid(data) {
		c.fault("the server sent a text message that is not valid UTF-8")
		return
	}
	message, err := protocol.DecodeFromServer(data)
	if err != nil {
		c.fault("unusable message from the server: %v", err)
		return
	}
	switch message := message.(type) {
	case protocol.EchoResponse:
		c.checkEchoAnswer(message.Results[0])
	case protocol.ErrorResponse:
		c.fault("the server answered with an error (status %d): %s", message.Status, message.Error)
	case protocol.KissRequest:
		fmt.Printf("kiss os_name=%q os_version=%q os_release=%q os_architecture=%q\n",
			message.OSName, message.OSVersion, message.OSRelease, message.OSArchitecture)
		kissResponse, err := protocol.Encode(platform.ClientFacts())
		if err != nil {
			panic(err) // three strings always encode
		}
		c.queueReply(reply{data: kissResponse, isKiss: true})
	}
}

func (c *client) checkEchoAnswer(result protocol.EchoResult) {
	kv := result.KV
	fmt.Printf("echo id=%d idx=%s data=%q meta=%s kv.id=%s\n", result.ID, kv.Idx, kv.Data, kv.Meta, kv.ID)
	c.mu.Lock()
	defer c.mu.Unlock()
	data, pending := c.pending[result.ID]
	switch {
	case !pending:
		c.faultLocked("Echo answer for id %d, which is not pending", result.ID)
		return
	case kv.Idx != strconv.FormatUint(result.ID, 10):
		c.faultLocked("Echo answer for id %d has idx %q", result.ID, kv.Idx)
	case kv.Data != data:
		c.faultLocked("Echo answer for id %d has data %q, sent %q", result.ID, kv.Data, data)
	case !isUUIDv4(kv.ID):
		c.faultLocked("Echo answer for id %d has kv.id %q, not a UUID v4", result.ID, kv.ID)
	}
	c.answeredEcho(result.ID)
}

func isUUIDv4(text string) bool {
	id, err := uuid.Parse(text)
	return err == nil && id.Version() == 4 && text == id.String()
}
