package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/gorilla/websocket"

	v1 "hello-websocket/peers/go/internal/v1"
)

// sendQueueSize bounds the messages waiting to be written to one session.
// While it is full the session reads nothing more, so a client that sends
// requests but does not read answers holds a bounded amount of memory (and
// soon stops answering Pings, which evicts it).
const sendQueueSize = 16

// lingerBytes is the most a closing session reads and throws away while it
// waits for the client's Close (PROTOCOL.md, section 7).
const lingerBytes = 16 << 20

// A session's dialect, as the session- line names it; none until fixed.
const (
	dialectNone = "none"
)

// session is one client's WebSocket connection. Its loop (run) owns the
// session's state and decides; a reader and a writer goroutine move messages
// between the connection and the loop.
type session struct {
	srv            *server
	conn           *websocket.Conn
	tcp            *trackedConn
	id, name, peer string
	dialect        string // none, json or v1: fixed by the first data message

	inbox  chan inbound  // from the reader; unbuffered, so the reader waits for the loop
	outbox chan outgoing // to the writer
	// pending holds answers the loop has made but not yet handed to the
	// writer; the loop reads no input while it is not empty.
	pending []outgoing
	pongs   chan struct{} // a WebSocket Pong arrived

	closing    chan struct{} // closed when the session ends: the reader then lingers, or stops
	readerDone chan struct{}
	readEnd    error // why reading ended; read once readerDone is closed
	writerDone chan struct{}
	writeErr   error // why writing failed; read once writerDone is closed
	gone       chan struct{}

	json jsonSession
	v1   *v1Session // nil until the session is v1
}

// inbound is what the reader hands the loop: a data message, a message over
// the limit (whose rest the reader throws away), or the end of reading.
type inbound struct {
	kind      int // websocket.TextMessage or websocket.BinaryMessage
	data      []byte
	overLimit bool
	err       error
}

// outgoing is a message for the writer: data, a Ping, or the server's Close
// (written by deadline, after which the writer stops).
type outgoing struct {
	kind     int
	data     []byte
	deadline time.Time
}

// serverClose is the server's decision to close a session: the Close it
// sends and the reason the session- line gives.
type serverClose struct {
	code   int
	text   string
	reason string
}

func newSession(srv *server, conn *websocket.Conn, tcp *trackedConn, id, name, peer string) *session {
	return &session{
		srv:        srv,
		conn:       conn,
		tcp:        tcp,
		id:         id,
		name:       name,
		peer:       peer,
		dialect:    dialectNone,
		inbox:      make(chan inbound),
		outbox:     make(chan outgoing, sendQueueSize),
		pongs:      make(chan struct{}, 1),
		closing:    make(chan struct{}),
		readerDone: make(chan struct{}),
		writerDone: make(chan struct{}),
		gone:       make(chan struct{}),
	}
}

// run serves the session until it ends.
func (s *session) run() {
	cfg := s.srv.cfg
	s.srv.log.Printf("session+ id=%s name=%s peer=%s", s.id, quoted(s.name), s.peer)
	// The reader enforces the message limit itself, so that it can keep
	// reading (and throwing away) after the Close 1009.
	s.conn.SetReadLimit(0)
	s.conn.SetPongHandler(func(string) error {
		select {
		case s.pongs <- struct{}{}:
		default:
		}
		return nil
	})
	go s.readLoop()
	go s.writeLoop()
	defer close(s.gone)

	now := time.Now()
	s.json.start(cfg)
	defer s.json.stop()
	switch cfg.dialect {
	case dialectJSON:
		s.becomeJSON()
	case dialectV1:
		s.becomeV1(now)
	}
	v1Timer := time.NewTimer(time.Hour)
	defer v1Timer.Stop()

	for {
		var inbox <-chan inbound
		var outbox chan<- outgoing
		var next outgoing
		if len(s.pending) > 0 {
			outbox, next = s.outbox, s.pending[0]
		} else {
			inbox = s.inbox
		}
		var v1Due <-chan time.Time
		if s.v1 != nil {
			v1Timer.Reset(time.Until(s.v1.nextDue()))
			v1Due = v1Timer.C
		}

		var end *serverClose
		select {
		case <-s.srv.shutdownNow:
			end = &serverClose{websocket.CloseGoingAway, "server shutting down", "shutdown"}
		case outbox <- next:
			s.pending = s.pending[1:]
		case in := <-inbox:
			if in.err != nil {
				s.finish(describeReadError(in.err))
				return
			}
			end = s.take(in)
		case <-s.writerDone:
			if errors.Is(s.writeErr, websocket.ErrCloseSent) {
				// gorilla's reader has answered a Close by itself (the
				// client's, or its own 1002): the reader is about to hand
				// over why it ended, with the client's close code.
				s.finish(s.readerEnd())
				return
			}
			s.finish("client vanished") // a write that failed: the connection broke
			return
		case <-s.json.pingDue():
			if s.json.pingTick() {
				// A client that is not reading has its Ping skipped; the
				// pong timeout runs on as for a Ping it never read.
				s.offer(outgoing{kind: websocket.PingMessage, deadline: time.Now().Add(cfg.pongTimeout)})
			}
		case <-s.json.pongOverdue():
			end = &serverClose{websocket.ClosePolicyViolation, "pong timeout", "pong timeout"}
		case <-s.pongs:
			s.json.pongCame()
		case <-s.json.kissDue():
			if s.dialect == dialectNone {
				// A client that said nothing by its first Kiss speaks JSON.
				s.becomeJSON()
			}
			s.offer(outgoing{kind: websocket.TextMessage, data: s.srv.kissRequest})
		case now := <-v1Due:
			end = s.v1Timers(now)
		}
		if end != nil {
			s.closeWith(*end)
			return
		}
	}
}

// take handles one data message, in the dialect the first one fixed.
func (s *session) take(in inbound) *serverClose {
	if in.overLimit {
		return &serverClose{websocket.CloseMessageTooBig, "message too big",
			fmt.Sprintf("error: message larger than %d bytes", s.srv.cfg.maxMessageSize)}
	}
	if s.dialect == dialectNone {
		if in.kind == websocket.BinaryMessage && v1.IsV1(in.data) {
			s.becomeV1(time.Now())
		} else {
			s.becomeJSON()
		}
	}
	if s.v1 != nil {
		return s.answerV1(in)
	}
	return s.answerJSON(in)
}

// becomeJSON fixes the session as JSON; its timers are already running.
func (s *session) becomeJSON() { s.dialect = dialectJSON }

// becomeV1 fixes the session as v1: the v1 timers start now, and the JSON
// ones (WebSocket Pings and the JSON Kiss) stop.
func (s *session) becomeV1(now time.Time) {
	s.dialect = dialectV1
	s.json.stop()
	s.v1 = newV1Session(s.srv.cfg.v1, now)
}

// reply queues an answer; it goes out after every answer made before it.
func (s *session) reply(kind int, data []byte) {
	s.pending = append(s.pending, outgoing{kind: kind, data: data})
}

// offer hands a timer's message to the writer, or skips it when the client
// is not reading fast enough to take it.
func (s *session) offer(message outgoing) {
	select {
	case s.outbox <- message:
	default:
	}
}

// readerEnd waits, for at most the close timeout, for the reader to hand
// over why reading ended, and describes it; data messages still coming are
// dropped, since the session is over.
func (s *session) readerEnd() string {
	timeout := time.NewTimer(s.srv.cfg.closeTimeout)
	defer timeout.Stop()
	for {
		select {
		case in := <-s.inbox:
			if in.err != nil {
				return describeReadError(in.err)
			}
		case <-timeout.C:
			return "client closed"
		}
	}
}

// finish ends a session whose connection the client closed or lost. The
// reader, if it is still waiting to hand something over, gives up.
func (s *session) finish(reason string) {
	s.logEnd(reason)
	close(s.closing)
	s.conn.Close()
}

// closeWith ends the session with a Close of the server's own: the answers
// already made go out first, then the Close; meanwhile the reader throws away
// what the client still sends, until its Close, for at most the close timeout
// and lingerBytes (PROTOCOL.md, section 7). When the closing handshake has not
// finished by then, the connection is aborted: SO_LINGER 0, then close, so
// that the kernel frees at once what the client never read (section 5).
func (s *session) closeWith(end serverClose) {
	s.logEnd(end.reason)
	deadline := time.Now().Add(s.srv.cfg.closeTimeout)
	expired := make(chan struct{})
	timer := time.AfterFunc(time.Until(deadline), func() { close(expired) })
	defer timer.Stop()

	s.conn.SetReadDeadline(deadline)
	close(s.closing)
	queue := append(s.pending, outgoing{kind: websocket.CloseMessage,
		data: websocket.FormatCloseMessage(end.code, end.text), deadline: deadline})
	s.pending = nil
handOver:
	for _, message := range queue {
		select {
		case s.outbox <- message:
		case <-s.writerDone:
			break handOver
		case <-expired:
			break handOver
		}
	}
	select {
	case <-s.readerDone:
	case <-expired:
	}
	select {
	case <-s.readerDone:
		if isCloseFrame(s.readEnd) {
			s.conn.Close()
			return
		}
	default:
	}
	s.tcp.abort()
}

func (s *session) logEnd(reason string) {
	s.srv.log.Printf("session- id=%s name=%s reason=%s dialect=%s", s.id, quoted(s.name), reason, s.dialect)
}

// readLoop reads messages and hands them to the loop, one at a time. Once the
// server closes, it lingers: it throws away what comes until the client's Close.
func (s *session) readLoop() {
	defer close(s.readerDone)
	limit := s.srv.cfg.maxMessageSize
	for {
		kind, reader, err := s.conn.NextReader()
		if err == nil {
			var data []byte
			data, err = io.ReadAll(io.LimitReader(reader, limit+1))
			if err == nil && int64(len(data)) > limit {
				s.deliver(inbound{overLimit: true})
				<-s.closing
				s.readEnd = s.linger(reader)
				return
			}
			if err == nil {
				if !s.deliver(inbound{kind: kind, data: data}) {
					s.readEnd = s.linger(nil)
					return
				}
				continue
			}
		}
		s.readEnd = err
		s.deliver(inbound{err: err})
		return
	}
}

// deliver hands a message to the loop; it returns false, handing nothing,
// once the server is closing the session.
func (s *session) deliver(in inbound) bool {
	select {
	case s.inbox <- in:
		return true
	case <-s.closing:
		return false
	}
}

// errLingerLimit ends a lingering close whose client sent too much.
var errLingerLimit = errors.New("more than the linger limit after the server's Close")

// linger throws away the rest of the current message, if any, and what
// follows, until the client's Close (which it returns as a *CloseError), the
// read deadline, or lingerBytes.
func (s *session) linger(current io.Reader) error {
	budget := int64(lingerBytes)
	discard := func(r io.Reader) error {
		n, err := io.CopyN(io.Discard, r, budget+1)
		budget -= n
		if budget < 0 {
			return errLingerLimit
		}
		if errors.Is(err, io.EOF) {
			return nil // the end of the message
		}
		return err
	}
	if current != nil {
		if err := discard(current); err != nil {
			return err
		}
	}
	for {
		_, reader, err := s.conn.NextReader()
		if err != nil {
			return err
		}
		if err := discard(reader); err != nil {
			return err
		}
	}
}

// writeLoop writes what the loop hands it, until the server's Close or a
// write error.
func (s *session) writeLoop() {
	defer close(s.writerDone)
	for {
		var message outgoing
		select {
		case message = <-s.outbox:
		case <-s.gone:
			return
		}
		var err error
		switch message.kind {
		case websocket.PingMessage, websocket.CloseMessage:
			err = s.conn.WriteControl(message.kind, message.data, message.deadline)
		default:
			err = s.conn.WriteMessage(message.kind, message.data)
		}
		if err != nil {
			s.writeErr = err
			return
		}
		if message.kind == websocket.CloseMessage {
			return
		}
	}
}

// isCloseFrame tells whether reading ended with the client's Close frame.
func isCloseFrame(err error) bool {
	var closeErr *websocket.CloseError
	return errors.As(err, &closeErr) && closeErr.Code != websocket.CloseAbnormalClosure
}

// describeReadError is the session- reason for reading that ended. It never
// repeats bytes the client sent (a Close frame's text, for one). A client's
// Close is logged with its code (PROTOCOL.md, section 7): gorilla reports a
// Close without one as 1005.
func describeReadError(err error) string {
	var netErr net.Error
	var closeErr *websocket.CloseError
	switch {
	case isCloseFrame(err) && errors.As(err, &closeErr):
		return fmt.Sprintf("client closed code=%d", closeErr.Code)
	case websocket.IsCloseError(err, websocket.CloseAbnormalClosure),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &netErr):
		return "client vanished"
	default:
		// gorilla's protocol errors ("websocket: bad opcode 3"); it has
		// sent Close 1002 itself.
		return "error: " + err.Error()
	}
}
