package llm

// The tools the model may propose in the reception dialogue. Their arguments are strings
// in the formats of the understanding engine (issue 3), so that the deterministic engine
// validates them exactly as it validates what it understood itself.
const (
	ToolFindSlots     = "find_slots"
	ToolCreateRequest = "create_request"
	ToolTransfer      = "transfer"
)

// requestTypes are the request.Type values, repeated here so that this package stays free
// of the dialogue's own packages.
func requestTypes() []string {
	return []string{"appointment_book", "appointment_cancel", "appointment_reschedule", "prescription_refill",
		"referral", "sick_note", "test_results", "callback", "message"}
}

// Tools returns the tool definitions of the reception dialogue. Each call builds new maps:
// a caller may change its copy.
func Tools() []Tool {
	return []Tool{FindSlotsTool(), CreateRequestTool(), TransferTool()}
}

// FindSlotsTool asks the practice calendar for free appointments to offer.
func FindSlotsTool() Tool {
	return Tool{
		Name:        ToolFindSlots,
		Description: "Sucht freie Termine im Kalender der Praxis, um der Person konkrete Termine anzubieten. Nur Angaben übergeben, die die Person genannt hat.",
		Parameters: object([]string{"type"}, map[string]any{
			"type": enum("Art des Anliegens", "appointment_book", "appointment_reschedule"),
			"date": date("Gewünschter Tag"),
			"time": clock("Gewünschte Uhrzeit"),
			"daypart": enum("Gewünschte Tageszeit: morning = vormittags, afternoon = nachmittags, evening = abends",
				"morning", "afternoon", "evening"),
			"doctor": text("Nachname der gewünschten Ärztin oder des gewünschten Arztes"),
		}),
	}
}

// CreateRequestTool records a request (Anliegen) for the practice team.
func CreateRequestTool() Tool {
	return Tool{
		Name:        ToolCreateRequest,
		Description: "Legt ein Anliegen für das Praxisteam an, wenn die Person alle nötigen Angaben gemacht und bestätigt hat. Nur Angaben übergeben, die die Person genannt hat; nichts erfinden.",
		Parameters: object([]string{"type"}, map[string]any{
			"type":       enum("Art des Anliegens", requestTypes()...),
			"name":       text("Vollständiger Name der Patientin oder des Patienten, wie genannt, z. B. Anna Müller"),
			"birth_date": date("Geburtsdatum"),
			"phone":      pattern("Rückrufnummer im Format E.164, z. B. +4930123456", `^\+[1-9][0-9]{6,14}$`),
			"insurance": enum("Versicherung: gkv = gesetzlich (AOK, TK, Barmer, DAK, IKK, BKK …), pkv = privat oder Beihilfe, self = Selbstzahler",
				"gkv", "pkv", "self"),
			"kvnr": pattern("Krankenversichertennummer: ein Buchstabe und neun Ziffern", `^[A-Z][0-9]{9}$`),
			"date": date("Gewünschter oder betroffener Tag"),
			"time": clock("Gewünschte Uhrzeit"),
			"daypart": enum("Gewünschte Tageszeit: morning = vormittags, afternoon = nachmittags, evening = abends",
				"morning", "afternoon", "evening"),
			"medication": text("Medikament wie genannt, mit Stärke, falls genannt, z. B. Ramipril 5 mg"),
			"doctor":     text("Nachname der Ärztin oder des Arztes"),
			"reason":     text("Grund oder Nachricht, kurz und in den Worten der Person"),
			"slot_id":    text("Nur für appointment_book: die slot_id des Termins aus find_slots, den die Person gewählt hat"),
		}),
	}
}

// TransferTool hands the conversation to the practice team, or leaves a callback request
// when nobody is reachable.
func TransferTool() Tool {
	return Tool{
		Name:        ToolTransfer,
		Description: "Verbindet mit dem Praxisteam; ist niemand erreichbar, wird ein Rückrufwunsch angelegt. Aufrufen, wenn die Person einen Menschen sprechen möchte oder das Anliegen hier nicht zu klären ist.",
		Parameters: object([]string{"reason"}, map[string]any{
			"reason": text("Kurzer Grund für die Weiterleitung"),
		}),
	}
}

func object(required []string, properties map[string]any) map[string]any {
	return map[string]any{
		"type":                 "object",
		"properties":           properties,
		"required":             required,
		"additionalProperties": false,
	}
}

func text(description string) map[string]any {
	return map[string]any{"type": "string", "description": description}
}

func enum(description string, values ...string) map[string]any {
	return map[string]any{"type": "string", "description": description, "enum": values}
}

func pattern(description, re string) map[string]any {
	return map[string]any{"type": "string", "description": description, "pattern": re}
}

func date(description string) map[string]any {
	return pattern(description+" im Format JJJJ-MM-TT, z. B. 2025-03-12", `^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
}

func clock(description string) map[string]any {
	return pattern(description+" im Format HH:MM, z. B. 09:30", `^[0-9]{2}:[0-9]{2}$`)
}
