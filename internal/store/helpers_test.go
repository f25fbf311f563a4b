package store_test

import (
	"context"
	"testing"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/person"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/tenant"
	"github.com/tresen/tresen/internal/user"
)

var ctx = audit.WithActor(context.Background(), audit.Actor{UserID: "test", Source: "127.0.0.1"})

const goodPW = "Kaffeetasse-Mittwoch"

func mustTenant(tb testing.TB, db *store.DB, kind tenant.Kind, code, name string) tenant.Tenant {
	tb.Helper()
	t, err := db.CreateTenant(ctx, tenant.Tenant{Kind: kind, Code: code, Name: name})
	if err != nil {
		tb.Fatalf("CreateTenant: %v", err)
	}
	return t
}

func mustUser(tb testing.TB, db *store.DB, tenantID, username string, role user.Role) user.User {
	tb.Helper()
	u, err := db.CreateUser(ctx, user.User{TenantID: tenantID, Username: username, Name: "Max Mustermann", Role: role}, goodPW)
	if err != nil {
		tb.Fatalf("CreateUser: %v", err)
	}
	return u
}

func mustPerson(tb testing.TB, db *store.DB, tenantID, name string) person.Person {
	tb.Helper()
	p, err := db.CreatePerson(ctx, tenantID, person.Person{Name: name, BirthDate: "1964-08-12", KVNR: "K030182229", Phone: "+49 30 1234567"})
	if err != nil {
		tb.Fatalf("CreatePerson: %v", err)
	}
	return p
}

// twoTenants creates a practice and a pharmacy.
func twoTenants(tb testing.TB, db *store.DB) (a, b tenant.Tenant) {
	tb.Helper()
	return mustTenant(tb, db, tenant.Practice, "031234567", "Hausarztpraxis Dr. Erika Schneider"),
		mustTenant(tb, db, tenant.Pharmacy, "308412345", "Rosen-Apotheke")
}
