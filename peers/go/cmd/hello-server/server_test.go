package main

import (
	"bytes"
	"fmt"
	"log"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	v1 "hello-websocket/peers/go/internal/v1"
)

// syncBuffer is the server's log, written by sessions and read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor waits for a log line matching pattern and returns it.
func (b *syncBuffer) waitFor(t *testing.T, pattern string) string {
	t.Helper()
	re := regexp.MustCompile(pattern)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if line := re.FindString(b.String()); line != "" {
			return line
		}
	}
	t.Fatalf("no log line matches %s in:\n%s", pattern, b.String())
	return ""
}

// startServer serves as run does, on a free port of 127.0.0.1, and returns
// the port and the log.
func startServer(t *testing.T, maxConnections int, allowed ...string) (int, *syncBuffer) {
	t.Helper()
	cfg := config{
		host: "127.0.0.1", path: "/ws", pingInterval: 10 * time.Second, pongTimeout: 10 * time.Second,
		kissInterval: 10 * time.Second, handshakeTimeout: 5 * time.Second, maxMessageSize: 1 << 20,
		maxConnections: maxConnections, closeTimeout: time.Second, dialect: dialectAuto,
		v1: v1Timers{time.Second, time.Minute, 10 * time.Second, 10 * time.Second},
	}
	tcpListener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := tcpListener.Addr().(*net.TCPAddr).Port
	logs := &syncBuffer{}
	srv := newServer(cfg, log.New(logs, "", 0), newOriginPolicy([]string{cfg.host}, []int{port}, allowed))
	httpServer := &http.Server{Handler: srv, ConnContext: withConn}
	go httpServer.Serve(&trackingListener{
		Listener: tcpListener, limiter: newConnLimiter(maxConnections), handshakeTimeout: cfg.handshakeTimeout,
	})
	t.Cleanup(func() {
		httpServer.Close()
		srv.shutdown()
	})
	return port, logs
}

// handshake sends a WebSocket upgrade request and returns the status code.
func handshake(t *testing.T, port int, path, origin string) int {
	t.Helper()
	request, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d%s", port, path), nil)
	request.Header.Set("Connection", "Upgrade")
	request.Header.Set("Upgrade", "websocket")
	request.Header.Set("Sec-WebSocket-Version", "13")
	request.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	if origin != "" {
		request.Header.Set("Origin", origin)
	}
	response, err := (&http.Client{Timeout: 5 * time.Second}).Do(request)
	if err != nil {
		t.Fatalf("%s with Origin %q: %v", path, origin, err)
	}
	response.Body.Close()
	return response.StatusCode
}

func TestRefusalsComeInOrderPathOriginConnectionLimit(t *testing.T) {
	port, logs := startServer(t, 1)
	// One connection holds the only place: later handshakes are over the limit.
	holder, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	time.Sleep(50 * time.Millisecond) // let the server accept it

	cases := []struct {
		path, origin string
		want         int
	}{
		{"/elsewhere?whoami=x", "https://evil.example", http.StatusNotFound},
		{"/ws", "https://evil.example", http.StatusForbidden},
		{"/ws?whoami=x", "null", http.StatusForbidden},
		{"/ws", fmt.Sprintf("http://127.0.0.1:%d", port), http.StatusServiceUnavailable},
		{"/ws", "", http.StatusServiceUnavailable},
	}
	for _, c := range cases {
		if got := handshake(t, port, c.path, c.origin); got != c.want {
			t.Errorf("%s with Origin %q: status %d, want %d", c.path, c.origin, got, c.want)
		}
	}
	logs.waitFor(t, `origin refused peer=127\.0\.0\.1:\d+ origin="https://evil\.example"\n`)
	logs.waitFor(t, `origin refused peer=127\.0\.0\.1:\d+ origin="null"\n`)
	if n := strings.Count(logs.String(), "origin refused"); n != 2 {
		t.Errorf("%d origin refused lines, want 2 (a wrong path is not judged by its origin):\n%s", n, logs)
	}
}

func TestARefusedOriginIsLoggedQuotedAndCut(t *testing.T) {
	port, logs := startServer(t, 10, "https://app.example")
	long := "https://" + strings.Repeat("é", 100) + ".example"
	if got := handshake(t, port, "/ws", long); got != http.StatusForbidden {
		t.Fatalf("status %d, want 403", got)
	}
	want := fmt.Sprintf(`origin="https://%s"`, strings.Repeat("é", 60))
	if line := logs.waitFor(t, `origin refused .*\n`); !strings.HasSuffix(line, want+"\n") {
		t.Errorf("got %q, want the origin cut to 128 bytes: %s", line, want)
	}
	if got := handshake(t, port, "/ws", `https://app.example/`); got != http.StatusSwitchingProtocols {
		t.Errorf("an allowed origin: status %d, want 101", got)
	}
}

// dial opens a session as a browser would: its Origin, its name in the query.
func dial(t *testing.T, port int, query string) *websocket.Conn {
	t.Helper()
	header := http.Header{"Origin": {fmt.Sprintf("http://localhost:%d", port)}}
	conn, response, err := websocket.DefaultDialer.Dial(fmt.Sprintf("ws://127.0.0.1:%d/ws%s", port, query), header)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if response.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", response.StatusCode)
	}
	return conn
}

func TestSessionLinesNameTheQueryAndTheClientsCloseCode(t *testing.T) {
	port, logs := startServer(t, 10)
	echo := []byte(`{"id": 1, "data": "Hello", "meta": "GO"}`)
	cases := []struct {
		query string
		close []byte // the client's Close payload; nil for a v1 DISCONNECT
		want  string
	}{
		{"?whoami=q+name", websocket.FormatCloseMessage(1000, "bye"), `name="q name" reason=client closed code=1000 dialect=json`},
		{"?whoami=left", websocket.FormatCloseMessage(1001, ""), `name="left" reason=client closed code=1001 dialect=json`},
		{"?whoami=bare", []byte{}, `name="bare" reason=client closed code=1005 dialect=json`},
		{"?whoami=v1%20client", nil, `name="v1 client" reason=client closed dialect=v1`},
	}
	for _, c := range cases {
		conn := dial(t, port, c.query)
		if c.close == nil {
			conn.WriteMessage(websocket.BinaryMessage, v1.Encode(v1.Disconnect{}))
			for { // until the server's Close 1000, which gorilla answers
				if _, _, err := conn.ReadMessage(); err != nil {
					break
				}
			}
		} else {
			conn.WriteMessage(websocket.TextMessage, echo)
			conn.WriteControl(websocket.CloseMessage, c.close, time.Now().Add(time.Second))
		}
		logs.waitFor(t, `session- id=\S+ `+regexp.QuoteMeta(c.want)+`\n`)
		conn.Close()
	}
}
