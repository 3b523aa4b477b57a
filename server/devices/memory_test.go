package devices_test

import (
	"testing"

	"github.com/onecxi/phone/server/devices"
	"github.com/onecxi/phone/server/devices/devicestest"
)

func TestMemory(t *testing.T) {
	t.Parallel()
	devicestest.Run(t, func(*testing.T) devices.Store { return devices.NewMemory() })
}
