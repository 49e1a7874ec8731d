// Package obfuscation makes a copy of a clinical instance safe to hand to
// people who may not see volunteers' PHI — a VAL pair built from PROD or from
// the migration output, a training or test copy — and proves it before the
// copy is released.
//
// # Threat model
//
// The copy is read by validation testers, vendor staff and customers' test
// users, exported, screenshotted and kept longer than anyone plans. Assume
// every byte of the copy database — tables, indexes' source columns, audit
// trail — is eventually seen by someone who must not learn who the
// volunteers are, and who may hold outside knowledge (a name, a birth date,
// a phone number) to test against it. The source database and the console
// that made the copy are trusted; the copy is not.
//
// What Obfuscate guarantees, for the PHI declared in internal/volunteer
// (PHIFields):
//
//   - Every declared value is replaced or cleared: names by names from lists
//     (given names matching the sex recorded at birth), complete birth dates
//     by another day of the same year, phones digit by digit in the same
//     shape, emails by addresses at reserved example domains, street lines
//     and cities by synthetic ones, postal codes character by character in
//     the same format; free text that may hold PHI (notes, notes on history
//     entries, answers to questions configured as PHI) is cleared.
//   - Pseudonyms are HMAC-SHA256 of the original under a secret drawn at
//     random for each copy, kept only in memory and never stored, logged or
//     recorded: the same original gets the same pseudonym everywhere in the
//     copy (records, audit trail), so duplicates still look like duplicates
//     and search by the new name finds the volunteer, while nothing in the
//     copy leads back. Without the secret, guessing an original and checking
//     it against the copy is impossible; with a shared or reused secret it
//     would not be, which is why the secret must never leave the process.
//     Given names are keyed with the sex recorded at birth, so "Kim" gets
//     one female and one male pseudonym; email addresses are keyed by the
//     address alone and do not spell the volunteer's new name.
//   - No pseudonym equals an original value of the copy (candidates that do
//     are drawn again), so the copy never shows a real person's name on a
//     stranger's record.
//   - What is derived from PHI — search tokens, sort keys, phone search keys,
//     token counts — is recomputed from the pseudonyms.
//   - The audit trail's volunteer entries get the same pseudonyms (values
//     inside whole-record entries too), reasons for change that name
//     personal data are withheld, and the hash chain is re-sealed so
//     `cohort audit verify` passes on the copy. This is the one place the
//     append-only rule is lifted: in the copy only, inside the obfuscation's
//     own transaction, and the rule is restored before it commits. The
//     source's trail is never touched. An entry appended at the end records
//     that the copy was obfuscated, when, by whom and from which source —
//     never the secret.
//
// Not in scope: what is not declared PHI is copied as is (volunteer numbers,
// which are pseudonyms already; sex, gender, ethnicity, race, region,
// country; study participation, consents and coded history without notes);
// staff accounts stay so people can sign in to the copy (their sessions
// end). Upload stashes (an import being checked) live in the instance
// process's memory, never in the database, so a copy has none. Clinical
// data of studies (ODM ItemData, subject numbers) is not declared PHI and is
// copied as is; should a study store names or initials there, the scan
// finds full names and fails the copy, but initials alone are too short to
// find.
//
// Scan is the independent check: it reads every original value from the
// source and searches every text column of every table of the copy, found
// from the database's catalogue, so PHI that a newer module stores where the
// obfuscation does not know still fails the copy. Which values it looks for,
// and why some are not looked for alone, is documented at the top of
// needles.go. Findings name table, column, row and field, never the value.
//
// Release ties both together for the lifecycle console's hook.
package obfuscation
