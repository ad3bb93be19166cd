package main

import (
	"testing"
	"time"

	v1 "hello-websocket/peers/go/internal/v1"
)

var testTimers = v1Timers{
	pingInterval:   time.Second,
	sessionTimeout: 3 * time.Second,
	timeInterval:   2 * time.Second,
	kissInterval:   5 * time.Second,
}

func TestV1TimersFireFromWhenTheSessionBecameV1(t *testing.T) {
	start := time.Unix(1_000_000, 0)
	session := newV1Session(testTimers, start)
	if got := session.nextDue(); !got.Equal(start.Add(time.Second)) {
		t.Fatalf("first due at %v, want one ping interval after the start", got.Sub(start))
	}
	messages, expired := session.due(start.Add(2*time.Second), v1.KissRequest{})
	if expired || len(messages) != 2 {
		t.Fatalf("at 2s: %v, expired %v; want a PING and a TIME_NOTIFICATION", messages, expired)
	}
	if _, expired := session.due(start.Add(3*time.Second), v1.KissRequest{}); !expired {
		t.Fatal("no matching PONG for the session timeout: the session must expire")
	}
}

func TestOnlyMatchingPongsExtendTheSession(t *testing.T) {
	start := time.Unix(1_000_000, 0)
	session := newV1Session(testTimers, start)
	messages, _ := session.due(start.Add(time.Second), v1.KissRequest{})
	ping := messages[0].(v1.Ping)

	at := start.Add(1500 * time.Millisecond)
	if session.pong(ping.TimestampMS+1, at) {
		t.Fatal("a PONG of a timestamp never sent matched")
	}
	if !session.pong(ping.TimestampMS, at) {
		t.Fatal("the PONG of the PING did not match")
	}
	if session.pong(ping.TimestampMS, at) {
		t.Fatal("a PING was matched twice")
	}
	if !session.expires.Equal(at.Add(testTimers.sessionTimeout)) {
		t.Fatalf("expires %v after the start, want the session timeout after the PONG", session.expires.Sub(start))
	}
}

func TestOutstandingPingsAreBounded(t *testing.T) {
	start := time.Unix(1_000_000, 0)
	session := newV1Session(testTimers, start)
	for i := 1; i <= 10; i++ {
		session.remember(int64(i), start.Add(time.Duration(i)*time.Millisecond))
	}
	if len(session.outstanding) != 3 {
		t.Fatalf("%d outstanding, want session timeout ÷ ping interval = 3", len(session.outstanding))
	}
	if session.outstanding[0].timestampMS != 8 {
		t.Fatalf("kept %v, want the newest three", session.outstanding)
	}
}
