#pragma once

// Test support for the server side: an SseServer started on port 0, and a Publisher that
// feeds it numbered events on a timer.

#include "core/sse/sseserver.h"

#include <QByteArray>
#include <QTimer>
#include <QtTest>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace edgesse::testing {

// A started server; isRunning() is false when it could not start (the reason is logged).
inline std::unique_ptr<sse::SseServer> startServer(sse::ServerSettings settings = {})
{
    auto server = std::make_unique<sse::SseServer>(settings);
    if (!server->start())
        qWarning("server: %s", qPrintable(server->errorString()));
    return server;
}

// Publishes seq 1, 2, 3, ... every `period` into the server, each with id = seq in
// decimal, the given type and the data `dataFor(id)` makes.
class Publisher
{
public:
    using DataFor = std::function<QByteArray(const QByteArray &id)>;

    Publisher(sse::SseServer &server, std::chrono::milliseconds period, QByteArray type = {},
              DataFor dataFor = [](const QByteArray &id) -> QByteArray { return "payload " + id; })
        : m_server(server)
        , m_type(std::move(type))
        , m_dataFor(std::move(dataFor))
    {
        QObject::connect(&m_timer, &QTimer::timeout, [this] { publishNext(); });
        m_timer.start(period);
    }
    void publishNext()
    {
        sse::PublishedEvent e;
        e.seq = ++m_seq;
        e.publishedAt = std::chrono::steady_clock::now();
        e.event.id = QByteArray::number(static_cast<qulonglong>(e.seq));
        e.event.type = m_type;
        e.event.data = m_dataFor(e.event.id);
        m_server.publish(e);
    }
    void stop() { m_timer.stop(); }
    std::uint64_t published() const { return m_seq; }

private:
    sse::SseServer &m_server;
    QByteArray m_type;
    DataFor m_dataFor;
    QTimer m_timer;
    std::uint64_t m_seq = 0;
};

} // namespace edgesse::testing
