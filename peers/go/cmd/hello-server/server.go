package main

import (
	"log"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"hello-websocket/peers/go/internal/platform"
	"hello-websocket/peers/go/internal/protocol"
)

// closeGrace is how long the server waits for a peer to answer its Close.
const closeGrace = time.Second

// server accepts WebSocket sessions on the configured path and keeps a
// registry of them, so that a shutdown can close them all.
type server struct {
	cfg         config
	log         *log.Logger
	kissRequest []byte // the host facts do not change while the server runs
	upgrader    websocket.Upgrader

	mu           sync.Mutex
	sessions     map[*session]struct{}
	shuttingDown bool
	running      sync.WaitGroup
}

func newServer(cfg config, logger *log.Logger) *server {
	kissRequest, err := protocol.Encode(platform.HostFacts())
	if err != nil {
		panic(err) // four strings always encode
	}
	return &server{
		cfg:         cfg,
		log:         logger,
		kissRequest: kissRequest,
		upgrader: websocket.Upgrader{
			HandshakeTimeout: cfg.handshakeTimeout,
			// The protocol has no browser clients to protect: accept any Origin.
			CheckOrigin: func(*http.Request) bool { return true },
		},
		sessions: make(map[*session]struct{}),
	}
}

// ServeHTTP upgrades handshakes on the configured path into sessions.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != s.cfg.path {
		http.NotFound(w, r)
		return
	}
	if s.sessionCount() >= s.cfg.maxSessions {
		http.Error(w, "too many sessions", http.StatusServiceUnavailable)
		return
	}
	id := uuid.NewString()
	// Literal keys, so that the header goes out spelled as PROTOCOL.md shows it.
	header := http.Header{"SVR": {protocol.LanguageTag}, "X-Session-Id": {id}}
	conn, err := s.upgrader.Upgrade(w, r, header)
	if err != nil {
		return // the upgrader has answered with an HTTP error
	}
	name := r.Header.Get("WhoAmI")
	if name == "" {
		name = id
	}
	sess := newSession(s, conn, id, name, r.RemoteAddr)
	if !s.register(sess) {
		conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"),
			time.Now().Add(closeGrace))
		conn.Close()
		return
	}
	defer s.unregister(sess)
	sess.run()
}

func (s *server) sessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

func (s *server) register(sess *session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shuttingDown {
		return false
	}
	s.sessions[sess] = struct{}{}
	s.running.Add(1)
	return true
}

func (s *server) unregister(sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, sess)
	s.running.Done()
}

// shutdown sends Close 1001 to every session and waits briefly for them to end.
func (s *server) shutdown() {
	s.mu.Lock()
	s.shuttingDown = true
	sessions := make([]*session, 0, len(s.sessions))
	for sess := range s.sessions {
		sessions = append(sessions, sess)
	}
	s.mu.Unlock()

	for _, sess := range sessions {
		go sess.closeWith(websocket.CloseGoingAway, "server shutting down", "shutdown")
	}
	ended := make(chan struct{})
	go func() {
		s.running.Wait()
		close(ended)
	}()
	select {
	case <-ended:
	case <-time.After(2 * closeGrace):
	}
}

// logValue keeps a value that came from a peer on one log line, as one word.
func logValue(value string) string {
	if value == "" || strings.ContainsFunc(value, func(r rune) bool {
		return unicode.IsSpace(r) || !unicode.IsPrint(r) || r == '"'
	}) {
		return strconv.Quote(value)
	}
	return value
}
