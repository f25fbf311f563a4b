package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/calendar"
	"github.com/tresen/tresen/internal/demo"
	"github.com/tresen/tresen/internal/dialogue"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/fhirclient"
	"github.com/tresen/tresen/internal/nlu"
	"github.com/tresen/tresen/internal/openai"
	"github.com/tresen/tresen/internal/reception"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/store"
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
	svc := &reception.Service{Store: db, Engine: practiceEngine(db), Directory: func(ctx context.Context, tenantID string) (reception.Directory, error) {
		pvs, err := practiceSystem(ctx, db, tenantID)
		if pvs == nil {
			return nil, err // Tresen's own records
		}
		return pvs, err
	}}
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

// practiceEngine returns the engine of a practice, with its calendar when it keeps one in
// Tresen and its language model when it has switched LLM mode on. Until practices keep their settings (texts, hours,
// FAQ) and calendar, every practice speaks with the demo practice's settings.
func practiceEngine(db *store.DB) func(context.Context, string) (*dialogue.Engine, error) {
	return func(ctx context.Context, tenantID string) (*dialogue.Engine, error) {
		t, err := db.FindTenantByID(ctx, tenantID)
		if err != nil {
			return nil, err
		}
		if t.Kind != demo.PracticeTenant.Kind {
			return nil, errs.E(errs.Invalid, "der Assistent spricht nur für Arztpraxen")
		}
		p := demo.PracticeInfo()
		p.Name = t.Name
		e := &dialogue.Engine{NLU: &nlu.Understander{Doctors: p.Doctors}, Practice: p}
		pvs, err := practiceSystem(ctx, db, tenantID)
		if err != nil {
			return nil, err
		}
		if pvs != nil {
			e.Slots = pvs
		} else {
			switch _, err := db.Schedule(ctx, tenantID); {
			case err == nil:
				e.Slots = &calendar.Slots{Store: db, TenantID: tenantID}
			case !errs.Is(err, errs.NotFound):
				return nil, err
			}
		}
		s, err := db.LLMSettings(ctx, tenantID)
		if err != nil {
			return nil, err
		}
		if s.Enabled {
			m, err := openai.New(s)
			if err != nil {
				return nil, err
			}
			e.Model = m
		}
		return e, nil
	}
}

func show(w io.Writer, r dialogue.Reply) {
	for _, line := range strings.Split(r.Text, "\n") {
		fmt.Fprintf(w, "Tresen: %s\n", line)
	}
	for i, c := range r.Choices {
		fmt.Fprintf(w, "  [%d] %s\n", i+1, c)
	}
}

// practiceSystem returns the client of the practice's own system (PVS) when it keeps the
// calendar and the patients there, or nil.
func practiceSystem(ctx context.Context, db *store.DB, tenantID string) (*fhirclient.Client, error) {
	var set fhirclient.Settings
	switch err := db.Setting(ctx, tenantID, store.SettingPVS, &set); {
	case errs.Is(err, errs.NotFound) || err == nil && set.Base == "":
		return nil, nil
	case err != nil:
		return nil, err
	}
	return fhirclient.New(set), nil
}
