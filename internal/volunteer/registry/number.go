package registry

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/cohort-clinical/cohort/internal/check"
	"github.com/cohort-clinical/cohort/internal/setting"
	"github.com/cohort-clinical/cohort/internal/store"
	"github.com/cohort-clinical/cohort/internal/volunteer"
)

// PatternSetting is the setting that holds the volunteer number pattern.
const PatternSetting = "volunteer.number_pattern"

// NumberPattern returns the instance's volunteer number pattern.
func NumberPattern(ctx context.Context, q store.Querier) (volunteer.NumberPattern, error) {
	vals, err := setting.Load(ctx, q)
	if err != nil {
		return volunteer.NumberPattern{}, err
	}
	return volunteer.ParseNumberPattern(vals.Get(PatternSetting))
}

// numberer hands out volunteer numbers inside one transaction.
type numberer struct {
	pattern volunteer.NumberPattern
	today   volunteer.Date
	// seqRe finds the sequence in an existing number; made on first use.
	seqRe *regexp.Regexp
}

func newNumberer(ctx context.Context, tx *store.Tx) (*numberer, error) {
	p, err := NumberPattern(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("volunteer numbers: %w", err)
	}
	return &numberer{pattern: p, today: volunteer.Today()}, nil
}

// key returns the counter a volunteer registering at site today draws from.
// A pattern that needs a site the volunteer lacks is the site field's
// problem.
func (n *numberer) key(site string) (string, error) {
	k, err := n.pattern.CounterKey(site, n.today)
	if err != nil {
		return "", check.FieldErrors{volunteer.FieldPreferredSite: err.Error()}
	}
	return k, nil
}

// reserve takes count numbers from the counter key and returns the first
// sequence number; the counter moves in the same transaction, so numbers
// are never handed out twice and a rolled-back registration gives its
// number back.
func (n *numberer) reserve(ctx context.Context, tx *store.Tx, key string, count int) (int64, error) {
	var last int64
	err := tx.QueryRow(ctx, `INSERT INTO volunteer_number_counter (counter_key, last_seq) VALUES (?, ?)
		ON CONFLICT (counter_key) DO UPDATE SET last_seq = volunteer_number_counter.last_seq + excluded.last_seq
		RETURNING last_seq`, key, count).Scan(&last)
	if err != nil {
		return 0, fmt.Errorf("reserve volunteer numbers for %s: %w", key, err)
	}
	return last - int64(count) + 1, nil
}

// assign gives every volunteer in vs without a number the next one of its
// counter, reserving each counter's numbers with one statement.
func (n *numberer) assign(ctx context.Context, tx *store.Tx, vs []volunteer.Volunteer) error {
	keys := make([]string, len(vs))
	counts := map[string]int{}
	var order []string
	for i, v := range vs {
		if v.Number != "" {
			continue
		}
		k, err := n.key(v.PreferredSite)
		if err != nil {
			return fmt.Errorf("number volunteer %d of %d: %w", i+1, len(vs), err)
		}
		keys[i] = k
		if counts[k] == 0 {
			order = append(order, k)
		}
		counts[k]++
	}
	next := map[string]int64{}
	for _, k := range order {
		first, err := n.reserve(ctx, tx, k, counts[k])
		if err != nil {
			return err
		}
		next[k] = first
	}
	for i := range vs {
		if keys[i] == "" {
			continue
		}
		num, err := n.format(vs[i].PreferredSite, next[keys[i]])
		if err != nil {
			return err
		}
		vs[i].Number = num
		next[keys[i]]++
	}
	return nil
}

// next returns the next number for a volunteer registering at site.
func (n *numberer) next(ctx context.Context, tx *store.Tx, site string) (string, error) {
	key, err := n.key(site)
	if err != nil {
		return "", err
	}
	seq, err := n.reserve(ctx, tx, key, 1)
	if err != nil {
		return "", err
	}
	return n.format(site, seq)
}

func (n *numberer) format(site string, seq int64) (string, error) {
	num, err := n.pattern.Format(site, n.today, seq)
	if err != nil {
		return "", fmt.Errorf("volunteer number: %w", err)
	}
	return num, nil
}

// claim records that an imported number is taken: when it has the
// pattern's shape, its counter moves past it, so numbers cohort hands out
// later never collide with migrated ones.
func (n *numberer) claim(ctx context.Context, tx *store.Tx, number string) error {
	seq, ok := n.pattern.Sequence(number)
	if !ok {
		return nil
	}
	key, ok := n.counterKeyOf(number)
	if !ok {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO volunteer_number_counter (counter_key, last_seq) VALUES (?, ?)
		ON CONFLICT (counter_key) DO UPDATE SET last_seq = CASE WHEN excluded.last_seq > volunteer_number_counter.last_seq
		THEN excluded.last_seq ELSE volunteer_number_counter.last_seq END`, key, seq)
	if err != nil {
		return fmt.Errorf("claim volunteer number %s: %w", number, err)
	}
	return nil
}

// counterKeyOf works out the counter key of an existing number: the number
// with its sequence digits replaced by "{seq}", as CounterKey writes it.
func (n *numberer) counterKeyOf(number string) (string, bool) {
	if n.seqRe == nil {
		re, err := sequenceRegexp(n.pattern.String())
		if err != nil {
			return "", false
		}
		n.seqRe = re
	}
	re := n.seqRe
	m := re.FindStringSubmatchIndex(number)
	if m == nil {
		return "", false
	}
	i := re.SubexpIndex("seq")
	return number[:m[2*i]] + "{seq}" + number[m[2*i+1]:], true
}

// sequenceRegexp matches numbers of a pattern with the sequence in a group
// named seq. The pattern was validated by volunteer.ParseNumberPattern, so
// only its placeholders occur.
func sequenceRegexp(pattern string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '{' && i+1 < len(pattern) && pattern[i+1] == '{', c == '}' && i+1 < len(pattern) && pattern[i+1] == '}':
			b.WriteString(regexp.QuoteMeta(string(c)))
			i++
		case c == '{':
			end := strings.IndexByte(pattern[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("volunteer number pattern %q is not closed", pattern)
			}
			name := pattern[i+1 : i+end]
			switch {
			case name == "seq":
				b.WriteString(`(?P<seq>\d+)`)
			case strings.HasPrefix(name, "seq:"):
				b.WriteString(`(?P<seq>\d{` + name[4:] + `})`)
			case name == "site":
				b.WriteString(`[A-Za-z0-9]+`)
			case name == "yyyy":
				b.WriteString(`\d{4}`)
			case name == "yy":
				b.WriteString(`\d{2}`)
			case name == "mm":
				b.WriteString(`(?:0[1-9]|1[0-2])`)
			}
			i += end
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}
