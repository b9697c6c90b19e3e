// TLS as browsers and command-line peers meet it: OpenSSL channels against each other, our
// servers and clients over HTTPS (ALPN h2 and http/1.1, cleartext on the same port), session
// resumption, and curl, nghttp and openssl s_client against a node.
#include "core/http/connectionpool.h"
#include "core/sse/sseserver.h"
#include "core/tls/credentials.h"
#include "core/tls/tlscontext.h"
#include "core/tls/tlschannel.h"
#include "core/tls/tlsidentity.h"
#include "tests/support/testca.h"

#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <chrono>
#include <memory>

using namespace std::chrono_literals;
using namespace edgesse;

namespace {

sse::PublishedEvent makeEvent(std::uint64_t seq)
{
    sse::PublishedEvent e;
    e.seq = seq;
    e.publishedAt = std::chrono::steady_clock::now();
    e.event.id = QByteArray::number(static_cast<qulonglong>(seq));
    e.event.data = "event " + e.event.id;
    return e;
}

bool have(const char *program)
{
    return !QStandardPaths::findExecutable(QString::fromUtf8(program)).isEmpty();
}

// Moves records between two channels until neither has anything to send.
bool pump(tls::TlsChannel &client, tls::TlsChannel &server)
{
    for (int round = 0; round < 20; ++round) {
        const QByteArray toServer = client.takeCiphertext();
        const QByteArray toClient = server.takeCiphertext();
        if (toServer.isEmpty() && toClient.isEmpty())
            return true;
        if (!server.receive(toServer.constData(), toServer.size()) || !client.receive(toClient.constData(), toClient.size()))
            return false;
    }
    return false;
}

// Collects what one request reports.
struct Capture final : http::ResponseHandler {
    http::StartInfo start;
    int status = 0;
    QByteArray body;
    QString failure;
    bool started = false;
    void requestStarted(const http::StartInfo &info) override
    {
        start = info;
        started = true;
    }
    void responseHeadReceived(const http::ResponseHead &head) override { status = head.status; }
    void responseDataReceived(const char *data, std::size_t size) override { body.append(data, qsizetype(size)); }
    void responseCompleted() override {}
    void responseFailed(http::ClientError, const QString &message) override { failure = message; }
};

http::ClientRequest eventsRequest(quint16 port)
{
    http::ClientRequest r;
    r.path = "/events";
    r.authority = "127.0.0.1:" + QByteArray::number(port);
    r.headers = {{"accept", "text/event-stream"}};
    return r;
}

} // namespace

class TestTls final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void channelsAgreeOnAlpn_data();
    void channelsAgreeOnAlpn();
    void untrustedCertificateIsRefused();
    void channelResumesFromItsSlot();
    void earlyDataIsAnsweredBeforeTheClientFinishes();
    void replayedEarlyDataIsRejected();
    void rejectedEarlyDataIsSentAgain();
    void spkiHashIsTheCertificatesKey();
    void badCertificateFilesAreNamed();
    void clientsReceiveEventsOverHttps_data();
    void clientsReceiveEventsOverHttps();
    void reconnectResumesTheSession();
    void curlOverTlsAndH2c_data();
    void curlOverTlsAndH2c();
    void nghttpOverTls();
    void opensslNegotiatesH2();

private:
    std::shared_ptr<const tls::TlsIdentity> m_identity;
    QTemporaryDir m_dir;
    QString m_caFile;
};

void TestTls::initTestCase()
{
    QString error;
    m_identity = testing::identityWithCaFile(m_dir, m_caFile, &error);
    QVERIFY2(m_identity, qPrintable(error));
}

void TestTls::channelsAgreeOnAlpn_data()
{
    QTest::addColumn<QByteArray>("offered");
    QTest::addColumn<QByteArray>("agreed");
    QTest::newRow("browser offering h2") << tls::alpnH2() << QByteArray("h2");
    QTest::newRow("HTTP/1.1 only") << tls::alpnHttp1() << QByteArray("http/1.1");
    QTest::newRow("no ALPN") << QByteArray() << QByteArray();
}

void TestTls::channelsAgreeOnAlpn()
{
    QFETCH(QByteArray, offered);
    QFETCH(QByteArray, agreed);
    auto server = tls::TlsChannel::server(*m_identity->server);
    auto client = tls::TlsChannel::client(*m_identity->client, QStringLiteral("127.0.0.1"), offered, nullptr);
    QVERIFY(client->send("GET / HTTP/1.1\r\n\r\n", 18)); // waits for the handshake
    client->start();
    QVERIFY2(pump(*client, *server), qPrintable(client->errorString() + server->errorString()));
    QVERIFY(client->handshakeComplete());
    QVERIFY(server->handshakeComplete());
    QCOMPARE(client->alpn(), agreed);
    QCOMPARE(server->alpn(), agreed);
    QCOMPARE(server->takePlaintext(), QByteArray("GET / HTTP/1.1\r\n\r\n"));
    QVERIFY(server->send("HTTP/1.1 204 No Content\r\n\r\n", 27));
    QVERIFY(pump(*client, *server));
    QCOMPARE(client->takePlaintext(), QByteArray("HTTP/1.1 204 No Content\r\n\r\n"));
}

void TestTls::untrustedCertificateIsRefused()
{
    QString error;
    const auto stranger = tls::TlsIdentity::make(nullptr, &error); // another CA
    QVERIFY(stranger);
    auto server = tls::TlsChannel::server(*m_identity->server);
    auto client = tls::TlsChannel::client(*stranger->client, QStringLiteral("127.0.0.1"), tls::alpnH2(), nullptr);
    client->start();
    QVERIFY(!pump(*client, *server));
    QVERIFY(client->failed());
    QVERIFY2(client->errorString().contains(QStringLiteral("certificate not trusted")), qPrintable(client->errorString()));

    // The right CA, the wrong name: the certificate is for 127.0.0.1, ::1 and localhost.
    auto server2 = tls::TlsChannel::server(*m_identity->server);
    auto client2 = tls::TlsChannel::client(*m_identity->client, QStringLiteral("example.com"), tls::alpnH2(), nullptr);
    client2->start();
    QVERIFY(!pump(*client2, *server2));
    QVERIFY2(client2->errorString().contains(QStringLiteral("mismatch")), qPrintable(client2->errorString()));
}

void TestTls::channelResumesFromItsSlot()
{
    tls::TlsSessionSlot slot;
    for (int attempt = 0; attempt < 2; ++attempt) {
        auto server = tls::TlsChannel::server(*m_identity->server);
        auto client = tls::TlsChannel::client(*m_identity->client, QStringLiteral("127.0.0.1"), tls::alpnH2(), &slot);
        client->start();
        QVERIFY(pump(*client, *server));
        QVERIFY(client->handshakeComplete());
        QCOMPARE(client->sessionReused(), attempt == 1);
        QVERIFY(slot.session() != nullptr); // the server's ticket
    }
}

namespace {

const QByteArray kEarlyRequest = QByteArrayLiteral("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");

// A slot holding a ticket of the server's, which allows early data.
bool ticketFrom(const tls::TlsContext &server, const tls::TlsContext &client, tls::TlsSessionSlot &slot)
{
    auto s = tls::TlsChannel::server(server);
    auto c = tls::TlsChannel::client(client, QStringLiteral("127.0.0.1"), tls::alpnHttp1(), &slot);
    c->start();
    return pump(*c, *s) && c->handshakeComplete() && slot.session() != nullptr;
}

} // namespace

// 0-RTT: the request crosses with the ClientHello, the server reads it before the client's
// Finished and its answer (0.5-RTT data) reaches the client with the server's Finished.
void TestTls::earlyDataIsAnsweredBeforeTheClientFinishes()
{
    tls::TlsSessionSlot slot;
    QVERIFY(ticketFrom(*m_identity->server, *m_identity->client, slot));
    auto server = tls::TlsChannel::server(*m_identity->server);
    auto client = tls::TlsChannel::client(*m_identity->client, QStringLiteral("127.0.0.1"), tls::alpnHttp1(), &slot, true);
    QVERIFY(client->acceptsEarlyData());
    QVERIFY(client->send(kEarlyRequest.constData(), kEarlyRequest.size()));
    client->start();
    QVERIFY(!client->acceptsEarlyData());
    const QByteArray firstFlight = client->takeCiphertext();
    QVERIFY(server->receive(firstFlight.constData(), firstFlight.size()));
    QCOMPARE(server->takePlaintext(), kEarlyRequest);
    QVERIFY(!server->handshakeComplete());
    QVERIFY(server->readingEarlyData());
    const QByteArray reply("HTTP/1.1 200 OK\r\n\r\n");
    QVERIFY(server->send(reply.constData(), reply.size()));
    const QByteArray serverFlight = server->takeCiphertext();
    QVERIFY(client->receive(serverFlight.constData(), serverFlight.size()));
    QVERIFY(client->handshakeComplete());
    QVERIFY(client->sentEarlyData() && client->earlyDataAccepted());
    QCOMPARE(client->takePlaintext(), reply);
    QVERIFY(pump(*client, *server));
    QVERIFY(server->handshakeComplete());
    QVERIFY(!server->readingEarlyData());
    QCOMPARE(server->takePlaintext(), QByteArray()); // not sent twice
}

// The same first flight played again to the server: it resumes, but OpenSSL's anti-replay
// (each ticket's early data once) keeps the request from being read a second time.
void TestTls::replayedEarlyDataIsRejected()
{
    tls::TlsSessionSlot slot;
    QVERIFY(ticketFrom(*m_identity->server, *m_identity->client, slot));
    auto client = tls::TlsChannel::client(*m_identity->client, QStringLiteral("127.0.0.1"), tls::alpnHttp1(), &slot, true);
    QVERIFY(client->send(kEarlyRequest.constData(), kEarlyRequest.size()));
    client->start();
    const QByteArray firstFlight = client->takeCiphertext();
    auto original = tls::TlsChannel::server(*m_identity->server);
    QVERIFY(original->receive(firstFlight.constData(), firstFlight.size()));
    QCOMPARE(original->takePlaintext(), kEarlyRequest);
    auto replay = tls::TlsChannel::server(*m_identity->server);
    QVERIFY(replay->receive(firstFlight.constData(), firstFlight.size()));
    QCOMPARE(replay->takePlaintext(), QByteArray());
    QVERIFY(!replay->readingEarlyData());
}

// A server that cannot take the early data (here: one that never issued the ticket, so the
// handshake is a full one) gets the request after the handshake, once.
void TestTls::rejectedEarlyDataIsSentAgain()
{
    tls::TlsSessionSlot slot;
    QVERIFY(ticketFrom(*m_identity->server, *m_identity->client, slot));
    QString error;
    const auto stranger = tls::TlsContext::server(m_identity->credentials, &error);
    QVERIFY2(stranger, qPrintable(error));
    auto server = tls::TlsChannel::server(*stranger);
    auto client = tls::TlsChannel::client(*m_identity->client, QStringLiteral("127.0.0.1"), tls::alpnHttp1(), &slot, true);
    QVERIFY(client->send(kEarlyRequest.constData(), kEarlyRequest.size()));
    client->start();
    QVERIFY(pump(*client, *server));
    QVERIFY(client->handshakeComplete() && server->handshakeComplete());
    QVERIFY(client->sentEarlyData());
    QVERIFY(!client->earlyDataAccepted());
    QVERIFY(!client->sessionReused());
    QCOMPARE(server->takePlaintext(), kEarlyRequest);
}

void TestTls::spkiHashIsTheCertificatesKey()
{
    if (!have("openssl"))
        QSKIP("openssl is not installed (scripts/dev installs it)");
    // What Chromium's documentation computes with the openssl command line.
    const QString cert = m_dir.filePath(QStringLiteral("cert.pem"));
    QFile f(cert);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(m_identity->credentials.certificatePem);
    f.close();
    QProcess sh;
    sh.start(QStringLiteral("sh"), {QStringLiteral("-c"),
                                    QStringLiteral("openssl x509 -noout -pubkey -in '%1' | openssl pkey -pubin -outform der"
                                                   " | openssl dgst -sha256 -binary | base64").arg(cert)});
    QVERIFY(sh.waitForFinished(20000));
    QCOMPARE(sh.readAllStandardOutput().trimmed(), m_identity->credentials.spkiSha256Base64);
}

void TestTls::badCertificateFilesAreNamed()
{
    QString error;
    QVERIFY(!tls::loadCredentials(QStringLiteral("/nonexistent/cert.pem"), m_caFile, &error));
    QVERIFY2(error.contains(QStringLiteral("/nonexistent/cert.pem")), qPrintable(error));
    // A CA certificate where the key should be.
    QVERIFY(!tls::loadCredentials(m_caFile, m_caFile, &error));
    QVERIFY2(error.contains(QStringLiteral("private key")), qPrintable(error));
}

void TestTls::clientsReceiveEventsOverHttps_data()
{
    QTest::addColumn<http::ClientProtocol>("protocol");
    QTest::newRow("h2 by ALPN") << http::ClientProtocol::Http2;
    QTest::newRow("http/1.1 by ALPN") << http::ClientProtocol::Http1;
}

void TestTls::clientsReceiveEventsOverHttps()
{
    QFETCH(http::ClientProtocol, protocol);
    sse::ServerSettings settings;
    settings.tls = m_identity->server;
    sse::SseServer server(settings);
    QVERIFY(server.start());
    for (std::uint64_t seq = 1; seq <= 3; ++seq)
        server.publish(makeEvent(seq));

    http::ConnectionPool::Config config;
    config.port = server.port();
    config.protocol = protocol;
    http::ConnectionPool secure(config);
    secure.setTls(m_identity->client);
    http::ConnectionPool clear(config);
    Capture overTls, overTcp;
    auto request = eventsRequest(server.port());
    request.headers.push_back({"last-event-id", "0"});
    secure.submit(request, &overTls);
    clear.submit(request, &overTcp);
    QTRY_VERIFY_WITH_TIMEOUT(overTls.body.contains("data: event 3\n"), 10000);
    QTRY_VERIFY_WITH_TIMEOUT(overTcp.body.contains("data: event 3\n"), 10000);
    QVERIFY(overTls.failure.isEmpty());
    QCOMPARE(overTls.status, 200);
    QVERIFY(overTls.start.tls);
    QVERIFY(!overTcp.start.tls);
    QCOMPARE(server.stats().http2Connections, qint64{protocol == http::ClientProtocol::Http2 ? 2 : 0});
    secure.cancel(&overTls);
    clear.cancel(&overTcp);
}

void TestTls::reconnectResumesTheSession()
{
    sse::ServerSettings settings;
    settings.tls = m_identity->server;
    sse::SseServer server(settings);
    QVERIFY(server.start());
    http::ConnectionPool::Config config;
    config.port = server.port();
    config.protocol = http::ClientProtocol::Http1; // its requests start once the handshake is done
    http::ConnectionPool pool(config);
    pool.setTls(m_identity->client);

    Capture first;
    pool.submit(eventsRequest(server.port()), &first);
    QTRY_COMPARE_WITH_TIMEOUT(first.status, 200, 10000);
    QVERIFY(first.start.tls);
    QVERIFY(!first.start.tlsResumed);
    // TLS 1.3 tickets come after the handshake; give them a moment, then drop the connection.
    QTest::qWait(200);
    pool.closeAll();

    Capture second;
    pool.submit(eventsRequest(server.port()), &second);
    QTRY_COMPARE_WITH_TIMEOUT(second.status, 200, 10000);
    QVERIFY(second.start.tls);
    QVERIFY(second.start.tlsResumed);
    QCOMPARE(pool.connectionsOpened(), std::uint64_t{2});
    pool.cancel(&second);
}

void TestTls::curlOverTlsAndH2c_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<bool>("secure");
    QTest::addColumn<QByteArray>("version");
    QTest::newRow("--http2 over TLS (ALPN)") << QStringList{QStringLiteral("--http2")} << true << QByteArray("2");
    QTest::newRow("--http1.1 over TLS") << QStringList{QStringLiteral("--http1.1")} << true << QByteArray("1.1");
    QTest::newRow("--http2-prior-knowledge (h2c)") << QStringList{QStringLiteral("--http2-prior-knowledge")} << false
                                                   << QByteArray("2");
}

void TestTls::curlOverTlsAndH2c()
{
    QFETCH(QStringList, args);
    QFETCH(bool, secure);
    QFETCH(QByteArray, version);
    if (!have("curl"))
        QSKIP("curl is not installed (scripts/dev installs it)");
    sse::ServerSettings settings;
    settings.tls = m_identity->server;
    sse::SseServer server(settings);
    QVERIFY(server.start());
    for (std::uint64_t seq = 1; seq <= 2; ++seq)
        server.publish(makeEvent(seq));
    const QString url = QStringLiteral("%1://127.0.0.1:%2/events")
                            .arg(secure ? QStringLiteral("https") : QStringLiteral("http"))
                            .arg(server.port());
    QProcess curl;
    curl.start(QStandardPaths::findExecutable(QStringLiteral("curl")),
               args + QStringList{QStringLiteral("-sSN"), QStringLiteral("--cacert"), m_caFile,
                                  QStringLiteral("-H"), QStringLiteral("Last-Event-ID: 0"),
                                  QStringLiteral("--max-time"), QStringLiteral("2"),
                                  QStringLiteral("-w"), QStringLiteral("\nversion=%{http_version}\n"), url});
    QVERIFY(curl.waitForFinished(20000));
    const QByteArray out = curl.readAllStandardOutput();
    QVERIFY2(out.contains("id: 1\ndata: event 1\n\nid: 2\ndata: event 2\n\n"), out.constData());
    QVERIFY2(out.contains(QByteArray("version=" + version + "\n")), out.constData());
    QCOMPARE(server.stats().http2Connections, qint64{version == "2" ? 1 : 0});
}

void TestTls::nghttpOverTls()
{
    if (!have("nghttp"))
        QSKIP("nghttp is not installed (package nghttp2-client)");
    sse::ServerSettings settings;
    settings.tls = m_identity->server;
    sse::SseServer server(settings);
    QVERIFY(server.start());
    server.publish(makeEvent(1));
    QProcess nghttp;
    // nghttp does not verify certificates; ALPN h2 is what it needs from us.
    nghttp.start(QStandardPaths::findExecutable(QStringLiteral("nghttp")),
                 {QStringLiteral("-H"), QStringLiteral("last-event-id: 0"), QStringLiteral("--timeout=2"),
                  QStringLiteral("https://127.0.0.1:%1/events").arg(server.port())});
    QTRY_COMPARE_WITH_TIMEOUT(server.stats().streamsOpen, qint64{1}, 10000);
    server.publish(makeEvent(2));
    QVERIFY(nghttp.waitForFinished(20000));
    const QByteArray out = nghttp.readAllStandardOutput();
    QVERIFY2(out.contains("id: 1\ndata: event 1\n\nid: 2\ndata: event 2\n\n"), out.constData());
    QCOMPARE(server.stats().http2Connections, qint64{1});
}

void TestTls::opensslNegotiatesH2()
{
    if (!have("openssl"))
        QSKIP("openssl is not installed (scripts/dev installs it)");
    sse::ServerSettings settings;
    settings.tls = m_identity->server;
    sse::SseServer server(settings);
    QVERIFY(server.start());
    QProcess sClient;
    sClient.start(QStandardPaths::findExecutable(QStringLiteral("openssl")),
                  {QStringLiteral("s_client"), QStringLiteral("-alpn"), QStringLiteral("h2"), QStringLiteral("-CAfile"),
                   m_caFile, QStringLiteral("-verify_return_error"), QStringLiteral("-connect"),
                   QStringLiteral("127.0.0.1:%1").arg(server.port())});
    QVERIFY(sClient.waitForStarted());
    sClient.closeWriteChannel();
    QVERIFY(sClient.waitForFinished(20000));
    const QByteArray out = sClient.readAllStandardOutput();
    QVERIFY2(out.contains("ALPN protocol: h2"), out.constData());
    QVERIFY2(out.contains("Verify return code: 0 (ok)"), out.constData());
}

QTEST_GUILESS_MAIN(TestTls)
#include "tst_tls.moc"
