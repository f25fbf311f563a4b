package store_test

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pquerna/otp/totp"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/llm"
	"github.com/tresen/tresen/internal/person"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/tenant"
	"github.com/tresen/tresen/internal/user"
)

// notTenantScoped lists the exported methods of *store.DB that act for no single tenant, so
// that no cross-tenant case exists for them, each with the reason. TestTenantIsolation fails
// when DB gains a method that is neither here nor in its table of cases.
var notTenantScoped = map[string]string{
	"Close":              "closes the handles",
	"Ping":               "checks the connection",
	"Update":             "the transaction primitive: its caller names the scope; TestRowLevelSecurity tests the scope itself",
	"View":               "the transaction primitive: its caller names the scope; TestRowLevelSecurity tests the scope itself",
	"CreateTenant":       "operator task: creates the tenant it names",
	"DeleteTenant":       "operator task: the id is the tenant deleted, there is no acting tenant (TestCryptoShredding)",
	"ListTenants":        "operator task across tenants",
	"FindTenantByCode":   "operator task: finds a tenant by BSNR/IK before any tenant is known",
	"Purge":              "operator task across tenants (TestPurge90Days)",
	"VerifyAudit":        "operator task across chains (TestAuditTamperDetection)",
	"Authenticate":       "login by user name, before any tenant is known",
	"CreateSession":      "takes the authenticated user, whose tenant it uses",
	"LookupSession":      "takes a secret cookie value, which names its own tenant",
	"LookupAPIToken":     "takes a secret bearer token, which names its own tenant (TestAPITokens)",
	"CompleteMFA":        "takes a secret cookie value",
	"DeleteSession":      "takes a secret cookie value",
	"ResetPassword":      "takes a secret reset token, which names its own user",
	"PurgeDue":           "operator task across tenants: Purge's dry run",
	"ActiveGrants":       "operator task: the support desk's list of open grants across tenants",
	"EventBus":           "the bus of every tenant's events; watchers subscribe per tenant (TestEventBus)",
	"OpenReports":        "operator task: the support desk's list of open reports across tenants, without their data",
	"ReadReport":         "support reads a report by its id, which names its tenant; support role only, audited (TestSupportReports)",
	"FindUserByUsername": "operator task: user names are global, typed before any tenant is known",
	"RotateKeys":         "operator task: re-wraps every tenant's data key (TestKeyRotation)",
	"Backup":             "operator task: copies the whole store",
	"Restore":            "operator task: replaces the whole store",
}

// isolationCase is one call made as tenant A with the ids of tenant B's objects.
type isolationCase struct {
	method string // the DB method called
	what   string
	call   func() (any, error)
	want   func(got any, err error) error // nil if B stayed out of reach
}

// TestTenantIsolation calls every tenant-scoped store method as tenant A, with the ids of
// tenant B's objects, and proves that nothing of B is read, listed, changed or deleted: the
// calls fail with NotFound or return only A's own data, and B's rows, files, key and audit
// chain are byte-for-byte what they were.
func TestTenantIsolation(t *testing.T) {
	storetestRunWithDir(t, func(t *testing.T, db *store.DB, dir string) {
		a, b := twoTenants(t, db)
		w := seedTenantWorld(t, db, a, b)

		// The second factor of B's staff user is on: a valid code of it is what an
		// attacker in A would most like to get accepted.
		code, err := totp.GenerateCode(w.bTOTPSecret, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		prescription := retention.Prescription
		bPerson := w.bPersons[0]
		supportTok, err := db.CreateSession(ctx, w.support, false)
		if err != nil {
			t.Fatal(err)
		}

		cases := []isolationCase{
			{"FindTenantByID", "the id is the scope: A reads only A", func() (any, error) { return db.FindTenantByID(ctx, a.ID) }, ownTenant(a.ID)},
			{"CreateUser", "with the id of B's user", func() (any, error) {
				return db.CreateUser(ctx, user.User{ID: w.bStaff.ID, TenantID: a.ID, Username: "praxis.neu", Name: "Max Mustermann", Role: user.Staff}, goodPW)
			}, newObjectOfA(a.ID, w.bStaff.ID)},
			{"FindUserByID", "B's user", func() (any, error) { return db.FindUserByID(ctx, a.ID, w.bStaff.ID) }, wantNotFound},
			{"ListUsers", "A's own only", func() (any, error) { return db.ListUsers(ctx, a.ID) }, ownList(a.ID)},
			{"UpdateUserRole", "B's staff to owner", func() (any, error) { return nil, db.UpdateUserRole(ctx, a.ID, w.bStaff.ID, user.Owner) }, wantNotFound},
			{"UpdateUserRole", "B's owner to read-only", func() (any, error) { return nil, db.UpdateUserRole(ctx, a.ID, w.bOwner.ID, user.ReadOnly) }, wantNotFound},
			{"DeleteUser", "B's staff", func() (any, error) { return nil, db.DeleteUser(ctx, a.ID, w.bStaff.ID) }, wantNotFound},
			{"ChangePassword", "B's staff, right current password", func() (any, error) {
				return nil, db.ChangePassword(ctx, a.ID, w.bStaff.ID, goodPW, "Neues-Passwort-Eindringling-1")
			}, wantNotFound},
			{"CreateResetToken", "for B's owner", func() (any, error) { return db.CreateResetToken(ctx, a.ID, w.bOwner.ID) }, wantNotFound},
			{"BeginTOTP", "for B's owner", func() (any, error) { return db.BeginTOTP(ctx, a.ID, w.bOwner.ID, "Tresen") }, wantNotFound},
			{"PendingTOTP", "of B's owner", func() (any, error) { return db.PendingTOTP(ctx, a.ID, w.bOwner.ID, "Tresen") }, wantNotFound},
			{"EnableTOTP", "for B's staff, valid code", func() (any, error) { return nil, db.EnableTOTP(ctx, a.ID, w.bStaff.ID, code) }, wantNotFound},
			{"VerifyTOTP", "for B's staff, valid code", func() (any, error) { return db.VerifyTOTP(ctx, a.ID, w.bStaff.ID, code) }, wantNotFound},
			{"CreateGrant", "A's own only", func() (any, error) { return db.CreateGrant(ctx, a.ID, time.Hour) }, newObjectOfA(a.ID, w.bGrant.ID)},
			{"RevokeGrant", "B's grant", func() (any, error) { return nil, db.RevokeGrant(ctx, a.ID, w.bGrant.ID) }, wantNotFound},
			{"ListGrants", "A's own only", func() (any, error) { return db.ListGrants(ctx, a.ID) }, ownList(a.ID)},
			{"EnterWithGrant", "into A with B's grant", func() (any, error) {
				return nil, db.EnterWithGrant(ctx, supportTok, w.support, a.ID, w.bGrant.ID)
			}, wantNotFound},
			{"EnterWithGrant", "into B with A's grant", func() (any, error) {
				return nil, db.EnterWithGrant(ctx, supportTok, w.support, b.ID, w.aGrant.ID)
			}, wantNotFound},
			{"CreatePerson", "with B's ids", func() (any, error) {
				return db.CreatePerson(ctx, a.ID, person.Person{ID: bPerson.ID, TenantID: b.ID, Name: "Max Mustermann"})
			}, newObjectOfA(a.ID, bPerson.ID)},
			{"FindPersonByID", "B's person", func() (any, error) { return db.FindPersonByID(ctx, a.ID, bPerson.ID) }, wantNotFound},
			{"FindPersons", "a name only B has", func() (any, error) {
				return db.FindPersons(ctx, a.ID, w.bPersons[1].Name, w.bPersons[1].BirthDate)
			}, wantEmpty},
			{"FindPersonsBornOn", "a birth date only B's second person has", func() (any, error) {
				return db.FindPersonsBornOn(ctx, a.ID, w.bPersons[1].BirthDate)
			}, func(got any, err error) error {
				for _, p := range got.([]person.Person) {
					if p.TenantID != a.ID {
						return fmt.Errorf("found B's person %s", p.ID)
					}
				}
				return err
			}},
			{"FindPersons", "a name both have", func() (any, error) {
				return db.FindPersons(ctx, a.ID, bPerson.Name, bPerson.BirthDate)
			}, wantExactly([]string{w.aPerson.ID})},
			{"AddRecord", "for B's person", func() (any, error) {
				return db.AddRecord(ctx, a.ID, store.Record{PersonID: bPerson.ID, Kind: retention.Request, Data: []byte(`{}`)}, []byte("x"))
			}, wantNotFound},
			{"AddRecord", "with B's record and tenant id", func() (any, error) {
				return db.AddRecord(ctx, a.ID, store.Record{ID: w.bRecord.ID, TenantID: b.ID, Kind: retention.Request, Data: []byte(`{}`)}, []byte("überschrieben?"))
			}, newObjectOfA(a.ID, w.bRecord.ID)},
			{"FindRecordByID", "B's record", func() (any, error) { return db.FindRecordByID(ctx, a.ID, w.bRecord.ID) }, wantNotFound},
			{"SetHandling", "B's record", func() (any, error) {
				return nil, db.SetHandling(ctx, a.ID, w.bRecord.ID, request.Handling{Status: request.HandlingDone})
			}, wantNotFound},
			{"Handling", "B's record", func() (any, error) { return db.Handling(ctx, a.ID, w.bRecord.ID) }, wantExactly(request.Handling{Status: request.HandlingNew})},
			{"Handlings", "A's own only", func() (any, error) {
				all, err := db.Handlings(ctx, a.ID)
				if _, ok := all[w.bHandled]; ok {
					return all, errors.New("B's handling shows")
				}
				return len(all), err
			}, wantExactly(1)},
			{"CreateReport", "on B's request", func() (any, error) { return db.CreateReport(ctx, a.ID, w.bHandled, []byte(`{}`)) }, wantNotFound},
			{"ListReports", "A's own only", func() (any, error) { return db.ListReports(ctx, a.ID) }, ownList(a.ID)},
			{"CloseReport", "B's report", func() (any, error) { return nil, db.CloseReport(ctx, a.ID, w.bReport) }, wantNotFound},
			{"SetRecordPerson", "B's record to A's person", func() (any, error) { return nil, db.SetRecordPerson(ctx, a.ID, w.bRecord.ID, w.aPerson.ID) }, wantNotFound},
			{"SetRecordPerson", "A's record to B's person", func() (any, error) { return nil, db.SetRecordPerson(ctx, a.ID, w.aRecord.ID, bPerson.ID) }, wantNotFound},
			{"UpdateRecord", "B's record", func() (any, error) { return nil, db.UpdateRecord(ctx, a.ID, w.bRecord.ID, []byte(`{"x":1}`)) }, wantNotFound},
			{"RecordFile", "B's record", func() (any, error) { return db.RecordFile(ctx, a.ID, w.bRecord.ID) }, wantNotFound},
			{"ClaimRecord", "B's record", func() (any, error) { return db.ClaimRecord(ctx, a.ID, w.bRecord.ID, time.Now().Add(time.Hour)) }, wantNotFound},
			{"ListRecords", "of B's person", func() (any, error) {
				return db.ListRecords(ctx, a.ID, store.RecordFilter{PersonID: &bPerson.ID})
			}, wantEmpty},
			{"ListRecords", "of a kind only B has", func() (any, error) {
				return db.ListRecords(ctx, a.ID, store.RecordFilter{Kind: &prescription})
			}, wantEmpty},
			{"ListRecords", "all", func() (any, error) { return db.ListRecords(ctx, a.ID, store.RecordFilter{}) }, ownList(a.ID)},
			{"ListRecords", "by the Rezept-ID of B's prescription", func() (any, error) {
				id := "160.100.000.000.019.82"
				return db.ListRecords(ctx, a.ID, store.RecordFilter{Kind: &prescription, Lookup: &id})
			}, wantEmpty},
			{"ExportPerson", "B's person", func() (any, error) { return db.ExportPerson(ctx, a.ID, bPerson.ID) }, wantNotFound},
			{"ErasePerson", "B's person", func() (any, error) { return nil, db.ErasePerson(ctx, a.ID, bPerson.ID) }, wantNotFound},
			{"RetentionPolicy", "A's own only, not B's explicit prescription setting", func() (any, error) { return db.RetentionPolicy(ctx, a.ID) }, wantExactly(retention.Policy{retention.Request: 14})},
			{"SetRetention", "a kind only B has", func() (any, error) { return nil, db.SetRetention(ctx, a.ID, retention.Prescription, 90) }, wantKind(errs.Invalid)},
			{"SetRetention", "A's own kind", func() (any, error) { return nil, db.SetRetention(ctx, a.ID, retention.Request, 7) }, wantKind(-1)},
			{"Schedule", "A's own", func() (any, error) {
				s, err := db.Schedule(ctx, a.ID)
				return s.Resources[0].ID, err
			}, wantExactly("schneider")},
			{"SetSchedule", "A's own", func() (any, error) { return nil, db.SetSchedule(ctx, a.ID, isolationSchedule("schneider")) }, wantKind(-1)},
			{"BookAppointment", "for B's patient", func() (any, error) {
				start := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
				return db.BookAppointment(ctx, a.ID, appointment.Appointment{Type: "kontrolle", Doctor: "weber", Start: start, End: start.Add(15 * time.Minute), PersonID: w.bPersons[0].ID})
			}, wantNotFound},
			{"BookAppointment", "B's doctor's time at B", func() (any, error) {
				// The same resource id and time as B's booking: A's calendar is its own.
				return db.BookAppointment(ctx, a.ID, appointment.Appointment{Type: "kontrolle", Doctor: "weber", Start: w.bAppt.Start, End: w.bAppt.End})
			}, wantKind(-1)},
			{"BusyTimes", "A's own only", func() (any, error) {
				busy, err := db.BusyTimes(ctx, a.ID, w.aAppt.Start, w.aAppt.End)
				var who []string
				for _, b := range busy {
					who = append(who, b.Resource)
				}
				return who, err
			}, wantExactly([]string{"schneider", "weber"})},
			{"FindAppointmentByID", "B's appointment", func() (any, error) { return db.FindAppointmentByID(ctx, a.ID, w.bAppt.ID) }, wantNotFound},
			{"CancelAppointment", "B's appointment", func() (any, error) { return nil, db.CancelAppointment(ctx, a.ID, w.bAppt.ID) }, wantNotFound},
			{"MoveAppointment", "B's appointment", func() (any, error) {
				return db.MoveAppointment(ctx, a.ID, w.bAppt.ID, w.bAppt.Start.Add(time.Hour), "")
			}, wantNotFound},
			{"ClaimReminders", "A's own window: B's mark stays", func() (any, error) {
				return db.ClaimReminders(ctx, a.ID, time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
			}, wantKind(-1)},
			{"SetAppointmentNotify", "B's appointment", func() (any, error) {
				return db.SetAppointmentNotify(ctx, a.ID, w.bAppt.ID, appointment.NotifySMS, "+4915123456789")
			}, wantNotFound},
			{"ListAppointments", "A's own only", func() (any, error) {
				list, err := db.ListAppointments(ctx, a.ID, w.aAppt.Start.Add(-time.Hour), w.aAppt.Start.Add(time.Hour))
				var ids []string
				for _, x := range list {
					if x.ID == w.bAppt.ID {
						ids = append(ids, "B's")
					}
				}
				return ids, err
			}, wantEmpty},
			{"CreateAPIToken", "A's own", func() (any, error) {
				_, tok, err := db.CreateAPIToken(ctx, a.ID, "Kalender", []string{"system/Slot.read"})
				return tok, err
			}, newObjectOfA(a.ID, w.bToken.ID)},
			{"RevokeAPIToken", "B's token", func() (any, error) { return nil, db.RevokeAPIToken(ctx, a.ID, w.bToken.ID) }, wantNotFound},
			{"ListAPITokens", "A's own only", func() (any, error) { return db.ListAPITokens(ctx, a.ID) }, ownList(a.ID)},
			{"Setting", "B's feeds", func() (any, error) {
				var v map[string]string
				err := db.Setting(ctx, a.ID, store.SettingFeeds, &v)
				return v, err
			}, wantNotFound},
			{"SetSetting", "A's own", func() (any, error) {
				return nil, db.SetSetting(ctx, a.ID, store.SettingNotify, map[string]string{"x": "y"})
			}, wantKind(-1)},
			{"LLMSettings", "A switched off, B on", func() (any, error) { return db.LLMSettings(ctx, a.ID) }, wantExactly(llm.Settings{})},
			{"SetLLMSettings", "A's own, switched off", func() (any, error) { return nil, db.SetLLMSettings(ctx, a.ID, llm.Settings{}) }, wantKind(-1)},
			{"ExportTenant", "the id is the scope: A exports only A", func() (any, error) {
				var x collectSink
				err := db.ExportTenant(ctx, a.ID, &x)
				return x, err
			}, ownExport(a.ID)},
			{"Audit", "naming B's person", func() (any, error) {
				return nil, db.Audit(ctx, a.ID, audit.Read, "person", bPerson.ID, "")
			}, wantKind(-1)},
			{"ListAudit", "A's own only", func() (any, error) { return db.ListAudit(ctx, a.ID, store.AuditFilter{Limit: 500}) }, ownList(a.ID)},
		}

		covered := map[string]bool{}
		for _, c := range cases {
			covered[c.method] = true
		}
		dbType := reflect.TypeOf(db)
		for i := range dbType.NumMethod() {
			name := dbType.Method(i).Name
			_, allowed := notTenantScoped[name]
			switch {
			case covered[name] && allowed:
				t.Errorf("DB.%s is both in the isolation table and allow-listed as not tenant-scoped", name)
			case !covered[name] && !allowed:
				t.Errorf("DB.%s has no cross-tenant case: add one to the table in TestTenantIsolation, or allow-list it in notTenantScoped with the reason", name)
			}
		}

		apiBefore := readTenant(t, db, b.ID, w.bPersonIDs())
		rawBefore := rawTenant(t, db, dir, b.ID)

		for _, c := range cases {
			got, err := c.call()
			if e := c.want(got, err); e != nil {
				t.Errorf("%s as A (%s): %v", c.method, c.what, e)
			}
			// Whatever came back names nothing of B. (A failed call may hand back its
			// input, B's ids included; A's audit chain names B's person since the Audit
			// case.)
			if err != nil {
				got = nil
			}
			if leak := mentions(fmt.Sprintf("%+v %v", got, err), w.bSecrets()); leak != "" && c.method != "ListAudit" {
				t.Errorf("%s as A (%s): result %+v, %v reveals %q of B", c.method, c.what, got, err, leak)
			}
		}

		rawAfter := rawTenant(t, db, dir, b.ID)
		if diff := cmp.Diff(rawBefore, rawAfter); diff != "" {
			t.Errorf("B's rows, files or key changed by calls as A (-before +after):\n%s", diff)
		}
		apiAfter := readTenant(t, db, b.ID, w.bPersonIDs())
		if diff := cmp.Diff(apiBefore, apiAfter); diff != "" {
			t.Errorf("B as B sees a change made by calls as A (-before +after):\n%s", diff)
		}
		// B's credentials still work as they did.
		if _, err := db.Authenticate(ctx, w.bStaff.Username, goodPW); err != nil {
			t.Errorf("B's staff cannot log in after the calls as A: %v", err)
		}
		if ok, err := db.VerifyTOTP(ctx, b.ID, w.bStaff.ID, code); !ok || err != nil {
			t.Errorf("B's second factor after the calls as A: %v, %v", ok, err)
		}
	})
}

// TestRowLevelSecurity proves PostgreSQL's second wall: in a transaction scoped to tenant A,
// queries without any tenant filter see, change and delete only A's rows, and cannot write
// rows of B.
func TestRowLevelSecurity(t *testing.T) {
	dir := t.TempDir()
	db := storetest.Open(t, store.Postgres, storetest.Options{DataDir: dir})
	a, b := twoTenants(t, db)
	w := seedTenantWorld(t, db, a, b)
	if _, err := db.CreateSession(ctx, w.support, false); err != nil {
		t.Fatal(err)
	}
	// A leftover of a crash between a deletion and its file removal, for both tenants.
	if err := db.Update(ctx, store.System, func(tx *store.Tx) error {
		for _, id := range []string{a.ID, b.ID} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO blob_trash (blob_key, tenant_id, deleted_at) VALUES ($1, $2, 0)`, id+"/verwaist", id); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	tables := []struct{ table, column string }{
		{"tenants", "id"},
		{"users", "tenant_id"},
		{"sessions", "tenant_id"},
		{"reset_tokens", "tenant_id"},
		{"support_grants", "tenant_id"},
		{"retention_policies", "tenant_id"},
		{"settings", "tenant_id"},
		{"appointments", "tenant_id"},
		{"appointment_units", "tenant_id"},
		{"api_tokens", "tenant_id"},
		{"inbox", "tenant_id"},
		{"support_reports", "tenant_id"},
		{"persons", "tenant_id"},
		{"records", "tenant_id"},
		{"blob_trash", "tenant_id"},
		{"audit_log", "chain"},
		{"audit_heads", "chain"},
	}
	// Every table the migrations enable row-level security on is in the list.
	var rls []string
	if err := db.View(ctx, store.System, func(tx *store.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT relname FROM pg_class WHERE relrowsecurity AND relforcerowsecurity AND relnamespace = current_schema()::regnamespace ORDER BY relname`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				return err
			}
			rls = append(rls, n)
		}
		return rows.Err()
	}); err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, tb := range tables {
		listed = append(listed, tb.table)
	}
	sort.Strings(listed)
	if diff := cmp.Diff(rls, listed); diff != "" {
		t.Errorf("tables with forced row-level security (-database +tested):\n%s", diff)
	}

	column := func(scope, q string) []string {
		t.Helper()
		var out []string
		if err := db.View(ctx, scope, func(tx *store.Tx) error {
			rows, err := tx.QueryContext(ctx, q)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var v sql.NullString
				if err := rows.Scan(&v); err != nil {
					return err
				}
				out = append(out, v.String)
			}
			return rows.Err()
		}); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		sort.Strings(out)
		return out
	}
	count := func(list []string, id string) (n int) {
		for _, v := range list {
			if v == id {
				n++
			}
		}
		return n
	}

	for _, tb := range tables {
		q := `SELECT ` + tb.column + ` FROM ` + tb.table
		all := column(store.System, q)
		// Not vacuous: both tenants have rows here, visible to the operator.
		if count(all, a.ID) == 0 || count(all, b.ID) == 0 {
			t.Fatalf("%s: seed left A or B without rows: %v", tb.table, all)
		}
		got := column(a.ID, q)
		var want []string
		for range count(all, a.ID) {
			want = append(want, a.ID)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s as A without a tenant filter (-want +got):\n%s", tb.table, diff)
		}
	}

	apiBefore := readTenant(t, db, b.ID, w.bPersonIDs())
	rawBefore := rawTenant(t, db, dir, b.ID)
	// Unfiltered writes in A's scope reach A's rows only.
	writes := []struct {
		q    string
		want int64 // rows of A
	}{
		{`UPDATE persons SET updated_at = 1`, 1},
		{`UPDATE users SET failed_logins = 3`, 2},
		{`UPDATE tenants SET created_at = 1`, 1},
		{`UPDATE support_grants SET revoked_at = 1`, 1},
		{`DELETE FROM sessions`, 1},
		{`DELETE FROM reset_tokens`, 1},
		{`DELETE FROM records`, 2}, // a request and the handled one
		{`DELETE FROM retention_policies`, 1},
		{`DELETE FROM blob_trash`, 1},
		{`DELETE FROM audit_heads`, 1},
	}
	for _, wr := range writes {
		err := db.Update(ctx, a.ID, func(tx *store.Tx) error {
			res, err := tx.ExecContext(ctx, wr.q)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != wr.want {
				return fmt.Errorf("changed %d rows, want A's %d", n, wr.want)
			}
			return nil
		})
		if err != nil {
			t.Errorf("%s as A: %v", wr.q, err)
		}
	}
	// Rows cannot be written into B or moved there.
	for _, q := range []string{
		`INSERT INTO persons (id, tenant_id, lookup, data_enc, created_at, updated_at) VALUES ('untergeschoben', '` + b.ID + `', '', '\x00', 0, 0)`,
		`UPDATE persons SET tenant_id = '` + b.ID + `'`,
		`INSERT INTO audit_log (chain, seq, at, tenant_id, actor, action, object_type, object_id, source, detail, prev_hash, hash) VALUES ('` + b.ID + `', 999, 0, '', '', '', '', '', '', '', '', '')`,
	} {
		err := db.Update(ctx, a.ID, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, q)
			return err
		})
		if err == nil || !strings.Contains(err.Error(), "row-level security") {
			t.Errorf("%s as A: %v, want a row-level security violation", q, err)
		}
	}
	if diff := cmp.Diff(rawBefore, rawTenant(t, db, dir, b.ID)); diff != "" {
		t.Errorf("B's rows changed by unfiltered writes as A (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(apiBefore, readTenant(t, db, b.ID, w.bPersonIDs())); diff != "" {
		t.Errorf("B as B sees a change made as A (-before +after):\n%s", diff)
	}
}

// tenantWorld is what seedTenantWorld created.
type tenantWorld struct {
	aOwner, aStaff user.User
	aPerson        person.Person
	aRecord        store.Record
	aGrant         store.Grant
	bOwner, bStaff user.User
	bTOTPSecret    string
	bPersons       []person.Person
	bRecord        store.Record
	bGrant         store.Grant
	aAppt, bAppt   appointment.Appointment
	bToken         store.APIToken
	bHandled       string
	bReport        string
	support        user.User
	tenantA        tenant.Tenant
	tenantB        tenant.Tenant
}

func (w tenantWorld) bPersonIDs() []string {
	var ids []string
	for _, p := range w.bPersons {
		ids = append(ids, p.ID)
	}
	return ids
}

// bSecrets are the ids of B's objects, which no answer to A may contain.
func (w tenantWorld) bSecrets() []string {
	s := []string{w.tenantB.ID, w.bOwner.ID, w.bStaff.ID, w.bRecord.ID, w.bGrant.ID}
	return append(s, w.bPersonIDs()...)
}

// seedTenantWorld gives tenants a and b users, persons, records with files, grants, a
// retention setting, sessions and reset tokens; B's staff user has the second factor on.
// Person 0 of B has the same name and birth date as A's person.
func seedTenantWorld(t *testing.T, db *store.DB, a, b tenant.Tenant) tenantWorld {
	t.Helper()
	w := tenantWorld{tenantA: a, tenantB: b}
	w.aOwner = mustUser(t, db, a.ID, "praxis.chef", user.Owner)
	w.aStaff = mustUser(t, db, a.ID, "praxis.team", user.Staff)
	w.bOwner = mustUser(t, db, b.ID, "apotheke.chef", user.Owner)
	w.bStaff = mustUser(t, db, b.ID, "apotheke.team", user.Staff)
	url, err := db.BeginTOTP(ctx, b.ID, w.bStaff.ID, "Tresen")
	if err != nil {
		t.Fatal(err)
	}
	w.bTOTPSecret = url[strings.Index(url, "secret=")+7:]
	w.bTOTPSecret = w.bTOTPSecret[:strings.IndexAny(w.bTOTPSecret+"&", "&")]
	code, _ := totp.GenerateCode(w.bTOTPSecret, time.Now())
	if err := db.EnableTOTP(ctx, b.ID, w.bStaff.ID, code); err != nil {
		t.Fatal(err)
	}
	if w.support, err = db.CreateUser(ctx, user.User{Username: "betreiber.support", Name: "Max Mustermann", Role: user.Support}, goodPW); err != nil {
		t.Fatal(err)
	}

	w.aPerson = mustPerson(t, db, a.ID, "Erika Mustermann")
	w.bPersons = []person.Person{mustPerson(t, db, b.ID, "Erika Mustermann"), mustPerson(t, db, b.ID, "Max Mustermann der Ältere")}
	if w.aRecord, err = db.AddRecord(ctx, a.ID, store.Record{PersonID: w.aPerson.ID, Kind: retention.Request, Data: []byte(`{"anliegen":"Rückruf"}`)}, []byte("Datei von A")); err != nil {
		t.Fatal(err)
	}
	if w.bRecord, err = db.AddRecord(ctx, b.ID, store.Record{PersonID: w.bPersons[0].ID, Kind: retention.Prescription, Lookup: "160.100.000.000.019.82", Data: []byte(`{"pzn":"01234567"}`)}, []byte("Rezeptbild von B")); err != nil {
		t.Fatal(err)
	}
	if w.aGrant, err = db.CreateGrant(ctx, a.ID, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if w.bGrant, err = db.CreateGrant(ctx, b.ID, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := db.SetRetention(ctx, a.ID, retention.Request, 14); err != nil {
		t.Fatal(err)
	}
	if err := db.SetRetention(ctx, b.ID, retention.Prescription, 90); err != nil {
		t.Fatal(err)
	}
	for _, tn := range []struct {
		id   string
		appt *appointment.Appointment
		who  string
	}{{a.ID, &w.aAppt, "schneider"}, {b.ID, &w.bAppt, "weber"}} {
		if err := db.SetSchedule(ctx, tn.id, isolationSchedule(tn.who)); err != nil {
			t.Fatal(err)
		}
		start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		*tn.appt, err = db.BookAppointment(ctx, tn.id, appointment.Appointment{Type: "kontrolle", Doctor: tn.who, Start: start, End: start.Add(15 * time.Minute),
			Patient: appointment.Patient{Name: "Erika Mustermann"}, Source: "staff"})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := db.CreateAPIToken(ctx, a.ID, "PVS A", []string{"system/*.read"}); err != nil {
		t.Fatal(err)
	}
	if _, w.bToken, err = db.CreateAPIToken(ctx, b.ID, "PVS B", []string{"system/Appointment.write"}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetSetting(ctx, b.ID, store.SettingFeeds, map[string]string{"weber": "geheim"}); err != nil {
		t.Fatal(err)
	}
	for _, tn := range []struct {
		id  string
		dst *string
	}{{a.ID, nil}, {b.ID, &w.bHandled}} {
		rec, err := db.AddRecord(ctx, tn.id, store.Record{Kind: retention.Request, Data: []byte(`{"type":"callback"}`)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.SetHandling(ctx, tn.id, rec.ID, request.Handling{Status: request.HandlingAssigned, Notes: []request.Note{{Text: "Rückruf vereinbart"}}}); err != nil {
			t.Fatal(err)
		}
		if tn.dst != nil {
			*tn.dst = rec.ID
		}
		rep, err := db.CreateReport(ctx, tn.id, rec.ID, []byte(`{"description":"Rückruf kam nicht an"}`))
		if err != nil {
			t.Fatal(err)
		}
		if tn.id == b.ID {
			w.bReport = rep.ID
		}
	}
	if err := db.SetLLMSettings(ctx, a.ID, llm.Settings{}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetLLMSettings(ctx, b.ID, llm.Settings{Enabled: true, BaseURL: "https://llm.example.eu/v1", Model: "m",
		APIKey: "sk-geheim-von-b", EUHosted: true, ZeroRetention: true}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []user.User{w.aStaff, w.bOwner} {
		if _, err := db.CreateSession(ctx, u, false); err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateResetToken(ctx, u.TenantID, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// tenantView is what a tenant sees of itself through the store's API.
type tenantView struct {
	Tenant  tenant.Tenant
	Users   []user.User
	Grants  []store.Grant
	Policy  retention.Policy
	Persons []person.Person
	Records []store.Record
	Files   map[string][]byte
}

// readTenant reads everything of a tenant as the tenant itself.
func readTenant(t *testing.T, db *store.DB, tenantID string, personIDs []string) tenantView {
	t.Helper()
	var v tenantView
	var err error
	if v.Tenant, err = db.FindTenantByID(ctx, tenantID); err != nil {
		t.Fatalf("FindTenantByID: %v", err)
	}
	if v.Users, err = db.ListUsers(ctx, tenantID); err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if v.Grants, err = db.ListGrants(ctx, tenantID); err != nil {
		t.Fatalf("ListGrants: %v", err)
	}
	if v.Policy, err = db.RetentionPolicy(ctx, tenantID); err != nil {
		t.Fatalf("RetentionPolicy: %v", err)
	}
	for _, id := range personIDs {
		p, err := db.FindPersonByID(ctx, tenantID, id)
		if err != nil {
			t.Fatalf("FindPersonByID: %v", err)
		}
		v.Persons = append(v.Persons, p)
	}
	if v.Records, err = db.ListRecords(ctx, tenantID, store.RecordFilter{Limit: 1000}); err != nil {
		t.Fatalf("ListRecords: %v", err)
	}
	v.Files = map[string][]byte{}
	for _, r := range v.Records {
		if r.HasFile {
			if v.Files[r.ID], err = db.RecordFile(ctx, tenantID, r.ID); err != nil {
				t.Fatalf("RecordFile: %v", err)
			}
		}
	}
	return v
}

// rawTenant returns every stored byte of a tenant: its rows in every table (read by the
// operator, past the API), its audit chain and head, its wrapped key and its blob files.
func rawTenant(t *testing.T, db *store.DB, dir, tenantID string) map[string][][]any {
	t.Helper()
	out := map[string][][]any{}
	for table, q := range map[string]string{
		"tenants":            `SELECT * FROM tenants WHERE id = $1`,
		"users":              `SELECT * FROM users WHERE tenant_id = $1 ORDER BY id`,
		"sessions":           `SELECT * FROM sessions WHERE tenant_id = $1 ORDER BY id_hash`,
		"reset_tokens":       `SELECT * FROM reset_tokens WHERE tenant_id = $1 ORDER BY token_hash`,
		"support_grants":     `SELECT * FROM support_grants WHERE tenant_id = $1 ORDER BY id`,
		"retention_policies": `SELECT * FROM retention_policies WHERE tenant_id = $1 ORDER BY kind`,
		"persons":            `SELECT * FROM persons WHERE tenant_id = $1 ORDER BY id`,
		"records":            `SELECT * FROM records WHERE tenant_id = $1 ORDER BY id`,
		"blob_trash":         `SELECT * FROM blob_trash WHERE tenant_id = $1 ORDER BY blob_key`,
		"audit_log":          `SELECT * FROM audit_log WHERE chain = $1 ORDER BY seq`,
		"audit_heads":        `SELECT * FROM audit_heads WHERE chain = $1`,
	} {
		out[table] = rawRows(t, db, q, tenantID)
	}
	wk, err := db.Keys.GetKey(ctx, tenantID)
	if err != nil {
		t.Fatalf("GetKey: %v", err)
	}
	out["key"] = [][]any{{wk.MasterKeyID, wk.Wrapped, wk.CreatedAt.UnixMilli()}}
	for key, data := range blobFiles(t, dir, tenantID) {
		out["blob "+key] = [][]any{{data}}
	}
	return out
}

// rawRows runs q as the operator and returns its rows as the driver delivers them.
func rawRows(t *testing.T, db *store.DB, q string, args ...any) [][]any {
	t.Helper()
	var out [][]any
	err := db.View(ctx, store.System, func(tx *store.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return err
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			out = append(out, vals)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

// blobFiles returns the files in a tenant's part of the blob directory, by blob key.
func blobFiles(t *testing.T, dir, tenantID string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	root := filepath.Join(dir, "blobs")
	err := filepath.WalkDir(filepath.Join(root, tenantID), func(p string, e fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// storetestRunWithDir is storetest.Run with the data directory (SQLite files, keyring and
// blobs) at a place the test knows, so that it can look at the files.
func storetestRunWithDir(t *testing.T, fn func(t *testing.T, db *store.DB, dir string)) {
	t.Helper()
	for _, e := range storetest.Engines {
		t.Run(string(e), func(t *testing.T) {
			dir := t.TempDir()
			fn(t, storetest.Open(t, e, storetest.Options{DataDir: dir}), dir)
		})
	}
}

// mentions returns the first of needles that occurs in s, or "".
func mentions(s string, needles []string) string {
	for _, n := range needles {
		if n != "" && strings.Contains(s, n) {
			return n
		}
	}
	return ""
}

func wantNotFound(got any, err error) error {
	if !errs.Is(err, errs.NotFound) {
		return fmt.Errorf("got %+v, %v; want a NotFound error", got, err)
	}
	return nil
}

// wantKind expects an error of kind k, or none for k < 0.
func wantKind(k errs.Kind) func(any, error) error {
	return func(got any, err error) error {
		switch {
		case k < 0 && err != nil:
			return fmt.Errorf("unexpected error %v", err)
		case k >= 0 && !errs.Is(err, k):
			return fmt.Errorf("got %+v, %v; want a %v error", got, err, k)
		}
		return nil
	}
}

func wantEmpty(got any, err error) error {
	if err != nil {
		return fmt.Errorf("unexpected error %v", err)
	}
	if v := reflect.ValueOf(got); v.Len() != 0 {
		return fmt.Errorf("got %+v, want nothing", got)
	}
	return nil
}

func wantExactly(want any) func(any, error) error {
	return func(got any, err error) error {
		if err != nil {
			return fmt.Errorf("unexpected error %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			return fmt.Errorf("(-want +got):\n%s", diff)
		}
		return nil
	}
}

// ownList expects a list whose every element belongs to tenant id (by its TenantID field,
// or Chain for audit entries).
func ownList(id string) func(any, error) error {
	return func(got any, err error) error {
		if err != nil {
			return fmt.Errorf("unexpected error %v", err)
		}
		v := reflect.ValueOf(got)
		if v.Len() == 0 {
			return fmt.Errorf("A's own list is empty: the case proves nothing")
		}
		for i := range v.Len() {
			el := v.Index(i)
			for _, f := range []string{"TenantID", "Chain"} {
				if fv := el.FieldByName(f); fv.IsValid() && fv.String() != id {
					return fmt.Errorf("element %d has %s %s, not A's", i, f, fv.String())
				}
			}
		}
		return nil
	}
}

// ownTenant expects tenant id itself.
func ownTenant(id string) func(any, error) error {
	return func(got any, err error) error {
		if tn, ok := got.(tenant.Tenant); err != nil || !ok || tn.ID != id {
			return fmt.Errorf("got %+v, %v; want A itself", got, err)
		}
		return nil
	}
}

// newObjectOfA expects a new object of A: the store chose its id (not B's, which was
// passed in) and its tenant.
func newObjectOfA(id, bID string) func(any, error) error {
	return func(got any, err error) error {
		if err != nil {
			return fmt.Errorf("unexpected error %v", err)
		}
		v := reflect.ValueOf(got)
		gotID, gotTenant := v.FieldByName("ID").String(), v.FieldByName("TenantID").String()
		if gotID == bID || gotID == "" || gotTenant != id {
			return fmt.Errorf("created %+v: want a new id in A, not B's %s", got, bID)
		}
		return nil
	}
}

// collectSink keeps what ExportTenant hands it.
type collectSink struct {
	Tenants []tenant.Tenant
	Users   []user.User
	Persons []person.Person
	Records []store.Record
	Files   [][]byte
	Entries []audit.Entry
}

func (s *collectSink) Tenant(t tenant.Tenant, _ retention.Policy) error {
	s.Tenants = append(s.Tenants, t)
	return nil
}
func (s *collectSink) User(u user.User) error       { s.Users = append(s.Users, u); return nil }
func (s *collectSink) Person(p person.Person) error { s.Persons = append(s.Persons, p); return nil }
func (s *collectSink) Record(r store.Record, file []byte) error {
	s.Records, s.Files = append(s.Records, r), append(s.Files, file)
	return nil
}
func (s *collectSink) Audit(e audit.Entry) error { s.Entries = append(s.Entries, e); return nil }

// ownExport expects an export of tenant id with nothing but its own users, records and
// audit chain.
func ownExport(id string) func(any, error) error {
	return func(got any, err error) error {
		x, ok := got.(collectSink)
		if err != nil || !ok {
			return fmt.Errorf("got %+v, %v", got, err)
		}
		if len(x.Tenants) != 1 || x.Tenants[0].ID != id {
			return fmt.Errorf("exported tenants %+v, want A alone", x.Tenants)
		}
		// Persons carry no tenant id in an export; the leak check on the whole export
		// covers them.
		for _, list := range []any{x.Users, x.Records, x.Entries} {
			if err := ownList(id)(list, nil); err != nil {
				return err
			}
		}
		return nil
	}
}

// isolationSchedule is a one-doctor calendar.
func isolationSchedule(doctor string) appointment.Schedule {
	return appointment.Schedule{
		Resources: []appointment.Resource{{ID: doctor, Kind: appointment.Doctor, Name: "Dr. " + doctor, Surname: doctor}},
		Types:     []appointment.Type{{ID: "kontrolle", Name: "Kontrolle", Minutes: 15, Assistant: true}},
		Hours:     []appointment.Hours{{Resource: doctor, Weekday: time.Tuesday, Open: []appointment.Interval{{From: "08:00", To: "12:00"}}}},
	}
}
