package main

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestTheClientsCloseIsLoggedWithItsCode(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{&websocket.CloseError{Code: websocket.CloseNormalClosure, Text: "bye"}, "client closed code=1000"},
		{&websocket.CloseError{Code: websocket.CloseGoingAway}, "client closed code=1001"},
		{&websocket.CloseError{Code: websocket.CloseNoStatusReceived}, "client closed code=1005"},
		{&websocket.CloseError{Code: 4000, Text: "reason=forged"}, "client closed code=4000"},
		{fmt.Errorf("wrapped: %w", &websocket.CloseError{Code: 1000}), "client closed code=1000"},
		// gorilla's own code for a connection that ended without a Close.
		{&websocket.CloseError{Code: websocket.CloseAbnormalClosure}, "client vanished"},
		{io.ErrUnexpectedEOF, "client vanished"},
	}
	for _, c := range cases {
		if got := describeReadError(c.err); got != c.want {
			t.Errorf("describeReadError(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// When gorilla's reader has answered the client's Close and the writer fails
// first with ErrCloseSent, the loop still logs the code the reader brings.
func TestReaderEndWaitsForTheReaderAndSkipsDataStillComing(t *testing.T) {
	s := &session{srv: &server{cfg: config{closeTimeout: time.Second}}, inbox: make(chan inbound)}
	go func() {
		s.inbox <- inbound{kind: websocket.TextMessage, data: []byte("late")}
		s.inbox <- inbound{err: &websocket.CloseError{Code: websocket.CloseGoingAway}}
	}()
	if got := s.readerEnd(); got != "client closed code=1001" {
		t.Fatalf("readerEnd() = %q, want the reader's Close with its code", got)
	}
	s.srv.cfg.closeTimeout = 10 * time.Millisecond
	if got := s.readerEnd(); got != "client closed" {
		t.Fatalf("readerEnd() without a reader = %q, want client closed", got)
	}
}
