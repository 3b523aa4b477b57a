package push

import (
	"fmt"
	"net/url"
	"regexp"

	"github.com/onecxi/phone/wire"
)

// Config says how the server reaches devices that are not online: APNs
// VoIP pushes for iOS and FCM data messages for Android (PROTOCOL.md, "Push
// delivery"). Either may be absent; a device whose provider is not
// configured only rings while its app holds an events connection.
type Config struct {
	APNs *APNsConfig `json:"apns,omitempty"`
	FCM  *FCMConfig  `json:"fcm,omitempty"`
}

// APNsConfig is token-based (.p8 key) APNs authentication. VoIP pushes go
// to topic BundleID+".voip".
type APNsConfig struct {
	KeyFile  string `json:"keyFile"` // the .p8 signing key, PEM
	KeyID    string `json:"keyId"`   // 10 characters, from the developer account
	TeamID   string `json:"teamId"`  // 10 characters
	BundleID string `json:"bundleId"`
	// Production selects api.push.apple.com; otherwise the sandbox.
	Production bool `json:"production"`
	// Host overrides the APNs origin (tests, an egress proxy).
	Host string `json:"host,omitempty"`
}

// FCMConfig is FCM HTTP v1 with a service account.
type FCMConfig struct {
	ProjectID       string `json:"projectId"`
	CredentialsFile string `json:"credentialsFile"` // service-account JSON
	// Endpoint overrides https://fcm.googleapis.com/ (tests, a proxy).
	Endpoint string `json:"endpoint,omitempty"`
}

var (
	appleID    = regexp.MustCompile(`^[A-Z0-9]{10}$`)
	bundleID   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]{0,154}$`)
	gcpProject = regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
)

// Validate reports every problem, each naming its field ("push.apns.keyId:
// …"). The zero Config (no provider) is valid.
func (p Config) Validate() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if a := p.APNs; a != nil {
		if a.KeyFile == "" {
			bad("push.apns.keyFile: the .p8 key file is required")
		}
		if !appleID.MatchString(a.KeyID) {
			bad("push.apns.keyId: %s is not a 10-character Apple key ID", wire.Quote(a.KeyID))
		}
		if !appleID.MatchString(a.TeamID) {
			bad("push.apns.teamId: %s is not a 10-character Apple team ID", wire.Quote(a.TeamID))
		}
		if !bundleID.MatchString(a.BundleID) {
			bad("push.apns.bundleId: %s is not a bundle ID such as com.example.phone", wire.Quote(a.BundleID))
		}
		if a.Host != "" {
			if err := checkProviderURL(a.Host); err != nil {
				bad("push.apns.host: %v", err)
			}
		}
	}
	if f := p.FCM; f != nil {
		if !gcpProject.MatchString(f.ProjectID) {
			bad("push.fcm.projectId: %s is not a Firebase project ID", wire.Quote(f.ProjectID))
		}
		if f.CredentialsFile == "" {
			bad("push.fcm.credentialsFile: the service-account JSON file is required")
		}
		if f.Endpoint != "" {
			if err := checkProviderURL(f.Endpoint); err != nil {
				bad("push.fcm.endpoint: %v", err)
			}
		}
	}
	return errs
}

// checkProviderURL accepts an absolute https (or, for local tests, http) URL.
func checkProviderURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%s is not an http(s) URL", wire.Quote(s))
	}
	return nil
}
