// External nodes in the scenario language: keys, placeholders, the resolved form.
#include "core/scenario/scenario.h"
#include "tests/support/scenariofiles.h"

#include <QJsonDocument>
#include <QtTest>

using namespace edgesse::scenario;
using namespace std::chrono_literals;

class TestExternalScenario final : public QObject
{
    Q_OBJECT

private slots:
    void placeholderNames_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QStringList>("names");
        QTest::newRow("one") << QStringLiteral("node s.mjs --port {port}") << QStringList{QStringLiteral("port")};
        QTest::newRow("several") << QStringLiteral("{dir}/a {upstream}{x_1}") << QStringList{QStringLiteral("dir"), QStringLiteral("upstream"), QStringLiteral("x_1")};
        QTest::newRow("nginx blocks are not names") << QStringLiteral("events {}\nhttp { server { listen 1; } }") << QStringList{};
        QTest::newRow("escaped brace") << QStringLiteral("{{port} {port}") << QStringList{QStringLiteral("port")};
        QTest::newRow("upper case is not a name") << QStringLiteral("{PORT}") << QStringList{};
        QTest::newRow("unterminated") << QStringLiteral("{port") << QStringList{};
    }
    void placeholderNames()
    {
        QFETCH(QString, text);
        QFETCH(QStringList, names);
        QCOMPARE(edgesse::scenario::placeholderNames(text), names);
    }

    void fillPlaceholders_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("filled");
        QTest::newRow("port") << QStringLiteral("--port {port}") << QStringLiteral("--port 4242");
        QTest::newRow("two and a block") << QStringLiteral("server { listen {port}; proxy_pass {upstream}; }")
                                         << QStringLiteral("server { listen 4242; proxy_pass http://127.0.0.1:9/events; }");
        QTest::newRow("escape") << QStringLiteral("{{port}") << QStringLiteral("{port}");
        QTest::newRow("unknown stays") << QStringLiteral("{nope} {port}") << QStringLiteral("{nope} 4242");
        QTest::newRow("value holding braces is not re-read") << QStringLiteral("{odd}") << QStringLiteral("{port}");
    }
    void fillPlaceholders()
    {
        QFETCH(QString, text);
        QFETCH(QString, filled);
        const QHash<QString, QString> values{{QStringLiteral("port"), QStringLiteral("4242")},
                                             {QStringLiteral("upstream"), QStringLiteral("http://127.0.0.1:9/events")},
                                             {QStringLiteral("odd"), QStringLiteral("{port}")}};
        QCOMPARE(edgesse::scenario::fillPlaceholders(text, values), filled);
    }

    void externalNodesLoad()
    {
        const LoadResult r = load(edgesse::testing::sourceDir() + QStringLiteral("/tests/data/scenarios/valid/external.yaml"));
        QVERIFY2(r.ok(), qPrintable(r.diagnostics.isEmpty() ? QString() : r.diagnostics.first().toString()));
        QCOMPARE(r.scenario->variants.size(), 1);
        const Variant &v = r.scenario->variants.first();
        const Node *origin = v.node(QStringLiteral("origin"));
        const Node *edge = v.node(QStringLiteral("edge"));
        QVERIFY(origin && origin->external && edge && edge->external);
        QCOMPARE(origin->external->command, QStringLiteral("node sse-origin.mjs --port {port} --heartbeat {heartbeat_ms}"));
        QCOMPARE(origin->external->url, QStringLiteral("http://127.0.0.1:{port}/events"));
        QCOMPARE(origin->external->readyTimeout, 5s);
        QCOMPARE(edge->external->stopGrace, 1s);
        QCOMPARE(edge->external->files.size(), 1);
        QCOMPARE(edge->external->files.first().first, QStringLiteral("nginx.conf"));
        // The variant overrides the var; the file text keeps its placeholder until the run.
        QCOMPARE(edge->external->vars, (QList<QPair<QString, QString>>{{QStringLiteral("buffering"), QStringLiteral("on")}}));
        QVERIFY(edge->external->files.first().second.contains(QStringLiteral("proxy_buffering {buffering};")));
        QCOMPARE(v.publisher.post, QStringLiteral("http://127.0.0.1:{port}/publish"));
        QCOMPARE(v.externalNodes(), (QStringList{QStringLiteral("origin"), QStringLiteral("edge")}));
        QVERIFY(v.runsOutsideClock());
    }

    // The resolved JSON is itself a scenario: loading it back gives the same variant.
    void resolvedRoundTrip()
    {
        const LoadResult r = load(edgesse::testing::sourceDir() + QStringLiteral("/tests/data/scenarios/valid/external.yaml"));
        QVERIFY(r.ok());
        const Variant &v = r.scenario->variants.first();
        QJsonObject doc = toJson(v);
        doc.remove(QStringLiteral("name"));
        doc.insert(QStringLiteral("name"), QStringLiteral("round trip"));
        const QByteArray text = QJsonDocument(doc).toJson();
        const LoadResult back = loadFromText(text, QStringLiteral("resolved.json"));
        QVERIFY2(back.ok(), qPrintable(back.diagnostics.isEmpty() ? QString() : back.diagnostics.first().toString()));
        Variant again = back.scenario->variants.first();
        again.name = v.name;
        for (const Node &n : v.nodes) { // JSON objects hold their keys sorted: compare by name
            QVERIFY(again.node(n.name));
            QCOMPARE(*again.node(n.name), n);
        }
        QCOMPARE(again.publisher, v.publisher);
    }

    void ownNodesAreUnderTheClock()
    {
        const LoadResult r = load(edgesse::testing::sourceDir() + QStringLiteral("/scenarios/edge-vs-central.yaml"));
        QVERIFY(r.ok());
        for (const Variant &v : r.scenario->variants)
            QVERIFY(!v.runsOutsideClock());
    }
};

QTEST_GUILESS_MAIN(TestExternalScenario)
#include "tst_external_scenario.moc"
