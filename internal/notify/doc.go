// Package notify tells patients about their appointments — confirmations, changes,
// cancellations and reminders by e-mail with an iCalendar invitation and by SMS — and
// writes iCalendar feeds that the practice's staff subscribe to in their own calendars.
//
// Patient messages say no more than a letter from the practice would show on its
// envelope and a calendar entry needs: practice, date, time, doctor, address and how to
// cancel — never the reason for the visit. The Appointment view that the messages are
// built from has no field that could carry it.
package notify
