package sqlstore

import "testing"

func TestMigrationsAreNumberedInOrder(t *testing.T) {
	t.Parallel()
	for i, m := range migrations {
		if m.version != i+1 {
			t.Fatalf("migrations[%d] is version %d: versions are 1, 2, … in order (step indexes them so)", i, m.version)
		}
		if m.name == "" {
			t.Fatalf("migration %d has no name", m.version)
		}
	}
}
