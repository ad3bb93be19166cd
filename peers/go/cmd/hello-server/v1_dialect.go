package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/gorilla/websocket"

	"hello-websocket/peers/go/internal/protocol"
	v1 "hello-websocket/peers/go/internal/v1"
)

// v1Session is the state of a v1 session (PROTOCOL.md, section 12.3): its
// timers, which start when the session becomes v1, and the PINGs awaiting
// their PONG. It does no I/O, so that it can be tested alone.
type v1Session struct {
	timers                       v1Timers
	nextPing, nextTime, nextKiss time.Time
	expires                      time.Time // unless a matching PONG comes first
	outstanding                  []sentPing
}

// sentPing is a PING whose PONG has not come yet.
type sentPing struct {
	timestampMS int64
	sentAt      time.Time
}

func newV1Session(timers v1Timers, now time.Time) *v1Session {
	return &v1Session{
		timers:   timers,
		nextPing: now.Add(timers.pingInterval),
		nextTime: now.Add(timers.timeInterval),
		nextKiss: now.Add(timers.kissInterval),
		expires:  now.Add(timers.sessionTimeout),
	}
}

// maxOutstanding is how many PING timestamps the session keeps: session
// timeout ÷ ping interval, at least one.
func (v *v1Session) maxOutstanding() int {
	return max(1, int(v.timers.sessionTimeout/v.timers.pingInterval))
}

// nextDue is when a timer next needs the loop.
func (v *v1Session) nextDue() time.Time {
	due := v.expires
	for _, t := range []time.Time{v.nextPing, v.nextTime, v.nextKiss} {
		if t.Before(due) {
			due = t
		}
	}
	return due
}

// due fires the timers that are due at now: it returns the messages to send,
// or expired when no matching PONG came for the session timeout. A timer that
// fell behind fires once and is set an interval from now.
func (v *v1Session) due(now time.Time, kiss v1.KissRequest) (messages []v1.Message, expired bool) {
	if !now.Before(v.expires) {
		return nil, true
	}
	if !now.Before(v.nextPing) {
		v.nextPing = now.Add(v.timers.pingInterval)
		ping := v1.Ping{TimestampMS: now.UnixMilli()}
		v.remember(ping.TimestampMS, now)
		messages = append(messages, ping)
	}
	if !now.Before(v.nextTime) {
		v.nextTime = now.Add(v.timers.timeInterval)
		messages = append(messages, v1.NewTimeNotification(now))
	}
	if !now.Before(v.nextKiss) {
		v.nextKiss = now.Add(v.timers.kissInterval)
		messages = append(messages, kiss)
	}
	return messages, false
}

func (v *v1Session) remember(timestampMS int64, now time.Time) {
	kept := v.outstanding[:0]
	for _, ping := range v.outstanding {
		if now.Sub(ping.sentAt) < v.timers.sessionTimeout {
			kept = append(kept, ping)
		}
	}
	if len(kept) >= v.maxOutstanding() {
		kept = kept[len(kept)-v.maxOutstanding()+1:]
	}
	v.outstanding = append(kept, sentPing{timestampMS, now})
}

// pong takes a PONG: one that echoes the timestamp of a PING sent within the
// session timeout and not matched yet extends the session by the session
// timeout, from now; any other is ignored. It says whether the PONG matched.
func (v *v1Session) pong(timestampMS int64, now time.Time) bool {
	for i, ping := range v.outstanding {
		if ping.timestampMS == timestampMS && now.Sub(ping.sentAt) <= v.timers.sessionTimeout {
			v.outstanding = append(v.outstanding[:i], v.outstanding[i+1:]...)
			v.expires = now.Add(v.timers.sessionTimeout)
			return true
		}
	}
	return false
}

// v1Timers sends what the v1 timers have due, or evicts the session.
func (s *session) v1Timers(now time.Time) *serverClose {
	messages, expired := s.v1.due(now, s.srv.v1KissRequest)
	if expired {
		return &serverClose{websocket.ClosePolicyViolation, "pong timeout", "pong timeout"}
	}
	for _, message := range messages {
		// Skipped, as JSON's Kiss is, for a client that is not reading.
		s.offer(outgoing{kind: websocket.BinaryMessage, data: v1.Encode(message)})
	}
	return nil
}

// answerV1 answers one data message of a v1 session (sections 12.2 to 12.6).
func (s *session) answerV1(in inbound) *serverClose {
	if in.kind == websocket.TextMessage {
		return s.refuseV1(v1.CodeDecode, "a text message in a v1 session")
	}
	message, err := v1.Decode(in.data)
	if err != nil {
		var refused *v1.DecodeError
		if !errors.As(err, &refused) {
			refused = &v1.DecodeError{Code: v1.CodeInternal, Reason: err.Error()}
		}
		return s.refuseV1(refused.Code, refused.Reason)
	}
	if !message.Type().SentByClient() {
		return s.refuseV1(v1.CodeUnknownType,
			fmt.Sprintf("%s is sent by a server, not to one", message.Type()))
	}
	switch message := message.(type) {
	case v1.Hello:
		s.replyV1(v1.Bonjour{ServerLanguage: protocol.LanguageTag})
	case v1.EchoRequest:
		s.replyV1(v1.NewEchoResponse(message, protocol.LanguageTag))
	case v1.RandomNumber:
		s.replyV1(v1.NewHashResponse(message))
	case v1.Pong:
		s.v1.pong(message.TimestampMS, time.Now())
	case v1.KissResponse:
		s.logKiss(protocol.KissResponse{
			Language: message.Language, Encoding: message.Encoding, TimeZone: message.TimeZone,
		})
	case v1.Disconnect:
		return &serverClose{websocket.CloseNormalClosure, "disconnect", "client closed"}
	case v1.Error:
		// The client's ERROR gets no answer.
	}
	return nil
}

// refuseV1 answers with ERROR; codes other than 2 then close the session
// with 1002, after the answers to earlier frames.
func (s *session) refuseV1(code v1.ErrorCode, reason string) *serverClose {
	s.replyV1(v1.Error{Code: int32(code), Message: reason})
	if !code.ClosesSession() {
		return nil
	}
	return &serverClose{websocket.CloseProtocolError, "malformed v1 frame",
		fmt.Sprintf("error: malformed v1 frame (code %d)", code)}
}

func (s *session) replyV1(message v1.Message) {
	s.reply(websocket.BinaryMessage, v1.Encode(message))
}
