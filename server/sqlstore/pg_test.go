package sqlstore_test

import (
	"os"
	"testing"

	"github.com/onecxi/phone/internal/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// postgresURL is a new, empty database in the tests' PostgreSQL.
func postgresURL(t *testing.T) string { return pgtest.URL(t) }
