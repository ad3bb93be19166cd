// Command hello-client is the Go client of the Hello WebSocket protocol.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"

	"hello-websocket/peers/go/internal/cli"
)

// config is everything the command line and the environment set.
type config struct {
	url          string
	ca           string
	count        int
	duration     time.Duration // 0: until SIGINT or SIGTERM
	timeout      time.Duration
	name         string
	headers      headerFlags
	pingInterval time.Duration
	dialect      string // json or v1
	randomEvery  time.Duration
}

// The dialects the client speaks.
const (
	dialectJSON = "json"
	dialectV1   = "v1"
)

// headerFlags collects the repeatable -H 'Name: value' flag.
type headerFlags [][2]string

func (h *headerFlags) String() string { return fmt.Sprint(*h) }

func (h *headerFlags) Set(text string) error {
	name, value, found := strings.Cut(text, ":")
	name = strings.TrimSpace(name)
	if !found || name == "" || strings.ContainsAny(name, " \t") {
		return fmt.Errorf("expected 'Name: value', got %q", text)
	}
	*h = append(*h, [2]string{name, strings.TrimSpace(value)})
	return nil
}

func parseConfig() config {
	defaultURL := (&url.URL{
		Scheme: "ws",
		Host: net.JoinHostPort(cli.EnvString("WS_SERVER", "127.0.0.1"),
			cli.EnvString("WS_PORT", "9898")),
		Path: cli.EnvString("WS_PATH", "/ws"),
	}).String()

	var cfg config
	flag.StringVar(&cfg.url, "url", defaultURL, "the server's URL, ws:// or wss://")
	flag.StringVar(&cfg.ca, "ca", cli.RepoPath("certs", "ca.crt"), "the CA to trust for wss://")
	flag.IntVar(&cfg.count, "count", 3, "how many Echo requests to send, all in flight together")
	flag.DurationVar(&cfg.duration, "duration", 0, "how long to stay connected before closing (default: until SIGINT or SIGTERM)")
	flag.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "how long to wait for the connection and for each answer")
	flag.StringVar(&cfg.name, "name", "go-client-"+uuid.NewString()[:4], "sent as the WhoAmI header (and, in v1, as userId)")
	flag.Var(&cfg.headers, "H", "an extra handshake header 'Name: value'; repeatable")
	flag.DurationVar(&cfg.pingInterval, "ping-interval", cli.EnvDuration("WS_PING_INTERVAL", 10*time.Second),
		"the server's ping interval: no Ping for three of them is reported")
	flag.StringVar(&cfg.dialect, "dialect", dialectJSON, "json, or v1 for the binary dialect")
	flag.DurationVar(&cfg.randomEvery, "random-interval", cli.EnvDuration("WS_RANDOM_INTERVAL", 5*time.Second),
		"v1 only: how often to send a RANDOM_NUMBER")
	flag.Parse()

	durationGiven := false
	flag.Visit(func(f *flag.Flag) { durationGiven = durationGiven || f.Name == "duration" })
	parsed, err := url.Parse(cfg.url)
	switch {
	case flag.NArg() > 0:
		cli.Fail("unexpected argument %q", flag.Arg(0))
	case err != nil || (parsed.Scheme != "ws" && parsed.Scheme != "wss") || parsed.Host == "":
		cli.Fail("--url %q is not a ws:// or wss:// URL", cfg.url)
	case cfg.count < 0:
		cli.Fail("--count must not be negative")
	case durationGiven && cfg.duration <= 0:
		cli.Fail("--duration must be positive")
	case cfg.timeout <= 0, cfg.pingInterval <= 0, cfg.randomEvery <= 0:
		cli.Fail("--timeout, --ping-interval and --random-interval must be positive")
	case cfg.dialect != dialectJSON && cfg.dialect != dialectV1:
		cli.Fail("--dialect %q is neither json nor v1", cfg.dialect)
	}
	return cfg
}

func main() {
	os.Exit(run(parseConfig()))
}
