package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"hello-websocket/peers/go/internal/protocol"
)

// sendQueueSize bounds the answers waiting to be written to one session. When
// it is full the session stops reading, so a client that sends requests but
// does not read answers holds a bounded amount of memory (and soon stops
// answering Pings, which evicts it).
const sendQueueSize = 16

// session is one client's WebSocket connection. Its read loop runs on the
// handshake's goroutine; a writer, a heartbeat and a Kiss loop run beside it.
type session struct {
	srv                *server
	conn               *websocket.Conn
	id, name, peer     string
	started            time.Time
	outbox             chan []byte
	stopSending        chan struct{} // closed once a Close was sent or the connection failed
	stopOnce           sync.Once
	lastPongSinceStart atomic.Int64 // nanoseconds after started; -1 before the first Pong

	mu       sync.Mutex
	reason   string // why the session ended, as the session- line says
	lastKiss protocol.KissResponse
}

func newSession(srv *server, conn *websocket.Conn, id, name, peer string) *session {
	sess := &session{
		srv:         srv,
		conn:        conn,
		id:          id,
		name:        name,
		peer:        peer,
		started:     time.Now(),
		outbox:      make(chan []byte, sendQueueSize),
		stopSending: make(chan struct{}),
	}
	sess.lastPongSinceStart.Store(-1)
	return sess
}

func (s *session) run() {
	log := s.srv.log
	log.Printf("session+ id=%s name=%s peer=%s", s.id, logValue(s.name), s.peer)

	s.conn.SetReadLimit(s.srv.cfg.maxMessageSize)
	s.conn.SetPongHandler(func(string) error {
		s.lastPongSinceStart.Store(int64(time.Since(s.started)))
		return nil
	})
	go s.writeLoop()
	go s.heartbeat()
	go s.kissLoop()

	err := s.readLoop()
	s.setReason(describeReadError(err, s.srv.cfg.maxMessageSize))
	s.stop()
	if errors.Is(err, websocket.ErrReadLimit) {
		// The rest of the oversized message is still coming: read it away
		// briefly, so that closing does not reset the connection before the
		// peer has read our Close 1009.
		s.conn.NetConn().SetReadDeadline(time.Now().Add(closeGrace))
		io.Copy(io.Discard, s.conn.NetConn())
	}
	s.conn.Close()
	log.Printf("session- id=%s name=%s reason=%s", s.id, logValue(s.name), s.endReason())
}

// readLoop handles messages until the connection fails or closes. After the
// server has sent a Close it only waits for the peer's Close.
func (s *session) readLoop() error {
	for {
		kind, data, err := s.conn.ReadMessage()
		if err != nil {
			return err
		}
		if s.stopped() {
			continue
		}
		if kind == websocket.TextMessage && !utf8.Valid(data) {
			s.closeWith(websocket.CloseInvalidFramePayloadData, "invalid UTF-8",
				"error: text message is not valid UTF-8")
			continue
		}
		s.handle(data)
	}
}

func (s *session) handle(data []byte) {
	message, err := protocol.DecodeFromClient(data)
	if err != nil {
		s.send(protocol.NewErrorResponse(err.Error()))
		return
	}
	switch message := message.(type) {
	case protocol.EchoRequest:
		s.send(protocol.NewEchoResponse(message, uuid.NewString()))
	case protocol.KissResponse:
		s.mu.Lock()
		s.lastKiss = message
		s.mu.Unlock()
		s.srv.log.Printf("kiss id=%s name=%s language=%s encoding=%s time_zone=%s",
			s.id, logValue(s.name), logValue(message.Language),
			logValue(message.Encoding), logValue(message.TimeZone))
	}
}

// send queues a message for the writer, waiting while the queue is full.
func (s *session) send(message any) {
	encoded, err := protocol.Encode(message)
	if err != nil {
		encoded, _ = protocol.Encode(protocol.NewErrorResponse("cannot encode the answer: " + err.Error()))
	}
	s.enqueue(encoded)
}

func (s *session) enqueue(encoded []byte) {
	select {
	case s.outbox <- encoded:
	case <-s.stopSending:
	}
}

func (s *session) writeLoop() {
	for {
		select {
		case <-s.stopSending:
			return
		case message := <-s.outbox:
			if err := s.conn.WriteMessage(websocket.TextMessage, message); err != nil {
				s.setReason("error: " + err.Error())
				s.stop()
				s.conn.Close() // ends the read loop too
				return
			}
		}
	}
}

// heartbeat Pings every ping interval and evicts the session when no Pong
// has come within the pong timeout of a Ping.
func (s *session) heartbeat() {
	cfg := s.srv.cfg
	ticker := time.NewTicker(cfg.pingInterval)
	defer ticker.Stop()
	for count := 1; ; count++ {
		select {
		case <-s.stopSending:
			return
		case <-ticker.C:
		}
		pingAt := time.Since(s.started)
		s.conn.WriteControl(websocket.PingMessage, []byte(strconv.Itoa(count)),
			time.Now().Add(cfg.pongTimeout))
		select {
		case <-s.stopSending:
			return
		case <-time.After(cfg.pongTimeout - (time.Since(s.started) - pingAt)):
		}
		if time.Duration(s.lastPongSinceStart.Load()) < pingAt {
			s.closeWith(websocket.ClosePolicyViolation, "pong timeout", "pong timeout")
			return
		}
	}
}

func (s *session) kissLoop() {
	ticker := time.NewTicker(s.srv.cfg.kissInterval)
	defer ticker.Stop()
	for {
		select {
		case <-s.stopSending:
			return
		case <-ticker.C:
			s.enqueue(s.srv.kissRequest)
		}
	}
}

// closeWith sends a Close frame and gives the peer closeGrace to answer it,
// after which the read loop ends. reason is what the session- line will say.
func (s *session) closeWith(code int, text, reason string) {
	s.setReason(reason)
	s.stop()
	s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text),
		time.Now().Add(closeGrace))
	s.conn.SetReadDeadline(time.Now().Add(closeGrace))
}

func (s *session) stop() {
	s.stopOnce.Do(func() { close(s.stopSending) })
}

func (s *session) stopped() bool {
	select {
	case <-s.stopSending:
		return true
	default:
		return false
	}
}

// setReason keeps the first reason given for the end of the session.
func (s *session) setReason(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reason == "" {
		s.reason = reason
	}
}

func (s *session) endReason() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reason
}

func describeReadError(err error, maxMessageSize int64) string {
	var closeErr *websocket.CloseError
	switch {
	case errors.Is(err, websocket.ErrReadLimit):
		return fmt.Sprintf("error: message larger than %d bytes", maxMessageSize)
	case errors.As(err, &closeErr) && closeErr.Code != websocket.CloseAbnormalClosure:
		return "client closed"
	default:
		return "error: " + err.Error()
	}
}
