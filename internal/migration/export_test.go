package migration

// field exposes a table's field statistics to the tests.
func (t *TableReport) Field(name string) *FieldStats { return t.field(name) }

// SplitName, TitleCase and ParseDateIn expose the transforms to the tests.
var (
	SplitName = splitName
	TitleCase = titleCase
)

func ParseDateIn(s string, layouts ...string) (string, bool) {
	var ls []dateLayout
	for _, l := range layouts {
		dl, err := parseLayout(l)
		if err != nil {
			return err.Error(), false
		}
		ls = append(ls, dl)
	}
	d, ok := parseDate(s, ls, 2025)
	return d.ISO(), ok
}
