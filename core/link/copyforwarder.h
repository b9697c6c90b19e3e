#pragma once

#include "core/link/releasequeue.h"
#include "core/link/timing.h"

#include <cstddef>

namespace edgesse::link {

// Forwarder for a link that delays: bytes wait in a ReleaseQueue and are written with one
// sendmsg() per wake-up once released.
class CopyForwarder
{
public:
    enum class Result {
        Idle,    // nothing released is left (the queue is empty or its head is still held)
        Blocked, // the receiver's buffer is full: wait until it is writable
        Fin,     // the FIN at the head was passed on (shutdown(SHUT_WR))
        Reset,   // the RST at the head is due: reset the connection now
        Error,   // the write failed (error() says why): reset the connection
    };
    struct Written {
        std::size_t bytes = 0;
        TimePoint intended{}; // the latest release among the bytes written
    };

    ReleaseQueue &queue() { return m_queue; }
    const ReleaseQueue &queue() const { return m_queue; }

    // Writes what is released at `now` to `fd`; `written` says how much and when it was due.
    Result flush(int fd, TimePoint now, Written &written);
    // The errno of the last failed write.
    int error() const { return m_error; }

private:
    ReleaseQueue m_queue;
    int m_error = 0;
};

} // namespace edgesse::link
