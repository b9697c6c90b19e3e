#pragma once

namespace edgesse::util {

// The nice value a timing-sensitive process or session takes when it may (as root).
inline constexpr int kRaisedNice = -10;

// With the kernel's autogroup scheduling on (Debian's default), nice values rank threads only
// within one session: a build started from another terminal shares the CPU with a whole
// session as an equal, whatever either's nice. So running ahead of other work takes a
// session of one's own, then raises that session's group.

// Puts the calling process, and the threads and children it starts afterwards, ahead of
// other work on the machine, as root: it takes a session of its own (keeping the one it
// leads), raises the session's group and itself to kRaisedNice. False when it could not
// (not root, or it leads a process group inside a session it does not lead).
bool runAheadOfOtherSessions();

// Raises the session group of process `pid` to kRaisedNice, as root; false when it could not.
bool raiseSessionOf(long pid);

} // namespace edgesse::util
