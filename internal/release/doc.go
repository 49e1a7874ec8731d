// Package release is the lifecycle console's release catalog: every cohort
// build the console can run an instance on, identified by its version
// (YY.N for a release, YY.N.H for a hotfix of release YY.N), build number,
// build time, source revision, the SHA-256 of its binary and the instance
// schema version it needs. Registering a build runs the binary itself to
// learn who it is, hashes it, keeps a copy in the console's releases
// directory and stores its release notes; several builds live side by side
// and each instance runs the build it was given. Hotfixes are offered to
// the instances running their base release and installed only when a
// customer user accepts them.
package release
