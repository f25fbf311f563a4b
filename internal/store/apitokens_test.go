package store_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
)

func TestAPITokens(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a, b := twoTenants(t, db)
		for _, scopes := range [][]string{nil, {"Appointment.write"}, {"system/Appointment.delete"}, {"system/App ointment.read"}, {"user/*.read"}} {
			if _, _, err := db.CreateAPIToken(ctx, a.ID, "PVS", scopes); !errs.Is(err, errs.Invalid) {
				t.Errorf("scopes %q accepted: %v", scopes, err)
			}
		}
		if _, _, err := db.CreateAPIToken(ctx, a.ID, " ", []string{"system/*.read"}); !errs.Is(err, errs.Invalid) {
			t.Errorf("token without a name: %v", err)
		}
		tokA, created, err := db.CreateAPIToken(ctx, a.ID, "PVS Praxis am Markt", []string{"system/Appointment.write", "system/*.read"})
		if err != nil {
			t.Fatal(err)
		}
		tokB, _, err := db.CreateAPIToken(ctx, b.ID, "Kalender", []string{"system/Slot.read"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.LookupAPIToken(ctx, tokA)
		if err != nil || got.TenantID != a.ID || got.ID != created.ID {
			t.Fatalf("lookup: %+v %v", got, err)
		}
		if diff := cmp.Diff([]string{"system/Appointment.write", "system/*.read"}, got.Scopes); diff != "" {
			t.Errorf("scopes (-want +got):\n%s", diff)
		}
		if got, _ := db.LookupAPIToken(ctx, tokB); got.TenantID != b.ID {
			t.Errorf("B's token names %q", got.TenantID)
		}
		if rows := rawRows(t, db, `SELECT token_hash FROM api_tokens WHERE token_hash = $1`, tokA); len(rows) != 0 {
			t.Error("the token is stored in plain")
		}
		if err := db.RevokeAPIToken(ctx, a.ID, created.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.LookupAPIToken(ctx, tokA); !errs.Is(err, errs.Unauthorized) {
			t.Errorf("revoked token: %v", err)
		}
		if _, err := db.LookupAPIToken(ctx, "trs_erfunden"); !errs.Is(err, errs.Unauthorized) {
			t.Errorf("unknown token: %v", err)
		}
		if err := db.RevokeAPIToken(ctx, a.ID, created.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("second revoke: %v", err)
		}

		// The list shows A's token, revoked, without the token or its hash; not B's.
		_, second, err := db.CreateAPIToken(ctx, a.ID, "Terminbuchung", []string{"system/Slot.read"})
		if err != nil {
			t.Fatal(err)
		}
		list, err := db.ListAPITokens(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.APIToken{
			{ID: second.ID, TenantID: a.ID, Name: "Terminbuchung", Scopes: []string{"system/Slot.read"}, CreatedAt: second.CreatedAt},
			{ID: created.ID, TenantID: a.ID, Name: "PVS Praxis am Markt", Scopes: []string{"system/Appointment.write", "system/*.read"}, CreatedAt: created.CreatedAt, Revoked: true},
		}
		if second.CreatedAt.Equal(created.CreatedAt) {
			// The same millisecond: the order falls to the ids.
			if second.ID > created.ID {
				want[0], want[1] = want[1], want[0]
			}
		}
		if diff := cmp.Diff(want, list); diff != "" {
			t.Errorf("ListAPITokens (-want +got):\n%s", diff)
		}
		if leak := fmt.Sprintf("%+v", list); strings.Contains(leak, tokA) || strings.Contains(leak, tokB) {
			t.Error("the list shows a token")
		}
	})
}
