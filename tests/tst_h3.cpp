// HTTP/3: EdgeSSE's QUIC server and client against each other and against Debian's ngtcp2
// peers (gtlsclient, gtlsserver).

#include "core/link/udplink.h"
#include "core/net/deadlinequeue.h"
#include "core/quic/h3client.h"
#include "core/quic/udpsocket.h"
#include "core/sse/sseserver.h"
#include "support/h3support.h"
#include "tests/support/processusage.h"
#include "tests/support/sanitizers.h"

#include <QProcess>
#include <QTcpServer>
#include <QTimer>
#include <QRandomGenerator>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <sys/prctl.h>

using namespace edgesse;
using testing::RecordingResponse;

namespace {

sse::PublishedEvent makeEvent(std::uint64_t seq)
{
    sse::PublishedEvent e;
    e.seq = seq;
    e.event.id = QByteArray::number(static_cast<qulonglong>(seq));
    e.event.data = "event " + QByteArray::number(static_cast<qulonglong>(seq));
    return e;
}

http::ClientRequest get(const QByteArray &path, std::vector<http::Header> headers = {})
{
    http::ClientRequest r;
    r.path = path;
    r.authority = "127.0.0.1";
    r.headers = std::move(headers);
    return r;
}

bool writeFile(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

qint64 residentKb()
{
    return std::max<qint64>(0, testing::residentBytes()) / 1024;
}

// A UDP port free now, for peers that cannot report the one they got.
quint16 freeUdpPort()
{
    quic::UdpSocket probe;
    QString error;
    return probe.bind(QHostAddress(QHostAddress::LocalHost), 0, &error) ? probe.port() : 0;
}

} // namespace

class TestH3 final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void streamsEventsOverH3();
    void replaysAfterLastEventId();
    void heartbeatsAndMaxDuration();
    void overTheCapAnswers503();
    void gtlsclientReceivesEvents();
    void clientReadsFromGtlsserver();
    void garbageAndFloodsAreDropped();
    void chromiumOverH3();
    void chromiumOverH3ThroughLink();
    void altSvcAdvertisesTheUdpPort();

private:
    sse::ServerStats servedToChromium(const QString &chromium, quint16 port, sse::SseServer &server);
    std::unique_ptr<sse::SseServer> startServer(sse::ServerSettings settings = {});
    testing::QuicIdentity m_id;
};

void TestH3::initTestCase()
{
    m_id = testing::QuicIdentity::make();
    QVERIFY2(m_id.server && m_id.client, qPrintable(m_id.error));
}

std::unique_ptr<sse::SseServer> TestH3::startServer(sse::ServerSettings settings)
{
    settings.tls = m_id.tls->server;
    settings.http3 = m_id.server;
    auto server = std::make_unique<sse::SseServer>(settings);
    if (!server->start())
        qWarning("%s", qPrintable(server->errorString()));
    return server;
}

void TestH3::streamsEventsOverH3()
{
    auto server = startServer();
    QVERIFY(server->isRunning());
    QVERIFY(server->http3Port() != 0);
    quic::H3ClientConnection client(QStringLiteral("127.0.0.1"), server->http3Port(), m_id.client);
    RecordingResponse response;
    client.submit(get("/events"), &response);
    QTRY_COMPARE_WITH_TIMEOUT(response.head.status, 200, 10'000);
    QCOMPARE(response.head.header("content-type"), QByteArray("text/event-stream"));
    QVERIFY(response.started && response.started->protocol == http::ClientProtocol::Http3 && response.started->tls);
    QTRY_COMPARE(server->stats().streamsOpen, qint64(1));
    for (std::uint64_t seq = 1; seq <= 3; ++seq)
        server->publish(makeEvent(seq));
    QTRY_VERIFY_WITH_TIMEOUT(response.body.contains("data: event 3\n\n"), 10'000);
    QVERIFY(response.body.contains("id: 1\ndata: event 1\n\n"));
    const sse::ServerStats stats = server->stats();
    QCOMPARE(stats.http3Connections, qint64(1));
    QCOMPARE(stats.connectionsOpen, qint64(1));
    QVERIFY(stats.bytesSent > 0 && stats.bytesReceived > 0);
    client.close();
    QTRY_COMPARE(server->stats().streamsOpen, qint64(0));
}

void TestH3::replaysAfterLastEventId()
{
    auto server = startServer();
    QVERIFY(server->isRunning());
    for (std::uint64_t seq = 1; seq <= 5; ++seq)
        server->publish(makeEvent(seq));
    QTRY_COMPARE(server->stats().eventsPublished, qint64(5));
    quic::H3ClientConnection client(QStringLiteral("127.0.0.1"), server->http3Port(), m_id.client);
    RecordingResponse response;
    client.submit(get("/events", {{"last-event-id", "2"}}), &response);
    QTRY_VERIFY_WITH_TIMEOUT(response.body.contains("data: event 5\n\n"), 10'000);
    QCOMPARE(response.head.header("edgesse-replay"), QByteArray("complete; replayed=3"));
    QVERIFY(response.body.startsWith(": edgesse-replay complete replayed=3\n"));
    QVERIFY(!response.body.contains("event 2\n"));
    QVERIFY(response.body.indexOf("event 3") < response.body.indexOf("event 4"));
}

void TestH3::heartbeatsAndMaxDuration()
{
    sse::ServerSettings settings;
    settings.heartbeat = std::chrono::milliseconds(50);
    settings.maxStreamDuration = std::chrono::milliseconds(600);
    auto server = startServer(settings);
    QVERIFY(server->isRunning());
    quic::H3ClientConnection client(QStringLiteral("127.0.0.1"), server->http3Port(), m_id.client);
    RecordingResponse response;
    const auto start = http::Clock::now();
    client.submit(get("/events"), &response);
    QTRY_VERIFY_WITH_TIMEOUT(response.body.contains(": heartbeat\n"), 10'000);
    QTRY_VERIFY_WITH_TIMEOUT(response.completed, 10'000); // ended cleanly: FIN after the max duration
    QVERIFY(http::Clock::now() - start >= std::chrono::milliseconds(600));
    QCOMPARE(server->stats().streamsEndedByMaxDuration, qint64(1));
    QVERIFY(!response.error);
}

void TestH3::overTheCapAnswers503()
{
    sse::ServerSettings settings;
    settings.http.maxConnections = 1;
    settings.http.retryAfter = std::chrono::seconds(7);
    auto server = startServer(settings);
    QVERIFY(server->isRunning());
    quic::H3ClientConnection first(QStringLiteral("127.0.0.1"), server->http3Port(), m_id.client);
    RecordingResponse admitted;
    first.submit(get("/events"), &admitted);
    QTRY_COMPARE_WITH_TIMEOUT(admitted.head.status, 200, 10'000);
    quic::H3ClientConnection second(QStringLiteral("127.0.0.1"), server->http3Port(), m_id.client);
    RecordingResponse refused;
    second.submit(get("/events"), &refused);
    QTRY_VERIFY_WITH_TIMEOUT(refused.completed, 10'000);
    QCOMPARE(refused.head.status, 503);
    QCOMPARE(refused.head.header("retry-after"), QByteArray("7"));
    QCOMPARE(server->stats().connectionsRejected, qint64(1));
}

// Debian's ngtcp2 example client (GnuTLS build) fetches /events from EdgeSSE over h3; the
// stream ends after the max duration, and what it saved holds the events as sent.
void TestH3::gtlsclientReceivesEvents()
{
    const QString gtlsclient = QStandardPaths::findExecutable(QStringLiteral("gtlsclient"));
    if (gtlsclient.isEmpty())
        QSKIP("gtlsclient is not installed (package ngtcp2-client; scripts/dev installs it)");
    sse::ServerSettings settings;
    settings.maxStreamDuration = std::chrono::milliseconds(1500);
    settings.retry = std::chrono::milliseconds(2500);
    auto server = startServer(settings);
    QVERIFY(server->isRunning());
    QTemporaryDir dir;
    QProcess peer;
    peer.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
    const QString port = QString::number(server->http3Port());
    peer.start(gtlsclient, {QStringLiteral("-q"), QStringLiteral("--exit-on-all-streams-close"),
                            QStringLiteral("--download=") + dir.path(), QStringLiteral("127.0.0.1"), port,
                            QStringLiteral("https://127.0.0.1:%1/events").arg(port)});
    QVERIFY(peer.waitForStarted());
    QTRY_COMPARE_WITH_TIMEOUT(server->stats().streamsOpen, qint64(1), 10'000);
    for (std::uint64_t seq = 1; seq <= 4; ++seq)
        server->publish(makeEvent(seq));
    QVERIFY2(peer.waitForFinished(15'000), "gtlsclient did not exit after the stream ended");
    QFile saved(dir.filePath(QStringLiteral("events")));
    QVERIFY2(saved.open(QIODevice::ReadOnly), qPrintable(QString::fromUtf8(peer.readAllStandardError())));
    const QByteArray body = saved.readAll();
    QVERIFY2(body.startsWith("retry: 2500\n"), body.constData());
    for (int seq = 1; seq <= 4; ++seq)
        QVERIFY2(body.contains(QByteArray("id: " + QByteArray::number(seq) + "\ndata: event " + QByteArray::number(seq) + "\n\n")),
                 body.constData());
    QCOMPARE(server->stats().http3Connections, qint64(1));
    QCOMPARE(server->stats().streamsEndedByMaxDuration, qint64(1));
}

// gtlsserver serves files only (no streaming responses), so EdgeSSE's h3 client reads a file
// of SSE events from it, with the run's certificate: the QUIC and HTTP/3 layers of the
// client meet an independent server.
void TestH3::clientReadsFromGtlsserver()
{
    const QString gtlsserver = QStandardPaths::findExecutable(QStringLiteral("gtlsserver"), {QStringLiteral("/usr/sbin"), QStringLiteral("/usr/bin")});
    if (gtlsserver.isEmpty())
        QSKIP("gtlsserver is not installed (package ngtcp2-server; scripts/dev installs it)");
    QTemporaryDir dir;
    QByteArray content;
    for (int seq = 1; seq <= 200; ++seq)
        content += "id: " + QByteArray::number(seq) + "\ndata: event " + QByteArray::number(seq) + "\n\n";
    QVERIFY(writeFile(dir.filePath(QStringLiteral("events.txt")), content));
    QVERIFY(writeFile(dir.filePath(QStringLiteral("key.pem")), m_id.tls->credentials.privateKeyPem));
    QVERIFY(writeFile(dir.filePath(QStringLiteral("cert.pem")), m_id.tls->credentials.certificatePem));
    const quint16 port = freeUdpPort();
    QVERIFY(port != 0);
    QProcess peer;
    peer.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
    peer.setProcessChannelMode(QProcess::MergedChannels);
    peer.start(gtlsserver, {QStringLiteral("-q"), QStringLiteral("-d"), dir.path(), QStringLiteral("127.0.0.1"),
                            QString::number(port), dir.filePath(QStringLiteral("key.pem")),
                            dir.filePath(QStringLiteral("cert.pem"))});
    QVERIFY(peer.waitForStarted());
    RecordingResponse response;
    std::unique_ptr<quic::H3ClientConnection> client;
    // The server binds a moment after it starts; a client too early times out its handshake.
    for (int attempt = 0; attempt < 20 && !response.completed; ++attempt) {
        response = RecordingResponse();
        client = std::make_unique<quic::H3ClientConnection>(QStringLiteral("127.0.0.1"), port, m_id.client);
        client->submit(get("/events.txt"), &response);
        (void)QTest::qWaitFor([&] { return response.done() || client->handshakeCompleted(); }, 1000);
        if (client->handshakeCompleted())
            QTRY_VERIFY_WITH_TIMEOUT(response.done(), 10'000);
    }
    QVERIFY2(response.completed, qPrintable(response.errorMessage + QString::fromUtf8(peer.readAll())));
    QCOMPARE(response.head.status, 200);
    QCOMPARE(response.body, content);
    peer.terminate();
    peer.waitForFinished(5000);
}

// Random bytes, QUIC Initial headers with random connection IDs and undecryptable payloads,
// truncated packets and a flood of new connections: all dropped, memory bounded, and a real
// client served afterwards.
void TestH3::garbageAndFloodsAreDropped()
{
    auto server = startServer();
    QVERIFY(server->isRunning());
    quic::UdpSocket attacker;
    QString error;
    QVERIFY(attacker.connectTo(quic::SocketAddress::from(QHostAddress(QHostAddress::LocalHost), server->http3Port()),
                               QHostAddress(QHostAddress::LocalHost), &error));
    QRandomGenerator random(15);
    const qint64 before = residentKb();
    constexpr int kEach = 20'000;
    std::vector<std::uint8_t> d(1200);
    for (int i = 0; i < 3 * kEach; ++i) {
        const int kind = i % 3;
        for (auto &b : d)
            b = static_cast<std::uint8_t>(random.bounded(256));
        std::size_t size = 1 + random.bounded(1200);
        if (kind > 0) { // long header, Initial, QUIC v1, 8-byte DCID and SCID
            const std::uint8_t head[] = {0xc3, 0, 0, 0, 1, 8};
            std::copy(std::begin(head), std::end(head), d.begin());
            d[14] = 8;
            size = kind == 1 ? 1200 : 1 + random.bounded(40); // an Initial, or one cut short
        }
        attacker.send(d.data(), size);
        if (i % 200 == 199)
            QTest::qWait(1); // let the server read: the rest is dropped by the kernel, also fine
    }
    QTRY_VERIFY_WITH_TIMEOUT(server->stats().quicDatagramsReceived >= kEach, 10'000);
    QTest::qWait(500);
    const sse::ServerStats stats = server->stats();
    qInfo("received %lld datagrams, dropped %lld, refused %lld handshakes; resident memory %+lld KB",
          static_cast<long long>(stats.quicDatagramsReceived), static_cast<long long>(stats.quicDatagramsDropped),
          static_cast<long long>(stats.quicHandshakesRefused), static_cast<long long>(residentKb() - before));
    QCOMPARE(stats.http3Connections, qint64(0));
    QCOMPARE(stats.quicDatagramsDropped, stats.quicDatagramsReceived); // every one of them
    QTRY_COMPARE_WITH_TIMEOUT(server->stats().connectionsOpen, qint64(0), 15'000);
    // ASan keeps up to 256 MB of freed blocks in quarantine, and shadow memory.
    const qint64 limitKb = testing::kUnderAsan ? 400 * 1024 : 64 * 1024;
    QVERIFY2(residentKb() - before < limitKb, qPrintable(QString::number(residentKb() - before)));

    quic::H3ClientConnection client(QStringLiteral("127.0.0.1"), server->http3Port(), m_id.client);
    RecordingResponse response;
    client.submit(get("/events"), &response);
    QTRY_COMPARE_WITH_TIMEOUT(response.head.status, 200, 10'000);
}

// Real Chromium forced onto QUIC for the server's origin (TCP and UDP on the same port, as
// --origin-to-force-quic-on wants), trusting the run's certificate by its SPKI, opens the
// test page's EventSources: they are served over HTTP/3 when it uses QUIC on loopback.
void TestH3::chromiumOverH3()
{
    const QString chromium = QStandardPaths::findExecutable(QStringLiteral("chromium"));
    if (chromium.isEmpty())
        QSKIP("chromium is not installed (scripts/dev installs it)");
    quint16 port = 0;
    for (int attempt = 0; attempt < 20 && port == 0; ++attempt) {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress(QHostAddress::LocalHost), 0));
        quic::UdpSocket udp;
        QString error;
        if (udp.bind(QHostAddress(QHostAddress::LocalHost), probe.serverPort(), &error))
            port = probe.serverPort();
    }
    QVERIFY(port != 0);
    sse::ServerSettings settings;
    settings.port = port;
    settings.http3Port = port;
    auto server = startServer(settings);
    QVERIFY(server->isRunning());
    const sse::ServerStats stats = servedToChromium(chromium, port, *server);
    qInfo("Chromium over HTTP/3: %lld QUIC connections, %lld streams open, %lld TCP connections beside",
          static_cast<long long>(stats.http3Connections), static_cast<long long>(stats.streamsOpen),
          static_cast<long long>(stats.connectionsTotal - stats.http3Connections));
}

// The same through a UDP link of 40 ms each way: Chromium's QUIC datagrams cross the link
// (the origin it is forced onto is the link's port; UDP only, so no TCP port is needed).
void TestH3::chromiumOverH3ThroughLink()
{
    const QString chromium = QStandardPaths::findExecutable(QStringLiteral("chromium"));
    if (chromium.isEmpty())
        QSKIP("chromium is not installed (scripts/dev installs it)");
    auto server = startServer();
    QVERIFY(server->isRunning());
    net::DeadlineQueue deadlines;
    link::LinkSettings ls;
    ls.latency = std::chrono::milliseconds(40);
    link::UdpLink udp(ls, QHostAddress(QHostAddress::LocalHost), server->http3Port(), deadlines);
    QVERIFY2(udp.listen(), qPrintable(udp.errorString()));
    const sse::ServerStats stats = servedToChromium(chromium, udp.port(), *server);
    const link::Counters c = udp.snapshot();
    qInfo("Chromium over HTTP/3 through a UDP link: %lld QUIC connections, %lld streams, %llu datagrams up, %llu down",
          static_cast<long long>(stats.http3Connections), static_cast<long long>(stats.streamsOpen),
          static_cast<unsigned long long>(c.upstream.segments), static_cast<unsigned long long>(c.downstream.segments));
    QVERIFY(c.upstream.segments > 0 && c.downstream.segments > 0);
    QCOMPARE(stats.connectionsTotal, stats.http3Connections); // nothing over TCP
}

// Chromium forced onto QUIC for 127.0.0.1:port, trusting the run's certificate by its SPKI,
// opens the test page's two EventSources; returns the server's figures once both are open
// over HTTP/3 (fails the test, with what Chromium said, when they are not in 30 s).
sse::ServerStats TestH3::servedToChromium(const QString &chromium, quint16 port, sse::SseServer &server)
{
    QTimer publisher;
    std::uint64_t seq = 0;
    connect(&publisher, &QTimer::timeout, this, [&] { server.publish(makeEvent(++seq)); });
    publisher.start(200);
    QTemporaryDir profile;
    QProcess browser;
    browser.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
    const QString origin = QStringLiteral("127.0.0.1:%1").arg(port);
    const QString netLog = profile.filePath(QStringLiteral("netlog.json"));
    browser.start(chromium, {QStringLiteral("--headless=new"), QStringLiteral("--disable-gpu"), QStringLiteral("--no-sandbox"),
                             QStringLiteral("--no-first-run"), QStringLiteral("--user-data-dir=") + profile.path(),
                             QStringLiteral("--enable-quic"), QStringLiteral("--origin-to-force-quic-on=") + origin,
                             QStringLiteral("--log-net-log=") + netLog,
                             QStringLiteral("--ignore-certificate-errors-spki-list=") +
                                 QString::fromLatin1(m_id.tls->credentials.spkiSha256Base64),
                             QStringLiteral("https://%1/client.html?streams=2&path=/events").arg(origin)});
    if (!browser.waitForStarted()) {
        QTest::qFail("chromium did not start", __FILE__, __LINE__);
        return {};
    }
    const bool served =
        QTest::qWaitFor([&] { return server.stats().http3Connections > 0 && server.stats().streamsOpen >= 2; }, 30'000);
    const sse::ServerStats stats = server.stats();
    browser.kill();
    browser.waitForFinished(5000);
    if (!served) {
        QFile log(netLog);
        QByteArray quicErrors;
        if (log.open(QIODevice::ReadOnly)) {
            for (const QByteArray &line : log.readAll().split('\n'))
                if (line.contains("QUIC") && (line.contains("error") || line.contains("ERR_")))
                    quicErrors += line.left(300) + '\n';
        }
        qWarning("Chromium did not use HTTP/3: %lld QUIC datagrams received, %lld TCP connections, %lld streams; "
                 "net-log QUIC errors: %s; stderr: %s",
                 static_cast<long long>(stats.quicDatagramsReceived), static_cast<long long>(stats.connectionsTotal),
                 static_cast<long long>(stats.streamsOpen), quicErrors.right(2000).constData(),
                 browser.readAllStandardError().right(2000).constData());
        QTest::qFail("Chromium did not open its EventSources over HTTP/3", __FILE__, __LINE__);
    }
    return stats;
}

// curl over HTTP/2 + TLS (a real peer) reads the stream's head: it names the UDP port in
// Alt-Svc, and an HTTP/3 client that follows it is served there.
void TestH3::altSvcAdvertisesTheUdpPort()
{
    const QString curl = QStandardPaths::findExecutable(QStringLiteral("curl"));
    if (curl.isEmpty())
        QSKIP("curl is not installed (scripts/dev installs it)");
    auto server = startServer();
    QVERIFY(server->isRunning());
    QProcess peer;
    peer.start(curl, {QStringLiteral("-sk"), QStringLiteral("--http2"), QStringLiteral("--max-time"), QStringLiteral("2"),
                      QStringLiteral("-o"), QStringLiteral("/dev/null"), QStringLiteral("-D"), QStringLiteral("-"),
                      QStringLiteral("https://127.0.0.1:%1/events").arg(server->port())});
    QVERIFY(peer.waitForFinished(10'000));
    const QByteArray head = peer.readAllStandardOutput();
    QVERIFY2(head.startsWith("HTTP/2 200"), head.constData());
    const QByteArray expected = "alt-svc: h3=\":" + QByteArray::number(server->http3Port()) + "\"; ma=86400";
    QVERIFY2(head.contains(expected), head.constData());

    const qsizetype at = head.indexOf("alt-svc: h3=\":") + 14;
    const quint16 advertised = quint16(head.mid(at, head.indexOf('"', at) - at).toUShort());
    quic::H3ClientConnection client(QStringLiteral("127.0.0.1"), advertised, m_id.client);
    RecordingResponse response;
    client.submit(get("/events"), &response);
    QTRY_COMPARE_WITH_TIMEOUT(response.head.status, 200, 10'000);
    QCOMPARE(server->stats().http3Connections, qint64(1));
}

QTEST_GUILESS_MAIN(TestH3)
#include "tst_h3.moc"
