package registry

// ForcePlan makes every search use one plan ("names", "candidates" or
// "ordered") where the query allows it, so tests can check that all plans
// find the same volunteers; it returns a function that restores the
// normal choice.
func ForcePlan(plan string) (restore func()) {
	old := forcedPlan
	forcedPlan = plan
	return func() { forcedPlan = old }
}
