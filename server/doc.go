// Package server is the OneCxi reference call server: the "Ozonetel server" of
// the vendor SDK guide, speaking the protocol of PROTOCOL.md (package wire).
//
// It authenticates accounts by API key (stored only as SHA-256 hashes, in
// an accounts store checked on every request, so keys added, rotated or
// revoked while it runs count at once: package accounts), serves
// one WebSocket per call on /v1/call and one per online app on /v1/events, and
// routes calls:
//
//   - inbound calls by the account's DID plan: an echo, a spoken IVR (package
//     endpoint), or an app user;
//   - outbound calls to a trunk (package trunk): the clearly labelled
//     simulated network, or the SIP gateway (package sipgw);
//   - app-to-app calls to every device of the callee, the first answer
//     winning.
//
// This package is the routing core and its HTTP face. One goroutine (the
// registry) owns every call, leg and events connection; the WebSocket
// handlers ask it to act by message. Audio never passes through it: each call
// leg holds an atomic route to its peer's connection and forwards frames
// without decoding them, so a call costs two reader and two writer goroutines
// and nothing else while it talks. The registry reaches the rest through
// small seams (see routing): the trunk, the push deliverer, an event hook, a
// goroutine starter and the shared counters. A callee's devices are told
// about a call one way (registry.notify): the guide's push payload on each
// live events connection and, through package push, to the devices
// registered for push.
//
// The parts a deployment chooses are passed to [New] as options, so the core
// links none of them: the accounts store and the call detail records
// (packages accounts and cdr, interfaces only; SQLite or PostgreSQL in
// package sqlstore), the device store (package devices; SQLite or
// PostgreSQL in sqlstore too), push transports (push/apns, push/fcm) and a SIP trunk.
// Package providers opens the stores and transports a configuration names.
// The phone's embedded demo server uses none of them: its accounts live in
// memory, seeded from its configuration, and it keeps no call records.
//
// # Accounts, keys and call records
//
// The configuration's accounts seed the accounts store at start
// ([SeedAccounts]): each is created if missing, its DIDs set to the
// configuration's, its apiKeyHashes added unless the store has them (a hash
// revoked in the store stays revoked). More accounts and keys are made,
// rotated and revoked in the store while servers run (onecxi-server account
// …). Every request looks its account up: a revoked key is refused from the
// next request on, with 401, on every node sharing the database. What a
// revoked key already has open is left alone: calls in progress go on to
// their end and events connections stay up; a new call, an answer, a resume
// or a reconnection of an events connection is a new request, and refused.
// A store that cannot answer is the server's fault (500 internal), not a
// failed authentication.
//
// Every call that existed (a start that was refused creates none) ends with
// a call detail record (package cdr): account, from, to, call kind, node
// (nodeId), start, answer, end, talk time and end reason. The registry
// hands it to a writer goroutine's bounded queue and never waits for the
// database: when the queue is full the record is dropped, counted and
// logged (at most one line per 10 s); Shutdown writes what is queued.
//
// Start with [New], serve with [Server.Serve] or [Server.ListenAndServe], let
// live calls finish with [Server.Drain] (Serve does when its context ends),
// and stop with [Server.Shutdown]. [DemoConfig] builds a ready-to-run local
// setup.
//
// # Operations
//
// GET /healthz is liveness: 200 while the process answers, draining or not
// (a liveness probe that failed during a drain would get the calls it lets
// finish killed). GET /readyz is readiness ([Server.Ready]): 200 while the
// server takes new calls, 503 shutting_down before it serves, while it
// drains and once it shuts down; point load balancers and Kubernetes
// readiness probes at it. Both are on the call listener without
// credentials.
//
// [Server.Metrics] is a lock-free snapshot of the counters (calls by type
// and state, started, ended by end reason from the fixed [EndReasons] set,
// frames, push outcomes, WebSocket connections, drain state), with no
// account, number or call ID in it. This package links no metrics library:
// the phone embeds it. [WithMetrics] takes the /metrics handler (package
// server/metrics: Prometheus) and [Server.ServeMetrics] (or
// [Server.ListenMetrics] on Config.MetricsListen) serves it, with /healthz
// and /readyz, on a separate operations listener, off by default: call
// volumes are business data, so that address belongs on loopback or a
// private network, never on the public call port.
//
// # Cluster
//
// [WithCluster] makes the server a node of a cluster through the small
// [Cluster] interface: New joins it with Config.NodeID and the server's
// load ([NodeStatus]: active calls, connections, draining), which the
// cluster announces to the other nodes; [Server.Nodes] is the live nodes
// it sees (Metrics' ClusterNodes); Shutdown leaves. Package
// server/natsbus implements it on NATS (embedded in the process by
// default, or Config.NATS); this package links no NATS library, so the
// phone does not either.
//
// Calls cross nodes (bridge.go). A call lives on its home node, the one
// that received its caller. Starting an app call, the home asks the other
// nodes which hold the callee's events connections (and whether callee or
// caller is in a call there), and they ring them. A phone that connects to
// another node to answer, or to resume after its own node went away, is
// bridged: that node relays the WebSocket's messages and frames to the
// home over the cluster, and the home runs it as any leg, so the first
// answer is claimed by one registry, and mute, hold, DTMF, decline, ring
// timeout and resumption behave as on one node. Audio crosses as one
// packet per frame, with no lock and no allocation of the server's own on
// the way (the NATS client allocates its received messages); its delay
// is measured (Metrics.BridgeDelay). A draining node moves the phones
// bridged through it (close 4010: they resume through another node),
// hands the calls homed on it to other nodes when both parties can resume
// (handover.go), and waits for the rest; a node that is gone (its goodbye, or
// three silent announcement intervals) fails what it carried: its homed
// calls' bridged parties hear end{reason:"network_lost"}, and its bridged
// phones are lost to their homes, which keep their calls for a resume.
// Call detail records name the home and the nodes that bridged a party
// ("call-1,call-2").
//
// # Configuration
//
// [LoadConfig] reads JSON such as config.example.json; unknown fields are
// errors, durations are strings ("45s"), and omitted fields take defaults:
//
//	{
//	  "listen": "127.0.0.1:8471",          // host:port
//	  "metricsListen": "",                  // operations listener (/metrics); "": off
//	  "tlsCert": "", "tlsKey": "",          // both (https/wss) or neither
//	  "environment": "DEVELOPMENT",         // or PRODUCTION; goes into push payloads
//	  "ringTimeout": "45s",                 // app-to-app ringing
//	  "maxCalls": 2000,                     // concurrent calls, all accounts
//	  "drainTimeout": "30s",                // live calls' grace on SIGTERM (Drain); "0s": none
//	  "drainDelay": "0s",                   // a cluster node's wait before moving calls (the
//	                                        // load balancer's health-check interval); ≤ 1m
//	  "resumeGrace": "30s",                 // a lost party's time to resume its call; "0s": none
//	  "database": "sqlite:/var/lib/onecxi/server.db", // accounts, keys, call records;
//	                                        // or "postgres://user:pw@host/db"; "": in memory, no records
//	  "nodeId": "call-1",                   // this server in call records and its cluster; default: host name
//	  "nats": "nats://nats-1:4222,nats://nats-2:4222", // the cluster's NATS (WithCluster, package
//	                                        // server/natsbus); "": onecxi-server embeds one, no port
//	  "trustedProxies": ["10.0.0.0/8"],     // load balancers whose X-Forwarded-For names the
//	                                        // client (auth back-off, logs); []: the TCP peer
//	  "deviceDb": "devices.db",             // the device registry's own SQLite file;
//	                                        // "": in the database if any, else in memory
//	  "accounts": [{                        // at least one, unless the database holds them
//	    "name": "acme",                     // X-OneCxi-Account
//	    "apiKeyHashes": ["sha256:<64 hex>"],  // onecxi-server gen-key / hash-key
//	    "dids": {"90000": "echo", "90050": "ivr", "90100": "app:1001"}
//	  }],
//	  "trunk": {"type": "simulated",        // or "none"
//	    "answerDelay": "1s", "mode": "echo", // or "tone:<hz>"
//	    "busy": ["5550100"]},               // numbers that fail busy
//	  "limits": {                           // see Limits; 0 = default, -1 = off
//	    "callsPerAccount": 500,             // concurrent calls of one account
//	    "eventConnsPerAccount": 2000,       // /v1/events connections of one account
//	    "controlPerSecond": 20, "controlBurst": 40, // per connection; over: close 1008
//	    "authFailures": 5, "authWindow": "1m",      // failures before a back-off (429)
//	    "authBackoff": "1s", "authBackoffMax": "5m"} // doubling to the cap
//	}
package server
