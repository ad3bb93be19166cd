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

	"github.com/gorilla/websocket"
)

// maxServerMessage is the largest message the client reads: at least four
// times the server's default limit, since an Echo response wraps the data.
const maxServerMessage = 8 << 20

// closeGrace is how long the JSON client waits for the server's Close.
const closeGrace = 2 * time.Second

// greetings are the Echo requests' data, taken in turn.
var greetings = []string{"Hello", "Bonjour", "Hola", "こんにちは", "Ciao", "안녕하세요", "你好"}

// client is one run: a session with the server and what came of it. What
// differs between the dialects is in json_client.go and v1_client.go.
type client struct {
	cfg         config
	conn        *websocket.Conn
	started     time.Time
	opening     [][]byte      // sent first, in order: the Echo requests (v1: after HELLO)
	replies     chan reply    // answers to the server's requests, for the writer
	progress    chan struct{} // an Echo answer arrived
	allAnswered chan struct{} // closed when no Echo request is pending
	done        chan struct{} // closed when the writer is to stop
	writerDone  chan struct{}
	lastPing    atomic.Int64 // nanoseconds after started

	mu             sync.Mutex
	pending        map[uint64]string // Echo request id -> data
	kissesAnswered int
	faults         int
	v1             v1State
}

// reply is a message for the writer; a Kiss response is counted once sent.
type reply struct {
	data   []byte
	isKiss bool
}

func run(cfg config) int {
	signals, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()

	conn, err := dial(signals, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: cannot connect to %s: %v\n", cfg.url, err)
		return 1
	}
	c := &client{
		cfg:         cfg,
		conn:        conn,
		started:     time.Now(),
		replies:     make(chan reply, 16),
		progress:    make(chan struct{}, 1),
		allAnswered: make(chan struct{}),
		done:        make(chan struct{}),
		writerDone:  make(chan struct{}),
		pending:     make(map[uint64]string, cfg.count),
	}
	for id := 1; id <= cfg.count; id++ {
		c.pending[uint64(id)] = greetings[(id-1)%len(greetings)]
	}
	if cfg.count == 0 {
		close(c.allAnswered)
	}
	if c.speaksV1() {
		c.opening = c.v1Opening()
	} else {
		c.opening = c.jsonOpening()
	}
	return c.run(signals)
}

func (c *client) speaksV1() bool { return c.cfg.dialect == dialectV1 }

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
	if cfg.dialect == dialectV1 {
		header["userId"] = []string{cfg.name}
	}
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
	fmt.Printf("connected to %s as %s (%s)\n", cfg.url, cfg.name, cfg.dialect)
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
	// The JSON server Pings; a v1 server sends no WebSocket Pings.
	var silenceChecks <-chan time.Time
	if !c.speaksV1() {
		silenceCheck := time.NewTicker(c.cfg.pingInterval)
		defer silenceCheck.Stop()
		silenceChecks = silenceCheck.C
	}
	var randomNumbers <-chan time.Time
	if c.speaksV1() {
		randomTicker := time.NewTicker(c.cfg.randomEvery)
		defer randomTicker.Stop()
		randomNumbers = randomTicker.C
	}
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
		case <-randomNumbers:
			c.sendRandomNumber()
		case <-silenceChecks:
			silentFor := time.Since(c.started) - time.Duration(c.lastPing.Load())
			silent := silentFor > 3*c.cfg.pingInterval
			if silent && !warnedSilence {
				fmt.Fprintf(os.Stderr, "warning: no Ping from the server for %v\n", silentFor.Round(time.Millisecond))
			}
			warnedSilence = silent
		}
	}
}

// closeAndReport ends the session as the dialect says and reports the run.
func (c *client) closeAndReport(readDone <-chan error) int {
	if c.speaksV1() {
		c.disconnect(readDone)
	} else {
		c.closeJSON(readDone)
	}
	c.conn.Close()
	return c.report()
}

// closeJSON sends Close 1000 and waits briefly for the server's Close.
func (c *client) closeJSON(readDone <-chan error) {
	c.stopWriter() // a Close may be written beside a stuck writer
	c.conn.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, "done"),
		time.Now().Add(closeGrace))
	select {
	case err := <-readDone:
		printClose(err)
	case <-time.After(closeGrace):
		fmt.Println("closed: the server did not answer the Close")
	}
}

// stopWriter stops the writer and waits for it, for at most --timeout. It
// returns false when the writer is still stuck in a write, so that the caller
// must not write.
func (c *client) stopWriter() bool {
	close(c.done)
	select {
	case <-c.writerDone:
		return true
	case <-time.After(c.cfg.timeout):
		return false
	}
}

func printClose(err error) {
	var closeErr *websocket.CloseError
	if errors.As(err, &closeErr) {
		fmt.Printf("closed: %d %s\n", closeErr.Code, closeErr.Text)
	}
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
	if c.speaksV1() {
		fmt.Printf("result: %d RANDOM_NUMBERs sent, %d HASH_RESPONSEs right, %d unanswered\n",
			c.v1.randomSent, c.v1.hashesRight, len(c.v1.hashes))
	}
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
		if c.speaksV1() {
			c.handleV1(kind, data)
		} else {
			c.handleJSON(kind, data)
		}
	}
}

// writeLoop sends the opening messages, all at once, and the replies, which
// go first so that they stay prompt.
func (c *client) writeLoop() {
	defer close(c.writerDone)
	opening := c.opening
	for {
		if len(opening) > 0 {
			select {
			case <-c.done:
				return
			case r := <-c.replies:
				c.writeReply(r)
				continue
			default:
			}
			c.write(opening[0])
			opening = opening[1:]
			continue
		}
		select {
		case <-c.done:
			return
		case r := <-c.replies:
			c.writeReply(r)
		}
	}
}

// write sends a message in the dialect's kind; an error means the connection
// is gone, which the read loop reports.
func (c *client) write(message []byte) error {
	kind := websocket.TextMessage
	if c.speaksV1() {
		kind = websocket.BinaryMessage
	}
	return c.conn.WriteMessage(kind, message)
}

// writeReply sends a reply and counts a Kiss response as answered.
func (c *client) writeReply(r reply) {
	if c.write(r.data) == nil && r.isKiss {
		c.mu.Lock()
		c.kissesAnswered++
		c.mu.Unlock()
	}
}

// queueReply hands a reply to the writer, unless the run is ending.
func (c *client) queueReply(r reply) {
	select {
	case c.replies <- r:
	case <-c.done:
	}
}

// answeredEcho marks a pending Echo request answered; c.mu is held.
func (c *client) answeredEcho(id uint64) {
	delete(c.pending, id)
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
