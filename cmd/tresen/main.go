// Command tresen is the front office of German healthcare: the Rezeption for practices and
// the Rezeptprüfung for pharmacies, on one platform. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes (ARCHITECTURE.md): 0 ok, 1 the input was processed and has findings or errors
// to report, 2 bad usage or unreadable input.
const (
	exitOK       = 0
	exitFindings = 1
	exitUsage    = 2
)

// usageError is bad usage: exit status 2 with a one-line reason.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// findingsError means the command ran and has something to report: exit status 1.
type findingsError struct{ msg string }

func (e findingsError) Error() string { return e.msg }

const usage = `Tresen – Rezeption für Arztpraxen, Rezeptprüfung für Apotheken

Aufruf:
  tresen serve [--demo] [--addr :8080] [--sip ADDR] [--articles DATEI] [--data ./data | --postgres URL]
               [--rx-scanner sane:GERÄT|escl:URL] [--rx-hotfolder ORDNER] [--rx-simplex] [--ocr-workers N]
  tresen audit verify
  tresen purge [--now]
  tresen backup FILE | tresen restore FILE
  tresen tenant add --kind practice|pharmacy --code BSNR|IK --name NAME
  tresen tenant list | tresen tenant export ID FILE | tresen tenant delete ID
  tresen tenant llm ID [--off | --base-url URL --model NAME [--api-key-stdin] --eu-hosted --zero-retention [--timeout 10s]]
  tresen tenant token ID --name NAME [--scopes "system/Appointment.write system/Slot.read"] | --revoke TOKEN-ID
  tresen tenant pvs ID --base URL [--service-type T] [--schedules "Name=ID,…"] [--token-stdin] | --off
  tresen tenant notify ID --practice-name NAME [--smtp-addr H:P --smtp-from ADR …] [--sms-url URL] [--secrets-stdin]
  tresen user add --tenant ID --username NAME --name "VOLLER NAME" --role owner|staff|readonly|support
  tresen user reset USERNAME
  tresen person export TENANT PERSON FILE | tresen person erase TENANT PERSON
  tresen keys rotate
  tresen nlu [--now RFC3339] [--json] TEXT
  tresen chat [--tenant ID]
  tresen rx check [--at JJJJ-MM-TT[THH:MM]] [--articles DATEI] [--state BL] [--json] DATEI|ORDNER...
  tresen rx ocr   [--json] BILD|ORDNER...      (TIFF, PDF, PNG, JPEG: Muster 16 und E-Rezept-Ausdrucke)

Jeder Befehl, der gespeicherte Daten liest oder schreibt, nimmt --data DIR oder --postgres URL.
Geheimnisse: TRESEN_MASTER_KEY / --master-key-file, TRESEN_PEPPER / --pepper-file (siehe README).
`

func main() {
	// Files the service creates (databases, keys, exports, backups) are its own alone.
	syscall.Umask(0o077)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command line and returns its exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	err := dispatch(ctx, args, stdin, stdout, stderr)
	var ue usageError
	var fe findingsError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "tresen:", ue.msg)
		return exitUsage
	case errors.As(err, &fe):
		fmt.Fprintln(stderr, "tresen:", fe.msg)
		return exitFindings
	default:
		fmt.Fprintln(stderr, "tresen:", err)
		return exitFindings
	}
}

func dispatch(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usagef("kein Befehl angegeben")
	}
	cmd, rest := args[0], args[1:]
	sub := ""
	if len(rest) > 0 {
		sub = rest[0]
	}
	switch cmd {
	case "serve":
		return runServe(ctx, rest, stdout, stderr)
	case "audit":
		if sub != "verify" {
			return usagef("audit: Unterbefehl verify erwartet")
		}
		return runAuditVerify(ctx, rest[1:], stdout)
	case "purge":
		return runPurge(ctx, rest, stdout)
	case "backup":
		return runBackup(ctx, rest, stdout)
	case "restore":
		return runRestore(ctx, rest, stdout)
	case "tenant":
		return runTenant(ctx, rest, stdin, stdout)
	case "user":
		return runUser(ctx, rest, stdin, stdout)
	case "person":
		return runPerson(ctx, rest, stdout)
	case "keys":
		if sub != "rotate" {
			return usagef("keys: Unterbefehl rotate erwartet")
		}
		return runKeysRotate(ctx, rest[1:], stdout)
	case "nlu":
		return runNLU(rest, stdin, stdout)
	case "chat":
		return runChat(ctx, rest, stdin, stdout, stderr)
	case "rx":
		return runRx(rest, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usagef("unbekannter Befehl %q", cmd)
}
