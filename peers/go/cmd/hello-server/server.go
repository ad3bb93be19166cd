package main

import (
	"log"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"hello-websocket/peers/go/internal/platform"
	"hello-websocket/peers/go/internal/protocol"
	v1 "hello-websocket/peers/go/internal/v1"
)

// maxNameBytes is the longest name a session is logged under (section 2.1).
const maxNameBytes = 128

// server accepts WebSocket sessions on the configured path and keeps count of
// them, so that a shutdown can close them all and wait for them.
type server struct {
	cfg           config
	log           *log.Logger
	kissRequest   []byte // JSON; the host facts do not change while the server runs
	v1KissRequest v1.KissRequest
	upgrader      websocket.Upgrader
	origins       *originPolicy

	mu           sync.Mutex
	shuttingDown bool
	shutdownNow  chan struct{} // closed when the server shuts down
	running      sync.WaitGroup
}

func newServer(cfg config, logger *log.Logger, origins *originPolicy) *server {
	facts := platform.HostFacts()
	kissRequest, err := protocol.Encode(facts)
	if err != nil {
		panic(err) // four strings always encode
	}
	return &server{
		cfg:         cfg,
		log:         logger,
		kissRequest: kissRequest,
		v1KissRequest: v1.KissRequest{
			OSName:         facts.OSName,
			OSVersion:      facts.OSVersion,
			OSRelease:      facts.OSRelease,
			OSArchitecture: facts.OSArchitecture,
		},
		upgrader: websocket.Upgrader{
			HandshakeTimeout: cfg.handshakeTimeout,
			// ServeHTTP has applied the Origin policy already, before the
			// connection limit; gorilla's own check would judge by Host.
			CheckOrigin: func(*http.Request) bool { return true },
		},
		origins:     origins,
		shutdownNow: make(chan struct{}),
	}
}

// ServeHTTP upgrades handshakes on the configured path into sessions.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The path without the query: /ws?whoami=alice is /ws.
	if r.URL.Path != s.cfg.path {
		http.NotFound(w, r)
		return
	}
	// The Origin policy (PROTOCOL.md, section 2.2), after the path and
	// before the connection limit.
	if origins := r.Header.Values("Origin"); !s.origins.allows(origins) {
		s.log.Printf("origin refused peer=%s origin=%s", r.RemoteAddr, quoted(cleanName(strings.Join(origins, ", "))))
		w.Header().Set("Connection", "close")
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	tracked := connFrom(r.Context())
	if tracked == nil || !tracked.admitted() {
		w.Header().Set("Connection", "close")
		http.Error(w, "too many connections", http.StatusServiceUnavailable)
		return
	}
	id := uuid.NewString()
	// Literal keys, so that the header goes out spelled as PROTOCOL.md shows it.
	header := http.Header{"SVR": {protocol.LanguageTag}, "X-Session-Id": {id}}
	conn, err := s.upgrader.Upgrade(w, r, header)
	if err != nil {
		return // the upgrader has answered with an HTTP error
	}
	if !tracked.handshakeDone() {
		conn.Close() // the handshake timeout has already dropped the connection
		return
	}
	// r.URL.Query() decodes the query as a form (percent escapes, + a space),
	// leaving out a malformed pair and keeping the others.
	sess := newSession(s, conn, tracked, id, sessionName(r.Header, r.URL.Query(), id), r.RemoteAddr)
	if !s.register() {
		conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"),
			time.Now().Add(s.cfg.closeTimeout))
		conn.Close()
		return
	}
	defer s.running.Done()
	sess.run()
}

func (s *server) register() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shuttingDown {
		return false
	}
	s.running.Add(1)
	return true
}

// shutdown has every session send Close 1001, and waits for them to end for
// at most the close timeout and a little more.
func (s *server) shutdown() {
	s.mu.Lock()
	s.shuttingDown = true
	close(s.shutdownNow)
	s.mu.Unlock()

	ended := make(chan struct{})
	go func() {
		s.running.Wait()
		close(ended)
	}()
	select {
	case <-ended:
	case <-time.After(s.cfg.closeTimeout + time.Second):
	}
}

// sessionName is what a session is logged as (PROTOCOL.md, sections 2 and
// 2.1): the WhoAmI header, else userId, else the whoami query parameter of
// the handshake's URL (for browsers, which cannot set headers), else the
// session id; each candidate goes through cleanName, and one that is empty
// after it counts as absent.
func sessionName(header http.Header, query url.Values, id string) string {
	for _, candidate := range []string{header.Get("WhoAmI"), header.Get("userId"), query.Get("whoami")} {
		if name := cleanName(candidate); name != "" {
			return name
		}
	}
	return id
}

// cleanName is a value from the network as it may be logged (PROTOCOL.md,
// section 2.1): made valid UTF-8, trimmed of white space, cut to at most 128
// bytes at a character boundary, then trimmed again at its end, since the cut
// may leave white space there (127 bytes, a space, more). White space is
// unicode.IsSpace, Unicode's White_Space property: the set Rust's trim strips.
func cleanName(raw string) string {
	name := strings.TrimSpace(strings.ToValidUTF8(raw, string(utf8.RuneError)))
	if len(name) <= maxNameBytes {
		return name
	}
	cut := maxNameBytes
	for !utf8.RuneStart(name[cut]) {
		cut--
	}
	return strings.TrimRightFunc(name[:cut], unicode.IsSpace)
}

// quoted writes a value that came from the network as a JSON string, so that
// it can neither forge a field nor break a log line.
func quoted(value string) string {
	encoded, err := protocol.Encode(value)
	if err != nil {
		panic(err) // a string always encodes
	}
	return string(encoded)
}
