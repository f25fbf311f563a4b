package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/assistant"
	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/dialogue"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/review"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/tenant"
)

// reviewShown is how many conversations the reviewer view shows.
const reviewShown = 50

// reviewPractices returns the practices that opted in to quality review.
func (s *Server) reviewPractices(ctx context.Context) ([]tenant.Tenant, error) {
	all, err := s.db.ListTenants(ctx)
	if err != nil {
		return nil, err
	}
	var out []tenant.Tenant
	for _, t := range all {
		if t.Kind != tenant.Practice {
			continue
		}
		var set assistant.Settings
		err := s.db.Setting(ctx, t.ID, store.SettingAssistant, &set)
		if err != nil && !errs.Is(err, errs.NotFound) {
			return nil, err
		}
		if set.QualityReview {
			out = append(out, t)
		}
	}
	return out, nil
}

// reviewConversations anonymises a practice's ended conversations, newest first, and
// records in the practice's log that support took them.
func (s *Server) reviewConversations(ctx context.Context, tenantID string, limit int, what string) (tenant.Tenant, []review.Conversation, error) {
	practices, err := s.reviewPractices(ctx)
	if err != nil {
		return tenant.Tenant{}, nil, err
	}
	i := slices.IndexFunc(practices, func(t tenant.Tenant) bool { return t.ID == tenantID })
	if i < 0 {
		return tenant.Tenant{}, nil, errs.E(errs.NotFound, "Diese Praxis hat der Qualitätsprüfung nicht zugestimmt.")
	}
	t := practices[i]
	// Whatever the retention left (it purges transcripts long before a year).
	since := s.db.Now().AddDate(-1, 0, 0)
	convs, err := s.conversations.Conversations(ctx, t.ID, since)
	if err != nil {
		return t, nil, err
	}
	sched, _, err := s.schedule(ctx, t.ID)
	if err != nil {
		return t, nil, err
	}
	a := &review.Anonymizer{Practice: t.Name, Doctors: doctorSurnames(sched), Secret: []byte(t.ID)}
	var out []review.Conversation
	for _, c := range convs {
		if !c.Ended || !slices.ContainsFunc(c.Turns, func(tu dialogue.Turn) bool { return tu.Who == dialogue.Patient }) {
			continue
		}
		out = append(out, a.Anonymize(c))
		if limit > 0 && len(out) == limit {
			break
		}
	}
	if err := s.db.Audit(ctx, t.ID, audit.SupportAccess, "quality_review", what, fmt.Sprintf("conversations=%d anonymised", len(out))); err != nil {
		return t, nil, err
	}
	return t, out, nil
}

func doctorSurnames(sched appointment.Schedule) []string {
	var out []string
	for _, r := range sched.Resources {
		if r.Kind == appointment.Doctor && r.Surname != "" {
			out = append(out, r.Surname)
		}
	}
	return out
}

// handleReviewHome lists the practices that share anonymised conversations.
func (s *Server) handleReviewHome(w http.ResponseWriter, r *http.Request) error {
	practices, err := s.reviewPractices(r.Context())
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "review_home", page{Title: "Qualitätsprüfung", Data: practices})
	return nil
}

type reviewData struct {
	Practice      tenant.Tenant
	Conversations []review.Conversation
}

// handleReview shows a practice's newest anonymised conversations.
func (s *Server) handleReview(w http.ResponseWriter, r *http.Request) error {
	t, convs, err := s.reviewConversations(r.Context(), r.PathValue("tenant"), reviewShown, "view")
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "review", page{Title: "Qualitätsprüfung: " + t.Name, Data: reviewData{t, convs}})
	return nil
}

// handleReviewExport sends a practice's anonymised conversations as JSON Lines.
func (s *Server) handleReviewExport(w http.ResponseWriter, r *http.Request) error {
	t, convs, err := s.reviewConversations(r.Context(), r.PathValue("tenant"), 0, "export")
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/jsonl; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="qualitaet-%s.jsonl"`, t.Code))
	enc := json.NewEncoder(w)
	for _, c := range convs {
		if err := enc.Encode(c); err != nil {
			return err
		}
	}
	return nil
}
