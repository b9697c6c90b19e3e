#include "core/net/fdlimit.h"
#include "core/scenario/keywords.h"
#include "core/scenario/loader/keys.h"
#include "core/scenario/loader/limits.h"
#include "core/scenario/scenario.h"
#include "core/sse/replaybuffer.h"
#include "tests/support/sanitizers.h"
#include "tests/support/scenariofiles.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

#include <sys/ptrace.h>
#include <sys/wait.h>

#include <csignal>
#include <fcntl.h>
#include <unistd.h>

using namespace edgesse::scenario;
using namespace std::chrono_literals;

using edgesse::testing::sourceDir;
using edgesse::testing::yamlFiles;

// The loader refuses a replay: beyond the bound the servers' replay buffers enforce.
static_assert(edgesse::scenario::loader::kMaxReplayBytes == edgesse::sse::ReplayBuffer::kDefaultMaxBytes);
static_assert(edgesse::scenario::loader::kReplayEntryOverheadBytes == edgesse::sse::ReplayBuffer::kEntryOverheadBytes);

namespace {

struct Expectation {
    int line = 0;
    int column = 0;
    QString fragment;
};

// Each malformed case says what it expects in trailing comments:
//   # expect: LINE:COL: MESSAGE FRAGMENT      (one per problem, in file order)
QList<Expectation> expectations(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    static const QRegularExpression expect(QStringLiteral("^# expect: (\\d+):(\\d+): (.+)$"));
    QList<Expectation> result;
    for (const QByteArray &line : file.readAll().split('\n')) {
        const auto m = expect.match(QString::fromUtf8(line));
        if (m.hasMatch())
            result << Expectation{m.captured(1).toInt(), m.captured(2).toInt(), m.captured(3)};
    }
    return result;
}

Variant loadOne(const QString &path, const QString &variant = {})
{
    const LoadResult r = load(path);
    if (!r.ok()) {
        for (const Diagnostic &d : r.diagnostics)
            qWarning("%s", qPrintable(d.toString()));
        return {};
    }
    if (variant.isEmpty())
        return r.scenario->variants.value(0);
    const Variant *v = r.scenario->variant(variant);
    return v ? *v : Variant{};
}

// Each word of E's table names a distinct value, keyword() writes it back, and the loader
// reads it in the place `yaml` puts it (%1 stands for the word).
template<typename E>
QStringList keywordProblems(const char *yaml, E Variant::*field)
{
    QStringList problems;
    QSet<QString> words;
    QList<E> values;
    for (const Keyword<E> &k : keywords<E>()) {
        const QString word(k.word);
        if (words.contains(word) || values.contains(k.value))
            problems << word + QStringLiteral(": listed twice");
        words.insert(word);
        values << k.value;
        if (keyword(k.value) != word)
            problems << word + QStringLiteral(": keyword() writes ") + keyword(k.value);
        if (fromKeyword<E>(word) != k.value)
            problems << word + QStringLiteral(": fromKeyword() does not read it");
        const LoadResult r = loadFromText(QString::fromLatin1(yaml).arg(word).toUtf8(), QStringLiteral("k.yaml"));
        if (!r.ok())
            problems << word + QStringLiteral(": ") + r.diagnostics.first().toString();
        else if (field && r.scenario->variants.first().*field != k.value)
            problems << word + QStringLiteral(": loaded as another value");
    }
    return problems;
}

struct Measured {
    int exitCode = -1;
    long peakKiB = 0; // the child's own peak resident set (VmHWM at its exit)
    QByteArray err;
};

long highWaterKiB(pid_t pid)
{
    QFile status(QStringLiteral("/proc/%1/status").arg(pid));
    if (!status.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray &line : status.readAll().split('\n'))
        if (line.startsWith("VmHWM:"))
            return line.mid(6).trimmed().split(' ').first().toLong();
    return 0;
}

// Runs a program with stderr to a file and reads its peak memory as it exits (traced to stop
// there): wait4's ru_maxrss would count the parent's memory the child had before exec.
Measured runMeasured(const QString &program, const QStringList &arguments, const QString &errFile)
{
    std::vector<QByteArray> storage{program.toLocal8Bit()};
    for (const QString &a : arguments)
        storage.push_back(a.toLocal8Bit());
    std::vector<char *> argv;
    for (QByteArray &b : storage)
        argv.push_back(b.data());
    argv.push_back(nullptr);
    Measured m;
    const int errFd = ::open(errFile.toLocal8Bit().constData(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const pid_t pid = fork();
    if (pid == 0) {
        ::dup2(errFd, 2);
        ::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    ::close(errFd);
    int status = 0;
    if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status)) // stopped at exec
        return m;
    ::ptrace(PTRACE_SETOPTIONS, pid, nullptr, reinterpret_cast<void *>(long(PTRACE_O_TRACEEXIT)));
    ::ptrace(PTRACE_CONT, pid, nullptr, nullptr);
    while (::waitpid(pid, &status, 0) == pid) {
        if (WIFEXITED(status)) {
            m.exitCode = WEXITSTATUS(status);
            break;
        }
        if (WIFSIGNALED(status))
            break;
        long signal = 0;
        if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8)))
            m.peakKiB = highWaterKiB(pid);
        else
            signal = WSTOPSIG(status);
        ::ptrace(PTRACE_CONT, pid, nullptr, reinterpret_cast<void *>(signal));
    }
    QFile err(errFile);
    if (err.open(QIODevice::ReadOnly))
        m.err = err.readAll();
    return m;
}

QByteArray minimalScenario()
{
    return "name: x\nnodes: { origin: { kind: origin } }\nclients: [{ name: a, count: 1, near: origin }]\n"
           "links: [{ between: [a, origin], latency: 1ms }]\npublisher: { rate: 1/s }\n";
}

QString allMessages(const LoadResult &r)
{
    QStringList all;
    for (const Diagnostic &d : r.diagnostics)
        all << d.toString();
    return all.join(u'\n');
}

QStringList missingKeys(const QJsonObject &object, const QStringList &accepted, const QStringList &notWritten = {})
{
    QStringList missing;
    for (const QString &key : accepted)
        if (!object.contains(key) && !notWritten.contains(key))
            missing << key;
    return missing;
}

} // namespace

class TestScenario final : public QObject
{
    Q_OBJECT

private slots:
    void malformed_data()
    {
        QTest::addColumn<QString>("path");
        const QStringList files = yamlFiles(sourceDir() + QStringLiteral("/tests/data/scenarios/invalid"));
        QVERIFY2(files.size() >= 30, "tests/data/scenarios/invalid should hold at least 30 cases");
        for (const QString &f : files)
            QTest::newRow(qPrintable(QFileInfo(f).completeBaseName())) << f;
    }

    void malformed()
    {
        QFETCH(QString, path);
        const QList<Expectation> expected = expectations(path);
        QVERIFY2(!expected.isEmpty(), "the case has no '# expect: LINE:COL: MESSAGE' line");
        const LoadResult r = load(path);
        QVERIFY(!r.ok());
        QVERIFY(!r.scenario);
        QStringList got;
        for (const Diagnostic &d : r.diagnostics)
            got << d.toString();
        QVERIFY2(r.diagnostics.size() == expected.size(), qPrintable(u"got:\n" + got.join(u'\n')));
        for (qsizetype i = 0; i < expected.size(); ++i) {
            const Diagnostic &d = r.diagnostics[i];
            QCOMPARE(d.file, path);
            QCOMPARE(d.line, expected[i].line);
            QCOMPARE(d.column, expected[i].column);
            QVERIFY2(d.message.contains(expected[i].fragment), qPrintable(d.message));
            QVERIFY(d.toString().startsWith(QStringLiteral("%1:%2:%3: error: ").arg(path).arg(d.line).arg(d.column)));
        }
    }

    void bundled_data()
    {
        QTest::addColumn<QString>("path");
        const QStringList files = yamlFiles(sourceDir() + QStringLiteral("/scenarios"));
        for (const char *required : {"edge-vs-central", "heartbeat-vs-idle-timeout", "http1-vs-http2",
                                     "fanout-and-connection-caps", "polling-vs-sse", "edge-function-limits"})
            QVERIFY2(files.contains(sourceDir() + QStringLiteral("/scenarios/%1.yaml").arg(QString::fromLatin1(required))), required);
        for (const QString &f : files)
            QTest::newRow(qPrintable(QFileInfo(f).completeBaseName())) << f;
    }

    void bundled()
    {
        QFETCH(QString, path);
        const LoadResult r = load(path);
        QStringList problems;
        for (const Diagnostic &d : r.diagnostics)
            problems << d.toString();
        QVERIFY2(r.ok(), qPrintable(problems.join(u'\n')));
        QVERIFY(r.diagnostics.isEmpty());
        QVERIFY(r.scenario->variants.size() >= 2);
        for (const Variant &v : r.scenario->variants) {
            QVERIFY(!v.name.isEmpty());
            QVERIFY(v.origin());
            const bool real = std::any_of(v.clients.begin(), v.clients.end(), [](const ClientGroup &g) { return g.realBrowser.has_value(); });
            QVERIFY(v.totalBrowsers() >= (real ? 2 : 10) && v.totalBrowsers() <= 1000);
            QVERIFY(v.duration <= 60s);
            for (const ClientGroup &g : v.clients)
                for (const Link *l : v.pathLinks(g))
                    QVERIFY(l);
        }
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray text = file.readAll();
        QVERIFY2(text.startsWith("# yaml-language-server: $schema=./edgesse.schema.json\n"), "schema reference missing");
        QVERIFY2(r.scenario->question.endsWith(QLatin1Char('?')), "question: should say which question the scenario answers");
    }

    void fullScenario()
    {
        const LoadResult r = load(sourceDir() + QStringLiteral("/tests/data/scenarios/valid/full.yaml"));
        QVERIFY(r.ok());
        QCOMPARE(r.scenario->name, QStringLiteral("Every key"));
        QCOMPARE(r.scenario->description, QStringLiteral("A scenario that sets every key"));
        QCOMPARE(r.scenario->seed, quint64(99));
        QCOMPARE(r.scenario->variants.size(), 1);
        const Variant &v = r.scenario->variants.first();

        Variant expected;
        expected.name = QStringLiteral("default");
        expected.placement = Placement::Edge;
        expected.protocol = Protocol::Http2;
        expected.seed = 99;
        expected.duration = 90s;
        expected.warmup = 500ms;
        expected.nodes = {
            Node{QStringLiteral("origin"), NodeKind::Origin, QStringLiteral("us-east"), 5000, 10min, UpstreamMode::Shared, std::nullopt},
            Node{QStringLiteral("pop-fra"), NodeKind::Pop, QStringLiteral("eu-central"), 300, std::nullopt, UpstreamMode::PerClient, std::nullopt},
        };
        expected.clients = {ClientGroup{QStringLiteral("berlin"), 25, QStringLiteral("pop-fra"), 3, Delivery::LongPoll, 250ms, 20s,
                                        Protocol::Http1, 4}};
        expected.clients.front().earlyData = true;
        expected.clients[0].discovery = Discovery::AltSvc;
        Link first;
        first.a = QStringLiteral("berlin");
        first.b = QStringLiteral("pop-fra");
        first.latency = 8ms;
        first.jitter = 1500us;
        first.jitterDistribution = JitterDistribution::Pareto;
        first.bandwidthBitsPerSecond = 50'000'000;
        first.loss = 0.01;
        first.lossRecovery = LossRecovery::Timeout;
        first.rto = 300ms;
        first.tls = true;
        first.gateway = Gateway{QStringLiteral("cloudflare"), 20s, 2min};
        first.faults = {LinkFault{10s, 2s}, LinkFault{30s, 500ms}};
        Link second;
        second.a = QStringLiteral("pop-fra");
        second.b = QStringLiteral("origin");
        second.latency = 45ms;
        second.jitter = 3ms;
        second.jitterDistribution = JitterDistribution::Normal;
        second.bandwidthBitsPerSecond = 1'000'000'000;
        second.loss = 0.001;
        second.gateway = Gateway{QStringLiteral("gcp-lb"), std::nullopt, 30s};
        expected.links = {first, second};
        expected.publisher = Publisher{QStringLiteral("origin"), 20.0, PublishPattern::Bursty, 5, 4096, {}, QStringLiteral("{payload}")};
        expected.sse = SseSettings{15s, 2500ms, 50, 64};
        expected.pricing = Pricing{QStringLiteral("EUR"), 0.6, 0.09, 0.01, 0.0000166667, 256 * 1024 * 1024};

        QCOMPARE(v.nodes, expected.nodes);
        QCOMPARE(v.clients, expected.clients);
        QCOMPARE(v.links.size(), 2);
        QVERIFY(v.links[0] == first);
        QVERIFY(v.links[1] == second);
        QVERIFY(v.publisher == expected.publisher);
        QVERIFY(v.sse == expected.sse);
        QVERIFY(v.pricing == expected.pricing);
        QVERIFY(v == expected);

        // Derived figures.
        QCOMPARE(v.path(v.clients[0]), QStringList({QStringLiteral("berlin"), QStringLiteral("pop-fra"), QStringLiteral("origin")}));
        QCOMPARE(v.pathLatency(v.clients[0]), 53ms);
        QCOMPARE(v.publisher.burstPeriod(), 250ms);
        QCOMPARE(v.links[0].handshake(), 32ms); // TCP + TLS: two round trips of 16 ms
        QCOMPARE(v.links[0].lossPenalty(), 300ms);
        QCOMPARE(v.links[1].lossPenalty(), 290ms); // linux: a lone loss waits for the RTO, SRTT + 200 ms
        // berlin: HTTP/1.1 override, 3 streams ≤ 4 connections per origin → 75; pop per-client
        // upstream over HTTP/2 with 64 streams a connection → ceil(75 / 64) = 2.
        QCOMPARE(v.clientConnections(v.clients[0]), 75);
        QCOMPARE(v.connectionsNeeded(), 77);
        QCOMPARE(v.descriptorsNeeded(), 77 * edgesse::net::kDescriptorsPerProxiedConnection + edgesse::net::kDescriptorReserve);
    }

    void mergeAndSweep()
    {
        const LoadResult r = load(sourceDir() + QStringLiteral("/tests/data/scenarios/valid/merge-and-sweep.yaml"));
        QVERIFY(r.ok());
        QStringList names;
        for (const Variant &v : r.scenario->variants)
            names << v.name;
        QCOMPARE(names, QStringList({QStringLiteral("central:heartbeat=off"), QStringLiteral("central:heartbeat=5s"),
                                     QStringLiteral("edge:heartbeat=off,count=1"), QStringLiteral("edge:heartbeat=off,count=2"),
                                     QStringLiteral("edge:heartbeat=off,count=3"), QStringLiteral("edge:heartbeat=5s,count=1"),
                                     QStringLiteral("edge:heartbeat=5s,count=2"), QStringLiteral("edge:heartbeat=5s,count=3")}));
        const Variant *central = r.scenario->variant(QStringLiteral("central:heartbeat=off"));
        QVERIFY(central);
        QCOMPARE(central->placement, Placement::Central);
        QVERIFY(!central->sse.heartbeat);
        QCOMPARE(central->clients.size(), 2);
        QCOMPARE(central->sweepValues, (QList<QPair<QString, QString>>{{QStringLiteral("sse.heartbeat"), QStringLiteral("off")}}));
        QCOMPARE(central->publisher.at, QStringLiteral("origin")); // the only origin

        const Variant *edge = r.scenario->variant(QStringLiteral("edge:heartbeat=5s,count=3"));
        QVERIFY(edge);
        QCOMPARE(edge->placement, Placement::Edge);
        QCOMPARE(edge->sse.heartbeat, std::optional<microseconds>(5s));
        QCOMPARE(edge->node(QStringLiteral("pop-a"))->maxConnections, 7);
        QCOMPARE(edge->node(QStringLiteral("pop-a"))->kind, NodeKind::Pop); // merged, not replaced
        QCOMPARE(edge->clients.size(), 3);
        QCOMPARE(edge->clientGroup(QStringLiteral("a"))->streams, 2);
        QCOMPARE(edge->clientGroup(QStringLiteral("a"))->count, 10);
        QCOMPARE(edge->clientGroup(QStringLiteral("b"))->count, 3);
        QCOMPARE(edge->clientGroup(QStringLiteral("c"))->count, 1);
        QCOMPARE(edge->links.size(), 5);
        const Link *backbone = edge->linkBetween(QStringLiteral("pop-a"), QStringLiteral("origin"));
        QVERIFY(backbone);
        QCOMPARE(backbone->latency, 30ms);
        QCOMPARE(backbone->jitter, 2ms);
        QCOMPARE(backbone->gateway, std::optional<Gateway>(Gateway{QStringLiteral("custom"), std::nullopt, std::nullopt}));
        QCOMPARE(edge->path(*edge->clientGroup(QStringLiteral("a"))),
                 QStringList({QStringLiteral("a"), QStringLiteral("pop-a"), QStringLiteral("origin")}));
        QCOMPARE(edge->path(*edge->clientGroup(QStringLiteral("b"))), QStringList({QStringLiteral("b"), QStringLiteral("origin")}));
        QCOMPARE(edge->pathLatency(*edge->clientGroup(QStringLiteral("a"))), 35ms);
        // The central variants keep the top-level link untouched.
        QCOMPARE(central->linkBetween(QStringLiteral("pop-a"), QStringLiteral("origin"))->gateway->preset, QStringLiteral("aws-alb"));
    }

    void placementPaths()
    {
        const QString path = sourceDir() + QStringLiteral("/scenarios/edge-vs-central.yaml");
        const Variant central = loadOne(path, QStringLiteral("central"));
        const Variant edge = loadOne(path, QStringLiteral("edge"));
        const ClientGroup *sydney = edge.clientGroup(QStringLiteral("sydney"));
        QVERIFY(sydney);
        QCOMPARE(central.path(*sydney), QStringList({QStringLiteral("sydney"), QStringLiteral("origin")}));
        QCOMPARE(edge.path(*sydney), QStringList({QStringLiteral("sydney"), QStringLiteral("pop-syd"), QStringLiteral("origin")}));
        QCOMPARE(central.pathLatency(*sydney), 181ms);
        QCOMPARE(edge.pathLatency(*sydney), 180500us);
        // Shared upstreams: one connection per PoP on top of the browsers'.
        QCOMPARE(central.connectionsNeeded(), 200);
        QCOMPARE(edge.connectionsNeeded(), 203);
    }

    void jsonRoundTrip_data()
    {
        QTest::addColumn<QString>("path");
        for (const QString &f : yamlFiles(sourceDir() + QStringLiteral("/scenarios")) + yamlFiles(sourceDir() + QStringLiteral("/tests/data/scenarios/valid")))
            QTest::newRow(qPrintable(QFileInfo(f).completeBaseName())) << f;
    }

    // A resolved variant written as JSON is itself a scenario that loads to the same variant.
    void jsonRoundTrip()
    {
        QFETCH(QString, path);
        const LoadResult r = load(path);
        QVERIFY(r.ok());
        for (const Variant &v : r.scenario->variants) {
            const QByteArray json = QJsonDocument(toJson(v)).toJson();
            const LoadResult again = loadFromText(json, QStringLiteral("resolved.json"));
            QStringList problems;
            for (const Diagnostic &d : again.diagnostics)
                problems << d.toString();
            QVERIFY2(again.ok(), qPrintable(problems.join(u'\n') + u'\n' + QString::fromUtf8(json)));
            Variant back = again.scenario->variants.first();
            QCOMPARE(again.scenario->name, v.name);
            back.name = v.name;
            back.sweepValues = v.sweepValues;
            // JSON objects are unordered: nodes come back sorted by name.
            Variant original = v;
            const auto byName = [](const Node &a, const Node &b) { return a.name < b.name; };
            std::sort(original.nodes.begin(), original.nodes.end(), byName);
            std::sort(back.nodes.begin(), back.nodes.end(), byName);
            QVERIFY2(back == original, qPrintable(QString::fromUtf8(json)));
        }
    }

    // One table an enum: the loader reads exactly the words toJson writes.
    void keywordTables()
    {
        const char *base = "name: k\nnodes: { origin: { kind: origin }, p: { kind: pop } }\n"
                           "clients: [{ name: a, count: 1, near: p }]\n"
                           "links: [{ between: [a, origin], latency: 1ms }, { between: [a, p], latency: 1ms }, "
                           "{ between: [p, origin], latency: 1ms }]\npublisher: { rate: 1/s }\n";
        const QString prefix = QString::fromLatin1(base);
        const auto yaml = [&](const char *extra) { return (prefix + QString::fromLatin1(extra)).toLatin1(); };
        const QByteArray placement = yaml("placement: %1\n");
        const QByteArray protocol = yaml("protocol: %1\n");
        QStringList problems = keywordProblems<Placement>(placement.constData(), &Variant::placement)
            + keywordProblems<Protocol>(protocol.constData(), &Variant::protocol);
        const QByteArray kind = "name: k\nnodes: { origin: { kind: origin }, n: { kind: %1 } }\n"
                                "clients: [{ name: a, count: 1, near: origin }]\n"
                                "links: [{ between: [a, origin], latency: 1ms }]\npublisher: { at: origin, rate: 1/s }\n";
        problems += keywordProblems<NodeKind>(kind.constData(), nullptr);
        const QByteArray upstream = QByteArray(base).replace("p: { kind: pop }", "p: { kind: pop, upstream: %1 }");
        problems += keywordProblems<UpstreamMode>(upstream.constData(), nullptr);
        const QByteArray delivery = QByteArray(base).replace("near: p", "near: p, delivery: %1");
        problems += keywordProblems<Delivery>(delivery.constData(), nullptr);
        const QByteArray distribution = QByteArray(base).replace("[a, origin], latency: 1ms", "[a, origin], latency: 1ms, jitter_distribution: %1");
        problems += keywordProblems<JitterDistribution>(distribution.constData(), nullptr);
        const QByteArray recovery = QByteArray(base).replace("[a, origin], latency: 1ms", "[a, origin], latency: 1ms, loss_recovery: %1");
        problems += keywordProblems<LossRecovery>(recovery.constData(), nullptr);
        const QByteArray pattern = QByteArray(base).replace("rate: 1/s", "rate: 1/s, pattern: %1");
        problems += keywordProblems<PublishPattern>(pattern.constData(), nullptr);
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(u'\n')));
        QCOMPARE(keywords<Delivery>().size(), size_t(3));
        QCOMPARE(keywords<PublishPattern>().size(), size_t(3));
    }

    // A key the loader accepts reaches the resolved JSON, so it cannot be parsed and then
    // dropped on its way to the engine.
    void toJsonWritesEveryAcceptedKey()
    {
        using namespace edgesse::scenario::loader;
        const Variant v = loadOne(sourceDir() + QStringLiteral("/tests/data/scenarios/valid/full.yaml"));
        const QJsonObject json = toJson(v);
        QStringList missing = missingKeys(json, kVariantKeys);
        const QJsonObject origin = json.value(QStringLiteral("nodes")).toObject().value(QStringLiteral("pop-fra")).toObject();
        // An external server's keys are written only for a node that has one: checked below.
        const QStringList externalNodeKeys{QStringLiteral("command"), QStringLiteral("url"), QStringLiteral("files"),
                                           QStringLiteral("vars"), QStringLiteral("ready_timeout"),
                                           QStringLiteral("stop_grace"), QStringLiteral("working_directory")};
        const QStringList externalPublisherKeys{QStringLiteral("post"), QStringLiteral("body")};
        const auto without = [](QStringList keys, const QStringList &drop) {
            for (const QString &k : drop)
                keys.removeAll(k);
            return keys;
        };
        missing += missingKeys(origin, without(kNodeKeys, externalNodeKeys));
        const QStringList browserKeys{QStringLiteral("reconnect"), QStringLiteral("real_browser")};
        missing += missingKeys(json.value(QStringLiteral("clients")).toArray().first().toObject(), without(kClientKeys, browserKeys));
        const QJsonObject browsers = toJson(loadOne(sourceDir() + QStringLiteral("/tests/data/scenarios/valid/browsers.yaml")));
        const QJsonObject browserGroup = browsers.value(QStringLiteral("clients")).toArray().first().toObject();
        missing += missingKeys(browserGroup, browserKeys);
        missing += missingKeys(browserGroup.value(QStringLiteral("reconnect")).toObject(), kReconnectKeys);
        const QJsonObject link = json.value(QStringLiteral("links")).toArray().first().toObject();
        missing += missingKeys(link, kLinkKeys);
        missing += missingKeys(link.value(QStringLiteral("gateway")).toObject(), kGatewayKeys);
        missing += missingKeys(link.value(QStringLiteral("faults")).toArray().first().toObject(), kFaultKeys);
        missing += missingKeys(json.value(QStringLiteral("publisher")).toObject(), without(kPublisherKeys, externalPublisherKeys));
        const QJsonObject external = toJson(loadOne(sourceDir() + QStringLiteral("/tests/data/scenarios/valid/external.yaml")));
        QJsonObject externalNodes; // every key either external node writes
        for (const QJsonValue node : external.value(QStringLiteral("nodes")).toObject()) {
            const QJsonObject o = node.toObject();
            for (auto it = o.begin(); it != o.end(); ++it)
                externalNodes.insert(it.key(), it.value());
        }
        missing += missingKeys(externalNodes, externalNodeKeys);
        missing += missingKeys(external.value(QStringLiteral("publisher")).toObject(), externalPublisherKeys);
        missing += missingKeys(json.value(QStringLiteral("sse")).toObject(), kSseKeys);
        missing += missingKeys(json.value(QStringLiteral("pricing")).toObject(), kPricingKeys);
        QVERIFY2(missing.isEmpty(), qPrintable(missing.join(u' ')));
        QVERIFY(kLinkKeys.contains(QStringLiteral("rto")));
    }

    void everyProblemOnce()
    {
        // The same bad top-level value is shared by every variant: it is reported once.
        const QByteArray text = "name: x\n"
                                "nodes: { origin: { kind: origin } }\n"
                                "clients: [{ name: a, count: 1, near: origin }]\n"
                                "links: [{ between: [a, origin], latency: slow }]\n"
                                "publisher: { rate: 1/s }\n"
                                "variants: [{ name: one }, { name: two }, { name: three }]\n";
        const LoadResult r = loadFromText(text, QStringLiteral("x.yaml"));
        QCOMPARE(r.diagnostics.size(), 1);
        QCOMPARE(r.diagnostics.first().toString(),
                 QStringLiteral("x.yaml:4:42: error: links[0].latency: expected a duration like 40ms, got \"slow\""));
    }

    void unreadableFiles()
    {
        const LoadResult missing = load(QStringLiteral("/nonexistent/scenario.yaml"));
        QVERIFY(!missing.ok());
        QCOMPARE(missing.diagnostics.size(), 1);
        QCOMPARE(missing.diagnostics.first().toString(), QStringLiteral("/nonexistent/scenario.yaml: error: no such file"));
        const LoadResult directory = load(sourceDir());
        QVERIFY(!directory.ok());
        QVERIFY(directory.diagnostics.first().message.contains(QStringLiteral("not a regular file")));
    }

    void hostileDocuments_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("fragment");
        QByteArray deep;
        for (int i = 0; i < 500; ++i)
            deep += '[';
        QTest::newRow("deep nesting") << deep << QStringLiteral("hostile.yaml:1:65: error: nested deeper than 64 levels");
        QTest::newRow("deep nesting in a key") << QByteArray("name: ") + deep << QStringLiteral("hostile.yaml:1:71: error: nested deeper than 64 levels");
        QByteArray block = "a:\n";
        for (int i = 1; i <= 100; ++i)
            block += QByteArray(2 * i, ' ') + "b:\n";
        QTest::newRow("deep block nesting") << block << QStringLiteral("hostile.yaml:65:129: error: nested deeper than 64 levels");
        QByteArray flow = "{a: [";
        for (int i = 0; i < 60'000; ++i)
            flow += "1,";
        flow += "1]}";
        QTest::newRow("flow values") << flow << QStringLiteral("hostile.yaml:1:100003: error: the document has more than 50000 values");
        QByteArray quoted = "name: \"";
        for (int i = 0; i < 60'000; ++i)
            quoted += "[,";
        quoted += "\"\nnodes: [";
        QTest::newRow("brackets inside quotes are text") << quoted << QStringLiteral("YAML syntax");
        QByteArray lines = "a:\n";
        for (int i = 0; i < 60'000; ++i)
            lines += "- 1\n";
        QTest::newRow("block values") << lines << QStringLiteral("hostile.yaml:49999:3: error: the document has more than 50000 values");
        QByteArray variants = minimalScenario() + "variants:\n";
        for (int i = 0; i < 300; ++i)
            variants += "  - { name: v" + QByteArray::number(i) + " }\n";
        QTest::newRow("explicit variants") << variants
                                           << QStringLiteral("hostile.yaml:7:3: error: variants: 300 variants; a scenario has at most 256");
        QByteArray many = minimalScenario() + "sweep: { seed: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16] }\n"
                                              "variants:\n";
        for (int i = 0; i < 17; ++i)
            many += "  - { name: v" + QByteArray::number(i) + " }\n";
        QTest::newRow("sweeps beside explicit variants") << many << QStringLiteral("error: the variants expand to more than 256 variants");
        QByteArray wide = minimalScenario() + "sweep: { seed: [";
        for (int i = 0; i < 200; ++i)
            wide += QByteArray::number(i) + ", ";
        wide += "200] }\nnodes:\n  origin: { kind: origin }\n";
        for (int i = 0; i < 1000; ++i)
            wide += "  p" + QByteArray::number(i) + ": { kind: pop, region: r, max_connections: 1, max_stream_duration: none }\n";
        QTest::newRow("expanded values") << wide.replace("nodes: { origin: { kind: origin } }\n", "")
                                         << QStringLiteral("error: the variants expand to more than 1000000 values together");
        QByteArray laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
        for (char c = 'b'; c <= 'i'; ++c)
            laughs += QByteArray(1, c) + ": &" + QByteArray(1, c) + " [*" + QByteArray(1, char(c - 1)) + ", *" + QByteArray(1, char(c - 1))
                + ", *" + QByteArray(1, char(c - 1)) + ", *" + QByteArray(1, char(c - 1)) + ", *" + QByteArray(1, char(c - 1)) + "]\n";
        QTest::newRow("alias expansion") << laughs << QStringLiteral("expands to more than");
        QTest::newRow("binary") << QByteArray("\x00\xff\xfe name: \x01", 12) << QStringLiteral("error");
        QTest::newRow("mapping key") << QByteArray("? [a, b]\n: 1\n") << QStringLiteral("a key must be a plain word");
    }

    void hostileDocuments()
    {
        QFETCH(QByteArray, text);
        QFETCH(QString, fragment);
        const LoadResult r = loadFromText(text, QStringLiteral("hostile.yaml"));
        QVERIFY(!r.ok());
        QVERIFY(!r.diagnostics.isEmpty());
        QVERIFY2(allMessages(r).contains(fragment), qPrintable(allMessages(r).left(2000)));
    }

    // A file past the size limit is reported where it passes it, and only that much is read.
    void oversizedFile()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("big.yaml"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        const QByteArray line = "# " + QByteArray(77, 'x') + '\n'; // 80 bytes
        for (int i = 0; i < 60'000; ++i)
            file.write(line);
        file.close();
        const LoadResult r = load(path);
        QCOMPARE(r.diagnostics.size(), 1);
        // 4 MiB = 52428 whole lines of 80 bytes and 64 bytes more.
        QCOMPARE(r.diagnostics.first().toString(),
                 path + QStringLiteral(":52429:65: error: the file is larger than 4MB here; a scenario is a short text file"));
    }

    // A 4 MB flow-style document is refused before any tree is built: the whole validate
    // process stays small.
    void hugeFlowDocumentStaysSmall()
    {
        const QString exe = QString::fromUtf8(EDGESSE_BINARY_DIR) + QStringLiteral("/app/edgesse");
        if (!QFileInfo(exe).isExecutable())
            QSKIP("the edgesse executable is not built");
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("flow.yaml"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("{name: x, nodes: [");
        const QByteArray chunk = QByteArray("1,").repeated(4096);
        while (file.size() + chunk.size() < 4 * 1024 * 1024 - 16)
            file.write(chunk);
        file.write("1]}\n");
        file.close();
        QVERIFY(file.size() <= 4 * 1024 * 1024);
        const Measured m = runMeasured(exe, {QStringLiteral("validate"), path}, dir.filePath(QStringLiteral("err")));
        QCOMPARE(m.exitCode, 2);
        QVERIFY2(m.err.startsWith(QByteArray(path.toLocal8Bit() + ":1:")), m.err.constData());
        QVERIFY2(m.err.contains("error: the document has more than 50000 values"), m.err.constData());
        const long limitKiB = edgesse::testing::kUnderAsan ? 400 * 1024 : 100 * 1024; // ASan: shadow memory and quarantine on top
        qInfo("peak resident set of edgesse validate: %ld KiB", m.peakKiB);
        QVERIFY2(m.peakKiB > 0 && m.peakKiB < limitKiB, qPrintable(QString::number(m.peakKiB)));
    }

    void gatewayPresetsMatchTheDocumentation()
    {
        QCOMPARE(gatewayPresets().size(), 7);
        QCOMPARE(findGatewayPreset(QStringLiteral("aws-alb"))->idleTimeout, std::optional<microseconds>(60s));
        QCOMPARE(findGatewayPreset(QStringLiteral("cloudflare"))->idleTimeout, std::optional<microseconds>(100s));
        QCOMPARE(findGatewayPreset(QStringLiteral("gcp-lb"))->maxDuration, std::optional<microseconds>(30s));
        QCOMPARE(findGatewayPreset(QStringLiteral("vercel-edge"))->maxDuration, std::optional<microseconds>(300s));
        QVERIFY(!findGatewayPreset(QStringLiteral("vercel-edge"))->idleTimeout);
        QVERIFY(!findGatewayPreset(QStringLiteral("haproxy")));
    }

    // The command line contract: exit codes, diagnostics on stderr, a summary on stdout.
    void validateCommand()
    {
        const QString exe = QString::fromUtf8(EDGESSE_BINARY_DIR) + QStringLiteral("/app/edgesse");
        if (!QFileInfo(exe).isExecutable())
            QSKIP("the edgesse executable is not built");
        QProcess p;
        p.start(exe, {QStringLiteral("validate"), sourceDir() + QStringLiteral("/scenarios/http1-vs-http2.yaml")});
        QVERIFY(p.waitForFinished(30000));
        QCOMPARE(p.exitCode(), 0);
        const QString out = QString::fromUtf8(p.readAllStandardOutput());
        QVERIFY2(out.contains(QStringLiteral("2 variants (protocol=http1, protocol=http2)")) && out.contains(QStringLiteral("320 streams")), qPrintable(out));
        QCOMPARE(out.count(u'\n'), 1);

        const QString bad = sourceDir() + QStringLiteral("/tests/data/scenarios/invalid/latency-not-a-duration.yaml");
        p.start(exe, {QStringLiteral("validate"), sourceDir() + QStringLiteral("/scenarios/polling-vs-sse.yaml"), bad});
        QVERIFY(p.waitForFinished(30000));
        QCOMPARE(p.exitCode(), 2);
        QCOMPARE(QString::fromUtf8(p.readAllStandardError()),
                 bad + QStringLiteral(":9:44: error: links[1].latency: expected a duration like 40ms, got \"fast\"\n"));
    }
};

QTEST_GUILESS_MAIN(TestScenario)
#include "tst_scenario.moc"
