package main

import (
	"context"
	"net"
	"sync"
	"time"
)

// connLimiter counts the connections served at once, from accept to close
// (PROTOCOL.md, section 1: a handshake in progress counts).
type connLimiter struct {
	slots chan struct{} // one token per connection being served
}

func newConnLimiter(max int) *connLimiter {
	return &connLimiter{slots: make(chan struct{}, max)}
}

// acquire takes a place, or says there is none.
func (l *connLimiter) acquire() bool {
	select {
	case l.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (l *connLimiter) release() { <-l.slots }

// trackingListener wraps every accepted connection in a *trackedConn: it
// holds a place under --max-connections (or is marked to be answered 503) and
// is dropped when its WebSocket handshake has not completed in time.
type trackingListener struct {
	net.Listener
	limiter          *connLimiter
	handshakeTimeout time.Duration
}

func (l *trackingListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tcp, ok := conn.(*net.TCPConn)
	if !ok {
		return conn, nil
	}
	tracked := &trackedConn{TCPConn: tcp}
	if l.limiter.acquire() {
		tracked.release = l.limiter.release
	}
	tracked.handshakeTimer = time.AfterFunc(l.handshakeTimeout, func() { tracked.Close() })
	return tracked, nil
}

// trackedConn is an accepted TCP connection. Closing it frees its place.
type trackedConn struct {
	*net.TCPConn
	release        func() // nil when the connection is over the limit
	handshakeTimer *time.Timer
	closeOnce      sync.Once
	closeErr       error
}

// admitted tells whether the connection got a place under --max-connections.
func (c *trackedConn) admitted() bool { return c.release != nil }

// handshakeDone stops the handshake timer. It returns false when the timer
// has already fired and dropped the connection.
func (c *trackedConn) handshakeDone() bool { return c.handshakeTimer.Stop() }

func (c *trackedConn) Close() error {
	c.closeOnce.Do(func() {
		c.handshakeTimer.Stop()
		c.closeErr = c.TCPConn.Close()
		if c.release != nil {
			c.release()
		}
	})
	return c.closeErr
}

// abort closes the connection with SO_LINGER 0: the kernel sends a reset and
// drops at once whatever unsent data it still held for the peer.
func (c *trackedConn) abort() {
	c.SetLinger(0)
	c.Close()
}

// connContextKey marks the request context's value holding the *trackedConn.
type connContextKey struct{}

// withConn is the http.Server's ConnContext: it makes the connection a
// request came on known to ServeHTTP.
func withConn(ctx context.Context, conn net.Conn) context.Context {
	if tracked := trackedConnOf(conn); tracked != nil {
		return context.WithValue(ctx, connContextKey{}, tracked)
	}
	return ctx
}

func connFrom(ctx context.Context) *trackedConn {
	tracked, _ := ctx.Value(connContextKey{}).(*trackedConn)
	return tracked
}

// trackedConnOf finds the *trackedConn under a connection, through a TLS
// layer if there is one.
func trackedConnOf(conn net.Conn) *trackedConn {
	for {
		switch c := conn.(type) {
		case *trackedConn:
			return c
		case interface{ NetConn() net.Conn }: // *tls.Conn
			conn = c.NetConn()
		default:
			return nil
		}
	}
}
