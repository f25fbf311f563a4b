package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
)

// bPatientName is the patient of B's appointment, whom A's calendar must never show.
const bPatientName = "Berta Fremdtermin"

// isolationStep is how TestRouteIsolation calls one route as tenant A's owner, aiming at
// tenant B's objects wherever the route takes an id.
type isolationStep struct {
	path   string     // request path; {id} is replaced by id
	id     string     // B's object for {id}
	form   url.Values // POST form; foreign ids are added to every form
	status int        // expected status; 0: anything but a server error
	newPW  string     // the step changes A's owner's password to this
}

// TestRouteIsolation walks every browser route as tenant A's owner with B's ids in paths
// and forms, and checks that no response shows B's data and that B is unchanged.
func TestRouteIsolation(t *testing.T) {
	storetest.Run(t, func(t *testing.T, db *store.DB) {
		s, ts := newTestServer(t, db)
		f := newFixture(t, db)
		// A practice with a calendar; an appointment of B's (the store keeps one for any
		// tenant) for the calendar routes to aim at.
		if err := db.SetSchedule(testCtx, f.a.ID, testSchedule()); err != nil {
			t.Fatal(err)
		}
		bAppointment, err := db.BookAppointment(testCtx, f.b.ID, appointment.Appointment{Type: "sprechstunde", Doctor: "schneider",
			Start: at("2026-11-24", 10, 0), End: at("2026-11-24", 10, 15), Patient: appointment.Patient{Name: bPatientName}, Source: "staff"})
		if err != nil {
			t.Fatal(err)
		}
		// A request in B's inbox (B's kind does not matter to the store).
		bRequest, err := db.AddRecord(testCtx, f.b.ID, store.Record{Kind: retention.Request,
			Data: []byte(`{"id":"x-1","type":"callback","patient":{"name":"` + bPatientName + `"},"channel":"chat","status":"complete"}`)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		bReport, err := db.CreateReport(testCtx, f.b.ID, bRequest.ID, []byte(`{"description":"`+bPatientName+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		// A token of B's for the FHIR API (the store issues one to any tenant).
		bTokenSecret, bToken, err := db.CreateAPIToken(testCtx, f.b.ID, "Kalender der Rosen-Apotheke", []string{"system/Slot.read"})
		if err != nil {
			t.Fatal(err)
		}
		steps := map[string]isolationStep{
			"GET /{$}":                        {path: "/"},
			"GET /login":                      {path: "/login"},
			"POST /login":                     {form: url.Values{"username": {"a.inhaber"}, "password": {testPW}}, status: http.StatusSeeOther},
			"GET /login/totp":                 {path: "/login/totp"},
			"POST /login/totp":                {form: url.Values{"code": {"123456"}}},
			"GET /reset":                      {path: "/reset?token=0000"},
			"POST /reset":                     {form: url.Values{"token": {"0000"}, "password": {"Neues-Passwort-Eins"}, "password2": {"Neues-Passwort-Eins"}}, status: http.StatusUnprocessableEntity},
			"POST /logout":                    {status: http.StatusSeeOther},
			"GET /start":                      {path: "/start?tenant=" + f.b.ID, status: http.StatusOK},
			"GET /account":                    {path: "/account?user=" + f.bOwner.ID, status: http.StatusOK},
			"POST /account/password":          {form: url.Values{"current": {testPW}, "new": {"Sonnenhof-Passwort-2"}, "new2": {"Sonnenhof-Passwort-2"}}, status: http.StatusOK, newPW: "Sonnenhof-Passwort-2"},
			"POST /account/totp":              {status: http.StatusOK},
			"POST /account/totp/enable":       {form: url.Values{"code": {"000000"}}, status: http.StatusUnprocessableEntity},
			"GET /admin/users":                {path: "/admin/users?tenant=" + f.b.ID, status: http.StatusOK},
			"POST /admin/users":               {form: url.Values{"username": {"a.neu"}, "name": {"Nina Neu"}, "role": {"staff"}, "password": {testPW}}, status: http.StatusOK},
			"POST /admin/users/{id}/role":     {id: f.bStaff.ID, form: url.Values{"role": {"owner"}}, status: http.StatusNotFound},
			"POST /admin/users/{id}/reset":    {id: f.bOwner.ID, status: http.StatusNotFound},
			"POST /admin/users/{id}/delete":   {id: f.bStaff.ID, status: http.StatusNotFound},
			"GET /admin/audit":                {path: "/admin/audit?object=user&tenant=" + f.b.ID, status: http.StatusOK},
			"GET /admin/retention":            {path: "/admin/retention?tenant=" + f.b.ID, status: http.StatusOK},
			"POST /admin/retention":           {form: url.Values{"kind": {"request"}, "days": {"7"}}, status: http.StatusOK},
			"GET /admin/persons":              {path: "/admin/persons?name=Bernd+Beispielmann&birth_date=01.01.1970", status: http.StatusOK},
			"GET /admin/persons/{id}/export":  {id: f.bPerson.ID, status: http.StatusNotFound},
			"POST /admin/persons/{id}/erase":  {id: f.bPerson.ID, form: url.Values{"confirm": {"yes"}}, status: http.StatusNotFound},
			"GET /admin/assistant":            {path: "/admin/assistant?tenant=" + f.b.ID, status: http.StatusOK},
			"POST /admin/assistant":           {form: url.Values{"hours.1": {"08:00-12:00"}, "greeting": {"Moin!"}}, status: http.StatusOK},
			"POST /admin/assistant/llm":       {form: url.Values{"enabled": {"on"}}, status: http.StatusUnprocessableEntity},
			"POST /admin/assistant/widget":    {form: url.Values{"allowed_origins": {"https://www.praxis-sonnenhof.example"}}, status: http.StatusOK},
			"GET /admin/assistant/preview":    {path: "/admin/assistant/preview?tenant=" + f.b.ID, status: http.StatusOK},
			"POST /admin/assistant/voice":     {form: url.Values{"recognizer": {"vosk"}, "stt_url": {"ws://localhost:2700"}}, status: http.StatusOK},
			"GET /admin/notify":               {path: "/admin/notify?tenant=" + f.b.ID, status: http.StatusOK},
			"POST /admin/notify":              {form: url.Values{"practice.name": {"Hausarztpraxis Sonnenhof"}, "sms.url": {"https://sms.praxis-sonnenhof.example/send"}, "sms.token": {"x"}}, status: http.StatusOK},
			"POST /admin/notify/test":         {form: url.Values{"channel": {"email"}, "test_email": {"praxis@example.de"}}, status: http.StatusUnprocessableEntity},
			"GET /admin/support":              {path: "/admin/support?tenant=" + f.b.ID, status: http.StatusOK},
			"POST /admin/support":             {form: url.Values{"hours": {"1"}, "confirm": {"yes"}}, status: http.StatusOK},
			"POST /admin/support/{id}/revoke": {id: f.bGrant.ID, status: http.StatusNotFound},
			// A's FHIR settings, and B's token for the FHIR API by its id.
			"GET /admin/fhir":                     {path: "/admin/fhir?tenant=" + f.b.ID, status: http.StatusOK},
			"POST /admin/fhir/tokens":             {form: url.Values{"name": {"PVS Sonnenhof"}, "scopes": {"system/Slot.read"}}, status: http.StatusOK},
			"POST /admin/fhir/tokens/{id}/revoke": {id: bToken.ID, form: url.Values{"confirm": {"yes"}}, status: http.StatusNotFound},
			"POST /admin/fhir/pvs":                {form: url.Values{"base": {"https://pvs.praxis-sonnenhof.example/fhir/"}, "pvs_token": {"x"}}, status: http.StatusOK},
			"POST /admin/fhir/pvs/off":            {form: url.Values{"confirm": {"yes"}}, status: http.StatusOK},
			// Runs after pvs/off (routes.go's order): A has no connection left to test.
			"POST /admin/fhir/check": {status: http.StatusUnprocessableEntity},
			// A is a practice: the prescription pages do not exist for it (TestRxIsolation
			// holds two pharmacies apart).
			"GET /rx":                    {path: "/rx", status: http.StatusNotFound},
			"POST /rx/upload":            {status: http.StatusNotFound},
			"GET /rx/{id}":               {id: f.bPerson.ID, status: http.StatusNotFound},
			"GET /rx/{id}/files/{name}":  {path: "/rx/" + f.bPerson.ID + "/files/x.xml", status: http.StatusNotFound},
			"POST /rx/{id}/decide":       {id: f.bPerson.ID, form: url.Values{"status": {"accepted"}, "note": {"x"}}, status: http.StatusNotFound},
			"POST /rx/{id}/recheck":      {id: f.bPerson.ID, status: http.StatusNotFound},
			"GET /rx/export/{format}":    {path: "/rx/export/csv", status: http.StatusNotFound},
			"GET /rx/next":               {path: "/rx/next", status: http.StatusNotFound},
			"GET /rx/settings":           {path: "/rx/settings", status: http.StatusNotFound},
			"POST /rx/settings":          {form: url.Values{"state": {"BY"}}, status: http.StatusNotFound},
			"POST /rx/{id}/fields/{key}": {path: "/rx/" + f.bPerson.ID + "/fields/kvnr", form: url.Values{"value": {"A123456780"}}, status: http.StatusNotFound},
			"POST /rx/{id}/confirm":      {id: f.bPerson.ID, status: http.StatusNotFound},
			"POST /scans":                {status: http.StatusNotFound},
			"GET /scans/{id}":            {path: "/scans/" + f.bPerson.ID, status: http.StatusNotFound},
			"GET /scans/pages/{id}":      {path: "/scans/pages/" + f.bPerson.ID, status: http.StatusNotFound},
			"GET /scans/forms/{id}":      {path: "/scans/forms/" + f.bPerson.ID, status: http.StatusNotFound},
			// A's calendar, on the day of B's appointment, and B's appointment by its id.
			"GET /calendar":                                {path: "/calendar?day=2026-11-24&tenant=" + f.b.ID, status: http.StatusOK},
			"POST /calendar/appointments":                  {form: url.Values{"type": {"sprechstunde"}, "doctor": {"schneider"}, "date": {"2026-11-24"}, "time": {"10:00"}, "name": {"Anna Acht"}, "view_day": {"2026-11-24"}}, status: http.StatusOK},
			"POST /calendar/appointments/{id}/move":        {id: bAppointment.ID, form: url.Values{"date": {"2026-11-24"}, "time": {"11:00"}}, status: http.StatusNotFound},
			"POST /calendar/appointments/{id}/cancel":      {id: bAppointment.ID, status: http.StatusNotFound},
			"GET /calendar/setup":                          {path: "/calendar/setup?tenant=" + f.b.ID, status: http.StatusOK},
			"POST /calendar/setup":                         {form: url.Values{"state": {"XX"}}, status: http.StatusUnprocessableEntity},
			"POST /calendar/feeds":                         {},
			"GET /calendar/feed/{tenant}/{doctor}/{token}": {path: "/calendar/feed/" + f.b.ID + "/weber/" + f.bGrant.ID + ".ics", status: http.StatusNotFound},
			// A's inbox, and B's request by its id.
			"GET /inbox":                                {path: "/inbox?status=all&tenant=" + f.b.ID, status: http.StatusOK},
			"GET /inbox/events":                         {path: "/inbox/events?tenant=" + f.b.ID, status: http.StatusOK},
			"GET /inbox/{id}":                           {id: bRequest.ID, status: http.StatusNotFound},
			"GET /inbox/{id}/audio":                     {id: bRequest.ID, status: http.StatusNotFound},
			"POST /inbox/{id}/{action}":                 {path: "/inbox/" + bRequest.ID + "/done", status: http.StatusNotFound},
			"GET /stats":                                {path: "/stats?tenant=" + f.b.ID, status: http.StatusOK},
			"GET /stats/export.csv":                     {path: "/stats/export.csv?tenant=" + f.b.ID, status: http.StatusOK},
			"GET /inbox/{id}/report":                    {id: bRequest.ID, status: http.StatusNotFound},
			"POST /inbox/{id}/report":                   {id: bRequest.ID, form: url.Values{"description": {"x"}, "confirm": {"on"}}, status: http.StatusNotFound},
			"POST /inbox/{id}/report/{report}/close":    {path: "/inbox/" + bRequest.ID + "/report/" + bReport.ID + "/close", status: http.StatusNotFound},
			"GET /support/reports/{id}":                 {id: bReport.ID, status: http.StatusForbidden},
			"GET /support/review":                       {path: "/support/review", status: http.StatusForbidden},
			"GET /support/review/{tenant}":              {path: "/support/review/" + f.b.ID, status: http.StatusForbidden},
			"GET /support/review/{tenant}/export.jsonl": {path: "/support/review/" + f.b.ID + "/export.jsonl", status: http.StatusForbidden},
			"GET /support":                              {path: "/support", status: http.StatusForbidden},
			"POST /support/enter":                       {form: url.Values{"grant": {f.bGrant.ID}}, status: http.StatusForbidden},
		}
		// Anything in a response that would show B's data.
		foreign := []string{f.b.Name, f.b.ID, f.b.Code, f.bOwner.Username, f.bOwner.Name, f.bOwner.ID,
			f.bStaff.Username, f.bStaff.Name, f.bStaff.ID, f.bGrant.ID, f.bPerson.ID, // B's patient would show with her id in the export link
			bAppointment.ID, bPatientName, bRequest.ID, bReport.ID, bToken.ID, bToken.Name, bTokenSecret}

		before := stateOf(t, db, f.b.ID)
		pw := testPW
		for _, rt := range s.browserRoutes() {
			st, ok := steps[rt.pattern]
			if !ok {
				t.Errorf("route %q is not covered by TestRouteIsolation: add it to the table", rt.pattern)
				continue
			}
			delete(steps, rt.pattern)
			method, path := pathOf(rt.pattern, st.id)
			if st.path != "" {
				path = st.path
			}
			b := newBrowser(t, ts.URL)
			login(t, b, "a.inhaber", pw)
			var resp *http.Response
			var body string
			if method == http.MethodGet {
				resp, body = b.get(path)
			} else {
				form := url.Values{"tenant": {f.b.ID}, "tenant_id": {f.b.ID}, "user": {f.bOwner.ID}, "grant": {f.bGrant.ID}}
				for k, v := range st.form {
					form[k] = v
				}
				resp, body = b.postCSRF(path, form)
			}
			switch {
			case st.status != 0 && resp.StatusCode != st.status:
				t.Errorf("%s %s: status %d, want %d; error: %q", method, path, resp.StatusCode, st.status, errorOf(body))
			case resp.StatusCode >= 500:
				t.Errorf("%s %s: status %d; error: %q", method, path, resp.StatusCode, errorOf(body))
			}
			for _, s := range foreign {
				if strings.Contains(body, s) {
					t.Errorf("%s %s: response shows tenant B's %q", method, path, s)
				}
			}
			if strings.Contains(body, `id="reset-link"`) && strings.Contains(rt.pattern, "{id}") {
				t.Errorf("%s %s: a reset link was issued for B's user", method, path)
			}
			if st.newPW != "" && resp.StatusCode == http.StatusOK {
				pw = st.newPW
			}
		}
		for p := range steps {
			t.Errorf("table names %q, which is no route any more", p)
		}
		sameState(t, db, f.b.ID, before)
		if a, err := db.FindAppointmentByID(testCtx, f.b.ID, bAppointment.ID); err != nil || a.Status != appointment.Booked || !a.Start.Equal(bAppointment.Start) {
			t.Errorf("B's appointment changed: %+v, %v", a, err)
		}
		if tok, err := db.LookupAPIToken(testCtx, bTokenSecret); err != nil || tok.TenantID != f.b.ID {
			t.Errorf("B's API token after A's calls: %v", err)
		}

		// A's pages show A's data.
		b := newBrowser(t, ts.URL)
		login(t, b, "a.inhaber", pw)
		_, body := b.get("/admin/users")
		for _, want := range []string{"a.inhaber", "Erika Mustermann", "a.team", "Max Mustermann", "a.lesen", "a.neu", "Nina Neu"} {
			if !strings.Contains(body, want) {
				t.Errorf("/admin/users lacks A's %q", want)
			}
		}
		_, body = b.get("/start")
		if !strings.Contains(body, f.a.Name) || !strings.Contains(body, f.a.Code) {
			t.Errorf("/start does not show tenant A")
		}
		users, err := db.ListUsers(testCtx, f.a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(users) != 4 {
			t.Errorf("A has %d users, want 4 (the one created over HTTP went elsewhere?)", len(users))
		}
	})
}
