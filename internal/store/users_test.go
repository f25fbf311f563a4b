package store_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/tenant"
	"github.com/tresen/tresen/internal/user"
)

func TestCreateTenant(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a, _ := twoTenants(t, db)
		got, err := db.FindTenantByID(ctx, a.ID)
		if err != nil || got.Name != "Hausarztpraxis Dr. Erika Schneider" || got.Kind != tenant.Practice {
			t.Fatalf("FindTenantByID = %+v, %v", got, err)
		}
		_, err = db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Practice, Code: "031234567", Name: "Zweite Praxis"})
		if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "BSNR besteht bereits") {
			t.Errorf("duplicate BSNR: %v", err)
		}
		_, err = db.CreateTenant(ctx, tenant.Tenant{Kind: tenant.Pharmacy, Code: "308412340", Name: "X"})
		if !errs.Is(err, errs.Invalid) {
			t.Errorf("bad IK: %v", err)
		}
		all, err := db.ListTenants(ctx)
		if err != nil || len(all) != 2 {
			t.Errorf("ListTenants = %d tenants, %v", len(all), err)
		}
	})
}

func TestLoginAndLockout(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		clock := storetest.NewClock(time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC))
		db.Now = clock.Now
		a, _ := twoTenants(t, db)
		u := mustUser(t, db, a.ID, "praxis.team", user.Staff)

		if _, err := db.Authenticate(ctx, "praxis.team", goodPW); err != nil {
			t.Fatalf("right password: %v", err)
		}
		if _, err := db.Authenticate(ctx, "niemand", goodPW); err != store.ErrBadLogin {
			t.Errorf("unknown user: %v", err)
		}
		for i := 1; i <= 5; i++ {
			if _, err := db.Authenticate(ctx, "praxis.team", "falsch-falsch"); err != store.ErrBadLogin {
				t.Fatalf("attempt %d: %v", i, err)
			}
		}
		// Locked now: even the right password is refused, with the time it opens again.
		_, err := db.Authenticate(ctx, "praxis.team", goodPW)
		if !errs.Is(err, errs.Unauthorized) || !strings.Contains(err.Error(), "bis 09:01 Uhr gesperrt") {
			t.Fatalf("while locked: %v", err)
		}
		clock.Advance(61 * time.Second)
		// The sixth failure locks for twice as long.
		db.Authenticate(ctx, "praxis.team", "falsch-falsch")
		clock.Advance(time.Minute + time.Second)
		if _, err := db.Authenticate(ctx, "praxis.team", goodPW); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("second lock shorter than 2 minutes: %v", err)
		}
		clock.Advance(time.Minute)
		if _, err := db.Authenticate(ctx, "praxis.team", goodPW); err != nil {
			t.Fatalf("after lock expired: %v", err)
		}
		entries, err := db.ListAudit(ctx, a.ID, store.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		count := map[audit.Action]int{}
		for _, e := range entries {
			if e.ObjectID == u.ID {
				count[e.Action]++
			}
		}
		if count[audit.LoginFailed] != 8 || count[audit.Lockout] != 2 || count[audit.Login] != 2 {
			t.Errorf("audit counts = %v, want 8 failed (6 wrong passwords, 2 tries while locked), 2 lockouts, 2 logins", count)
		}
	})
}

func TestPasswordChangeAndHistory(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a, _ := twoTenants(t, db)
		u := mustUser(t, db, a.ID, "praxis.team", user.Staff)
		if err := db.ChangePassword(ctx, a.ID, u.ID, "wrong-password", "Neues-Passwort-1"); !errs.Is(err, errs.Invalid) {
			t.Errorf("wrong current password: %v", err)
		}
		if err := db.ChangePassword(ctx, a.ID, u.ID, goodPW, "passwort123"); !errs.Is(err, errs.Invalid) {
			t.Errorf("blocked password accepted: %v", err)
		}
		pws := []string{goodPW, "Gruene-Wiese-01", "Gruene-Wiese-02", "Gruene-Wiese-03", "Gruene-Wiese-04", "Gruene-Wiese-05"}
		for i := 1; i < len(pws); i++ {
			if err := db.ChangePassword(ctx, a.ID, u.ID, pws[i-1], pws[i]); err != nil {
				t.Fatalf("change %d: %v", i, err)
			}
		}
		// The last five (01..05) may not come back; the one before them (goodPW) may.
		for _, old := range pws[1:] {
			err := db.ChangePassword(ctx, a.ID, u.ID, pws[5], old)
			if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "letzten 5") {
				t.Errorf("reuse of %q: %v", old, err)
			}
		}
		if err := db.ChangePassword(ctx, a.ID, u.ID, pws[5], goodPW); err != nil {
			t.Errorf("sixth-last password refused: %v", err)
		}
	})
}

func TestResetToken(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		clock := storetest.NewClock(time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC))
		db.Now = clock.Now
		a, _ := twoTenants(t, db)
		u := mustUser(t, db, a.ID, "praxis.team", user.Staff)
		tok, err := db.CreateResetToken(ctx, a.ID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.ResetPassword(ctx, tok, "Blauer-Himmel-77"); err != nil {
			t.Fatalf("reset: %v", err)
		}
		if err := db.ResetPassword(ctx, tok, "Blauer-Himmel-78"); !errs.Is(err, errs.Invalid) {
			t.Errorf("token used twice: %v", err)
		}
		if _, err := db.Authenticate(ctx, "praxis.team", "Blauer-Himmel-77"); err != nil {
			t.Errorf("login with reset password: %v", err)
		}
		tok2, _ := db.CreateResetToken(ctx, a.ID, u.ID)
		clock.Advance(user.ResetTokenTTL)
		if err := db.ResetPassword(ctx, tok2, "Blauer-Himmel-79"); !errs.Is(err, errs.Invalid) {
			t.Errorf("expired token accepted: %v", err)
		}
	})
}

func TestSessionsAndTOTP(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		clock := storetest.NewClock(time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC))
		db.Now = clock.Now
		a, _ := twoTenants(t, db)
		u := mustUser(t, db, a.ID, "praxis.team", user.Staff)
		tok, err := db.CreateSession(ctx, u, false)
		if err != nil {
			t.Fatal(err)
		}
		s, err := db.LookupSession(ctx, tok)
		if err != nil || s.User.ID != u.ID || s.TenantID != a.ID || s.CSRFToken == "" {
			t.Fatalf("LookupSession = %+v, %v", s, err)
		}
		clock.Advance(user.IdleTimeout - time.Second)
		if _, err := db.LookupSession(ctx, tok); err != nil {
			t.Fatalf("within idle timeout: %v", err)
		}
		clock.Advance(user.IdleTimeout + time.Second)
		if _, err := db.LookupSession(ctx, tok); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("after idle timeout: %v", err)
		}
		// Absolute timeout: active all along, still ends after 12 hours.
		tok, _ = db.CreateSession(ctx, u, false)
		for clock.Advance(10 * time.Minute); ; clock.Advance(10 * time.Minute) {
			if _, err := db.LookupSession(ctx, tok); err != nil {
				break
			}
		}
		if s, _ := db.LookupSession(ctx, tok); s.User.ID != "" {
			t.Fatal("session survived")
		}

		url, err := db.BeginTOTP(ctx, a.ID, u.ID, "Tresen")
		if err != nil || !strings.HasPrefix(url, "otpauth://totp/Tresen:praxis.team?") {
			t.Fatalf("BeginTOTP = %q, %v", url, err)
		}
		secret := url[strings.Index(url, "secret=")+7:]
		secret = secret[:strings.IndexAny(secret+"&", "&")]
		if err := db.EnableTOTP(ctx, a.ID, u.ID, "000000"); !errs.Is(err, errs.Invalid) {
			t.Errorf("wrong code accepted: %v", err)
		}
		code, _ := totp.GenerateCode(secret, time.Now())
		if err := db.EnableTOTP(ctx, a.ID, u.ID, code); err != nil {
			t.Fatalf("EnableTOTP: %v", err)
		}
		got, _ := db.FindUserByID(ctx, a.ID, u.ID)
		if !got.TOTPEnabled {
			t.Error("TOTP not enabled")
		}
		if ok, err := db.VerifyTOTP(ctx, a.ID, u.ID, code); !ok || err != nil {
			t.Errorf("VerifyTOTP = %v, %v", ok, err)
		}
	})
}

func TestLastOwner(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a, _ := twoTenants(t, db)
		o := mustUser(t, db, a.ID, "praxis.chef", user.Owner)
		if err := db.UpdateUserRole(ctx, a.ID, o.ID, user.Staff); !errs.Is(err, errs.Conflict) {
			t.Errorf("demoting last owner: %v", err)
		}
		if err := db.DeleteUser(ctx, a.ID, o.ID); !errs.Is(err, errs.Conflict) {
			t.Errorf("deleting last owner: %v", err)
		}
		_, err := db.CreateUser(ctx, user.User{TenantID: a.ID, Username: "praxis.chef", Name: "X", Role: user.Staff}, goodPW)
		if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "schon vergeben") {
			t.Errorf("duplicate user name: %v", err)
		}
	})
}

func TestMustChangePassword(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a, _ := twoTenants(t, db)
		u, err := db.CreateUser(ctx, user.User{TenantID: a.ID, Username: "praxis.neu", Name: "Max Mustermann", Role: user.Staff, MustChangePassword: true}, goodPW)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.Authenticate(ctx, "praxis.neu", goodPW)
		if err != nil || !got.MustChangePassword {
			t.Fatalf("first login: MustChangePassword = %v, %v", got.MustChangePassword, err)
		}
		if err := db.ChangePassword(ctx, a.ID, u.ID, goodPW, "Eigenes-Passwort-9"); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.FindUserByID(ctx, a.ID, u.ID); got.MustChangePassword {
			t.Error("still must change after changing")
		}
	})
}

// TestResetTokenOnce fires one reset token from many goroutines: exactly one reset wins.
func TestResetTokenOnce(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		a, _ := twoTenants(t, db)
		u := mustUser(t, db, a.ID, "praxis.team", user.Staff)
		tok, err := db.CreateResetToken(ctx, a.ID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		const n = 8
		errc := make(chan error, n)
		for i := range n {
			go func() { errc <- db.ResetPassword(ctx, tok, fmt.Sprintf("Gleichzeitig-Gesetzt-%d", i)) }()
		}
		won := 0
		for range n {
			switch err := <-errc; {
			case err == nil:
				won++
			case !errs.Is(err, errs.Invalid):
				t.Errorf("losing reset: %v, want Invalid", err)
			}
		}
		if won != 1 {
			t.Errorf("%d resets succeeded with one token, want 1", won)
		}
	})
}
