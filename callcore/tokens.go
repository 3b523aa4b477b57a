package callcore

import (
	"context"
	"errors"

	"github.com/onecxi/phone/platform"
)

// GetPlatform returns the platform's name: "ios" or "android" as in the
// guide, or on desktop "linux", "darwin" or "windows" ("headless" for
// platform.Headless). It works before Initialize.
func (s *SDK) GetPlatform(ctx context.Context) (string, error) {
	if s.isDisposed() {
		return "", errNotInitialized()
	}
	if err := ctx.Err(); err != nil {
		return "", newError(ErrUnknown, err, "getting the platform")
	}
	return s.plat.Name(), nil
}

// GetPlatformToken returns the push token the app's backend needs: the VoIP
// (PushKit) token on iOS, the FCM token on Android, and "" on desktop, which
// rings through ListenForIncomingCalls instead.
func (s *SDK) GetPlatformToken(ctx context.Context) (string, error) {
	if s.isDisposed() {
		return "", errNotInitialized()
	}
	switch s.plat.Name() {
	case "ios":
		return s.token(ctx, platform.TokenVoIP)
	case "android":
		return s.token(ctx, platform.TokenFCM)
	}
	return "", nil
}

// GetVoipToken returns the iOS PushKit VoIP token, or "" where there is none.
func (s *SDK) GetVoipToken(ctx context.Context) (string, error) {
	if s.isDisposed() {
		return "", errNotInitialized()
	}
	return s.token(ctx, platform.TokenVoIP)
}

// GetFcmToken returns the Firebase Cloud Messaging token, or "" where there
// is none.
func (s *SDK) GetFcmToken(ctx context.Context) (string, error) {
	if s.isDisposed() {
		return "", errNotInitialized()
	}
	return s.token(ctx, platform.TokenFCM)
}

// token asks the platform; a build without push support has no token (""),
// which is the guide's null rather than an error.
func (s *SDK) token(ctx context.Context, kind platform.TokenKind) (string, error) {
	t, err := s.plat.PushToken(ctx, kind)
	if errors.Is(err, platform.ErrUnsupported) {
		return "", nil
	}
	if err != nil {
		return "", platformError(ErrUnknown, err, "getting the "+kind.String()+" push token")
	}
	return t, nil
}
