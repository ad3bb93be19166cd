//go:build !unix

package platform

import (
	"runtime"

	"hello-websocket/peers/go/internal/protocol"
)

// HostFacts reports what the Go runtime knows of the host for a Kiss request.
func HostFacts() protocol.KissRequest {
	return protocol.KissRequest{
		OSName:         known(runtime.GOOS),
		OSVersion:      unknown,
		OSRelease:      unknown,
		OSArchitecture: known(runtime.GOARCH),
	}
}
