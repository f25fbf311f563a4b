package widget

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"

	"github.com/tresen/tresen/internal/demo"
)

// handleDemoWebsite is the demo practice's website, embedding the widget exactly as a
// practice would. Its script tag carries data-test-hooks, which lets browser tests cut
// the connection.
func (h *Handler) handleDemoWebsite(w http.ResponseWriter, r *http.Request) {
	t, err := h.db.FindTenantByCode(r.Context(), demo.PracticeTenant.Kind, demo.PracticeTenant.Code)
	if err != nil {
		http.Error(w, "Die Demo-Praxis fehlt.", http.StatusNotFound)
		return
	}
	h.page(w, r, "website.html", map[string]any{"Practice": t})
}

// handleDemoPrivacy is the demo practice's placeholder Datenschutzerklärung.
func (h *Handler) handleDemoPrivacy(w http.ResponseWriter, r *http.Request) {
	h.page(w, r, "datenschutz.html", map[string]any{"Name": demo.PracticeTenant.Name})
}

// page renders a demo page under a strict CSP: scripts and connections only to this
// server, its one style block by nonce.
func (h *Handler) page(w http.ResponseWriter, r *http.Request, name string, data map[string]any) {
	b := make([]byte, 16)
	rand.Read(b)
	nonce := base64.StdEncoding.EncodeToString(b)
	data["Nonce"] = nonce
	ws := "ws://" + r.Host
	if r.TLS != nil {
		ws = "wss://" + r.Host
	}
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self' "+ws+
		"; style-src 'nonce-"+nonce+"'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := h.pages.ExecuteTemplate(w, name, data); err != nil {
		h.log.Error("widget: demo page", "page", name, "err", err)
	}
}
