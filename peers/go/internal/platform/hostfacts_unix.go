//go:build unix

package platform

import (
	"bufio"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"hello-websocket/peers/go/internal/protocol"
)

// HostFacts reads the host's OS name, version, kernel release and CPU
// architecture for a Kiss request. Facts it cannot read are "unknown".
func HostFacts() protocol.KissRequest {
	facts := protocol.KissRequest{
		OSName:         unknown,
		OSVersion:      unknown,
		OSRelease:      unknown,
		OSArchitecture: unknown,
	}
	var uts unix.Utsname
	if err := unix.Uname(&uts); err == nil {
		facts.OSName = known(unix.ByteSliceToString(uts.Sysname[:]))
		facts.OSVersion = known(unix.ByteSliceToString(uts.Version[:]))
		facts.OSRelease = known(unix.ByteSliceToString(uts.Release[:]))
		facts.OSArchitecture = known(unix.ByteSliceToString(uts.Machine[:]))
	}
	// Where there is one, the distribution's version ("12" for Debian 12)
	// says more than the kernel build string.
	if version := osReleaseValue("VERSION_ID"); version != "" {
		facts.OSVersion = version
	}
	return facts
}

// osReleaseValue reads one key of /etc/os-release, or "" when it is absent.
func osReleaseValue(key string) string {
	file, err := os.Open("/etc/os-release")
	if err != nil {
		return ""
	}
	defer file.Close()
	scanner := bufio.NewScanner(file)
	for scanner.Scan() {
		name, value, found := strings.Cut(scanner.Text(), "=")
		if found && name == key {
			return strings.Trim(value, `"'`)
		}
	}
	return ""
}
