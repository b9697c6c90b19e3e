#pragma once

#include "core/external/conformance.h"
#include "core/external/eventidentity.h"
#include "core/external/externalprocess.h"
#include "core/link/ssetap.h"
#include "core/scenario/scenario.h"
#include "core/sim/publishlog.h"
#include "core/sim/publishschedule.h"
#include "core/tls/credentials.h"

#include <QHash>
#include <QString>
#include <QUrl>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace edgesse::sim {

struct RunShared;

// The user's own servers of one variant: starts and stops them, stamps the events of an
// external origin on the links in front of it (EdgeSSE did not publish them), drives its
// publish endpoint when the scenario has publisher.post, watches every external server's
// responses and, once the run is over, judges them (content type, Cache-Control,
// buffering, heartbeats, retry, Last-Event-ID, cap).
//
// start(), check() and stop() block (bounded): call them from the run's conductor. The tap
// factories it hands out run on the links' threads.
class ExternalStack
{
public:
    // `folder`: where each server gets its own folder ({dir}) with its output; empty = a
    // new folder under the system's temporary directory. `credentials`: the run's TLS
    // certificate, written for {cert}/{key} so a TLS server the user runs is trusted by the
    // run's own clients (a self-signed one is made with openssl when null).
    ExternalStack(const scenario::Variant &variant, RunShared &shared, const QString &folder,
                  const tls::Credentials *credentials = nullptr);
    ~ExternalStack();
    ExternalStack(const ExternalStack &) = delete;
    ExternalStack &operator=(const ExternalStack &) = delete;

    bool isExternal(const QString &node) const;
    bool originIsExternal() const;
    // Starts the node's server (a PoP's with {upstream} = the link at `upstreamLinkPort`) or
    // checks that its URL answers; returns its port, or 0 with `error` set.
    quint16 start(const QString &node, quint16 upstreamLinkPort, QString *error, const std::function<bool()> &cancelled);
    // The node's event stream: what clients and relays ask for.
    QUrl url(const QString &node) const;
    QByteArray path(const QString &node) const;

    // What a link `from -> to` taps: stamps on links into an external origin, observations
    // on links into any external server; empty when nothing is needed.
    link::SseTap::Factory tapFor(const QString &to, std::chrono::microseconds upstreamLatency);

    // publisher.post: POSTs at the schedule's times from a thread of its own.
    void startPublishing(const PublishSettings &schedule);
    void stopPublishing();

    // Once the events have drained: reconnect probes and the findings, server by server.
    QList<external::Finding> check();
    // Problems worth a warning (a server that exited during the run, failed POSTs).
    QStringList problems();
    // Stops every server it started; notes on those that had to be killed.
    QStringList stop();

    // Used by the link taps.
    struct Node;
    void stamp(const QByteArray &key, std::chrono::steady_clock::time_point at);
    std::optional<std::chrono::steady_clock::time_point> leftOrigin(const QByteArray &key) const;
    std::optional<std::chrono::steady_clock::time_point> posted(const QByteArray &key) const;

private:
    Node *node(const QString &name) const;
    QHash<QString, QString> placeholders(const Node &n, quint16 upstreamLinkPort) const;
    bool writeFiles(Node &n, const QHash<QString, QString> &values, QString *error);
    bool ensureCertificate(QString *error);
    bool writeRunCertificate(QString *error);
    bool servesTlsOnly(const Node &n) const;
    void postLoop(PublishSettings schedule);

    const scenario::Variant &m_variant;
    RunShared &m_shared;
    QString m_folder;
    std::vector<std::unique_ptr<Node>> m_nodes;
    const tls::Credentials *m_credentials;
    QString m_cert, m_key;

    external::EventIdentity m_identity;
    mutable std::mutex m_stampMutex;
    PublishLog m_leftOrigin; // when each event's bytes left an external origin, by seq
    PublishLog m_posted;     // when its POST went out, by seq (publisher.post)

    std::thread m_poster;
    std::mutex m_postMutex;
    std::condition_variable m_postWake;
    bool m_postStop = false;
    std::atomic<std::uint64_t> m_posts{0};
    std::atomic<std::uint64_t> m_postFailures{0};
    QString m_postError; // the first failure, guarded by m_postMutex
};

} // namespace edgesse::sim
