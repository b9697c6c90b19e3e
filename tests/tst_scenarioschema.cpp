// Keeps scenarios/edgesse.schema.json and the loader in agreement: the JSON Schema an editor
// uses must accept every bundled scenario, and must reject each malformed case the loader
// rejects for a reason a schema can express (each case says which: "# schema: rejects" or
// "# schema: accepts" for problems only the loader can see, such as a missing link).

#include "core/scenario/scenario.h"
#include "tests/support/scenariofiles.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QTest>

using edgesse::testing::sourceDir;
using edgesse::testing::yamlFiles;

class TestScenarioSchema final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        m_node = QStandardPaths::findExecutable(QStringLiteral("node"));
        QVERIFY2(!m_node.isEmpty(), "node (Node.js) is not installed; run scripts/dev test, which installs it");
        const QString modules = sourceDir() + QStringLiteral("/tests/node/node_modules");
        QVERIFY2(QFileInfo::exists(modules + QStringLiteral("/ajv")) && QFileInfo::exists(modules + QStringLiteral("/yaml")),
                 qPrintable(QStringLiteral("the Node.js packages of tests/node are missing (%1); run scripts/dev test, "
                                           "or: cd tests/node && npm install")
                                .arg(modules)));

        const QStringList files = yamlFiles(sourceDir() + QStringLiteral("/scenarios"))
            + yamlFiles(sourceDir() + QStringLiteral("/tests/data/scenarios/valid"))
            + yamlFiles(sourceDir() + QStringLiteral("/tests/data/scenarios/invalid"));
        QProcess p;
        p.start(m_node, QStringList{sourceDir() + QStringLiteral("/tests/node/check-schema.mjs"),
                                    sourceDir() + QStringLiteral("/scenarios/edgesse.schema.json")}
                            + files);
        QVERIFY2(p.waitForFinished(60000), "the schema check did not finish within a minute");
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        for (const QByteArray &line : p.readAllStandardOutput().split('\n')) {
            if (line.trimmed().isEmpty())
                continue;
            const QJsonObject o = QJsonDocument::fromJson(line).object();
            m_verdicts.insert(o.value(QStringLiteral("file")).toString(), o);
        }
        QCOMPARE(m_verdicts.size(), files.size());
    }

    void agreement_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<bool>("loaderAccepts");
        QTest::addColumn<bool>("schemaShouldAccept");
        for (const QString &f : yamlFiles(sourceDir() + QStringLiteral("/scenarios")) + yamlFiles(sourceDir() + QStringLiteral("/tests/data/scenarios/valid")))
            QTest::newRow(qPrintable(QFileInfo(f).completeBaseName())) << f << true << true;
        for (const QString &f : yamlFiles(sourceDir() + QStringLiteral("/tests/data/scenarios/invalid"))) {
            QFile file(f);
            QVERIFY(file.open(QIODevice::ReadOnly));
            const QByteArray text = file.readAll();
            const bool accepts = text.contains("\n# schema: accepts");
            QVERIFY2(accepts || text.contains("\n# schema: rejects"), qPrintable(f + QStringLiteral(": no '# schema:' line")));
            QTest::newRow(qPrintable(u"invalid/" + QFileInfo(f).completeBaseName())) << f << false << accepts;
        }
    }

    void agreement()
    {
        QFETCH(QString, path);
        QFETCH(bool, loaderAccepts);
        QFETCH(bool, schemaShouldAccept);
        QCOMPARE(edgesse::scenario::load(path).ok(), loaderAccepts);
        QVERIFY(m_verdicts.contains(path));
        const QJsonObject verdict = m_verdicts.value(path);
        const bool schemaAccepts = verdict.value(QStringLiteral("valid")).toBool();
        QVERIFY2(schemaAccepts == schemaShouldAccept,
                 QJsonDocument(verdict).toJson(QJsonDocument::Compact).constData());
    }

private:
    QString m_node;
    QHash<QString, QJsonObject> m_verdicts;
};

QTEST_GUILESS_MAIN(TestScenarioSchema)
#include "tst_scenarioschema.moc"
