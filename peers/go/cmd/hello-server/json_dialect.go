package main

import (
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"hello-websocket/peers/go/internal/protocol"
)

// jsonSession holds the JSON dialect's timers (PROTOCOL.md, sections 4 and 5):
// a WebSocket Ping every ping interval, eviction when no Pong came within the
// pong timeout of one, and a Kiss request every Kiss interval. They run from
// the handshake until the session turns out to be v1.
type jsonSession struct {
	pings        *time.Ticker
	kisses       *time.Ticker
	pongTimer    *time.Timer
	pongTimeout  time.Duration
	awaitingPong bool
	stopped      bool
}

func (j *jsonSession) start(cfg config) {
	j.pings = time.NewTicker(cfg.pingInterval)
	j.kisses = time.NewTicker(cfg.kissInterval)
	j.pongTimer = time.NewTimer(cfg.pongTimeout)
	j.pongTimer.Stop()
	j.pongTimeout = cfg.pongTimeout
}

// stop ends the timers; their channels are nil from then on.
func (j *jsonSession) stop() {
	if j.stopped {
		return
	}
	j.stopped = true
	j.awaitingPong = false
	j.pings.Stop()
	j.kisses.Stop()
	j.pongTimer.Stop()
}

func (j *jsonSession) pingDue() <-chan time.Time {
	if j.stopped {
		return nil
	}
	return j.pings.C
}

func (j *jsonSession) kissDue() <-chan time.Time {
	if j.stopped {
		return nil
	}
	return j.kisses.C
}

// pongOverdue fires when the pong timeout of a Ping has run out unanswered.
func (j *jsonSession) pongOverdue() <-chan time.Time {
	if j.stopped || !j.awaitingPong {
		return nil
	}
	return j.pongTimer.C
}

// pingTick says whether to send the Ping now due: not while one is still
// unanswered, so that at most one is outstanding.
func (j *jsonSession) pingTick() bool {
	if j.awaitingPong {
		return false
	}
	j.awaitingPong = true
	j.pongTimer.Reset(j.pongTimeout)
	return true
}

// pongCame counts any Pong as the answer to the outstanding Ping.
func (j *jsonSession) pongCame() {
	j.awaitingPong = false
	j.pongTimer.Stop()
}

// answerJSON answers one data message of a JSON session (sections 3 and 6).
func (s *session) answerJSON(in inbound) *serverClose {
	if in.kind == websocket.TextMessage && !utf8.Valid(in.data) {
		return &serverClose{websocket.CloseInvalidFramePayloadData, "invalid UTF-8",
			"error: text message is not valid UTF-8"}
	}
	message, err := protocol.DecodeFromClient(in.data)
	if err != nil {
		s.replyJSON(protocol.NewErrorResponse(err.Error()))
		return nil
	}
	switch message := message.(type) {
	case protocol.EchoRequest:
		s.replyJSON(protocol.NewEchoResponse(message, uuid.NewString()))
	case protocol.KissResponse:
		s.logKiss(message)
	}
	return nil
}

func (s *session) replyJSON(message any) {
	encoded, err := protocol.Encode(message)
	if err != nil {
		encoded, _ = protocol.Encode(protocol.NewErrorResponse("cannot encode the answer: " + err.Error()))
	}
	s.reply(websocket.TextMessage, encoded)
}

// logKiss logs a Kiss response, of either dialect, with its strings quoted.
func (s *session) logKiss(kiss protocol.KissResponse) {
	s.srv.log.Printf("kiss id=%s name=%s language=%s encoding=%s time_zone=%s",
		s.id, quoted(s.name), quoted(kiss.Language), quoted(kiss.Encoding), quoted(kiss.TimeZone))
}
