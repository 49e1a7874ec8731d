package registry

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/volunteer"
)

// Sort is an order search results come in; the volunteer number breaks
// ties, so paging is stable.
type Sort string

// The orders a search can be sorted in.
const (
	ByNumber     Sort = "number"
	ByFamilyName Sort = "family_name"
	ByBirthDate  Sort = "birth_date"
)

// Sorts lists the orders in the order pages offer them.
func Sorts() []Sort { return []Sort{ByNumber, ByFamilyName, ByBirthDate} }

// column is the volunteer column a sort reads.
func (s Sort) column() string {
	switch s {
	case ByFamilyName:
		return "family_key"
	case ByBirthDate:
		return "birth_date"
	}
	return "number"
}

// Query is a volunteer search. Every field that is set must match; an empty
// query lists every volunteer.
type Query struct {
	// Name matches volunteers who have, for every word of it, a name
	// starting with that word, ignoring case, accents and order
	// (volunteer.MatchesNameQuery).
	Name string
	// BirthDate is a date ("1984-05-12"), a month ("1984-05") or a year.
	BirthDate string
	// Number matches volunteer numbers starting with it.
	Number string
	// Phone matches phone numbers ending in its digits (at least four),
	// however the country code or trunk prefix was typed.
	Phone  string
	Status volunteer.Status
	Sort   Sort
	// Descending reverses the order.
	Descending bool
	// Offset and Limit select a page; Limit defaults to 25 and is at most 500.
	Offset int
	Limit  int
}

// MinPhoneDigits is how many trailing digits a phone search needs.
const MinPhoneDigits = 4

// Check returns a sentence for each field of the query that cannot be
// searched for, nil when the query is fine.
func (q Query) Check() check.FieldErrors {
	fe := check.FieldErrors{}
	if strings.TrimSpace(q.Name) != "" && len(volunteer.SearchTokens(q.Name)) == 0 {
		fe.Add("name", "Type part of a name: letters or digits.")
	}
	if strings.TrimSpace(q.BirthDate) != "" {
		if _, err := volunteer.ParseDate(q.BirthDate); err != nil {
			fe.Add("birth_date", "Use a date like 1984-05-12, a month like 1984-05 or a year like 1984.")
		}
	}
	if strings.TrimSpace(q.Phone) != "" && len(reverseDigits(q.Phone)) < MinPhoneDigits {
		fe.Add("phone", "Type at least the last %d digits of the phone number.", MinPhoneDigits)
	}
	if q.Status != "" && !q.Status.Valid() {
		fe.Add("status", "Choose a status from the list.")
	}
	switch q.Sort {
	case "", ByNumber, ByFamilyName, ByBirthDate:
	default:
		fe.Add("sort", "Sort by number, family name or date of birth.")
	}
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// Result is one page of a search.
type Result struct {
	Rows []Summary
	// Total is the number of matches when Exact; otherwise the search
	// matched too many to count cheaply and Total is only how many were
	// seen so far.
	Total int
	Exact bool
	// More says there are matches after this page.
	More bool
	// Plan says how the search ran ("names", "candidates" or "ordered"),
	// for benchmarks and the curious.
	Plan string
}

// hiSuffix ends the upper bound of a prefix range: every string starting
// with the prefix sorts before prefix+U+10FFFF in byte order, which SQLite
// and PostgreSQL's "C" collation both use.
const hiSuffix = "\U0010FFFF"

// Cost model. A search runs one of three plans, chosen by estimated cost in
// index entries read:
//
//   - names: read the token index range of the rarest name word (its rows
//     carry the other words and the sort keys), keep the rows that match
//     every other criterion, sort them and return a page;
//   - candidates: read the few volunteers with a birth date, number or phone
//     and sort those;
//   - ordered: walk volunteers in the order asked for, through that order's
//     covering index, until a page of matches is found.
//
// The first two cost what their driving criterion matches; the walk costs
// the page's end divided by the share of volunteers that match, which is
// only known when there is a single criterion. With several, the walk is
// the last resort: names that are common on their own can be rare
// together, and walking for them would read the whole database.
const (
	// candidateCap is the largest number of matches of a birth date, number
	// or phone criterion that is read and sorted.
	candidateCap = 5000
	// namesCap is the largest token range the names plan reads.
	namesCap = 60000
	// rowCost is what reading one candidate volunteer costs, relative to an
	// index entry.
	rowCost = 4
	// maxStatTokens bounds how many distinct tokens a prefix's count sums
	// (a one-letter prefix covers thousands); past it the word counts as
	// matching everyone.
	maxStatTokens = 2000
)

// criterion is one condition of a search.
type criterion struct {
	// kind is "token", "birth_date", "number", "phone" or "status".
	kind string
	// lo and hi bound a prefix range (token, number, phone digits, partial
	// birth date); lo alone is an exact value (birth date, status).
	lo, hi string
	// count estimates how many volunteers match; -1 when not counted.
	count int
}

// criteria turns a checked query into its conditions.
func criteria(q Query) []*criterion {
	var out []*criterion
	for _, tok := range volunteer.SearchTokens(q.Name) {
		out = append(out, &criterion{kind: "token", lo: tok, hi: tok + hiSuffix})
	}
	if s := strings.TrimSpace(q.BirthDate); s != "" {
		d, _ := volunteer.ParseDate(s)
		c := &criterion{kind: "birth_date", lo: d.String()}
		if !d.IsComplete() {
			c.lo = fmt.Sprintf("%04d-", d.Year)
			if d.Month != 0 {
				c.lo += fmt.Sprintf("%02d-", int(d.Month))
			}
			c.hi = c.lo + hiSuffix
		}
		out = append(out, c)
	}
	if s := strings.TrimSpace(q.Number); s != "" {
		out = append(out, &criterion{kind: "number", lo: s, hi: s + hiSuffix})
	}
	if s := strings.TrimSpace(q.Phone); s != "" {
		rev := reverseDigits(s)
		out = append(out, &criterion{kind: "phone", lo: rev, hi: rev + hiSuffix})
	}
	if q.Status != "" {
		out = append(out, &criterion{kind: "status", lo: string(q.Status), count: -1})
	}
	return out
}

// cond writes c as a condition on alias's row: "v" for a volunteer or an
// entry of one of its order indexes, "t" for a name token row. hint keeps
// SQLite from using an index for a column condition.
func (c *criterion) cond(db *store.DB, alias string, hint bool) (string, []any) {
	id := alias + ".volunteer_id"
	if alias == "v" {
		id = "v.id"
	}
	col := func(name string) string {
		if hint && db.Engine == store.SQLite {
			return "+" + alias + "." + name
		}
		return alias + "." + name
	}
	rng := func(name string) (string, []any) {
		if c.hi == "" {
			return col(name) + " = ?", []any{c.lo}
		}
		return col(name) + " >= ? AND " + col(name) + " < ?", []any{c.lo, c.hi}
	}
	switch c.kind {
	case "token":
		if db.Engine == store.Postgres {
			return "strpos(" + alias + ".name_tokens, ?) > 0", []any{" " + c.lo}
		}
		return "instr(" + alias + ".name_tokens, ?) > 0", []any{" " + c.lo}
	case "birth_date", "number":
		return rng(c.kind)
	case "phone":
		return "EXISTS (SELECT 1 FROM volunteer_phone p WHERE p.volunteer_id = " + id + " AND p.digits_rev >= ? AND p.digits_rev < ?)", []any{c.lo, c.hi}
	}
	if alias == "v" {
		return "v.status = ?", []any{c.lo}
	}
	return "EXISTS (SELECT 1 FROM volunteer s WHERE s.id = " + id + " AND s.status = ?)", []any{c.lo}
}

// many stands for "more than a search ever reads": a word prefix that
// covers more than maxStatTokens distinct tokens.
const many = 1 << 30

// estimate counts how many volunteers c matches: for a word, the sum of
// its tokens' counts; for the others, the index range, up to
// candidateCap+1.
func (c *criterion) estimate(ctx context.Context, db *store.DB) error {
	switch c.kind {
	case "status":
		return nil
	case "token":
		var sum sql.NullInt64
		var distinct int
		err := db.QueryRow(ctx, "SELECT SUM(volunteers), COUNT(*) FROM (SELECT volunteers FROM volunteer_token_count WHERE token >= ? AND token < ? LIMIT "+
			strconv.Itoa(maxStatTokens)+") c", c.lo, c.hi).Scan(&sum, &distinct)
		c.count = int(sum.Int64)
		if distinct >= maxStatTokens {
			c.count = many
		}
		return err
	}
	var ids string
	switch c.kind {
	case "phone":
		ids = "SELECT volunteer_id FROM volunteer_phone WHERE digits_rev >= ? AND digits_rev < ?"
	default:
		cond, _ := c.cond(db, "v", false)
		ids = "SELECT v.id FROM volunteer v WHERE " + cond
	}
	args := []any{c.lo}
	if c.hi != "" {
		args = append(args, c.hi)
	}
	return db.QueryRow(ctx, "SELECT COUNT(*) FROM ("+ids+" LIMIT "+strconv.Itoa(candidateCap+1)+") c", args...).Scan(&c.count)
}

// Search returns one page of the volunteers matching q, masked unless
// canSeePHI. It answers in a few milliseconds at half a million volunteers
// on both engines by choosing, from per-word counts and capped index
// counts, the cheapest of three plans (see the cost model above).
func Search(ctx context.Context, db *store.DB, q Query, canSeePHI bool) (Result, error) {
	if fe := q.Check(); fe != nil {
		return Result{}, fe
	}
	if q.Limit <= 0 {
		q.Limit = 25
	}
	q.Limit = min(q.Limit, 500)
	q.Offset = max(q.Offset, 0)
	cs := criteria(q)
	var best *criterion
	drivers := 0
	for _, c := range cs {
		if err := c.estimate(ctx, db); err != nil {
			return Result{}, fmt.Errorf("search volunteers: %w", err)
		}
		if c.count < 0 {
			continue
		}
		drivers++
		if best == nil || c.count < best.count {
			best = c
		}
	}
	// How many volunteers there are matters only to weigh a walk against a
	// single criterion; the highest id is a cheap upper bound.
	all := func() (int, error) {
		var n sql.NullInt64
		err := db.QueryRow(ctx, "SELECT MAX(id) FROM volunteer").Scan(&n)
		return max(int(n.Int64), 1), err
	}
	driver, err := choose(q, cs, best, drivers, all)
	if err != nil {
		return Result{}, fmt.Errorf("search volunteers: %w", err)
	}
	res, err := runPlan(ctx, db, q, cs, driver)
	if err != nil {
		return res, fmt.Errorf("search volunteers: %w", err)
	}
	if !canSeePHI {
		for i := range res.Rows {
			res.Rows[i] = res.Rows[i].Mask()
		}
	}
	return res, nil
}

// forcedPlan, when set by tests, overrides the choice of plan.
var forcedPlan string

// choose returns the criterion to drive the search from, or nil to walk
// volunteers in order.
func choose(q Query, cs []*criterion, best *criterion, drivers int, all func() (int, error)) (*criterion, error) {
	switch forcedPlan {
	case "ordered":
		return nil, nil
	case "names", "candidates":
		for _, c := range cs {
			if (c.kind == "token") == (forcedPlan == "names") && c.count >= 0 {
				return c, nil
			}
		}
	}
	if best == nil {
		return nil, nil
	}
	if best.kind == "token" && best.count > namesCap || best.kind != "token" && best.count > candidateCap {
		return nil, nil
	}
	if drivers > 1 {
		return best, nil // see the cost model: never walk for a combination
	}
	cost := best.count
	if best.kind != "token" {
		cost *= rowCost
	}
	n, err := all()
	if err != nil {
		return nil, err
	}
	if walk := (q.Offset + q.Limit + 1) * n / max(best.count, 1); walk < cost {
		return nil, nil
	}
	return best, nil
}

func runPlan(ctx context.Context, db *store.DB, q Query, cs []*criterion, driver *criterion) (Result, error) {
	switch {
	case driver == nil:
		return searchOrdered(ctx, db, q, cs)
	case driver.kind == "token":
		return searchNames(ctx, db, q, cs, driver)
	}
	return searchCandidates(ctx, db, q, cs, driver)
}

// orderBy writes the ORDER BY clause for alias.
func orderBy(q Query, alias string) string {
	dir := ""
	if q.Descending {
		dir = " DESC"
	}
	col := q.Sort.column()
	if col == "number" {
		return " ORDER BY " + alias + ".number" + dir
	}
	return " ORDER BY " + alias + "." + col + dir + ", " + alias + ".number" + dir
}

// page writes LIMIT and OFFSET, asking for extra rows beyond the page.
func page(q Query, extra int) string {
	return " LIMIT " + strconv.Itoa(q.Limit+extra) + " OFFSET " + strconv.Itoa(q.Offset)
}

// pageOfIDs runs a query returning (id, total) rows and reads the page's
// summaries.
func pageOfIDs(ctx context.Context, db *store.DB, q Query, query string, args []any, plan string) (Result, error) {
	rows, err := db.Query(ctx, query, args...)
	if err != nil {
		return Result{}, err
	}
	var ids []int64
	total := 0
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id, &total); err != nil {
			rows.Close()
			return Result{}, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Result{}, err
	}
	summaries, err := summariesOf(ctx, db, ids)
	if err != nil {
		return Result{}, err
	}
	res := Result{Rows: summaries, Total: total, Exact: true, More: q.Offset+len(ids) < total, Plan: plan}
	if len(ids) == 0 && q.Offset > 0 {
		// Past the end the window saw no rows to count.
		res.Total, res.Exact = q.Offset, false
	}
	return res, nil
}

// searchNames reads the token index range of driver, whose rows carry the
// volunteer's other words and sort keys, and sorts what matches.
func searchNames(ctx context.Context, db *store.DB, q Query, cs []*criterion, driver *criterion) (Result, error) {
	where := []string{"t.token >= ? AND t.token < ?"}
	args := []any{driver.lo, driver.hi}
	for _, c := range cs {
		if c != driver {
			cond, a := c.cond(db, "t", false)
			where = append(where, cond)
			args = append(args, a...)
		}
	}
	query := "SELECT m.volunteer_id, COUNT(*) OVER () FROM (SELECT DISTINCT t.volunteer_id, t.number, t.family_key, t.birth_date " +
		"FROM volunteer_name_token t WHERE " + strings.Join(where, " AND ") + ") m" + orderBy(q, "m") + page(q, 0)
	return pageOfIDs(ctx, db, q, query, args, "names")
}

// searchCandidates reads the few volunteers matching driver (a birth
// date, number or phone) and sorts those that match the rest. CROSS JOIN
// makes SQLite read the candidates first.
func searchCandidates(ctx context.Context, db *store.DB, q Query, cs []*criterion, driver *criterion) (Result, error) {
	var ids string
	var args []any
	if driver.kind == "phone" {
		ids = "SELECT DISTINCT volunteer_id AS id FROM volunteer_phone WHERE digits_rev >= ? AND digits_rev < ?"
		args = []any{driver.lo, driver.hi}
	} else {
		cond, a := driver.cond(db, "c", false)
		ids, args = "SELECT c.id FROM volunteer c WHERE "+cond, a
	}
	where := []string{"v.id = d.id"}
	for _, c := range cs {
		if c != driver {
			cond, a := c.cond(db, "v", true)
			where = append(where, cond)
			args = append(args, a...)
		}
	}
	query := "SELECT " + summaryColumns + ", COUNT(*) OVER () FROM (" + ids + ") d CROSS JOIN volunteer v WHERE " + strings.Join(where, " AND ") +
		orderBy(q, "v") + page(q, 0)
	rows, err := db.Query(ctx, query, args...)
	if err != nil {
		return Result{}, err
	}
	defer rows.Close()
	res := Result{Exact: true, Plan: "candidates"}
	for rows.Next() {
		var s Summary
		var birth, sex, status string
		if err := rows.Scan(&s.ID, &s.Number, &s.GivenName, &s.FamilyName, &s.OtherNames, &birth, &sex, &status, &s.PreferredSite, &res.Total); err != nil {
			return res, err
		}
		s.SexAtBirth, s.Status = volunteer.Sex(sex), volunteer.Status(status)
		if s.BirthDate, err = storedDate(birth); err != nil {
			return res, err
		}
		res.Rows = append(res.Rows, s)
	}
	if len(res.Rows) == 0 && q.Offset > 0 {
		res.Total, res.Exact = q.Offset, false
	}
	res.More = q.Offset+len(res.Rows) < res.Total
	return res, rows.Err()
}

// searchOrdered walks volunteers in the order asked for, through that
// order's covering index, testing each, until a page is full. The total is
// not counted, which would mean reading every match.
func searchOrdered(ctx context.Context, db *store.DB, q Query, cs []*criterion) (Result, error) {
	var where []string
	var args []any
	sortCol := q.Sort.column()
	for _, c := range cs {
		// A range on the sort column is part of the walk; any other column
		// condition would tempt SQLite to read that range and sort it.
		cond, a := c.cond(db, "v", c.kind != sortCol)
		where = append(where, cond)
		args = append(args, a...)
	}
	query := "SELECT v.id FROM volunteer v"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := db.Query(ctx, query+orderBy(q, "v")+page(q, 1), args...)
	if err != nil {
		return Result{}, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return Result{}, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Result{}, err
	}
	res := Result{Plan: "ordered"}
	if len(ids) > q.Limit {
		ids, res.More = ids[:q.Limit], true
	}
	if res.Rows, err = summariesOf(ctx, db, ids); err != nil {
		return res, err
	}
	res.Total = q.Offset + len(res.Rows)
	res.Exact = !res.More
	return res, nil
}

// summariesOf reads the summaries of ids, in the order of ids.
func summariesOf(ctx context.Context, db *store.DB, ids []int64) ([]Summary, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	in, args := idList(ids)
	rows, err := db.Query(ctx, "SELECT "+summaryColumns+" FROM volunteer v WHERE v.id IN ("+in+")", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byID := make(map[int64]Summary, len(ids))
	for rows.Next() {
		s, err := scanSummary(rows)
		if err != nil {
			return nil, err
		}
		byID[s.ID] = s
	}
	out := make([]Summary, 0, len(ids))
	for _, id := range ids {
		if s, ok := byID[id]; ok {
			out = append(out, s)
		}
	}
	return out, rows.Err()
}
