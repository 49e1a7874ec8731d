// Package console is the lifecycle console's domain: the registry of
// customer organisations, their environments (Demo, Sandbox, Migration,
// VAL, Pre-PROD, PROD, Community Dev) and the instances that make them up,
// each organisation's timeline, and the operations that create, clone,
// start, stop and destroy instances.
//
// The lifecycle rules of the design brief live here once, as data (Rules)
// and as functions that refuse an illegal operation with the rule's own
// sentence (the Check… functions). Pages and the CLI only ask; every
// request is checked, recorded in the console's own audit trail and queued
// as an Operation, and the console's worker (Console.Run) carries
// operations out one at a time per instance through a Runtime — the only
// way the console touches a running instance. The package knows nothing of
// HTTP.
package console
