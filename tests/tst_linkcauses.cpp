// Why a stream through a link ended, as the browser names it: the server's orderly close
// (FIN) arrives as a FIN and is `server_close`; the server's reset (RST) arrives as a reset
// and is `error` — through both forwarders (copy when the link delays, splice when it does
// not), and after the event the server sent before it.

#include "core/http/connectionpool.h"
#include "core/link/linkproxy.h"
#include "core/net/deadlinequeue.h"
#include "core/sse/eventsource.h"
#include "tests/support/clientsupport.h"

#include <QTcpServer>
#include <QTcpSocket>
#include <QtTest>

#include <sys/socket.h>

using namespace edgesse;
using namespace std::chrono_literals;

Q_DECLARE_METATYPE(sse::DisconnectCause)

namespace {

// Answers the request head with an event stream and one event; once the client has had
// time to read it, ends the connection with a FIN or, with SO_LINGER 0, a RST.
class EndingPeer final : public QObject
{
public:
    explicit EndingPeer(bool reset) : m_reset(reset)
    {
        m_server.listen(QHostAddress::LocalHost);
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = m_server.nextPendingConnection()) {
                connect(s, &QTcpSocket::readyRead, s, [this, s] { answer(s); });
                connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
            }
        });
    }
    quint16 port() const { return m_server.serverPort(); }

private:
    void answer(QTcpSocket *s)
    {
        m_request += s->readAll();
        if (!m_request.contains("\r\n\r\n") || m_answered)
            return;
        m_answered = true;
        s->write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\nid: 1\ndata: one\n\n");
        s->flush();
        QTimer::singleShot(300, s, [this, s] {
            if (!m_reset) {
                s->disconnectFromHost();
                return;
            }
            const linger abortive{1, 0};
            ::setsockopt(int(s->socketDescriptor()), SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
            s->abort();
            s->deleteLater();
        });
    }

    QTcpServer m_server;
    QByteArray m_request;
    bool m_reset;
    bool m_answered = false;
};

} // namespace

class TestLinkCauses final : public QObject
{
    Q_OBJECT

private slots:
    void serverEndThroughALink_data()
    {
        QTest::addColumn<bool>("reset");
        QTest::addColumn<int>("latencyMs");
        QTest::addColumn<sse::DisconnectCause>("cause");
        QTest::newRow("FIN, copy (20 ms)") << false << 20 << sse::DisconnectCause::ServerClose;
        QTest::newRow("FIN, splice (0 ms)") << false << 0 << sse::DisconnectCause::ServerClose;
        QTest::newRow("RST, copy (20 ms)") << true << 20 << sse::DisconnectCause::Error;
        QTest::newRow("RST, splice (0 ms)") << true << 0 << sse::DisconnectCause::Error;
    }

    void serverEndThroughALink()
    {
        QFETCH(bool, reset);
        QFETCH(int, latencyMs);
        QFETCH(sse::DisconnectCause, cause);
        EndingPeer peer(reset);
        net::DeadlineQueue timers;
        link::LinkSettings settings;
        settings.latency = std::chrono::milliseconds(latencyMs);
        link::LinkProxy proxy(settings, QHostAddress::LocalHost, peer.port(), timers);
        QVERIFY2(proxy.listen(), qPrintable(proxy.errorString()));
        testing::RecordingObserver observer;
        http::ConnectionPool pool({QStringLiteral("127.0.0.1"), proxy.port(), http::ClientProtocol::Http1, 6, 1 << 20});
        sse::EventSourceConfig config;
        config.reconnect = false;
        sse::EventSource source(config, pool, timers, &observer, 0);
        source.open();
        QTRY_COMPARE_WITH_TIMEOUT(observer.streams[0].disconnects.size(), std::size_t(1), 5000);
        const sse::Disconnect &d = observer.streams[0].disconnects.front();
        QCOMPARE(observer.eventCount(0), std::size_t(1)); // the event before the end got through
        QVERIFY2(d.cause == cause, sse::disconnectCauseName(d.cause));
        // The link saw it the same way: a reset is counted as one, a FIN is not.
        QTRY_COMPARE_WITH_TIMEOUT(proxy.openConnections(), std::size_t(0), 2000);
        QCOMPARE(proxy.snapshot().resets, reset ? std::uint64_t(1) : std::uint64_t(0));
    }
};

QTEST_GUILESS_MAIN(TestLinkCauses)
#include "tst_linkcauses.moc"
