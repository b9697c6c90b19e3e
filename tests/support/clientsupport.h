#pragma once

// Test support for the client side: a Node.js SSE peer (tests/peers/node-sse-server.mjs)
// run as a child process, and a StreamObserver that records what streams reported.

#include "core/sse/streamobserver.h"

#include <QProcess>
#include <QStandardPaths>
#include <QString>
#include <QStringList>
#include <QtTest>

#include <csignal>
#include <map>
#include <sys/prctl.h>
#include <memory>
#include <vector>

namespace edgesse::testing {

class NodePeer
{
public:
    // Starts the peer; port() is 0 when it could not start (error() says why).
    explicit NodePeer(const QStringList &args = {})
    {
        const QString node = QStandardPaths::findExecutable(QStringLiteral("node"));
        if (node.isEmpty()) {
            m_error = QStringLiteral("node is not installed (scripts/dev installs it)");
            return;
        }
        m_process.setProgram(node);
        m_process.setArguments(QStringList{QStringLiteral(EDGESSE_SOURCE_DIR "/tests/peers/node-sse-server.mjs")} + args);
        m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        // The peer dies with the test, even when the test crashes or times out.
        m_process.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
        m_process.start();
        if (!m_process.waitForStarted(10'000)) {
            m_error = m_process.errorString();
            return;
        }
        QByteArray line;
        while (!line.contains('\n') && m_process.waitForReadyRead(10'000))
            line += m_process.readAll();
        if (line.startsWith("PORT "))
            m_port = static_cast<quint16>(line.mid(5).trimmed().toUInt());
        else
            m_error = QStringLiteral("the Node peer did not report its port: %1").arg(QString::fromUtf8(line));
    }
    ~NodePeer()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.terminate();
            if (!m_process.waitForFinished(5000))
                m_process.kill();
            m_process.waitForFinished(5000);
        }
    }
    quint16 port() const { return m_port; }
    QString error() const { return m_error; }

private:
    QProcess m_process;
    quint16 m_port = 0;
    QString m_error;
};

// Everything a stream reported, by tag.
class RecordingObserver final : public sse::StreamObserver
{
public:
    struct Stream {
        std::vector<sse::Event> events;
        std::vector<std::optional<std::uint64_t>> seqs;
        std::vector<sse::Disconnect> disconnects;
        std::vector<sse::ConnectInfo> connects;
        int opened = 0;
        int firstEvents = 0;
        int comments = 0;
        int starved = 0;
        int polls = 0;
        std::size_t polledEvents = 0;
        std::uint64_t bytes = 0;
    };

    void streamStarved(std::uint64_t stream, sse::Clock::time_point) override { ++streams[stream].starved; }
    void streamConnected(std::uint64_t stream, const sse::ConnectInfo &info) override { streams[stream].connects.push_back(info); }
    void streamOpened(std::uint64_t stream, std::chrono::microseconds) override { ++streams[stream].opened; }
    void firstEventReceived(std::uint64_t stream, std::chrono::microseconds) override { ++streams[stream].firstEvents; }
    void eventReceived(std::uint64_t stream, const sse::ReceivedEvent &e) override
    {
        streams[stream].events.push_back(e.event);
        streams[stream].seqs.push_back(e.seq);
    }
    void commentReceived(std::uint64_t stream, std::size_t) override { ++streams[stream].comments; }
    void bytesReceived(std::uint64_t stream, std::size_t bytes) override { streams[stream].bytes += bytes; }
    void streamDisconnected(std::uint64_t stream, const sse::Disconnect &d) override { streams[stream].disconnects.push_back(d); }
    void pollCompleted(std::uint64_t stream, std::chrono::microseconds, std::size_t events) override
    {
        ++streams[stream].polls;
        streams[stream].polledEvents += events;
    }

    std::size_t eventCount(std::uint64_t stream) { return streams[stream].events.size(); }
    // The sequence number of the newest event, 0 when none.
    std::uint64_t lastSeq(std::uint64_t stream)
    {
        const auto &seqs = streams[stream].seqs;
        return seqs.empty() ? 0 : seqs.back().value_or(0);
    }
    std::vector<std::uint64_t> seqs(std::uint64_t stream)
    {
        std::vector<std::uint64_t> out;
        for (const auto &s : streams[stream].seqs)
            out.push_back(s.value_or(0));
        return out;
    }

    std::map<std::uint64_t, Stream> streams;
};

} // namespace edgesse::testing
