package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/tresen/tresen/internal/store/storetest"
)

// chromium finds Debian's chromium (installed by make test).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no chromium on PATH: make test installs Debian's chromium")
	return ""
}

func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1200, 900),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel3)
	return ctx
}

// TestBrowserAccount drives the staff UI in a real browser as a practice owner would: log
// in, change the password, set up the second factor, log in again with it, and find all of
// it in the audit log.
func TestBrowserAccount(t *testing.T) {
	for _, e := range storetest.Engines {
		t.Run(string(e), func(t *testing.T) {
			m, logins := MustRunMain(t, e)
			ctx := newBrowser(t)
			base := m.URL()
			oldPW, newPW := logins["praxis.inhaber"], "Sonnige-Terrasse-42"

			do, text := steps(t, ctx)
			// login submits the form and waits for what only the next page shows.
			login := func(step, pw string, next chromedp.CSS) {
				t.Helper()
				do(step, chromedp.Navigate(base+"/login"),
					chromedp.SendKeys(chromedp.ID("username"), "praxis.inhaber"),
					chromedp.SendKeys(chromedp.ID("password"), pw),
					chromedp.Submit(chromedp.ID("password")),
					chromedp.WaitVisible(next))
			}

			login("login", oldPW, "header .tenant")
			if h := text("start page", "main h1"); h != "Arztpraxis" {
				t.Fatalf("after login the heading is %q, want the practice start page", h)
			}
			if got := text("tenant", "header .tenant"); !strings.Contains(got, "Hausarztpraxis Dr. Erika Schneider") {
				t.Errorf("tenant name not shown: %q", got)
			}

			// Change the password: the session ends and the new password logs in.
			do("change password",
				chromedp.Navigate(base+"/account"),
				chromedp.SendKeys(chromedp.ID("current"), oldPW),
				chromedp.SendKeys(chromedp.ID("new"), newPW),
				chromedp.SendKeys(chromedp.ID("new2"), newPW),
				chromedp.Submit(chromedp.ID("new2")),
				chromedp.WaitVisible(chromedp.CSS(".notice")))
			if got := text("password changed", ".notice"); !strings.Contains(got, "Das Passwort wurde geändert") {
				t.Fatalf("after password change: %q", got)
			}
			login("login with old password", oldPW, ".error")
			if got := text("old password refused", ".error"); !strings.Contains(got, "Benutzername oder Passwort ist falsch") {
				t.Fatalf("old password: %q", got)
			}
			login("login with new password", newPW, "header .tenant")
			if h := text("start page again", "main h1"); h != "Arztpraxis" {
				t.Fatalf("new password did not log in: heading %q", h)
			}

			// Set up TOTP with the key shown on the page, as an authenticator app would.
			do("begin totp", chromedp.Navigate(base+"/account"),
				chromedp.Click(`//button[contains(., "Zweiten Faktor einrichten")]`))
			secret := text("totp secret", "#totp-secret")
			code, err := totp.GenerateCode(secret, time.Now())
			if err != nil {
				t.Fatalf("secret %q: %v", secret, err)
			}
			do("enable totp", chromedp.SendKeys(chromedp.ID("code"), code), chromedp.Submit(chromedp.ID("code")))
			if got := text("totp status", "#totp-status"); !strings.HasPrefix(got, "Eingerichtet") {
				t.Fatalf("totp status after enabling: %q", got)
			}

			// Log out and in again: now the code is asked for.
			do("logout", chromedp.Click(`//button[contains(., "Abmelden")]`), chromedp.WaitVisible(chromedp.ID("username")))
			login("login before second factor", newPW, "#code")
			code, _ = totp.GenerateCode(secret, time.Now())
			do("enter totp", chromedp.SendKeys(chromedp.ID("code"), code), chromedp.Submit(chromedp.ID("code")),
				chromedp.WaitVisible(chromedp.CSS("header .tenant")))
			if h := text("start after totp", "main h1"); h != "Arztpraxis" {
				t.Fatalf("after second factor: heading %q", h)
			}

			// The audit log shows all of it.
			do("audit log", chromedp.Navigate(base+"/admin/audit"), chromedp.WaitVisible(chromedp.ID("audit")))
			body := text("audit table", "#audit tbody")
			for _, want := range []string{"login.failed", "password.change", "totp.enable", "login", "logout"} {
				if !strings.Contains(body, want) {
					t.Errorf("audit page lacks %q", want)
				}
			}
			// Filtering by action narrows the table (htmx swaps it; without JS the form reloads).
			do("audit filter", chromedp.SetValue(chromedp.ID("f-action"), "totp.enable"), chromedp.Click(`//button[contains(., "Filtern")]`))
			do("filtered", chromedp.WaitNotPresent(`//td[contains(., "password.change")]`))
			body = text("filtered table", "#audit tbody")
			if !strings.Contains(body, "totp.enable") || strings.Contains(body, "password.change") {
				t.Errorf("filtered audit table: %q", body)
			}
			shot(t, ctx, "audit")
		})
	}
}

// steps returns a browser test's helpers: do runs actions as a named step, text waits
// for an element and returns its text, trimmed; a step that fails saves a screenshot and
// ends the test.
func steps(t *testing.T, ctx context.Context) (do func(step string, actions ...chromedp.Action[chromedp.Void]), text func(step string, sel chromedp.CSS) string) {
	do = func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			shot(t, ctx, step)
			t.Fatalf("%s: %v", step, err)
		}
	}
	text = func(step string, sel chromedp.CSS) string {
		t.Helper()
		do(step, chromedp.WaitVisible(sel))
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			shot(t, ctx, step)
			t.Fatalf("%s: %v", step, err)
		}
		return strings.TrimSpace(s)
	}
	return do, text
}

// shot saves a screenshot into the test's temporary directory (or TRESEN_SCREENSHOTS) to
// look at when a step fails. Pages show synthetic demo data only.
func shot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("TRESEN_SCREENSHOTS")
	if dir == "" {
		return
	}
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		os.WriteFile(filepath.Join(dir, t.Name()[strings.LastIndex(t.Name(), "/")+1:]+"-"+name+".png"), png, 0o600)
	}
}
