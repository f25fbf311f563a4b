package nlu

import (
	"regexp"
)

// cue is a list of phrases that signal an intent. Weak cues decide only when no strong
// cue is present (a message, a callback, symptoms next to a more specific wish).
type cue struct {
	intent Intent
	m      matcher
	weak   bool
}

func cues(intent Intent, weak bool, patterns ...string) []cue {
	return []cue{{intent, newMatcher(patterns...), weak}}
}

var intentCues = concat(
	cues(AppointmentCancel, false,
		`absag`, `abzusagen`, `sag\w* .{0,90}\bab\b`, `storn`, `cancel`, `streichen`, `(termin|den|meinen) ([^ ]+ ){0,4}nicht (wahrnehmen|kommen|schaffen|einhalten)`,
		`(kann|konnen|schaff\w*) .{0,60}\b(nicht|nich|doch nicht) ([^ ]+ ){0,3}(kommen|wahrnehmen|da sein|vorbeikommen|erscheinen)`, `termin ([^ ]+ ){0,3}abmelden`, `termin ([^ ]+ ){0,5}(absagen|ausfallen)`, `fallt ([^ ]+ ){0,3}(aus|flach)`,
		`brauch\w* ([^ ]+ ){0,3}(termin|ihn|den|das|die) ([^ ]+ ){0,3}(nicht|nich) mehr`, `(termin|den|ihn) brauch\w* ([^ ]+ ){0,2}(nicht|nich) mehr`, `nicht mehr (notig|notwendig|brauche)`, `nicht ([^ ]+ ){0,6}(kommen|wahrnehmen|erscheinen)`, `(komme|komm|schaffe|schaff) ([^ ]+ ){0,3}(nicht|nich)\b`),
	cues(AppointmentReschedule, false,
		`verschieb`, `verleg`, `umleg`, `umbuch`, `umtermin`, `tausch`, `(anderen|neuen|spateren|fruheren) termin(\w*)? (statt|anstatt|stattdessen|als)`,
		`(termin|ihn) ([^ ]+ ){0,4}(auf|an) (einen )?(anderen|spateren|fruheren) (tag|termin|zeitpunkt)`, `anderen tag`, `anderen termin`, `andere uhrzeit`, `spater kommen`, `fruher kommen`,
		`statt ([^ ]+ ){0,3}(lieber|besser)`, `geht ([^ ]+ ){0,3}(auch|eher|lieber) ([^ ]+ ){0,4}(spater|fruher|anderen)`, `neuen termin`, `ersatztermin`,
		`kann ich (\w+ )?(auch|stattdessen|lieber|eher) (um|am) `, `stattdessen`, `statt dessen`, `verschoben`, `vorzieh`, `vorverleg`, `alternative`, `kollidiert`, `nach hinten`, `nach vorne`, `schieben`, `(auch|eher|was) ([^ ]+ ){0,2}spater`, `spater (am tag|in der woche)`,
		`auf ([^ ]+ ){0,3}legen`, `geht nicht.{0,40}\bauf\b`, `ginge (das|es) (\w+ )?(auch )?(spater|fruher)`),
	cues(AppointmentBook, false,
		`\w*termin`, `vorbeikommen`, `(als )?(neue[rn]? )?patient(in)? anmelden`, `anmelden`, `vorbei kommen`, `vorbeischauen`, `(mal )?(rein|herein)kommen`, `drankommen`,
		`(in die|in der|zur) sprechstunde`, `sprechstunde (kommen|vorbei)`, `impfen lassen`, `anschauen`, `ansehen`, `angucken`, `drauf ?schauen`, `neupatient`, `neue patientin`, `neuer patient`,
		`heute noch ([^ ]+ ){0,3}(kommen|dran)`, `wann ([^ ]+ ){0,4}(kommen|vorbeikommen)`, `vorstellen`, `jugendschutz|j1`,
		`frei(e|en)? (termine|zeit)`, `platz frei`, `was frei`, `noch (etwas|was) frei`, `faden ([^ ]+ ){0,3}(ziehen|gezogen)`, `geht das ([^ ]+ ){0,4}(morgen|heute|um|am)\b`),
	// Procedures and visits name an appointment only when nothing more specific is asked
	// ("sind die Ergebnisse der Blutabnahme da" asks for results).
	cues(AppointmentBook, true, `untersuch`, `vorsorge`, `check ?-?up`, `gesundheitscheck`, `blutabnahme`, `blut abnehmen`, `impf`, `auffrischung`, `hausbesuch`, `nachsorge`,
		`kontrolle`, `ultraschall`, `ekg`, `lungenfunktion`, `behandl`, `zum arzt`, `beim arzt`, `aufnehmen`, `besprechen`, `gesprach`, `beratung`, `sprechstunde`),
	cues(PrescriptionRefill, false,
		`rezept`, `folgerezept`, `wiederholungsrezept`, `e-rezept`, `e rezept`, `nachbestell`, `nach bestellen`, `nachschub`, `verordnung`, `verschreib`, `aufschreiben`,
		`(tabletten|medikament\w*|pillen|tropfen|spray|insulin|pflaster|salbe|packung) ([^ ]+ ){0,5}(alle|leer|aus|aufgebraucht|zu ende|ausgegangen|gehen aus|geht aus|neige)`,
		`(neue|neues|neuen) (packung|tabletten|medikament)`, `(mehr|nachschub) (von )?(meinen|meinem|den|dem) (tabletten|medikament)`, `(bestellen|brauche|brauchte|benotige|bekommen|holen|hatte gern)\b.{0,40}(tabletten|medikament|pillen|\w+mittel|spray|tropfen|insulin|salbe|inhalator)`,
		`dauermedikation`, `medikationsplan`),
	cues(Referral, false, `uberweis`, `uberweisungsschein`, `uberweisung`, `zum (facharzt|orthopaden|kardiologen|radiologen|hautarzt|augenarzt|frauenarzt|urologen|neurologen|hno|gastroenterologen|internisten|psychiater|psychotherapeuten|lungenarzt|rheumatologen|dermatologen)`,
		`fur (den|die) (facharzt|orthopaden|kardiologen|radiologen|hautarzt|augenarzt|frauenarzt|urologen|neurologen|hno|physiotherapie|krankengymnastik|mrt|ct)`, `physiotherapie`, `krankengymnastik`, `heilmittel`),
	cues(SickNote, false, `krankschreib`, `krank schreib`, `krankgeschrieben`, `krank geschrieben`, `krankmeld`, `krank meld`, `krankenschein`, `\bau\b`, `au-`, `au bescheinigung`,
		`arbeitsunfahig`, `gelben schein`, `gelber schein`, `attest`, `kind krank`, `kinderkrank`, `krank ([^ ]+ ){0,3}(arbeit|arbeitgeber|chef|schule)`, `(arbeit|arbeitgeber|chef) ([^ ]+ ){0,4}krank`,
		`bescheinigung fur (die )?(arbeit|arbeitgeber|schule|kita)`, `(schule|kita|arbeitgeber|chef) ([^ ]+ ){0,4}(bescheinigung|attest|nachweis)`, `kann nicht (zur|arbeiten|in die arbeit)`, `nicht arbeiten`),
	cues(TestResults, false, `befund`, `ergebnis`, `laborwert`, `laborergebnis`, `blutwert`, `blutbild`, `blutergebnis`, `\w*werte?\b`, `labor`, `resultat`,
		`(mrt|ct|rontgen|ultraschall|ekg)[ -]?(bild|bilder|befund|ergebnis|bericht)`, `wie (ist|war|sind|waren) ([^ ]+ ){0,3}(ausgefallen|ausgegangen)`, `abstrich`, `cholesterin`,
		`(raus|heraus)gekommen`, `\w*probe`, `negativ`, `positiv`, `test ([^ ]+ ){0,3}(da|ergebnis|negativ|positiv)`),
	cues(OpeningHours, false, `(sind|seid) (sie|ihr) ([^ ]+ ){0,6}(da|erreichbar|offen|geoffnet)\b`, `(sie|ihr) ([^ ]+ ){0,5}(da|offen) (sind|seid)\b`, `wann ([^ ]+ ){0,4}sprechstunde`, `sprechstunde hat`, `offene sprechstunde`,
		`\w*sprechstunde (ist|hat|gibt)`, `urlaub`, `bis wie ?viel uhr`, `bis wann`, `ist (die praxis|jemand) ([^ ]+ ){0,3}(da|erreichbar|offen|besetzt)\b`,
		`ist (frau |herr )?(doktor|dr) ([^ ]+ ){0,3}(da|im haus|in der praxis)\b`, `offnungszeit`, `geoffnet`, `offnen`, `offen\b`, `auf ?haben`, `auf hat`, `habt (ihr )?([^ ]+ ){0,3}auf`, `haben sie ([^ ]+ ){0,4}(auf|offen|zu)\b`, `hat (die |ihre )?praxis ([^ ]+ ){0,3}(auf|offen|zu)\b`,
		`sprechzeit`, `sprechstundenzeit`, `bis wann`, `ab wann (sind|ist|haben)`, `wann (sind|ist|haben|hat|seid) (sie|ihr|die praxis)? ?([^ ]+ ){0,3}(da|erreichbar|auf|offen|geoffnet)`, `mittagspause`,
		`praxisurlaub`, `betriebsferien`, `urlaub ([^ ]+ ){0,4}praxis`, `praxis ([^ ]+ ){0,4}(urlaub|geschlossen|zu)`, `geschlossen`, `zwischen den jahren`, `feiertag`, `samstags`, `wann ([^ ]+ ){0,2}erreichbar`),
	cues(PracticeInfo, false, `(sie|ihr) auch ([^ ]+ ){0,5}(machen|an|durch|behandeln|anbieten)`, `ob (sie|ihr|\w+) auch`, `auch ([^ ]+ ){0,2}(hausbesuche|kinder|impfungen)`,
		`(macht|machen|fuhren|bieten) ([^ ]+ ){0,3}auch`, `behandelt ([^ ]+ ){0,2}auch`, `welche (krankenkassen|kassen|arzte)`, `nehmen sie`, `spricht jemand`, `^adresse`, `wo genau`,
		`wo ([^ ]+ ){0,3}(praxis|ihr|sie)\b`, `wie komm`, `hauptbahnhof`, `hund ([^ ]+ ){0,5}(mitbringen|mit in die praxis)`, `defibrillator`, `mitbringen`, `kostet`, `kosten`, `preis`, `e ?-?mail`, `beihilfeberechtigt`, `bereitschaftsdienst`, `tauglichkeit`,
		`kann ich ([^ ]+ ){0,2}zu ihnen`, `(ihre|eure|die|eurer|ihrer) (genaue )?(adresse|anschrift)`, `(adresse|anschrift) (der|von der|eurer|ihrer) praxis`, `wie (ist|lautet) (die|ihre) (adresse|anschrift)`, `wo (ist|sind|befindet|liegt|finde)`, `wie komme`, `anfahrt`, `parken`, `parkplatz`, `parkmoglichkeit`, `barrierefrei`, `rollstuhl`, `rollator`,
		`aufzug`, `fahrstuhl`, `treppe`, `fax`, `e-?mail`, `mailadresse`, `telefonnummer (der|von der|eurer|ihrer) praxis`, `haltestelle`, `bus\b`, `bahn`, `u-?bahn`, `welche kassen`,
		`nehmen sie ([^ ]+ ){0,3}(patienten|privatpatienten|kassenpatienten)`, `(privat|kassen)patienten`, `bieten sie`, `machen sie (auch|reiseimpf)`, `gibt es bei ihnen`, `reiseimpfung`, `impfungen`,
		`(welche|was fur) (leistungen|untersuchungen|impfungen)`, `akupunktur`, `igel`, `sprechen sie`, `englisch|english|turkisch|russisch`, `stock`, `etage`, `eingang`, `hinterhof`, `website`, `homepage`, `internetseite`, `online`, `video ?sprechstunde`),
	cues(Human, false, `mit ([^ ]+ ){0,3}(jemandem|einem menschen|einer person|einem mitarbeiter|einer mitarbeiterin|der sprechstundenhilfe|der arzthelferin|der rezeption|dem arzt|der arztin|frau doktor|herrn doktor|doktor|dr\b)`,
		`mitarbeiter`, `mensch`, `echte person`, `echten person`, `person sprechen`, `personlich sprechen`, `verbinden`, `durchstellen`, `sprechstundenhilfe`, `arzthelferin`, `\bmfa\b`,
		`mit ([^ ]+ ){0,4}(sprechen|reden)`, `gesprochen`, `am telefon`, `speak`, `someone`, `jemand(en)? ([^ ]+ ){0,5}(da|sprechen|reden|telefon|team)\b`, `ansage`, `will ([^ ]+ ){0,4}sprechen`,
		`kein (roboter|computer|bot|automat|band)`, `keine maschine`, `roboter`, `computer`, `bot\b`, `sprachcomputer`, `jemand echtes`, `jemand (von|aus) der praxis`, `rezeption`, `anmeldung sprechen`),
	cues(Other, false, `falsch verbunden`, `verwahlt`, `falsche nummer`, `werbung`, `angebot fur`, `umfrage`, `gewinnspiel`, `pizza`, `taxi`, `versicherung ([^ ]+ ){0,3}anbieten`,
		`vertrieb`, `verkauf`, `kooperation`, `bewerbung`, `bewerben`, `praktikum`, `ausbildung`, `paket`, `lieferung`, `zeitschrift`, `spende`, `handwerker`, `wir bieten`, `sonderpreis`, `rabatt`, `software`, `tierarzt\w*`, `wohnung`, `anzeige`, `pharmareferent\w*`, `produktvorstellung`, `vertreter`, `tastatur`),
	// Administrative changes are messages even next to words of other wishes ("meine
	// Adresse hat sich geändert").
	cues(Message, false, `(meine|unsere|die) (\w+ )?(adresse|anschrift|telefonnummer|handynummer|nummer|bankverbindung|krankenkasse|kasse|versicherung) (hat sich |ist )?(geandert|neu)`,
		`neue (adresse|anschrift|telefonnummer|handynummer|bankverbindung|versichertenkarte|gesundheitskarte|karte)`, `umgezogen`, `kasse gewechselt`, `krankenkasse gewechselt`,
		`(unterlagen|dokumente|befunde|bericht|brief) ([^ ]+ ){0,3}(schicken|faxen|mailen|vorbeibringen|einwerfen|zukommen)`, `nachricht (fur|an) `,
		`beschwer`, `bedanken`, `vielen dank fur`, `danke fur`, `ausricht`, `weiterleiten`, `patientenakte`, `kopie`, `name ([^ ]+ ){0,2}geandert`, `heirat`, `fragebogen`, `vorbeibringen`,
		`formular`, `attest fur (den |die )?(sport|verein|schwimm|kita|schule)\w*`, `vertrage`, `dass ([^ ]+ ){0,3}weis\b`, `brief von`, `bericht von ihnen`, `neue (e-?mail|mail)`,
		`neuen hausarzt`, `ziehe (\w+ )?(nach|um)\b`, `arztwechsel`, `praxis wechseln`, `impfpass`, `vorbeibr`, `bring\w* ([^ ]+ ){0,4}vorbei`,
		`richt\w* ([^ ]+ ){0,5}aus\b`, `neue ([^ ]+ )?(versichertennummer|versicherungsnummer|nummer|karte)`, `falsch ([^ ]+ ){0,3}eingetragen`, `eingetragen`,
		`tragen sie ([^ ]+ ){0,3}ein`, `(bitte )?(andern|korrigieren|anpassen)\b`, `\w*rechnung`, `abrechnung`, `nachtragen`, `\w*bestatigung`, `daten ([^ ]+ ){0,2}(loschen|auskunft|herausgeben)`, `loschen lassen`),
	// A complaint alone asks to be seen: symptoms without another wish are a wish for an
	// appointment.
	cues(AppointmentBook, true, `\w*schmerz`, `fieber`, `husten`, `schnupfen`, `ausschlag`, `durchfall`, `erbrechen`, `ubel`, `schwindel`, `entzund`, `geschwollen`,
		`verletzt`, `verstaucht`, `grippe`, `erkalt`, `infekt`, `blutdruck`, `juckt`, `brennt beim`, `tut ([^ ]+ ){0,2}weh`),
	cues(Callback, false, `ruckruf`, `zuruckruf`, `ruckrufen`, `zuruckzurufen`, `ruf\w* (sie|mich|uns|ihr) ([^ ]+ ){0,7}(an|zuruck)\b`, `(mich|uns) ([^ ]+ ){0,6}(an|zuruck) ?rufen`),
	cues(Callback, true, `zuruck ?rufen`, `melden sie sich`, `melde dich`, `meldet euch`, `anrufen`, `erreichbar unter`, `erreichen sie mich`),
	cues(Message, true, `nachricht`, `ausricht`, `bescheid (geben|sagen)`, `mitteil`, `hinterlass`, `adresse (hat sich )?(geandert|neu)`, `neue adresse`, `umgezogen`, `umzug`, `neue (telefonnummer|nummer|handynummer|bankverbindung)`,
		`versichertenkarte`, `versicherungskarte`, `gesundheitskarte`, `karte`, `kassenwechsel`, `gewechselt`, `unterlagen`, `dokument`, `schicken`, `gefaxt`, `faxen`, `mailen`, `zusenden`, `zuschicken`, `einreichen`,
		`danke ([^ ]+ ){0,4}sagen`, `bedanken`, `dankeschon`, `beschwer`, `lob`, `entlassbrief`, `entlassungsbrief`, `krankenhausbericht`, `formular`, `antrag`, `bescheinigung`, `rentenversicherung`, `versorgungsamt`, `schwerbehindert`,
		`impfpass`, `mutterpass`, `vorsorgevollmacht`, `patientenverfugung`, `rechnung`, `mahnung`, `datenschutz`, `auskunft`, `frage an`, `an (frau|herrn|herr) (doktor|dr)`, `fur (frau|herrn|herr) (doktor|dr)`, `info an`),
)

func concat(lists ...[]cue) []cue {
	var out []cue
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// hasAppointment says that the patient has an appointment already.
var hasAppointment = regexp.MustCompile(`\b(hab|habe|hatte|haben|hat)( (nen|einen|ein|ja|da|schon|morgen|heute|ubermorgen|[^ ]+tag|am [^ ]+|um [^ ]+|\d+[.]?|uhr|halb [^ ]+|bei [^ ]+|dr|frau|herrn?|doktor))+ $`)

// negation before a cue ("keinen Termin", "kein Rezept") cancels it.
var cueNegated = regexp.MustCompile(`\b(kein|keine|keinen|nicht|ohne)\s+(\w+\s+)?$`)

// hit is where an intent's first cue was found.
type hit struct {
	pos, end int
	weak     bool
}

// classify picks the main intent: the strong cue stated first, where the appointment
// intents count as one (a cancellation names "Termin" before "absagen"), else the first
// weak cue, else other.
func classify(t *text, s Slots) Intent {
	canon := t.canon
	first := map[Intent]hit{}
	for _, c := range intentCues {
		pos, end := c.m.first(canon, func(start, _ int) bool {
			before := canon[max(0, start-30):start]
			if c.intent == AppointmentBook && hasAppointment.MatchString(before) {
				return false // "ich habe einen Termin beim Radiologen": not a wish for one
			}
			return c.intent == AppointmentCancel || !cueNegated.MatchString(before)
		})
		if pos < 0 {
			continue
		}
		// A strong cue outranks a weak one of the same intent; else the first counts.
		if h, ok := first[c.intent]; !ok || h.weak && !c.weak || h.weak == c.weak && pos < h.pos {
			first[c.intent] = hit{pos, end, c.weak}
		}
	}
	// The appointment intents are one wish: its position is the earliest of them, its kind
	// the most specific (rescheduling names a cancellation and a booking).
	appt, group := Intent(""), hit{pos: -1, end: -1, weak: true}
	for _, in := range []Intent{AppointmentBook, AppointmentCancel, AppointmentReschedule} {
		if h, ok := first[in]; ok {
			if group.pos < 0 || h.pos < group.pos {
				group.pos, group.end = h.pos, h.end
			}
			group.weak = group.weak && h.weak
			appt = in
		}
		delete(first, in)
	}
	if appt != "" {
		first[appt] = group
	}
	best, bpos := Intent(""), -1
	if s.Medication != "" {
		// A drug named without another wish is a wish for more of it.
		if _, ok := first[PrescriptionRefill]; !ok && !hasStrong(first) {
			return PrescriptionRefill
		}
	}
	for _, weak := range []bool{false, true} {
		for in, h := range first {
			if h.weak != weak {
				continue
			}
			// the first wish; of two starting together the longer, more specific cue
			if bpos < 0 || h.pos < bpos || h.pos == bpos && (h.end > first[best].end || h.end == first[best].end && rank(in) < rank(best)) {
				best, bpos = in, h.pos
			}
		}
		if best != "" {
			return best
		}
	}
	return Other
}

// hasStrong reports whether any strong cue was found.
func hasStrong(first map[Intent]hit) bool {
	for _, h := range first {
		if !h.weak {
			return true
		}
	}
	return false
}

// rank orders intents that start at the same place, the more specific first.
func rank(in Intent) int {
	for i, x := range Intents {
		if x == in {
			return i
		}
	}
	return len(Intents)
}
