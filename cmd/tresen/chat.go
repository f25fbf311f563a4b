package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/tresen/tresen/internal/assistant"
	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/demo"
	"github.com/tresen/tresen/internal/dialogue"
	"github.com/tresen/tresen/internal/request"
)

// runChat lets a person talk with the assistant of the demo practice (or --tenant) in the
// terminal, as a patient would in the website chat. Every turn is stored like any other
// conversation; the requests it leaves are listed at the end (end of input: Ctrl-D).
func runChat(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, cfg := storeFlags("chat")
	tenantID := fs.String("tenant", "", "practice to talk to (default: the demo practice)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	db, err := cfg.openStore(ctx, true)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx = audit.WithActor(ctx, audit.Actor{UserID: "chat", Source: "cli"})
	if *tenantID == "" {
		if err := demo.Seed(ctx, db, stderr); err != nil {
			return err
		}
		t, err := db.FindTenantByCode(ctx, demo.PracticeTenant.Kind, demo.PracticeTenant.Code)
		if err != nil {
			return err
		}
		*tenantID = t.ID
	}
	svc := assistant.Reception(db)
	id, reply, err := svc.Start(ctx, *tenantID, request.Chat)
	if err != nil {
		return cliError(err)
	}
	show(stdout, reply)
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for !reply.Done {
		fmt.Fprint(stdout, "Sie: ")
		if !sc.Scan() {
			fmt.Fprintln(stdout)
			break
		}
		if reply, err = svc.Say(ctx, *tenantID, id, sc.Text()); err != nil {
			return err
		}
		show(stdout, reply)
	}
	reqs, err := svc.End(ctx, *tenantID, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n— Gespräch beendet. Für das Praxisteam gespeichert: %d Anliegen —\n", len(reqs))
	for _, r := range reqs {
		fmt.Fprintf(stdout, "%s [%s]\n", r.Summary(), r.Status)
	}
	return nil
}

func show(w io.Writer, r dialogue.Reply) {
	for _, line := range strings.Split(r.Text, "\n") {
		fmt.Fprintf(w, "Tresen: %s\n", line)
	}
	for i, c := range r.Choices {
		fmt.Fprintf(w, "  [%d] %s\n", i+1, c)
	}
}
