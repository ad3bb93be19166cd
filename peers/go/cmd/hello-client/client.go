package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"hello-websocket/peers/go/internal/platform"
	"hello-websocket/peers/go/internal/protocol"
)

// maxServerMessage is the largest message the client reads: at least four
// times the server's default limit, since an Echo response wraps the data.
const maxServerMessage = 8 << 20

// closeGrace is how long the client waits for the server's Close.
const closeGrace = 2 * time.Second

// greetings are the Echo requests' data, taken in turn.
var greetings = []string{"Hello", "Bonjour", "Hola", "こんにちは", "Ciao", "안녕하세요", "你好"}

// client is one run: a session with the server and what came of it.
type client struct {
	cfg          config
	conn         *websocket.Conn
	started      time.Time
	kissResponse []byte
	replies      chan []byte   // Kiss responses for the writer
	progress     chan struct{} // an Echo answer arrived
	allAnswered  chan struct{} // closed when no Echo request is pending
	done         chan struct{} // closed when the run ends
	lastPing     atomic.Int64  // nanoseconds after started

	mu             sync.Mutex
	pending        map[uint64]string // Echo request id -> data
	kissesAnswered int
	faults         int
}

func run(cfg config) int {
	signals, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()

	conn, err := dial(signals, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: cannot connect to %s: %v\n", cfg.url, err)
		return 1
	}
	kissResponse, err := protocol.Encode(platform.ClientFacts())
	if err != nil {
		panic(err) // three strings always encode
	}
	c := &client{
		cfg:          cfg,
		conn:         conn,
		started:      time.Now(),
		kissResponse: kissResponse,
		replies:      make(chan []byte, 8),
		progress:     make(chan struct{}, 1),
		allAnswered:  make(chan struct{}),
		done:         make(chan struct{}),
		pending:      make(map[uint64]string, cfg.count),
	}
	for id := 1; id <= cfg.count; id++ {
		c.pending[uint64(id)] = greetings[(id-1)%len(greetings)]
	}
	if cfg.count == 0 {
		close(c.allAnswered)
	}
	return c.run(signals)
}

func dial(ctx context.Context, cfg config) (*websocket.Conn, error) {
	dialer := websocket.Dialer{HandshakeTimeout: cfg.timeout}
	if strings.HasPrefix(cfg.url, "wss:") {
		caPEM, err := os.ReadFile(cfg.ca)
		if err != nil {
			return nil, fmt.Errorf("reading the CA: %w", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(caPEM) {
			return nil, fmt.Errorf("no PEM certificate in %s", cfg.ca)
		}
		dialer.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	// Literal keys, so that the headers go out spelled as given.
	header := http.Header{"WhoAmI": {cfg.name}}
	for _, h := range cfg.headers {
		header[h[0]] = append(header[h[0]], h[1])
	}

	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	conn, response, err := dialer.DialContext(ctx, cfg.url, header)
	if err != nil {
		if response != nil {
			err = fmt.Errorf("%w (HTTP %s)", err, response.Status)
		}
		return nil, err
	}
	fmt.Printf("connected to %s as %s\n", cfg.url, cfg.name)
	for _, name := range []string{"SVR", "X-Session-Id"} {
		value := response.Header.Get(name)
		if value == "" {
			value = "(missing)"
		}
		fmt.Printf("%s: %s\n", name, value)
	}
	return conn, nil
}

func (c *client) run(signals context.Context) int {
	c.conn.SetReadLimit(maxServerMessage)
	c.conn.SetPingHandler(func(payload string) error {
		c.lastPing.Store(int64(time.Since(c.started)))
		// An error here means the connection is gone, which reading will tell.
		c.conn.WriteControl(websocket.PongMessage, []byte(payload), time.Now().Add(c.cfg.timeout))
		return nil
	})
	readDone := make(chan error, 1)
	go func() { readDone <- c.readLoop() }()
	go c.writeLoop()

	var durationOver <-chan time.Time
	if c.cfg.duration > 0 {
		durationOver = time.After(c.cfg.duration)
	}
	answerTimeout := time.NewTimer(c.cfg.timeout)
	silenceCheck := time.NewTicker(c.cfg.pingInterval)
	defer silenceCheck.Stop()
	allAnswered := c.allAnswered
	answered, warnedSilence := false, false

	for {
		select {
		case <-signals.Done():
			fmt.Println("interrupted")
			return c.closeAndReport(readDone)
		case <-durationOver:
			durationOver = nil
			if answered {
				return c.closeAndReport(readDone)
			}
		case <-allAnswered:
			allAnswered = nil
			answered = true
			answerTimeout.Stop()
			if c.cfg.duration > 0 && durationOver == nil {
				return c.closeAndReport(readDone)
			}
		case <-c.progress:
			// Progress after the last answer must not re-arm the stopped timer.
			if !answered {
				answerTimeout.Reset(c.cfg.timeout)
			}
		case <-answerTimeout.C:
			c.fault("no Echo answer within %v for ids %s", c.cfg.timeout, c.pendingIDs())
			return c.closeAndReport(readDone)
		case err := <-readDone:
			c.connectionEnded(err)
			return c.report()
		case <-silenceCheck.C:
			silentFor := time.Since(c.started) - time.Duration(c.lastPing.Load())
			silent := silentFor > 3*c.cfg.pingInterval
			if silent && !warnedSilence {
				fmt.Fprintf(os.Stderr, "warning: no Ping from the server for %v\n", silentFor.Round(time.Millisecond))
			}
			warnedSilence = silent
		}
	}
}

// closeAndReport sends Close 1000, waits briefly for the server's Close and
// reports the run.
func (c *client) closeAndReport(readDone <-chan error) int {
	close(c.done)
	c.conn.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, "done"),
		time.Now().Add(closeGrace))
	select {
	case err := <-readDone:
		var closeErr *websocket.CloseError
		if errors.As(err, &closeErr) {
			fmt.Printf("closed: %d %s\n", closeErr.Code, closeErr.Text)
		}
	case <-time.After(closeGrace):
		fmt.Println("closed: the server did not answer the Close")
	}
	c.conn.Close()
	return c.report()
}

// connectionEnded reports a connection the server closed or lost before the
// client's Close: the run did not go as asked, even when the server is only
// going away (1001).
func (c *client) connectionEnded(err error) {
	close(c.done)
	c.conn.Close()
	var closeErr *websocket.CloseError
	if errors.As(err, &closeErr) && closeErr.Code != websocket.CloseAbnormalClosure {
		c.fault("the server closed the session: %d %s", closeErr.Code, closeErr.Text)
		return
	}
	c.fault("the connection was lost: %v", err)
}

func (c *client) report() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	answered := c.cfg.count - len(c.pending)
	fmt.Printf("result: %d/%d Echo answers, %d Kiss requests answered, %d faults\n",
		answered, c.cfg.count, c.kissesAnswered, c.faults)
	switch {
	case c.faults > 0, len(c.pending) > 0:
		return 1
	case c.cfg.duration > 0 && c.kissesAnswered == 0:
		fmt.Fprintln(os.Stderr, "fault: no Kiss request came during the run")
		return 1
	}
	return 0
}

func (c *client) readLoop() error {
	for {
		kind, data, err := c.conn.ReadMessage()
		if err != nil {
			return err
		}
		if kind == websocket.TextMessage && !utf8.Valid(data) {
			c.fault("the server sent a text message that is not valid UTF-8")
			continue
		}
		c.handle(data)
	}
}

// writeLoop sends the Echo requests, all at once, and the Kiss responses.
func (c *client) writeLoop() {
	id := 1
	for {
		if id <= c.cfg.count {
			// Kiss responses go first, so that they stay prompt.
			select {
			case <-c.done:
				return
			case reply := <-c.replies:
				c.writeKissResponse(reply)
				continue
			default:
			}
			request := protocol.EchoRequest{ID: uint64(id), Data: c.pendingData(uint64(id)), Meta: protocol.LanguageTag}
			encoded, err := protocol.Encode(request)
			if err != nil {
				panic(err) // an Echo request always encodes
			}
			c.write(encoded)
			id++
			continue
		}
		select {
		case <-c.done:
			return
		case reply := <-c.replies:
			c.writeKissResponse(reply)
		}
	}
}

// write sends a message; an error means the connection is gone, which the
// read loop reports.
func (c *client) write(message []byte) error {
	return c.conn.WriteMessage(websocket.TextMessage, message)
}

// writeKissResponse sends a Kiss response and counts it as answered.
func (c *client) writeKissResponse(reply []byte) {
	if c.write(reply) == nil {
		c.mu.Lock()
		c.kissesAnswered++
		c.mu.Unlock()
	}
}

func (c *client) handle(data []byte) {
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
		select {
		case c.replies <- c.kissResponse:
		case <-c.done:
		}
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
	delete(c.pending, result.ID)
	select {
	case c.progress <- struct{}{}:
	default:
	}
	if len(c.pending) == 0 {
		close(c.allAnswered)
	}
}

func (c *client) pendingData(id uint64) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pending[id]
}

func (c *client) pendingIDs() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := make([]string, 0, len(c.pending))
	for id := range c.pending {
		ids = append(ids, strconv.FormatUint(id, 10))
		if len(ids) == 10 {
			ids = append(ids, "...")
			break
		}
	}
	return strings.Join(ids, ", ")
}

func (c *client) fault(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faultLocked(format, args...)
}

func (c *client) faultLocked(format string, args ...any) {
	c.faults++
	fmt.Fprintf(os.Stderr, "fault: "+format+"\n", args...)
}

func isUUIDv4(text string) bool {
	id, err := uuid.Parse(text)
	return err == nil && id.Version() == 4 && text == id.String()
}
