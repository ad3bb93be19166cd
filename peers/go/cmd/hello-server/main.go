// Command hello-server is the Go server of the Hello WebSocket protocol.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"hello-websocket/peers/go/internal/cli"
)

// config is everything the command line and the environment set.
type config struct {
	host             string
	port             int
	path             string
	tls              bool
	tlsPort          int
	certsDir         string
	pingInterval     time.Duration
	pongTimeout      time.Duration
	kissInterval     time.Duration
	handshakeTimeout time.Duration
	maxMessageSize   int64
	maxConnections   int
	closeTimeout     time.Duration
	dialect          string // auto, json or v1
	v1               v1Timers
	allowOrigins     []string // --allow-origin, else WS_ALLOW_ORIGIN
	sans             []string // --san: more names of the server, for its own origin
}

// v1Timers are the timers of a v1 session (PROTOCOL.md, section 12.3).
type v1Timers struct {
	pingInterval   time.Duration
	sessionTimeout time.Duration
	timeInterval   time.Duration
	kissInterval   time.Duration
}

// The dialects a server may be pinned to, or auto.
const (
	dialectAuto = "auto"
	dialectJSON = "json"
	dialectV1   = "v1"
)

func parseConfig() config {
	var cfg config
	flag.StringVar(&cfg.host, "host", cli.EnvString("WS_HOST", "127.0.0.1"), "address to bind")
	flag.IntVar(&cfg.port, "port", int(cli.EnvInt("WS_PORT", 9898)), "plain ws port; 0 picks a free one")
	flag.StringVar(&cfg.path, "path", cli.EnvString("WS_PATH", "/ws"), "the WebSocket path; others get 404")
	flag.BoolVar(&cfg.tls, "tls", false, "also serve wss on --tls-port")
	flag.IntVar(&cfg.tlsPort, "tls-port", int(cli.EnvInt("WS_TLS_PORT", 9886)), "wss port; 0 picks a free one")
	flag.StringVar(&cfg.certsDir, "certs-dir", cli.EnvString("WS_CERTS_DIR", cli.RepoPath("certs")), "folder of server.crt and server.key")
	flag.DurationVar(&cfg.pingInterval, "ping-interval", cli.EnvDuration("WS_PING_INTERVAL", 10*time.Second), "how often to Ping each session")
	flag.DurationVar(&cfg.pongTimeout, "pong-timeout", cli.EnvDuration("WS_PONG_TIMEOUT", 10*time.Second), "how long a Ping may go unanswered before eviction")
	flag.DurationVar(&cfg.kissInterval, "kiss-interval", cli.EnvDuration("WS_KISS_INTERVAL", 5*time.Second), "how often to send each session a Kiss request")
	flag.DurationVar(&cfg.handshakeTimeout, "handshake-timeout", cli.EnvDuration("WS_HANDSHAKE_TIMEOUT", 10*time.Second), "how long a connection may take to complete its handshake")
	flag.Int64Var(&cfg.maxMessageSize, "max-message-size", cli.EnvInt("WS_MAX_MESSAGE_SIZE", 1<<20), "largest message accepted, in bytes")
	flag.IntVar(&cfg.maxConnections, "max-connections", 10000, "connections served at once, counted from accept; more handshakes are answered 503")
	flag.DurationVar(&cfg.closeTimeout, "close-timeout", 2*time.Second, "how long a closing session waits for the client's Close")
	flag.StringVar(&cfg.dialect, "dialect", cli.EnvString("WS_DIALECT", dialectAuto), "auto tells JSON and v1 apart per session; json or v1 pins every session to one")
	flag.DurationVar(&cfg.v1.pingInterval, "v1-ping-interval", cli.EnvDuration("WS_V1_PING_INTERVAL", time.Second), "how often a v1 session gets a PING")
	flag.DurationVar(&cfg.v1.sessionTimeout, "v1-session-timeout", cli.EnvDuration("WS_V1_SESSION_TIMEOUT", time.Minute), "how long a v1 session lives without a matching PONG")
	flag.DurationVar(&cfg.v1.timeInterval, "v1-time-interval", cli.EnvDuration("WS_V1_TIME_INTERVAL", 5*time.Second), "how often a v1 session gets a TIME_NOTIFICATION")
	flag.DurationVar(&cfg.v1.kissInterval, "v1-kiss-interval", cli.EnvDuration("WS_V1_KISS_INTERVAL", 5*time.Second), "how often a v1 session gets a KISS_REQUEST")
	cfg.allowOrigins = envList("WS_ALLOW_ORIGIN")
	fromFlags := false
	flag.Func("allow-origin", "a browser origin allowed besides the server's own, or * for any; repeatable (env WS_ALLOW_ORIGIN, comma-separated)", func(value string) error {
		if !fromFlags { // the flags replace the environment's list
			cfg.allowOrigins, fromFlags = nil, true
		}
		if strings.TrimSpace(value) == "" {
			return errors.New("an empty origin allows nothing")
		}
		cfg.allowOrigins = append(cfg.allowOrigins, strings.TrimSpace(value))
		return nil
	})
	flag.Func("san", "another name of the server, a host of its own origin; repeatable", func(value string) error {
		if strings.TrimSpace(value) == "" {
			return errors.New("an empty name")
		}
		cfg.sans = append(cfg.sans, strings.TrimSpace(value))
		return nil
	})
	flag.Parse()

	switch {
	case flag.NArg() > 0:
		cli.Fail("unexpected argument %q", flag.Arg(0))
	case cfg.port < 0 || cfg.port > 65535:
		cli.Fail("--port %d is not a port number", cfg.port)
	case cfg.tlsPort < 0 || cfg.tlsPort > 65535:
		cli.Fail("--tls-port %d is not a port number", cfg.tlsPort)
	case !strings.HasPrefix(cfg.path, "/"):
		cli.Fail("--path %q must start with /", cfg.path)
	case cfg.pingInterval <= 0, cfg.pongTimeout <= 0, cfg.kissInterval <= 0, cfg.handshakeTimeout <= 0,
		cfg.closeTimeout <= 0, cfg.v1.pingInterval <= 0, cfg.v1.sessionTimeout <= 0,
		cfg.v1.timeInterval <= 0, cfg.v1.kissInterval <= 0:
		cli.Fail("intervals and timeouts must be positive")
	case cfg.pongTimeout > cfg.pingInterval:
		cli.Fail("--pong-timeout %v must not exceed --ping-interval %v", cfg.pongTimeout, cfg.pingInterval)
	case cfg.v1.sessionTimeout < cfg.v1.pingInterval:
		cli.Fail("--v1-session-timeout %v must be at least --v1-ping-interval %v", cfg.v1.sessionTimeout, cfg.v1.pingInterval)
	case cfg.maxMessageSize <= 0:
		cli.Fail("--max-message-size must be positive")
	case cfg.maxConnections <= 0:
		cli.Fail("--max-connections must be positive")
	case cfg.dialect != dialectAuto && cfg.dialect != dialectJSON && cfg.dialect != dialectV1:
		cli.Fail("--dialect %q is none of auto, json, v1", cfg.dialect)
	}
	return cfg
}

// envList is a comma-separated variable's values, trimmed, empty ones left out.
func envList(name string) []string {
	var values []string
	for _, value := range strings.Split(os.Getenv(name), ",") {
		if value = strings.TrimSpace(value); value != "" {
			values = append(values, value)
		}
	}
	return values
}

func main() {
	cfg := parseConfig()
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(cfg config) error {
	stdout := log.New(os.Stdout, "", 0)

	type endpoint struct {
		scheme string
		port   int
		tls    *tls.Config
	}
	endpoints := []endpoint{{scheme: "ws", port: cfg.port}}
	if cfg.tls {
		certificate, err := tls.LoadX509KeyPair(
			filepath.Join(cfg.certsDir, "server.crt"), filepath.Join(cfg.certsDir, "server.key"))
		if err != nil {
			return fmt.Errorf("loading the TLS certificate: %w", err)
		}
		endpoints = append(endpoints, endpoint{scheme: "wss", port: cfg.tlsPort, tls: &tls.Config{
			Certificates: []tls.Certificate{certificate},
			MinVersion:   tls.VersionTLS12,
			NextProtos:   []string{"http/1.1"},
		}})
	}

	// Listen first: the server's own origins have the ports really bound
	// (--port 0 picks one).
	var tcpListeners []net.Listener
	var ports []int
	for _, ep := range endpoints {
		tcpListener, err := net.Listen("tcp", net.JoinHostPort(cfg.host, strconv.Itoa(ep.port)))
		if err != nil {
			for _, l := range tcpListeners {
				l.Close()
			}
			return err
		}
		tcpListeners = append(tcpListeners, tcpListener)
		ports = append(ports, tcpListener.Addr().(*net.TCPAddr).Port)
	}
	origins := newOriginPolicy(append([]string{cfg.host}, cfg.sans...), ports, cfg.allowOrigins)
	srv := newServer(cfg, stdout, origins)

	serveErrors := make(chan error, len(endpoints))
	var httpServers []*http.Server
	limiter := newConnLimiter(cfg.maxConnections)
	for i, ep := range endpoints {
		tcpListener := tcpListeners[i]
		var listener net.Listener = &trackingListener{
			Listener: tcpListener, limiter: limiter, handshakeTimeout: cfg.handshakeTimeout,
		}
		if ep.tls != nil {
			listener = tls.NewListener(listener, ep.tls)
		}
		httpServer := &http.Server{
			Handler:           srv,
			ConnContext:       withConn,
			ReadHeaderTimeout: cfg.handshakeTimeout, // also bounds the TLS handshake
			IdleTimeout:       cfg.handshakeTimeout,
			// An empty map turns HTTP/2 off: WebSocket upgrades need HTTP/1.1.
			TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		}
		httpServers = append(httpServers, httpServer)
		stdout.Printf("listening on %s://%s%s", ep.scheme, tcpListener.Addr(), cfg.path)
		go func() {
			if err := httpServer.Serve(listener); !errors.Is(err, http.ErrServerClosed) {
				serveErrors <- err
			}
		}()
	}

	stop, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()
	var serveErr error
	select {
	case <-stop.Done():
	case serveErr = <-serveErrors:
	}
	for _, httpServer := range httpServers {
		httpServer.Close()
	}
	srv.shutdown()
	return serveErr
}
