// A `tls: true` link counts the TLS handshakes that fail across it and says why: the record
// headers of hand-made exchanges (whole and byte by byte), then real peers through a link to
// the run's node (TLS beside cleartext), a node without TLS and openssl s_server (TLS only):
// curl trusting the run's CA and not trusting it, and a client speaking plain HTTP.
#include "core/link/linkproxy.h"
#include "core/link/tlshandshakewatch.h"
#include "core/net/deadlinequeue.h"
#include "core/sse/sseserver.h"
#include "core/tls/credentials.h"
#include "core/tls/tlsidentity.h"
#include "tests/support/loopback.h"
#include "tests/support/testca.h"

#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <cerrno>
#include <memory>

#include <sys/socket.h>
#include <unistd.h>

using namespace std::chrono_literals;
using namespace edgesse;
using link::TlsHandshakeWatch;

namespace {

using State = TlsHandshakeWatch::State;

// One TLS record: type, version 3.3, a body of `length` bytes (its first bytes `body`).
QByteArray record(int type, int length, const QByteArray &body = {})
{
    QByteArray r;
    r.append(char(type)).append(char(3)).append(char(3)).append(char(length >> 8)).append(char(length & 0xff));
    QByteArray filled = body.left(length);
    filled.append(QByteArray(length - filled.size(), 'x'));
    return r + filled;
}

// What each side sends, in order: 'c' from the client, 't' from the target, 'C'/'T' that side ends.
struct Step {
    char who;
    QByteArray bytes;
};
using Steps = QList<Step>;

State feed(const Steps &steps, bool byteByByte, QString *cause)
{
    TlsHandshakeWatch watch(true);
    for (const Step &step : steps) {
        if (step.who == 'C') {
            watch.clientEnded();
            continue;
        }
        if (step.who == 'T') {
            watch.targetEnded();
            continue;
        }
        const qsizetype piece = byteByByte ? 1 : step.bytes.size();
        for (qsizetype at = 0; at < step.bytes.size(); at += piece) {
            const QByteArray part = step.bytes.mid(at, piece);
            if (step.who == 'c')
                watch.fromClient(part.constData(), std::size_t(part.size()));
            else
                watch.fromTarget(part.constData(), std::size_t(part.size()));
        }
    }
    *cause = watch.cause();
    return watch.state();
}

// A TLS 1.3 exchange as it crosses the wire: ClientHello; ServerHello, ChangeCipherSpec and
// the encrypted rest of the server's flight; the client's ChangeCipherSpec and Finished;
// the server's session tickets.
const QByteArray kClientHello = record(22, 512, QByteArray("\x01", 1));
const QByteArray kServerFlight = record(22, 122, QByteArray("\x02", 1)) + record(20, 1) + record(23, 2048);
const QByteArray kClientFinished = record(20, 1) + record(23, 53);
const QByteArray kTickets = record(23, 250) + record(23, 250);

} // namespace

Q_DECLARE_METATYPE(Steps)

class TestLinkTls final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void recordsTellTheOutcome_data();
    void recordsTellTheOutcome();
    void realPeersThroughALink_data();
    void realPeersThroughALink();

private:
    bool startOpenSslServer(QProcess &process, quint16 &port);
    static bool plainRequest(quint16 port);
    bool runCurl(const QString &curl, bool trusting, quint16 port);

    std::shared_ptr<const tls::TlsIdentity> m_identity;
    QTemporaryDir m_dir;
    QString m_caFile;
};

void TestLinkTls::initTestCase()
{
    QString error;
    m_identity = testing::identityWithCaFile(m_dir, m_caFile, &error);
    QVERIFY2(m_identity, qPrintable(error));
}

void TestLinkTls::recordsTellTheOutcome_data()
{
    QTest::addColumn<Steps>("steps");
    QTest::addColumn<int>("state");
    QTest::addColumn<QString>("cause");
    QTest::newRow("TLS 1.3, then a request")
        << Steps{{'c', kClientHello}, {'t', kServerFlight}, {'c', kClientFinished + record(23, 90)}, {'t', kTickets}}
        << int(State::Completed) << QString();
    QTest::newRow("TLS 1.3, then the client leaves at once")
        << Steps{{'c', kClientHello}, {'t', kServerFlight}, {'c', kClientFinished}, {'t', kTickets}, {'C', {}}}
        << int(State::Completed) << QString();
    QTest::newRow("TLS 1.2: ChangeCipherSpec each way")
        << Steps{{'c', kClientHello}, {'t', record(22, 3000)}, {'c', record(22, 70) + record(20, 1) + record(22, 40)},
                 {'t', record(20, 1) + record(22, 40)}}
        << int(State::Completed) << QString();
    const QByteArray plain("GET /events HTTP/1.1\r\nHost: a\r\n\r\n");
    QTest::newRow("plain HTTP, and the target closes")
        << Steps{{'c', plain}, {'C', {}}, {'T', {}}} << int(State::Failed)
        << QStringLiteral("the client spoke plaintext (\"GET /events HTTP/1.1\") to a target that serves only TLS (it closed "
                          "the connection); clients on a tls link must speak TLS (https)");
    QTest::newRow("plain HTTP, answered with an alert")
        << Steps{{'c', plain}, {'t', record(21, 2, QByteArray("\x02\x0a", 2))}} << int(State::Failed)
        << QStringLiteral("the client spoke plaintext (\"GET /events HTTP/1.1\") to a target that serves TLS (it answered "
                          "with a TLS record); clients on a tls link must speak TLS (https)");
    QTest::newRow("plain HTTP, answered in plaintext: no handshake")
        << Steps{{'c', plain}, {'t', "HTTP/1.1 200 OK\r\n"}, {'T', {}}} << int(State::Off) << QString();
    QTest::newRow("the target answers in plaintext")
        << Steps{{'c', kClientHello}, {'t', "HTTP/1.1 400 Bad Request\r\n\r\n"}} << int(State::Failed)
        << QStringLiteral("the target answered the ClientHello in plaintext (\"HTTP/1.1 400 Bad Request\"): it does not serve "
                          "TLS on the port the link leads to");
    QTest::newRow("the target's alert")
        << Steps{{'c', kClientHello}, {'t', record(21, 2, QByteArray("\x02\x46", 2))}} << int(State::Failed)
        << QStringLiteral("the target ended the handshake with the TLS alert protocol_version (70) (no TLS version both sides speak)");
    QTest::newRow("the client's alert (TLS 1.2)")
        << Steps{{'c', kClientHello}, {'t', record(22, 3000)}, {'c', record(21, 2, QByteArray("\x02\x30", 2))}}
        << int(State::Failed)
        << QStringLiteral("the client ended the handshake with the TLS alert unknown_ca (48) (the certificate's CA is not trusted)");
    QTest::newRow("the client leaves after the server's flight")
        << Steps{{'c', kClientHello}, {'t', kServerFlight}, {'c', record(23, 19)}, {'C', {}}} << int(State::Failed)
        << QStringLiteral("the client ended the connection during the handshake, after the target's hello and certificate "
                          "(does it trust the certificate's CA?)");
    QTest::newRow("the target closes on the ClientHello")
        << Steps{{'c', kClientHello}, {'T', {}}} << int(State::Failed)
        << QStringLiteral("the target closed the connection without answering the ClientHello (does it serve TLS?)");
    QTest::newRow("a connection that never spoke") << Steps{{'C', {}}} << int(State::Off) << QString();
    QTest::newRow("still in the handshake") << Steps{{'c', kClientHello}, {'t', kServerFlight}} << int(State::Pending)
                                            << QString();
}

void TestLinkTls::recordsTellTheOutcome()
{
    QFETCH(Steps, steps);
    QFETCH(int, state);
    QFETCH(QString, cause);
    for (const bool byteByByte : {false, true}) {
        QString said;
        QCOMPARE(int(feed(steps, byteByByte, &said)), state);
        QCOMPARE(said, cause);
    }
}

void TestLinkTls::realPeersThroughALink_data()
{
    QTest::addColumn<QString>("target"); // node (TLS beside cleartext), cleartext-node, openssl (s_server: TLS only)
    QTest::addColumn<QString>("client"); // curl-trusting, curl-untrusting, plain
    QTest::addColumn<QString>("cause");  // empty: no handshake failed
    QTest::newRow("curl trusting the CA") << QStringLiteral("node") << QStringLiteral("curl-trusting") << QString();
    QTest::newRow("plain HTTP to a node: served in cleartext") << QStringLiteral("node") << QStringLiteral("plain") << QString();
    QTest::newRow("plain HTTP to a TLS-only server")
        << QStringLiteral("openssl") << QStringLiteral("plain")
        << QStringLiteral("the client spoke plaintext (\"GET /events HTTP/1.1\") to a target that serves only TLS");
    QTest::newRow("curl not trusting the certificate")
        << QStringLiteral("node") << QStringLiteral("curl-untrusting")
        << QStringLiteral("the client ended the handshake with the TLS alert unknown_ca (48) (the certificate's CA is not "
                          "trusted)");
    QTest::newRow("curl to a node without TLS")
        << QStringLiteral("cleartext-node") << QStringLiteral("curl-trusting")
        << QStringLiteral("the target answered the ClientHello in plaintext (\"HTTP/1.1 400");
}

void TestLinkTls::realPeersThroughALink()
{
    QFETCH(QString, target);
    QFETCH(QString, client);
    QFETCH(QString, cause);
    const QString curl = QStandardPaths::findExecutable(QStringLiteral("curl"));
    if (curl.isEmpty() && client != QStringLiteral("plain"))
        QSKIP("curl is not installed (scripts/dev installs it)");
    std::unique_ptr<sse::SseServer> server;
    QProcess openssl;
    quint16 targetPort = 0;
    if (target == QStringLiteral("openssl"))
        QVERIFY(startOpenSslServer(openssl, targetPort));
    else {
        sse::ServerSettings settings;
        if (target == QStringLiteral("node"))
            settings.tls = m_identity->server;
        server = std::make_unique<sse::SseServer>(settings);
        QVERIFY(server->start());
        targetPort = server->port();
    }
    net::DeadlineQueue queue;
    link::LinkSettings ls;
    ls.latency = 2ms;
    ls.realTls = true;
    link::LinkProxy proxy(ls, QHostAddress::LocalHost, targetPort, queue);
    QVERIFY(proxy.listen());
    QSignalSpy failed(&proxy, &link::LinkProxy::tlsHandshakeFailed);

    if (client == QStringLiteral("plain"))
        QVERIFY(plainRequest(proxy.port()));
    else
        QVERIFY(runCurl(curl, client == QStringLiteral("curl-trusting"), proxy.port()));
    QTRY_COMPARE_WITH_TIMEOUT(proxy.openConnections(), std::size_t{0}, 5000);
    openssl.kill();
    openssl.waitForFinished(5000);
    const link::Counters counters = proxy.snapshot();
    QCOMPARE(counters.connectionsTotal, std::uint64_t{1});
    if (cause.isEmpty()) {
        QCOMPARE(counters.tlsHandshakeFailures, std::uint64_t{0});
        QCOMPARE(failed.size(), 0);
        QVERIFY(proxy.firstTlsFailure().isEmpty());
        return;
    }
    QCOMPARE(counters.tlsHandshakeFailures, std::uint64_t{1});
    QCOMPARE(failed.size(), 1);
    const QString said = failed.front().front().toString();
    QVERIFY2(said.startsWith(cause), qPrintable(said));
    QCOMPARE(proxy.firstTlsFailure(), said);
}

// openssl s_server on any free port with the run's certificate: a server that speaks only TLS.
bool TestLinkTls::startOpenSslServer(QProcess &process, quint16 &port)
{
    const QString openssl = QStandardPaths::findExecutable(QStringLiteral("openssl"));
    const QString cert = m_dir.filePath(QStringLiteral("cert.pem"));
    const QString key = m_dir.filePath(QStringLiteral("key.pem"));
    QFile c(cert);
    QFile k(key);
    if (openssl.isEmpty() || !c.open(QIODevice::WriteOnly) || !k.open(QIODevice::WriteOnly))
        return false;
    c.write(m_identity->credentials.certificatePem);
    k.write(m_identity->credentials.privateKeyPem);
    c.close();
    k.close();
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(openssl, {QStringLiteral("s_server"), QStringLiteral("-accept"), QStringLiteral("127.0.0.1:0"),
                            QStringLiteral("-cert"), cert, QStringLiteral("-key"), key, QStringLiteral("-www")});
    QByteArray said;
    while (process.waitForReadyRead(5000)) {
        said += process.readAll();
        const qsizetype at = said.indexOf("ACCEPT 127.0.0.1:");
        const qsizetype end = at >= 0 ? said.indexOf('\n', at) : -1;
        if (end > at) {
            port = quint16(said.mid(at + 17, end - at - 17).trimmed().toUInt());
            return port != 0;
        }
    }
    qWarning("openssl s_server did not start: %s", said.constData());
    return false;
}

// GET /events in plaintext through the link; the answer (or the close) is read as it comes.
bool TestLinkTls::plainRequest(quint16 port)
{
    const int fd = testing::connectLoopback(port);
    if (fd < 0)
        return false;
    const QByteArray request("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    const bool sent = ::write(fd, request.constData(), std::size_t(request.size())) == ssize_t(request.size());
    // Until the target answered or closed: a cleartext answer is the head of an endless stream.
    QByteArray answer;
    QElapsedTimer t;
    t.start();
    bool closed = false;
    while (sent && !closed && !answer.contains("\r\n\r\n") && t.elapsed() < 5000) {
        QTest::qWait(10);
        char buffer[4096];
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
        closed = n == 0 || (n < 0 && errno != EAGAIN);
        if (n > 0)
            answer.append(buffer, n);
    }
    ::close(fd);
    return sent && (closed || answer.contains("\r\n\r\n"));
}

// curl for the link's https URL, trusting the run's CA or not; its 2 s limit ends a stream.
bool TestLinkTls::runCurl(const QString &curl, bool trusting, quint16 port)
{
    QStringList args{QStringLiteral("-sS"), QStringLiteral("--max-time"), QStringLiteral("2"), QStringLiteral("-o"),
                     QStringLiteral("/dev/null")};
    if (trusting)
        args << QStringLiteral("--cacert") << m_caFile;
    args << QStringLiteral("https://127.0.0.1:%1/events").arg(port);
    QProcess process;
    process.start(curl, args);
    if (!process.waitForStarted())
        return false;
    // Not waited for in a blocking call: the link runs on this thread.
    QElapsedTimer t;
    t.start();
    while (process.state() != QProcess::NotRunning && t.elapsed() < 10'000)
        QTest::qWait(10);
    return process.state() == QProcess::NotRunning;
}

QTEST_GUILESS_MAIN(TestLinkTls)
#include "tst_linktls.moc"
