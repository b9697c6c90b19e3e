#pragma once

#include <cstddef>
#include <sys/types.h>

namespace edgesse::link {

// Forwarder for a link that adds no delay at all: the bytes move socket -> pipe -> socket
// inside the kernel (splice), never copied through user space. Costs two descriptors.
class SpliceForwarder
{
public:
    enum class Result { Moved, WouldBlock, End, Error };

    SpliceForwarder() = default;
    ~SpliceForwarder() { close(); }
    SpliceForwarder(const SpliceForwarder &) = delete;
    SpliceForwarder &operator=(const SpliceForwarder &) = delete;

    bool open(int pipeBytes);
    void close();
    bool isOpen() const { return m_capacity > 0; }
    std::size_t held() const { return m_held; }
    bool full() const { return m_held >= m_capacity; }

    // Socket -> pipe: how many bytes were taken in `moved`; End at the sender's FIN.
    Result in(int fromFd, std::size_t &moved);
    // Pipe -> socket until the pipe is empty or the receiver is full.
    Result out(int toFd, std::size_t &moved);
    // Drops the bytes the pipe holds (the connection is closing); returns how many.
    std::size_t discard();
    // The errno of the last Error.
    int error() const { return m_error; }

private:
    int m_read = -1;
    int m_write = -1;
    std::size_t m_held = 0;
    std::size_t m_capacity = 0;
    int m_error = 0;
};

} // namespace edgesse::link
