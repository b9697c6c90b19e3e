// The user's own servers in a run, for real: the Node reference origin behind Debian's
// nginx (buffering on and off, a 5 s read timeout with and without heartbeats) and behind
// HAProxy (timeout server), and commands that fail — the run fails with the command and
// its output, nothing is left running, and the next run works.
#include "core/external/externalprocess.h"
#include "core/scenario/scenario.h"
#include "tests/simtesthelpers.h"
#include "tests/support/scenariofiles.h"

#include <QDir>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTcpServer>
#include <QtTest>

using namespace edgesse;
using namespace std::chrono_literals;

namespace {

const metrics::ConformanceNote *finding(const metrics::VariantResult &r, const QString &node, const QString &check)
{
    for (const auto &c : r.conformance) {
        if (c.node == node && c.check == check)
            return &c;
    }
    return nullptr;
}

scenario::Variant stackVariant(const QString &name, std::chrono::microseconds duration)
{
    scenario::Variant v = simtest::variantNamed(simtest::loadBundled(QStringLiteral("your-own-stack")), name);
    v.warmup = 1s;
    v.duration = duration;
    return v;
}

scenario::Variant fromText(const QByteArray &text)
{
    // Named as if beside the bundled scenarios, so commands find servers/sse-origin.mjs.
    const auto r = scenario::loadFromText(text, testing::sourceDir() + QStringLiteral("/scenarios/test-stack.yaml"));
    if (!r.ok())
        qFatal("%s", qPrintable(r.diagnostics.first().toString()));
    return r.scenario->variants.first();
}

QByteArray externalScenario(const char *name)
{
    QFile file(testing::sourceDir() + QStringLiteral("/tests/data/external/") + QString::fromLatin1(name));
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot read %s", qPrintable(file.fileName()));
    return file.readAll();
}

QByteArray haproxyScenario(const char *serverTimeout, const char *heartbeat)
{
    return externalScenario("haproxy-timeout-server.yaml").replace("@TIMEOUT@", serverTimeout).replace("@HEARTBEAT@", heartbeat);
}

// The same topology with EdgeSSE's own servers in place of the user's: what the links and
// the machine add on their own.
scenario::Variant withoutExternalServers(scenario::Variant v)
{
    for (auto &n : v.nodes)
        n.external.reset();
    v.publisher.post.clear();
    return v;
}

// The engine's own verdict on a run of its own servers: its error p99 within the tolerance.
// Whether the tool's own error on this machine, measured per event in the control run,
// stays below the bound being checked: only then can that bound be told apart from it.
bool resolves(const metrics::VariantResult &r, double boundMs)
{
    return r.error.percentiles.p99 < boundMs;
}

QString loadAverage()
{
    QFile file(QStringLiteral("/proc/loadavg"));
    return file.open(QIODevice::ReadOnly) ? QString::fromLatin1(file.readAll().split(' ').value(0)) : QStringLiteral("?");
}

// Processes whose command line holds `marker`, alive (not zombies).
int processesWith(const QByteArray &marker)
{
    int n = 0;
    for (const QString &entry : QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QFile cmdline(QStringLiteral("/proc/%1/cmdline").arg(entry));
        QFile stat(QStringLiteral("/proc/%1/stat").arg(entry));
        if (!cmdline.open(QIODevice::ReadOnly) || !stat.open(QIODevice::ReadOnly))
            continue;
        const QByteArray s = stat.readAll();
        const qsizetype close = s.lastIndexOf(')');
        if (close > 0 && s.mid(close + 2, 1) == "Z")
            continue;
        if (cmdline.readAll().replace('\0', ' ').contains(marker))
            ++n;
    }
    return n;
}

} // namespace

class TestExternalRun final : public QObject
{
    Q_OBJECT

private slots:
    // proxy_buffering off: each event takes the path the YAML gives (viewers → edge → origin,
    // 10 + 30 ms) plus what the origin and nginx need, within max(2 ms, 5%). A 2 ms bound needs
    // a machine whose own error is below it: the same topology with EdgeSSE's own relay in
    // nginx's place, run just before, must show its exact error p99 below that bound. On a machine too loaded for that (several runnable
    // threads a core: EdgeSSE's own relay then shows several ms too) the comparison is
    // skipped with the figures, after the checks that hold at any load.
    void nginxUnbufferedMatchesThePath()
    {
        const scenario::Variant variant = stackVariant(QStringLiteral("buffering-off"), 5s);
        double path = 0;
        for (const auto &[a, b] : {std::pair{"viewers", "edge"}, std::pair{"edge", "origin"}}) {
            const scenario::Link *link = variant.linkBetween(QString::fromLatin1(a), QString::fromLatin1(b));
            QVERIFY2(link, a);
            path += std::chrono::duration<double, std::milli>(link->latency).count();
        }
        QCOMPARE(path, 40.0); // what the scenario's comment says
        const double tolerance = std::max(2.0, 0.05 * path);
        QString untrusted;
        for (int attempt = 0; attempt < 2; ++attempt) {
            const auto control = simtest::runVariant(withoutExternalServers(variant));
            QVERIFY2(control.result, qPrintable(control.error));
            const auto outcome = simtest::runVariant(variant);
            QVERIFY2(outcome.result, qPrintable(outcome.error));
            const auto &r = *outcome.result;
            QVERIFY(r.latency.count > 1000);
            QCOMPARE(r.events.lost, std::uint64_t(0));
            QCOMPARE(r.events.delivered, r.events.expected);
            const auto *buffering = finding(r, QStringLiteral("edge"), QStringLiteral("buffering"));
            QVERIFY(buffering);
            QVERIFY2(buffering->ok && buffering->note.startsWith(QStringLiteral("passes events on at once")), qPrintable(buffering->note));
            for (const QString &check : {QStringLiteral("content-type"), QStringLiteral("cache-control"), QStringLiteral("last-event-id")}) {
                const auto *f = finding(r, QStringLiteral("origin"), check);
                QVERIFY2(f && f->ok, qPrintable(check));
            }
            const auto &c = *control.result;
            qInfo("buffering off: p50 %.2f ms against the %.0f ms path (tolerance %.2f ms); EdgeSSE's own relay: p50 %.2f ms, "
                  "error p99 %.2f ms (trusted up to %.2f ms)",
                  r.latency.p50, path, tolerance, c.latency.p50, c.error.percentiles.p99, c.toleranceMs);
            if (!resolves(c, tolerance)) {
                untrusted = QStringLiteral("nginx p50 %1 ms, EdgeSSE's own relay p50 %2 ms with error p99 %3 ms")
                                .arg(r.latency.p50, 0, 'f', 2).arg(c.latency.p50, 0, 'f', 2).arg(c.error.percentiles.p99, 0, 'f', 2);
                continue;
            }
            QVERIFY2(std::abs(r.latency.p50 - path) <= tolerance, qPrintable(QString::number(r.latency.p50)));
            return;
        }
        QSKIP(qPrintable(QStringLiteral("machine too loaded to resolve %1 ms (load %2): %3")
                             .arg(tolerance, 0, 'f', 1).arg(loadAverage(), untrusted)));
    }

    // nginx's default: HTTP/1.0 to the upstream, read into buffers passed on when full.
    void nginxBufferedHoldsEvents()
    {
        const auto outcome = simtest::runVariant(stackVariant(QStringLiteral("buffering-on"), 5s));
        QVERIFY2(outcome.result, qPrintable(outcome.error));
        const auto &r = *outcome.result;
        QVERIFY2(r.latency.p50 > 40.0 + 50.0, qPrintable(QString::number(r.latency.p50)));
        const auto *buffering = finding(r, QStringLiteral("edge"), QStringLiteral("buffering"));
        QVERIFY(buffering);
        QVERIFY2(!buffering->ok && buffering->note.startsWith(QStringLiteral("holds events back")), qPrintable(buffering->note));
        const auto *origin = finding(r, QStringLiteral("origin"), QStringLiteral("buffering"));
        QVERIFY2(origin && origin->ok, qPrintable(origin ? origin->note : QString()));
    }

    // An event every 8 s behind proxy_read_timeout 5s: nginx cuts every quiet stream, the
    // browsers come back with Last-Event-ID, the origin replays: nothing is lost.
    void quietStreamsReconnectAndLoseNothing()
    {
        const auto outcome = simtest::runVariant(stackVariant(QStringLiteral("quiet-no-heartbeat"), 17s));
        QVERIFY2(outcome.result, qPrintable(outcome.error));
        const auto &r = *outcome.result;
        QVERIFY2(r.streams.reconnects >= 20, qPrintable(QString::number(r.streams.reconnects))); // 20 viewers, cut at least once each
        QVERIFY(r.events.expected >= 20);
        QCOMPARE(r.events.lost, std::uint64_t(0));
        QCOMPARE(r.events.duplicated, std::uint64_t(0));
        QCOMPARE(r.events.delivered, r.events.expected);
        qInfo("quiet, no heartbeat: %llu reconnects, %llu of %llu delivered, %llu lost", qulonglong(r.streams.reconnects),
              qulonglong(r.events.delivered), qulonglong(r.events.expected), qulonglong(r.events.lost));
        const auto *heartbeat = finding(r, QStringLiteral("edge"), QStringLiteral("heartbeat"));
        QVERIFY2(heartbeat && !heartbeat->ok, qPrintable(heartbeat ? heartbeat->note : QString()));
        // What made it lossless: the origin honours Last-Event-ID (checked on reconnect).
        const auto *replay = finding(r, QStringLiteral("origin"), QStringLiteral("last-event-id"));
        QVERIFY2(replay && replay->ok, qPrintable(replay ? replay->note : QString()));
    }

    void quietStreamsWithHeartbeatsStayOpen()
    {
        const auto outcome = simtest::runVariant(stackVariant(QStringLiteral("quiet-heartbeat"), 12s));
        QVERIFY2(outcome.result, qPrintable(outcome.error));
        const auto &r = *outcome.result;
        QCOMPARE(r.streams.reconnects, std::uint64_t(0));
        QCOMPARE(r.events.lost, std::uint64_t(0));
        const auto *heartbeat = finding(r, QStringLiteral("origin"), QStringLiteral("heartbeat"));
        QVERIFY2(heartbeat && heartbeat->ok, qPrintable(heartbeat ? heartbeat->note : QString()));
    }

    // A server EdgeSSE did not start, given by url: alone: measured the same way, and left
    // running at the end (it is not EdgeSSE's to stop).
    void alreadyRunningOriginByUrl()
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        const quint16 port = probe.serverPort();
        probe.close();
        QProcess server;
        server.setProcessChannelMode(QProcess::MergedChannels);
        server.start(QStringLiteral("node"), {testing::sourceDir() + QStringLiteral("/scenarios/servers/sse-origin.mjs"), QStringLiteral("--port"),
                                              QString::number(port), QStringLiteral("--replay"), QStringLiteral("1000")});
        QVERIFY2(server.waitForStarted(10000), qPrintable(server.errorString()));
        QByteArray said;
        QTRY_VERIFY_WITH_TIMEOUT((said += server.readAll()).contains("listening on port"), 15000);
        const QByteArray text = "name: by url\nplacement: central\nprotocol: http1\nnodes:\n  origin: { kind: origin, url: \"http://127.0.0.1:"
            + QByteArray::number(port) + "/events\" }\nclients:\n  - { name: viewers, count: 5, near: origin }\nlinks:\n"
            "  - { between: [viewers, origin], latency: 15ms }\npublisher: { at: origin, rate: 20/s, payload: 64B, post: \"http://127.0.0.1:"
            + QByteArray::number(port) + "/publish\" }\nduration: 4s\nwarmup: 1s\n";
        const scenario::Variant variant = fromText(text);
        const auto control = simtest::runVariant(withoutExternalServers(variant));
        QVERIFY2(control.result, qPrintable(control.error));
        const auto outcome = simtest::runVariant(variant);
        QVERIFY2(outcome.result, qPrintable(outcome.error));
        const auto &r = *outcome.result;
        // 20 events/s for the 3 s measured, to each of the 5 viewers.
        QVERIFY2(r.events.expected >= 5 * 55, qPrintable(QString::number(r.events.expected)));
        QCOMPARE(r.events.lost, std::uint64_t(0));
        QCOMPARE(r.events.delivered, r.events.expected);
        qInfo("by url: p50 %.2f ms over the 15 ms link, %llu events delivered", r.latency.p50, qulonglong(r.events.delivered));
        QVERIFY2(r.latency.p50 >= 15.0, qPrintable(QString::number(r.latency.p50))); // never faster than its link
        for (const QString &check : {QStringLiteral("content-type"), QStringLiteral("cache-control")}) {
            const auto *f = finding(r, QStringLiteral("origin"), check);
            QVERIFY2(f && f->ok, qPrintable(check));
        }
        QCOMPARE(server.state(), QProcess::Running);
        server.terminate();
        QVERIFY(server.waitForFinished(10000));
        // Within max(2 ms, 5%) of the link when the machine can resolve that (as above).
        const auto &c = *control.result;
        if (!resolves(c, std::max(2.0, 0.05 * 15.0)))
            QSKIP(qPrintable(QStringLiteral("machine too loaded to resolve 2 ms (load %1): p50 %2 ms; EdgeSSE's own origin on the "
                                            "same link p50 %3 ms with error p99 %4 ms")
                                 .arg(loadAverage())
                                 .arg(r.latency.p50, 0, 'f', 2)
                                 .arg(c.latency.p50, 0, 'f', 2)
                                 .arg(c.error.percentiles.p99, 0, 'f', 2)));
        QVERIFY2(r.latency.p50 <= 15.0 + std::max(2.0, 0.05 * 15.0), qPrintable(QString::number(r.latency.p50)));
    }

    // HAProxy's timeout server reaps a stream quiet for longer; heartbeats keep it open.
    void haproxyTimeoutServer_data()
    {
        QTest::addColumn<QByteArray>("heartbeat");
        QTest::addColumn<bool>("reaped");
        QTest::newRow("no heartbeat: reaped") << QByteArray("off") << true;
        QTest::newRow("1s heartbeat: kept") << QByteArray("1s") << false;
    }
    void haproxyTimeoutServer()
    {
        QFETCH(QByteArray, heartbeat);
        QFETCH(bool, reaped);
        const auto outcome = simtest::runVariant(fromText(haproxyScenario("2s", heartbeat.constData())));
        QVERIFY2(outcome.result, qPrintable(outcome.error));
        const auto &r = *outcome.result;
        if (reaped)
            QVERIFY2(r.streams.reconnects >= 5, qPrintable(QString::number(r.streams.reconnects)));
        else
            QCOMPARE(r.streams.reconnects, std::uint64_t(0));
        QCOMPARE(r.events.lost, std::uint64_t(0));
        QVERIFY(r.events.delivered > 0);
    }

    // Pushpin (Fanout's relay, Debian's package) as the PoP between two of EdgeSSE's links,
    // passing the origin's stream through: every event measured end to end from its POST,
    // exactly once, and each conformance check made on it as on any external server.
    void pushpinRelay()
    {
        if (QStandardPaths::findExecutable(QStringLiteral("pushpin")).isEmpty())
            QSKIP("pushpin is not installed (scripts/dev installs it)");
        const scenario::Variant variant = fromText(externalScenario("pushpin-relay.yaml"));
        const double path = std::chrono::duration<double, std::milli>(variant.linkBetween(QStringLiteral("viewers"), QStringLiteral("relay"))->latency
                                                                      + variant.linkBetween(QStringLiteral("relay"), QStringLiteral("origin"))->latency)
                                .count();
        const auto outcome = simtest::runVariant(variant);
        QVERIFY2(outcome.result, qPrintable(outcome.error));
        const auto &r = *outcome.result;
        for (const auto &c : r.conformance)
            qInfo("conformance %s %s %s: %s", qPrintable(c.node), qPrintable(c.check), c.ok ? "ok" : "FAILS", qPrintable(c.note));
        qInfo("pushpin: p50 %.2f ms, p99 %.2f ms over the %.0f ms path; %llu of %llu delivered, %llu lost, %llu reconnects", r.latency.p50,
              r.latency.p99, path, qulonglong(r.events.delivered), qulonglong(r.events.expected), qulonglong(r.events.lost),
              qulonglong(r.streams.reconnects));
        // 20 events/s for the 5 s measured, to each of the 10 viewers.
        QVERIFY2(r.events.expected >= 10 * 90, qPrintable(QString::number(r.events.expected)));
        QCOMPARE(r.events.lost, std::uint64_t(0));
        QCOMPARE(r.events.duplicated, std::uint64_t(0));
        QCOMPARE(r.events.delivered, r.events.expected);
        QCOMPARE(r.streams.reconnects, std::uint64_t(0));
        QVERIFY2(r.latency.p50 >= path, qPrintable(QString::number(r.latency.p50))); // no event beats its links
        for (const char *check : {"content-type", "cache-control", "buffering", "heartbeat", "retry", "last-event-id", "cap"}) {
            const auto *f = finding(r, QStringLiteral("relay"), QString::fromLatin1(check));
            QVERIFY2(f, check);
        }
        const auto *buffering = finding(r, QStringLiteral("relay"), QStringLiteral("buffering"));
        QVERIFY2(buffering->ok && buffering->note.startsWith(QStringLiteral("passes events on at once")), qPrintable(buffering->note));
        // Pushpin passes the origin's headers on, and Last-Event-ID to it on a reconnect.
        for (const char *check : {"content-type", "cache-control", "last-event-id"}) {
            const auto *f = finding(r, QStringLiteral("relay"), QString::fromLatin1(check));
            QVERIFY2(f->ok, qPrintable(f->note));
        }
        // Its runner, condure, zurl and the proxy and handler stopped with their group.
        QCOMPARE(processesWith("relay/pushpin.conf") + processesWith("relay/run/edgesse-"), 0);
    }

    // {cert} and {key}: the run's own certificate, so nginx serving TLS with them is trusted by
    // the run's browsers, which verify it against the run's CA (a certificate of any other
    // issuer fails every handshake and delivers nothing). Its key is its owner's alone.
    void tlsServerGetsTheRunsCertificate()
    {
        const scenario::Variant variant = fromText(externalScenario("nginx-tls.yaml"));
        QTemporaryDir out;
        QVERIFY(out.isValid());
        const auto outcome = simtest::runVariant(variant, out.path());
        QVERIFY2(outcome.result, qPrintable(outcome.error));
        const auto &r = *outcome.result;
        qInfo("nginx over TLS: p50 %.2f ms, %llu of %llu delivered, %llu lost", r.latency.p50, qulonglong(r.events.delivered),
              qulonglong(r.events.expected), qulonglong(r.events.lost));
        QVERIFY2(r.events.expected >= 5 * 70, qPrintable(QString::number(r.events.expected)));
        QCOMPARE(r.events.lost, std::uint64_t(0));
        QCOMPARE(r.events.delivered, r.events.expected);
        QVERIFY(r.latency.p50 >= 30.0);
        const QFileInfo key(out.filePath(QStringLiteral("key.pem")));
        QVERIFY2(key.exists(), qPrintable(key.filePath()));
        QCOMPARE(key.permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther), QFileDevice::Permissions());
        QFile cert(out.filePath(QStringLiteral("cert.pem")));
        QVERIFY(cert.open(QIODevice::ReadOnly));
        QVERIFY(cert.readAll().startsWith("-----BEGIN CERTIFICATE-----"));
        // Its clients' link is encrypted: said so, instead of checks made on bytes not seen.
        const auto *tls = finding(r, QStringLiteral("edge"), QStringLiteral("tls"));
        QVERIFY2(tls && tls->ok, qPrintable(tls ? tls->note : QString()));
        QVERIFY(!finding(r, QStringLiteral("edge"), QStringLiteral("content-type")));
        const auto *origin = finding(r, QStringLiteral("origin"), QStringLiteral("content-type"));
        QVERIFY2(origin && origin->ok, qPrintable(origin ? origin->note : QString()));
    }

    void failingCommands_data()
    {
        QTest::addColumn<QByteArray>("command");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("exits early") << QByteArray("echo cannot bind; exit 4") << QStringList{QStringLiteral("exited with status 4"), QStringLiteral("cannot bind")};
        QTest::newRow("never listens, forks") << QByteArray("sleep 77.25 & echo started; exec sleep 77.5")
                                              << QStringList{QStringLiteral("did not listen on port"), QStringLiteral("started")};
        QTest::newRow("not found") << QByteArray("edgesse-no-such-server --port {port}") << QStringList{QStringLiteral("not found")};
    }
    void failingCommands()
    {
        QFETCH(QByteArray, command);
        QFETCH(QStringList, expected);
        const QByteArray text = "name: broken\nnodes:\n  origin: { kind: origin, ready_timeout: 1s, command: \"" + command
            + "\" }\nclients:\n  - { name: viewers, count: 2, near: origin }\nlinks:\n  - { between: [viewers, origin], latency: 1ms }\n"
              "publisher: { at: origin, rate: 10/s }\nduration: 1s\nwarmup: 0s\n";
        const auto outcome = simtest::runVariant(fromText(text));
        QVERIFY(!outcome.result);
        // The command as it ran: placeholders filled in.
        const QString ran = QString::fromUtf8(command).replace(QStringLiteral("{port}"), QString());
        QVERIFY2(outcome.error.contains(ran.left(ran.indexOf(u' ') + 1)), qPrintable(outcome.error));
        QVERIFY2(outcome.error.contains(QStringLiteral("command `")), qPrintable(outcome.error));
        for (const QString &e : expected)
            QVERIFY2(outcome.error.contains(e), qPrintable(QStringLiteral("missing \"%1\" in: %2").arg(e, outcome.error)));
        QCOMPARE(processesWith("sleep 77."), 0);
        // The app keeps working: a run after it succeeds.
        auto ok = simtest::runVariant(stackVariant(QStringLiteral("buffering-off"), 1s));
        QVERIFY2(ok.result, qPrintable(ok.error));
        QVERIFY(ok.result->events.delivered > 0);
    }
};

QTEST_GUILESS_MAIN(TestExternalRun)
#include "tst_external_run.moc"
