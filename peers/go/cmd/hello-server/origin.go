package main

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// originPolicy decides which browser origins may open a session (PROTOCOL.md,
// section 2.2), against cross-site WebSocket hijacking: no Origin, the
// server's own origin, or one --allow-origin allows. It is never judged by the
// request's Host header, which the page's side controls through DNS rebinding.
type originPolicy struct {
	hosts    []string         // the server's own host names, lowercase, IPv6 without brackets
	ports    map[int]struct{} // the ports the server really listens on, plain and TLS
	allowed  map[string]struct{}
	allowAll bool // --allow-origin '*'
}

// newOriginPolicy makes the policy of a server known by these host names
// (besides localhost, 127.0.0.1 and [::1]) that listens on these ports.
func newOriginPolicy(hosts []string, ports []int, allowed []string) *originPolicy {
	p := &originPolicy{ports: map[int]struct{}{}, allowed: map[string]struct{}{}}
	for _, host := range append([]string{"localhost", "127.0.0.1", "[::1]"}, hosts...) {
		p.hosts = append(p.hosts, strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")))
	}
	for _, port := range ports {
		p.ports[port] = struct{}{}
	}
	for _, origin := range allowed {
		if origin == "*" {
			p.allowAll = true
		}
		p.allowed[normalOrigin(origin)] = struct{}{}
	}
	return p
}

// allows says whether a handshake with these Origin header values goes on.
// No header is a client that is not a browser. More than one, or an empty
// one, is not an origin.
func (p *originPolicy) allows(origins []string) bool {
	switch {
	case len(origins) == 0:
		return true
	case p.allowAll:
		return true
	case len(origins) > 1:
		return false
	}
	origin := origins[0]
	if _, ok := p.allowed[normalOrigin(origin)]; ok {
		return true
	}
	return p.isOwn(origin)
}

// normalOrigin is how --allow-origin compares: without case and without a
// trailing /.
func normalOrigin(origin string) string {
	return strings.ToLower(strings.TrimSuffix(origin, "/"))
}

// isOwn tells whether an origin is the server's own: http or https, one of
// its host names and one of its ports (80 or 443 when the origin has none).
// net/url parses it; whatever is more than scheme://host[:port][/] (user
// information, a path, a query, a fragment) is not an origin.
func (p *originPolicy) isOwn(origin string) bool {
	u, err := url.Parse(strings.TrimSuffix(origin, "/"))
	if err != nil || u.Opaque != "" || u.User != nil || u.Path != "" || u.RawPath != "" ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Host == "" {
		return false
	}
	var defaultPort int
	switch u.Scheme { // url.Parse has lowered its case
	case "http":
		defaultPort = 80
	case "https":
		defaultPort = 443
	default:
		return false
	}
	port := defaultPort
	if u.Port() != "" {
		if port, err = strconv.Atoi(u.Port()); err != nil {
			return false
		}
	}
	if _, ok := p.ports[port]; !ok {
		return false
	}
	return p.isOwnHost(u.Hostname())
}

// isOwnHost compares a host name without case, and an IP address as an
// address, so that [0:0:0:0:0:0:0:1] is [::1].
func (p *originPolicy) isOwnHost(host string) bool {
	address, addressErr := netip.ParseAddr(host)
	for _, own := range p.hosts {
		if strings.EqualFold(host, own) {
			return true
		}
		if ownAddress, err := netip.ParseAddr(own); addressErr == nil && err == nil && address == ownAddress {
			return true
		}
	}
	return false
}
