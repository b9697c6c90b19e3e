#pragma once

// Test support: what this process uses right now — resident memory and CPU time — read
// from the kernel, for tests that bound them.

#include <QByteArray>
#include <QFile>

#include <chrono>

#include <sys/resource.h>

namespace edgesse::testing {

// VmRSS from /proc/self/status, in bytes; -1 when unreadable.
inline qint64 residentBytes()
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').first().toLongLong() * 1024;
    }
    return -1;
}

// User plus system CPU time of every thread of this process so far.
inline std::chrono::microseconds cpuTime()
{
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    const auto us = [](const timeval &t) { return qint64(t.tv_sec) * 1'000'000 + t.tv_usec; };
    return std::chrono::microseconds(us(usage.ru_utime) + us(usage.ru_stime));
}

} // namespace edgesse::testing
