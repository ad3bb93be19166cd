package main

import "testing"

func TestTheOriginPolicy(t *testing.T) {
	// A server bound to 0.0.0.0, known as hello.example, listening on 9898
	// (ws) and 9886 (wss), like --host 0.0.0.0 --san hello.example --tls.
	own := newOriginPolicy([]string{"0.0.0.0", "Hello.Example"}, []int{9898, 9886}, nil)
	allowing := newOriginPolicy(nil, []int{9898}, []string{"https://App.example:8443/", "http://other.example", "null"})
	on80 := newOriginPolicy(nil, []int{80, 443}, nil)
	anyOrigin := newOriginPolicy(nil, []int{9898}, []string{"https://app.example", "*"})

	cases := []struct {
		name    string
		policy  *originPolicy
		origins []string
		want    bool
	}{
		{"no Origin: not a browser", own, nil, true},
		{"own, 127.0.0.1 with the plain port", own, []string{"http://127.0.0.1:9898"}, true},
		{"own, with the TLS port", own, []string{"https://127.0.0.1:9886"}, true},
		{"own, localhost", own, []string{"http://localhost:9898"}, true},
		{"own, without case", own, []string{"HTTP://LocalHost:9898"}, true},
		{"own, IPv6 [::1]", own, []string{"http://[::1]:9898"}, true},
		{"own, IPv6 [::1] written out", own, []string{"http://[0:0:0:0:0:0:0:1]:9898"}, true},
		{"own, --host", own, []string{"http://0.0.0.0:9898"}, true},
		{"own, --san without case", own, []string{"https://hello.EXAMPLE:9886"}, true},
		{"own, a trailing /", own, []string{"http://127.0.0.1:9898/"}, true},
		{"own without a port: 80 for http", on80, []string{"http://localhost"}, true},
		{"own without a port: 443 for https", on80, []string{"https://[::1]"}, true},
		{"own without a port, on 9898: 80 is not listened on", own, []string{"http://127.0.0.1"}, false},
		{"own without a port, https on 9898: 443 is not listened on", own, []string{"https://localhost"}, false},
		{"wrong port", own, []string{"http://127.0.0.1:9899"}, false},
		{"wrong host", own, []string{"http://127.0.0.2:9898"}, false},
		{"IPv6 but not ::1", own, []string{"http://[::2]:9898"}, false},
		{"the host's name as a suffix", own, []string{"http://localhost.evil.example:9898"}, false},
		{"wrong scheme ws", own, []string{"ws://127.0.0.1:9898"}, false},
		{"wrong scheme file", own, []string{"file://localhost:9898"}, false},
		{"no scheme", own, []string{"127.0.0.1:9898"}, false},
		{"a path", own, []string{"http://127.0.0.1:9898/ws"}, false},
		{"a query", own, []string{"http://127.0.0.1:9898?x=1"}, false},
		{"user information", own, []string{"http://evil@127.0.0.1:9898"}, false},
		{"a fragment", own, []string{"http://127.0.0.1:9898#x"}, false},
		{"null", own, []string{"null"}, false},
		{"empty", own, []string{""}, false},
		{"garbage", own, []string{"%%%"}, false},
		{"garbage port", own, []string{"http://127.0.0.1:98a8"}, false},
		{"a port out of range", own, []string{"http://127.0.0.1:99999999999999999999"}, false},
		{"half an IPv6 literal", own, []string{"http://[::1:9898"}, false},
		{"two Origin headers, both own", own, []string{"http://127.0.0.1:9898", "http://127.0.0.1:9898"}, false},
		{"a stranger", own, []string{"https://evil.example"}, false},
		{"allowed, without case and trailing /", allowing, []string{"https://app.example:8443"}, true},
		{"allowed, with a trailing /", allowing, []string{"http://other.example/"}, true},
		{"allowed null, when asked for", allowing, []string{"null"}, true},
		{"not allowed: another port", allowing, []string{"https://app.example"}, false},
		{"not allowed: another scheme", allowing, []string{"http://app.example:8443"}, false},
		{"own still accepted beside the allowed", allowing, []string{"http://localhost:9898"}, true},
		{"* allows a stranger", anyOrigin, []string{"https://evil.example"}, true},
		{"* allows null", anyOrigin, []string{"null"}, true},
		{"* allows garbage", anyOrigin, []string{"%%%"}, true},
		{"* allows no Origin", anyOrigin, nil, true},
	}
	for _, c := range cases {
		if got := c.policy.allows(c.origins); got != c.want {
			t.Errorf("%s: allows(%q) = %v, want %v", c.name, c.origins, got, c.want)
		}
	}
}
