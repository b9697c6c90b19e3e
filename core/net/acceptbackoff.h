#pragma once

#include <QString>

#include <chrono>

namespace edgesse::net {

// What an accept loop does after accept4() failed, and the pause that keeps a listener that
// is out of descriptors (EMFILE, ENFILE) or kernel memory (ENOBUFS, ENOMEM) from spinning:
// such a listener stays readable, so accepting again at once burns a core. On Pause the
// caller disables its listener for pauseFor() and then tries again; the pause doubles from
// 10 ms to 1 s while the condition lasts and is short again once an accept succeeds. An
// episode is to be reported once: firstOfEpisode() says when.
class AcceptBackoff
{
public:
    enum class Next {
        Retry,   // a connection went away before it was taken (ECONNABORTED, EINTR): accept again
        Drained, // EAGAIN: nothing more to accept now
        Pause,   // out of resources (or a broken listener): stop accepting for pauseFor()
    };
    static constexpr std::chrono::milliseconds kFirstPause{10};
    static constexpr std::chrono::milliseconds kLongestPause{1000};

    Next failed(int error);
    std::chrono::milliseconds pauseFor() const { return m_pause; }
    bool firstOfEpisode() const { return m_firstOfEpisode; }
    bool inEpisode() const { return m_inEpisode; }
    // An accept succeeded: an episode in progress is over.
    void accepted();

    // The error and the way out: "Too many open files (raise the descriptor limit: ulimit -n)".
    static QString describe(int error);

private:
    std::chrono::milliseconds m_pause{0};
    bool m_inEpisode = false;
    bool m_firstOfEpisode = false;
};

} // namespace edgesse::net
