package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/export"
	"github.com/tresen/tresen/internal/fhirclient"
	"github.com/tresen/tresen/internal/llm"
	"github.com/tresen/tresen/internal/notify"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/tenant"
	"github.com/tresen/tresen/internal/user"
)

// cliCtx marks what the command line does in the audit log.
func cliCtx(ctx context.Context) context.Context {
	return audit.WithActor(ctx, audit.Actor{UserID: "cli", Source: "cli"})
}

// withStore parses the storage flags (and any the caller registers on fs), opens the store
// and runs fn with the positional arguments.
func withStore(ctx context.Context, fs *flag.FlagSet, cfg *Config, args []string, fn func(ctx context.Context, db *store.DB, args []string) error) error {
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	db, err := cfg.openStore(ctx, false)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(cliCtx(ctx), db, rest)
}

func runAuditVerify(ctx context.Context, args []string, stdout io.Writer) error {
	fs, cfg := storeFlags("audit verify")
	return withStore(ctx, fs, cfg, args, func(ctx context.Context, db *store.DB, _ []string) error {
		v, err := db.VerifyAudit(ctx)
		if err != nil {
			return err
		}
		for _, p := range v.Problems {
			fmt.Fprintln(stdout, p)
		}
		if !v.OK() {
			return findingsError{fmt.Sprintf("Protokoll beschädigt: %d Befund(e) in %d Einträgen", len(v.Problems), v.Entries)}
		}
		fmt.Fprintf(stdout, "Protokoll unversehrt: %d Einträge geprüft\n", v.Entries)
		return nil
	})
}

func runPurge(ctx context.Context, args []string, stdout io.Writer) error {
	fs, cfg := storeFlags("purge")
	now := fs.Bool("now", false, "delete now what is due (without: only show it)")
	return withStore(ctx, fs, cfg, args, func(ctx context.Context, db *store.DB, _ []string) error {
		run, verb := db.PurgeDue, "fällig"
		if *now {
			run, verb = db.Purge, "gelöscht"
		}
		res, err := run(ctx)
		if err != nil {
			return err
		}
		ids := make([]string, 0, len(res.Records))
		for id := range res.Records {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			var parts []string
			for k, n := range res.Records[id] {
				parts = append(parts, fmt.Sprintf("%s=%d", k, n))
			}
			slices.Sort(parts)
			fmt.Fprintf(stdout, "Mandant %s: %s\n", id, strings.Join(parts, " "))
		}
		fmt.Fprintf(stdout, "%s: %d Datensätze, %d Dateien\n", verb, res.Total(), res.Files)
		return nil
	})
}

func runBackup(ctx context.Context, args []string, stdout io.Writer) error {
	fs, cfg := storeFlags("backup")
	return withStore(ctx, fs, cfg, args, func(ctx context.Context, db *store.DB, rest []string) error {
		if len(rest) != 1 {
			return usagef("backup: genau eine Zieldatei angeben")
		}
		return writeFileAtomic(rest[0], func(w io.Writer) error {
			st, err := db.Backup(ctx, w)
			if err == nil {
				fmt.Fprintf(stdout, "Sicherung geschrieben: %s (%s)\n", rest[0], describeStats(st))
			}
			return err
		})
	})
}

func runRestore(ctx context.Context, args []string, stdout io.Writer) error {
	fs, cfg := storeFlags("restore")
	return withStore(ctx, fs, cfg, args, func(ctx context.Context, db *store.DB, rest []string) error {
		if len(rest) != 1 {
			return usagef("restore: genau eine Sicherungsdatei angeben")
		}
		f, err := os.Open(rest[0])
		if err != nil {
			return usagef("restore: %v", err)
		}
		defer f.Close()
		st, err := db.Restore(ctx, f)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Wiederhergestellt: %s\n", describeStats(st))
		if st.MissingKeys > 0 {
			fmt.Fprintf(stdout, "Achtung: für %d Mandanten fehlt der Schlüssel im Schlüsselbund; ihre Daten bleiben unlesbar.\n", st.MissingKeys)
		}
		return nil
	})
}

func describeStats(st store.BackupStats) string {
	rows := 0
	for _, n := range st.Rows {
		rows += n
	}
	return fmt.Sprintf("%d Zeilen, %d Dateien", rows, st.Blobs)
}

// writeFileAtomic writes a file through a temporary file, so that a failed run leaves no
// half-written file behind; the file is readable by its owner only.
func writeFileAtomic(path string, fn func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tresen-*")
	if err != nil {
		return usagef("%v", err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	if err := fn(w); err != nil {
		tmp.Close()
		return err
	}
	if err := errors.Join(w.Flush(), tmp.Sync(), tmp.Close()); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func runTenant(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return usagef("tenant: add, list, export, delete, llm, token, notify oder pvs erwartet")
	}
	fs, cfg := storeFlags("tenant " + args[0])
	switch args[0] {
	case "add":
		kind := fs.String("kind", "", "practice or pharmacy")
		code := fs.String("code", "", "BSNR (practice) or IK (pharmacy)")
		name := fs.String("name", "", "name of the practice or pharmacy")
		return withStore(ctx, fs, cfg, args[1:], func(ctx context.Context, db *store.DB, _ []string) error {
			k, err := tenant.ParseKind(*kind)
			if err != nil {
				return usagef("%v", err)
			}
			t, err := db.CreateTenant(ctx, tenant.Tenant{Kind: k, Code: *code, Name: *name})
			if errs.Is(err, errs.Invalid) {
				return usagef("%s", errs.Message(err))
			} else if err != nil {
				return err
			}
			fmt.Fprintln(stdout, t.ID)
			return nil
		})
	case "list":
		return withStore(ctx, fs, cfg, args[1:], func(ctx context.Context, db *store.DB, _ []string) error {
			ts, err := db.ListTenants(ctx)
			if err != nil {
				return err
			}
			for _, t := range ts {
				fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", t.ID, t.Kind, t.Code, t.Name)
			}
			return nil
		})
	case "export":
		return withStore(ctx, fs, cfg, args[1:], func(ctx context.Context, db *store.DB, rest []string) error {
			if len(rest) != 2 {
				return usagef("tenant export: ID und Zieldatei angeben")
			}
			return writeFileAtomic(rest[1], func(w io.Writer) error {
				a := export.NewTenantArchive(w, time.Now())
				if err := db.ExportTenant(ctx, rest[0], a); err != nil {
					return cliError(err)
				}
				if err := a.Close(); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "Export geschrieben: %s\n", rest[1])
				return nil
			})
		})
	case "delete":
		return withStore(ctx, fs, cfg, args[1:], func(ctx context.Context, db *store.DB, rest []string) error {
			if len(rest) != 1 {
				return usagef("tenant delete: genau eine ID angeben")
			}
			if err := db.DeleteTenant(ctx, rest[0]); err != nil {
				return cliError(err)
			}
			fmt.Fprintf(stdout, "Mandant %s gelöscht: Schlüssel vernichtet, Daten entfernt\n", rest[0])
			return nil
		})
	case "llm":
		return runTenantLLM(ctx, fs, cfg, args[1:], stdin, stdout)
	case "token":
		return runTenantToken(ctx, fs, cfg, args[1:], stdout)
	case "notify":
		return runTenantNotify(ctx, fs, cfg, args[1:], stdin, stdout)
	case "pvs":
		return runTenantPVS(ctx, fs, cfg, args[1:], stdin, stdout)
	}
	return usagef("tenant: unbekannter Unterbefehl %q", args[0])
}

// runTenantLLM shows or sets a practice's language model. The API key comes from standard
// input, never from a flag, which any user of the machine could read in the process list.
func runTenantLLM(ctx context.Context, fs *flag.FlagSet, cfg *Config, args []string, stdin io.Reader, stdout io.Writer) error {
	off := fs.Bool("off", false, "switch LLM mode off")
	baseURL := fs.String("base-url", "", "OpenAI-compatible endpoint, e.g. https://api.mistral.ai/v1")
	model := fs.String("model", "", "model name")
	keyStdin := fs.Bool("api-key-stdin", false, "read the API key from standard input")
	euHosted := fs.Bool("eu-hosted", false, "the practice confirms: the provider processes the data only in the EU")
	zeroRetention := fs.Bool("zero-retention", false, "the practice confirms: the provider stores neither prompts nor answers")
	timeout := fs.Duration("timeout", 0, "per-call timeout (default 10s)")
	return withStore(ctx, fs, cfg, args, func(ctx context.Context, db *store.DB, rest []string) error {
		if len(rest) != 1 {
			return usagef("tenant llm: genau eine ID angeben")
		}
		id := rest[0]
		if _, err := db.FindTenantByID(ctx, id); err != nil {
			return cliError(err)
		}
		set := false
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "off", "base-url", "model", "api-key-stdin", "eu-hosted", "zero-retention", "timeout":
				set = true
			}
		})
		if !set {
			s, err := db.LLMSettings(ctx, id)
			if err != nil {
				return err
			}
			if !s.Enabled {
				fmt.Fprintln(stdout, "Sprachmodell: aus (der Assistent arbeitet ohne Cloud)")
				return nil
			}
			key := "keiner"
			if s.APIKey != "" {
				key = "gespeichert"
			}
			fmt.Fprintf(stdout, "Sprachmodell: an\nAdresse: %s\nModell: %s\nAPI-Schlüssel: %s\nEU-Hosting bestätigt: ja\nKeine Speicherung bestätigt: ja\nZeitgrenze: %s\n",
				s.BaseURL, s.Model, key, s.EffectiveTimeout())
			return nil
		}
		s := llm.Settings{Enabled: !*off, BaseURL: *baseURL, Model: *model, EUHosted: *euHosted, ZeroRetention: *zeroRetention, Timeout: *timeout}
		if *off {
			s = llm.Settings{}
		} else if *keyStdin {
			line, err := bufio.NewReader(stdin).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return usagef("API-Schlüssel nicht lesbar: %v", err)
			}
			s.APIKey = strings.TrimSpace(line)
		}
		if err := db.SetLLMSettings(ctx, id, s); err != nil {
			return cliError(err)
		}
		if s.Enabled {
			fmt.Fprintf(stdout, "Sprachmodell eingeschaltet: %s bei %s\n", s.Model, s.BaseURL)
		} else {
			fmt.Fprintln(stdout, "Sprachmodell ausgeschaltet")
		}
		return nil
	})
}

// cliError turns a not-found or invalid input into a usage error (exit 2).
func cliError(err error) error {
	if errs.Is(err, errs.NotFound) || errs.Is(err, errs.Invalid) {
		return usagef("%s", errs.Message(err))
	}
	return err
}

func runUser(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return usagef("user: add oder reset erwartet")
	}
	fs, cfg := storeFlags("user " + args[0])
	switch args[0] {
	case "add":
		tenantID := fs.String("tenant", "", "tenant id (none for support users)")
		username := fs.String("username", "", "login name")
		name := fs.String("name", "", "the person's name")
		role := fs.String("role", "staff", "owner, staff, readonly or support")
		pwStdin := fs.Bool("password-stdin", false, "read the first password from standard input instead of generating one")
		return withStore(ctx, fs, cfg, args[1:], func(ctx context.Context, db *store.DB, _ []string) error {
			r, err := user.ParseRole(*role)
			if err != nil {
				return usagef("%s", errs.Message(err))
			}
			pw, err := firstPassword(*pwStdin, stdin)
			if err != nil {
				return err
			}
			u, err := db.CreateUser(ctx, user.User{TenantID: *tenantID, Username: *username, Name: *name, Role: r, MustChangePassword: true}, pw)
			if err != nil {
				return cliError(err)
			}
			fmt.Fprintf(stdout, "Zugang %s angelegt (%s)\n", u.Username, u.ID)
			if !*pwStdin {
				fmt.Fprintf(stdout, "Erstes Passwort: %s\n", pw)
			}
			return nil
		})
	case "reset":
		base := fs.String("url", "http://localhost:8080", "base URL of the service, for the link")
		return withStore(ctx, fs, cfg, args[1:], func(ctx context.Context, db *store.DB, rest []string) error {
			if len(rest) != 1 {
				return usagef("user reset: genau einen Benutzernamen angeben")
			}
			u, err := db.FindUserByUsername(ctx, rest[0])
			if err != nil {
				return cliError(err)
			}
			token, err := db.CreateResetToken(ctx, u.TenantID, u.ID)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "Einmal-Link (1 Stunde gültig): %s/reset?token=%s\n", strings.TrimRight(*base, "/"), token)
			return nil
		})
	}
	return usagef("user: unbekannter Unterbefehl %q", args[0])
}

func firstPassword(fromStdin bool, stdin io.Reader) (string, error) {
	if !fromStdin {
		return user.GeneratePassword(), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", usagef("Passwort nicht lesbar: %v", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func runPerson(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usagef("person: export oder erase erwartet")
	}
	fs, cfg := storeFlags("person " + args[0])
	switch args[0] {
	case "export":
		return withStore(ctx, fs, cfg, args[1:], func(ctx context.Context, db *store.DB, rest []string) error {
			if len(rest) != 3 {
				return usagef("person export: Mandant, Person und Zieldatei angeben")
			}
			x, err := db.ExportPerson(ctx, rest[0], rest[1])
			if err != nil {
				return cliError(err)
			}
			return writeFileAtomic(rest[2], func(w io.Writer) error {
				if err := export.WritePerson(w, x, time.Now()); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "Auskunft geschrieben: %s (%d Vorgänge)\n", rest[2], len(x.Records))
				return nil
			})
		})
	case "erase":
		return withStore(ctx, fs, cfg, args[1:], func(ctx context.Context, db *store.DB, rest []string) error {
			if len(rest) != 2 {
				return usagef("person erase: Mandant und Person angeben")
			}
			if err := db.ErasePerson(ctx, rest[0], rest[1]); err != nil {
				return cliError(err)
			}
			fmt.Fprintln(stdout, "Person und alle zugehörigen Daten gelöscht")
			return nil
		})
	}
	return usagef("person: unbekannter Unterbefehl %q", args[0])
}

func runKeysRotate(ctx context.Context, args []string, stdout io.Writer) error {
	fs, cfg := storeFlags("keys rotate")
	return withStore(ctx, fs, cfg, args, func(ctx context.Context, db *store.DB, _ []string) error {
		n, err := db.RotateKeys(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d Schlüssel neu verpackt\n", n)
		return nil
	})
}

// runTenantToken issues or revokes a practice system's token for the FHIR API. The token
// is printed once; only its hash is kept.
func runTenantToken(ctx context.Context, fs *flag.FlagSet, cfg *Config, args []string, stdout io.Writer) error {
	name := fs.String("name", "", "what the token is for, e.g. \"PVS Praxis am Markt\"")
	scopes := fs.String("scopes", "system/*.read", "space-separated SMART scopes: system/Appointment.write system/Slot.read …")
	revoke := fs.String("revoke", "", "revoke the token with this id instead")
	return withStore(ctx, fs, cfg, args, func(ctx context.Context, db *store.DB, rest []string) error {
		if len(rest) != 1 {
			return usagef("tenant token: genau eine Mandanten-ID angeben")
		}
		if *revoke != "" {
			if err := db.RevokeAPIToken(ctx, rest[0], *revoke); err != nil {
				return cliError(err)
			}
			fmt.Fprintf(stdout, "Zugriffsschlüssel %s widerrufen\n", *revoke)
			return nil
		}
		token, t, err := db.CreateAPIToken(ctx, rest[0], *name, strings.Fields(*scopes))
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(stdout, "Zugriffsschlüssel %s (%s) für %s:\n%s\nEr wird nur jetzt angezeigt. Verwendung: Authorization: Bearer <Schlüssel> an /fhir/\n",
			t.ID, strings.Join(t.Scopes, " "), t.Name, token)
		return nil
	})
}

// runTenantNotify sets how a practice sends appointment messages. Secrets come from
// standard input as "smtp-password=…" and "sms-token=…" lines, never from flags.
func runTenantNotify(ctx context.Context, fs *flag.FlagSet, cfg *Config, args []string, stdin io.Reader, stdout io.Writer) error {
	var set notify.Settings
	fs.StringVar(&set.Practice.Name, "practice-name", "", "the practice's name in messages")
	fs.StringVar(&set.Practice.Address, "practice-address", "", "its address")
	fs.StringVar(&set.Practice.Phone, "practice-phone", "", "phone number for cancellations")
	fs.StringVar(&set.Practice.Email, "practice-email", "", "e-mail address for cancellations")
	fs.StringVar(&set.SMTP.Addr, "smtp-addr", "", "SMTP server host:port")
	fs.StringVar(&set.SMTP.From, "smtp-from", "", "sender address")
	fs.StringVar(&set.SMTP.Username, "smtp-user", "", "SMTP user name")
	fs.BoolVar(&set.SMTP.TLS, "smtp-tls", false, "implicit TLS (port 465)")
	fs.BoolVar(&set.SMTP.StartTLS, "smtp-starttls", false, "STARTTLS (port 587)")
	fs.StringVar(&set.SMS.URL, "sms-url", "", "SMS gateway URL (https)")
	secrets := fs.Bool("secrets-stdin", false, "read smtp-password=… and sms-token=… lines from standard input")
	return withStore(ctx, fs, cfg, args, func(ctx context.Context, db *store.DB, rest []string) error {
		if len(rest) != 1 {
			return usagef("tenant notify: genau eine Mandanten-ID angeben")
		}
		if *secrets {
			sc := bufio.NewScanner(stdin)
			for sc.Scan() {
				k, v, _ := strings.Cut(strings.TrimSpace(sc.Text()), "=")
				switch k {
				case "smtp-password":
					set.SMTP.Password = v
				case "sms-token":
					set.SMS.Token = v
				case "":
				default:
					return usagef("tenant notify: unbekannter Eintrag %q auf der Standardeingabe", k)
				}
			}
		}
		if err := set.Validate(); err != nil {
			return cliError(err)
		}
		if err := db.SetSetting(ctx, rest[0], store.SettingNotify, set); err != nil {
			return cliError(err)
		}
		fmt.Fprintln(stdout, "Versand von Terminbestätigungen gespeichert")
		return nil
	})
}

// runTenantPVS connects a practice to its own system (PVS) over FHIR: the assistant then
// books there and matches callers against its patients, which Tresen does not store.
func runTenantPVS(ctx context.Context, fs *flag.FlagSet, cfg *Config, args []string, stdin io.Reader, stdout io.Writer) error {
	var set fhirclient.Settings
	fs.StringVar(&set.Base, "base", "", "the PVS's FHIR base URL (https)")
	fs.StringVar(&set.ServiceType, "service-type", "", "the appointment type (HealthcareService code) the assistant books")
	schedules := fs.String("schedules", "", "doctors' surnames and their Schedule ids: \"Schneider=sched-1,Weber=sched-2\"")
	tokenStdin := fs.Bool("token-stdin", false, "read the PVS's bearer token from standard input")
	off := fs.Bool("off", false, "disconnect: Tresen's own calendar and records again")
	return withStore(ctx, fs, cfg, args, func(ctx context.Context, db *store.DB, rest []string) error {
		if len(rest) != 1 {
			return usagef("tenant pvs: genau eine Mandanten-ID angeben")
		}
		if *off {
			if err := db.SetSetting(ctx, rest[0], store.SettingPVS, fhirclient.Settings{}); err != nil {
				return cliError(err)
			}
			fmt.Fprintln(stdout, "Praxissystem getrennt")
			return nil
		}
		if *schedules != "" {
			set.Schedules = map[string]string{}
			for _, pair := range strings.Split(*schedules, ",") {
				name, id, ok := strings.Cut(pair, "=")
				if !ok || strings.TrimSpace(name) == "" || strings.TrimSpace(id) == "" {
					return usagef("tenant pvs: --schedules als Name=ID,Name=ID angeben")
				}
				set.Schedules[strings.TrimSpace(name)] = strings.TrimSpace(id)
			}
		}
		if *tokenStdin {
			line, err := bufio.NewReader(stdin).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return usagef("Token nicht lesbar: %v", err)
			}
			set.Token = strings.TrimSpace(line)
		}
		if err := set.Validate(); err != nil {
			return cliError(err)
		}
		if err := db.SetSetting(ctx, rest[0], store.SettingPVS, set); err != nil {
			return cliError(err)
		}
		fmt.Fprintf(stdout, "Praxissystem verbunden: %s\n", set.Base)
		return nil
	})
}
