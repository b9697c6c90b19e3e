#pragma once

#include "core/scenario/scenario.h"
#include "core/sse/sseevent.h"

#include <QObject>
#include <QString>
#include <QUrl>

#include <chrono>
#include <memory>
#include <vector>

namespace edgesse::net {
class DeadlineQueue;
}
namespace edgesse::sse {
class SseServer;
class EdgeRelay;
class Browser;
class Poller;
} // namespace edgesse::sse

namespace edgesse::sim {

class StreamRecorder;

// Empty when this build can run `variant`; otherwise which client-side part it lacks.
QString missingPart(const scenario::Variant &variant, bool simulatedClients);

// The URL of the event stream a server (or a link in front of it) serves on `port`.
QUrl streamUrl(quint16 port);

// A node's SSE server configured from the scenario: the origin (the publisher feeds it) or
// a PoP (its relay feeds it). Lives on one worker thread.
class ServerPart final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ServerPart)

public:
    ServerPart(const scenario::Node &node, const scenario::SseSettings &sse, net::DeadlineQueue &deadlines,
               QObject *parent = nullptr);
    ~ServerPart() override;

    bool listen(QString *error);
    quint16 port() const;
    void publish(const sse::PublishedEvent &event);
    sse::SseServer *server() const { return m_server.get(); }

private:
    std::unique_ptr<sse::SseServer> m_server;
};

// A PoP's subscription to the origin (through its link) feeding the PoP's server: one
// shared upstream, or one per client stream.
class RelayPart final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RelayPart)

public:
    RelayPart(const scenario::Node &pop, scenario::Protocol protocol, ServerPart *server, quint16 upstreamPort,
              net::DeadlineQueue &deadlines, QObject *parent = nullptr);
    ~RelayPart() override;

private:
    std::shared_ptr<sse::EdgeRelay> m_relay;
};

// The browsers (or pollers) of one worker thread, reporting to that thread's recorder.
class ClientsPart final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ClientsPart)

public:
    struct Browser {
        int group = 0;
        int index = 0;
        const scenario::ClientGroup *config = nullptr;
        scenario::Protocol protocol = scenario::Protocol::Http1;
        quint16 port = 0;
        QString node;
        std::chrono::microseconds retry{0};
        std::chrono::microseconds idleReapHint{0};   // the gateway of the population's link
        std::chrono::microseconds maxDurationHint{0};
        std::uint64_t seed = 0;
    };

    ClientsPart(StreamRecorder &recorder, net::DeadlineQueue &deadlines, QObject *parent = nullptr);
    ~ClientsPart() override; // closes every stream

    void addBrowsers(const std::vector<Browser> &browsers);
    void open();

private:
    StreamRecorder &m_recorder;
    net::DeadlineQueue &m_deadlines;
    std::vector<Browser> m_plan;
    std::vector<std::shared_ptr<sse::Browser>> m_browsers; // shared_ptr: the type may be incomplete here
    std::vector<std::shared_ptr<sse::Poller>> m_pollers;
};

} // namespace edgesse::sim
