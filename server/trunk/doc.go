// Package trunk is the server's contract with the telephone network for
// outbound calls ([Trunk], [Dial], [Call], progress [Event]s), and
// [Simulated], the clearly labelled stand-in network the reference server
// uses until a SIP trunk (package sipgw) is configured.
package trunk
