package accounts_test

import (
	"testing"

	"github.com/onecxi/phone/server/accounts"
	"github.com/onecxi/phone/server/accounts/accountstest"
)

func TestMemory(t *testing.T) {
	t.Parallel()
	accountstest.Run(t, func(*testing.T) accounts.Store { return accounts.NewMemory() })
}
