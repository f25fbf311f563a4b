package nlu

import (
	"regexp"
	"strings"
)

// Life-threatening situations, as patients describe them (folded canon). Each pattern is
// one sign; emergency detection runs before anything else and is never left to a model.
var lifeThreats = newMatcher(
	// heart
	`brust ?schmerz`, `schmerz\w* (in|an|auf) der brust`, `(druck|enge|engegefuhl|stechen|brennen|ziehen) (auf|in|an) der brust`,
	`brust (tut|ist|fuhlt|schmerzt|druckt|brennt|sticht)\w*`, `herzinfarkt`, `infarkt`, `linke?n? arm (kribbelt|ist taub|tut weh|schmerzt|strahlt)`,
	`strahlt in den (linken )?arm`, `herz ?stillstand`, `herz (rast|stolpert|setzt aus)\w*.{0,40}(schwindel|luft|brust|umgekippt)`,
	// breathing
	`keine luft`, `kaum luft`, `schlecht luft`, `schwer luft`, `eng (\w+ ){0,2}(in|auf) der brust`, `rochel`, `luftnot`, `atemnot`, `atemstillstand`, `kann (kaum |nicht (mehr )?)?(richtig )?atmen`, `atmet (\w+ ){0,2}(nicht|kaum|komisch|schwer|flach|rochelnd)`,
	`ringt nach luft`, `(er|sie|es)?stick`, `lippen (sind |werden )?blau`, `(lauft|ist|wird) blau an`, `blau angelaufen`, `pfeift beim atmen`,
	// stroke
	`schlaganfall`, `gelahmt`, `lahmung`, `mundwinkel (hangt|hangen)`, `hangende?n? mundwinkel`, `gesicht (hangt|ist schief|schief)`,
	`kann (nicht|kaum) (mehr )?(richtig )?(sprechen|reden)`, `spricht (ganz )?(verwaschen|undeutlich|komisch)`, `sprache (ist )?(verwaschen|weg)`,
	`(arm|bein) (nicht mehr )?(bewegen|heben)`, `kann (den|das|seinen|ihren|meinen) (arm|bein) nicht`, `eine seite (ist )?(taub|gelahmt|schlaff)`,
	`plotzlich (blind|nichts mehr sehen|doppelbilder)`, `gesicht (ist )?(ganz |so )?taub`, `sehe? (\w+ ){0,2}(nur noch halb|doppelt|nichts mehr)`, `sieht (\w+ ){0,3}doppelt`, `doppelbilder`,
	`(arm|hand|bein) (\w+ ){0,2}(hangt|schlapp|gehorcht nicht|lasst sich nicht)`, `(linke|rechte)? ?seite (ist )?(ganz )?(taub|gelahmt|schlaff)`, `\blall`, `spricht (\w+ ){0,2}verwaschen`,
	`(gerade|plotzlich|auf einmal) (\w+ ){0,3}verwirrt`, `verwirrt.{0,40}(spricht|arm|gesicht|zucker|gesturzt|blutet|lallt)`,
	`kopfschmerzen (\w+ ){0,4}(wie noch nie|noch nie)`, `(starkste|schlimmste|starksten|schlimmsten) kopfschmerzen`,
	// consciousness, seizures
	`bewusstlos`, `ohnmachtig`, `(nicht|kaum) (mehr )?wach`, `wach (kriegen|bekommen|krieg)`, `reagiert (nicht|kaum)`, `nicht (mehr )?ansprechbar`, `wacht nicht (mehr )?auf`, `umgekippt`, `zusammengebrochen`,
	`zusammengesackt`, `krampfanfall`, `krampft`, `zuckt am ganzen korper`, `epileptischen? anfall`,
	// bleeding
	`blut\w* (\w+ ){0,3}(stark|heftig|doll|extrem|ohne ende)`, `blutet am kopf`, `schwanger.{0,60}(blut|wehen|krampf)`, `(starke|heftige) blutung`, `hort nicht auf zu bluten`, `blutung (hort|lasst) (sich )?nicht`,
	`viel blut`, `blut (spuckt|spucken|erbricht|erbrechen|husten|hustet)`, `(spuckt|erbricht|hustet|husten|spucke|erbreche) blut`, `schwallartig`,
	// anaphylaxis
	`allergischen? schock`, `anaphyla`, `(hals|rachen|zunge|gesicht|lippe) (schwillt|ist (an|zu)geschwollen|wird dick)`, `schwillt (der hals|die zunge|zu)`,
	`(wespen|bienen|insekten)stich.{0,60}(luft|schwill|atmen|schwindel)`,
	// poisoning
	`vergift`, `zu viele \w*tabletten`, `\w*tabletten geschluckt`, `\w*(reiniger|putzmittel|spulmittel|lampenol|batterie|chemikalien|pilze) (\w+ )?(getrunken|gegessen|verschluckt|geschluckt)`,
	`unterzucker`, `(\d{2,}|alle|viele) ([^ ]+ )?\w*(tabletten|pillen|kapseln) ([^ ]+ )?(genommen|geschluckt|eingenommen)`, `(ganze|komplette) (packung|schachtel|flasche|dose)`, `aus versehen ([^ ]+ ){0,5}(genommen|geschluckt|getrunken|gegessen)`,
	`seite ([^ ]+ ){0,3}(nicht mehr )?(bewegen|spuren|heben)`, `zucker (\w+ ){0,3}([1-4]\d)\b`, `(gesturzt|gefallen|hingefallen).{0,50}(kopf|bewusstlos|verwirrt|blutet|kann (sich )?nicht (mehr )?(aufstehen|bewegen|laufen))`,
	`(getrunken|verschluckt|geschluckt).{0,30}(reiniger|putzmittel|spulmittel|lampenol|batterie|gift)`,
	`(uberdosis|uberdosiert)`, `zu viel (\w+ ){0,2}(gespritzt|genommen|eingenommen|geschluckt)`,
	// children
	`(fieber.{0,60}(steife[nrs]? nacken|nacken (ist )?steif|nackensteif))|((steife[nrs]? nacken|nacken (ist )?steif|nackensteif).{0,60}fieber)`,
	`fieberkrampf`, `(baby|saugling|neugeborene).{0,80}(atmet|blau|schlapp|reagiert|trinkt nicht)`, `(punkte|flecken).{0,40}(wegdrucken|glas)`,
	// trauma and explicit calls for rescue
	`notarzt`, `rettungswagen`, `krankenwagen`, `schwerer? unfall`, `(vom|von der) (dach|leiter|treppe|balkon) gefallen.{0,40}(bewegt|reagiert|blut|kopf)`,
	`kopf aufgeschlagen.{0,40}(bewusstlos|erbricht|blut|verwirrt)`,
)

// Suicidal intent: besides 112, the Telefonseelsorge is named.
var suicidal = newMatcher(
	`(mich|mir) (selbst )?(umbringen|was antun|etwas antun|das leben nehmen)`, `das leben (zu )?nehmen`, `(mir|mich) (\w+ ){0,2}(was|etwas) angetan`, `(nicht mehr|will nicht) (mehr )?leben`, `suizid`, `selbstmord`,
	`lebensmude`, `will sterben`, `mochte sterben`, `(nicht mehr|kein) weiterleben`, `ein ende machen`, `umbringen`, `von der brucke springen`,
)

// Acute but not life-threatening: the patient needs care today; outside opening hours that
// is the Bereitschaftsdienst (116117).
var urgentSigns = newMatcher(
	`dringend`, `notfall`, `sofort`, `(sehr )?(starke|heftige|extreme|unertragliche) (schmerzen|bauchschmerzen|kopfschmerzen|zahnschmerzen|ruckenschmerzen)`,
	`hohes fieber`, `(39|40|41)( komma \d| ?[.,] ?\d)? (grad )?fieber`, `fieber (von |uber )?(39|40|41)`, `kann nicht (mehr )?laufen`, `halt es nicht (mehr )?aus`,
	`(stark|heftig) erbrechen`, `erbricht (standig|dauernd|die ganze)`, `verbrannt`, `platzwunde`, `gebrochen`,
)

// Not now: a sign mentioned as past, planned or as a topic ("Nachsorge nach meiner
// Brust-OP", "hatte letzte Woche Fieber", "Erste-Hilfe-Kurs") is no emergency unless the
// same clause also says it is happening now. A clear past ("vor zwei Jahren",
// "Kontrolle") needs a clear present ("gerade", "plötzlich"); a bare "hatte" is outweighed
// by "jetzt" too.
var (
	pastStrong = regexp.MustCompile(`\b(damals|fruher|vor (\d+|einer|einem|zwei|drei|ein paar|paar|einigen|vielen) (tag|woche|monat|jahr)\w*|letzte (woche|jahr|monat)|letzten (monat|jahr|woche|winter|sommer)|letztes jahr|nach (meiner|meinem|der|dem|einer|einem) (\w+ )?(op|operation|behandlung|geburt|entbindung|eingriff|therapie|reha|kur|impfung|untersuchung|herzkatheter|katheter)|nachsorge|kontrolle|kontrolltermin|vorsorge|kurs|schulung|impfung|test|untersuchung|reha|zustand nach|z\. ?n\.|wieder gut|ist vorbei)\b`)
	pastWeak   = regexp.MustCompile(`\b(hatte|hatten|war|waren|gehabt)\b`)
	nowStrong  = regexp.MustCompile(`\b(gerade|grad|akut|plotzlich|auf einmal|seit (einer|zwei|drei|\d+|ein paar|paar) (min|minute|stunde)\w*|seit heute|seit vorhin|seit eben|im moment|momentan|immer noch|schon wieder|hilfe|sofort)\b`)
	nowWeak    = regexp.MustCompile(`\b(jetzt|eben|vorhin|heute)\b`)
	negated    = regexp.MustCompile(`\b(kein|keine|keinen|nicht|ohne)\s+(\w+\s+)?$`)
)

// acute reports whether a clause speaks of now rather than of the past or a plan.
func acute(clause string) bool {
	switch {
	case nowStrong.MatchString(clause):
		return true
	case pastStrong.MatchString(clause):
		return false
	case pastWeak.MatchString(clause):
		return nowWeak.MatchString(clause)
	}
	return true
}

// clauseSeps split an utterance into the clauses that past and present markers refer to.
var clauseSeps = regexp.MustCompile(` (?:[.;!?]|aber|jedoch|sondern) `)

// triage grades the utterance: life-threatening, urgent or routine, and whether the
// patient speaks of suicide.
func triage(t *text) (Urgency, bool) {
	canon := " " + t.canon + " "
	if s, _ := suicidal.first(canon, func(s, _ int) bool {
		return !negated.MatchString(canon[max(0, s-20):s]) && !strings.Contains(canon[max(0, s-40):s], "ob ")
	}); s >= 0 {
		return LifeThreatening, true
	}
	if s, _ := lifeThreats.first(canon, func(s, e int) bool {
		if negated.MatchString(canon[max(0, s-20):s]) {
			return false
		}
		return acute(clauseOf(canon, s, e))
	}); s >= 0 {
		return LifeThreatening, false
	}
	if urgentSigns.match(canon) {
		return Urgent, false
	}
	return Routine, false
}

// clauseOf returns the clause of canon around [from, to).
func clauseOf(canon string, from, to int) string {
	start, end := 0, len(canon)
	for _, sep := range clauseSeps.FindAllStringIndex(canon, -1) {
		if sep[1] <= from {
			start = sep[1]
		}
		if sep[0] >= to && sep[0] < end {
			end = sep[0]
		}
	}
	return canon[start:end]
}
