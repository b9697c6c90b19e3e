#pragma once

// A real SseServer on loopback (port 0, its own thread) for the HTTP fuzz targets: each
// input is sent over a fresh TCP connection, write side shut, and the answer read until
// the server closes or stays quiet for a moment. A sanitizer report or crash on the server's
// thread ends the process, which is what libFuzzer watches for.

#include "core/sse/sseserver.h"

#include <QCoreApplication>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace edgesse::fuzz {

inline sse::SseServer &server()
{
    static int argc = 1;
    static char name[] = "fuzz";
    static char *argv[] = {name, nullptr};
    static QCoreApplication app(argc, argv);
    static const std::unique_ptr<sse::SseServer> instance = [] {
        using namespace std::chrono_literals;
        sse::ServerSettings settings;
        settings.heartbeat = 5ms;
        settings.retry = 1000ms;
        settings.replayCapacity = 64;
        settings.longPollTimeout = 20ms;
        settings.http.headerTimeout = 50ms;
        settings.http.idleTimeout = 50ms;
        settings.http.maxHeaderBytes = 4096;
        settings.http.maxBodyBytes = 1024;
        auto s = std::make_unique<sse::SseServer>(settings);
        if (!s->start())
            std::abort();
        return s;
    }();
    return *instance;
}

// connect(2), finished when a signal interrupts it (libFuzzer's timeout alarm does, every
// second): the handshake goes on, so wait for it rather than fail.
inline bool connected(int fd, const sockaddr_in &address)
{
    if (::connect(fd, reinterpret_cast<const sockaddr *>(&address), sizeof address) == 0)
        return true;
    if (errno != EINTR)
        return false;
    pollfd pfd{fd, POLLOUT, 0};
    while (::poll(&pfd, 1, -1) < 0) {
        if (errno != EINTR)
            return false;
    }
    int error = 0;
    socklen_t length = sizeof error;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0)
        return false;
    errno = error;
    return error == 0;
}

// Sends `data` to the server and reads until it closes or is quiet for `quietMs`.
inline void exchange(const QByteArray &data, int quietMs = 10)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        std::abort();
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(server().port());
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // Closed with a reset, so a long run does not use up the ephemeral ports in TIME_WAIT.
    const linger reset{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    if (!connected(fd, address)) {
        std::perror("fuzz: connect to the server"); // the server stopped accepting: a failure in itself
        std::abort();
    }
    const char *p = data.constData();
    qsizetype left = data.size();
    while (left > 0) {
        const ssize_t n = ::send(fd, p, size_t(left), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        p += n;
        left -= n;
    }
    ::shutdown(fd, SHUT_WR);
    char buffer[16384];
    pollfd pfd{fd, POLLIN, 0};
    for (;;) {
        const int ready = ::poll(&pfd, 1, quietMs);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            break;
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
    }
    ::close(fd);
}

} // namespace edgesse::fuzz
