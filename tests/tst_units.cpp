#include "core/scenario/units.h"

#include <QTest>

using namespace edgesse::scenario::units;
using namespace std::chrono_literals;

class TestUnits final : public QObject
{
    Q_OBJECT

private slots:
    void durations_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<qint64>("us"); // -1: rejected
        QTest::addColumn<QString>("error");
        QTest::newRow("us") << "250us" << qint64(250) << QString();
        QTest::newRow("ms") << "40ms" << qint64(40'000) << QString();
        QTest::newRow("s") << "2s" << qint64(2'000'000) << QString();
        QTest::newRow("m") << "1m" << qint64(60'000'000) << QString();
        QTest::newRow("decimal") << "1.5s" << qint64(1'500'000) << QString();
        QTest::newRow("leading dot") << ".5ms" << qint64(500) << QString();
        QTest::newRow("space before unit") << "15 s" << qint64(15'000'000) << QString();
        QTest::newRow("zero") << "0ms" << qint64(0) << QString();
        QTest::newRow("no unit") << "40" << qint64(-1) << "a number needs a unit: us, ms, s or m";
        QTest::newRow("word") << "fast" << qint64(-1) << "expected a duration like 40ms, got \"fast\"";
        QTest::newRow("empty") << "" << qint64(-1) << "expected a duration";
        QTest::newRow("wrong case") << "40MS" << qint64(-1) << "did you mean \"ms\"?";
        QTest::newRow("hours are not a unit") << "1h" << qint64(-1) << "unknown unit \"h\"";
        QTest::newRow("negative") << "-5ms" << qint64(-1) << "must not be negative";
        QTest::newRow("below a microsecond") << "0.5us" << qint64(-1) << "finer than one microsecond";
        QTest::newRow("huge") << "1e300s" << qint64(-1) << "too large";
        QTest::newRow("nan") << "nanms" << qint64(-1) << "expected a duration";
        QTest::newRow("two numbers") << "1 2ms" << qint64(-1) << "expected a duration";
    }

    void durations()
    {
        QFETCH(QString, text);
        QFETCH(qint64, us);
        QFETCH(QString, error);
        QString message;
        const auto d = parseDuration(text, &message);
        if (us < 0) {
            QVERIFY(!d);
            QVERIFY2(message.contains(error), qPrintable(message));
        } else {
            QVERIFY2(d, qPrintable(message));
            QCOMPARE(d->count(), us);
            QCOMPARE(parseDuration(formatDuration(*d)), d);
        }
    }

    void sizes_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<qint64>("bytes");
        QTest::newRow("B") << "256B" << qint64(256);
        QTest::newRow("KB") << "4KB" << qint64(4096);
        QTest::newRow("MB") << "1MB" << qint64(1024 * 1024);
        QTest::newRow("half KB") << "0.5KB" << qint64(512);
        QTest::newRow("no unit") << "256" << qint64(-1);
        QTest::newRow("bits") << "256b" << qint64(-1);
        QTest::newRow("GB not a size unit") << "1GB" << qint64(-1);
        QTest::newRow("fraction of a byte") << "0.3B" << qint64(-1);
    }

    void sizes()
    {
        QFETCH(QString, text);
        QFETCH(qint64, bytes);
        const auto b = parseBytes(text);
        if (bytes < 0) {
            QVERIFY(!b);
        } else {
            QCOMPARE(b, std::optional<qint64>(bytes));
            QCOMPARE(parseBytes(formatBytes(*b)), b);
        }
    }

    void bandwidths_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<qint64>("bps");
        QTest::newRow("kbps") << "512kbps" << qint64(512'000);
        QTest::newRow("Mbps") << "100Mbps" << qint64(100'000'000);
        QTest::newRow("Gbps") << "1Gbps" << qint64(1'000'000'000);
        QTest::newRow("decimal") << "2.5Mbps" << qint64(2'500'000);
        QTest::newRow("unlimited") << "unlimited" << qint64(0);
        QTest::newRow("zero is not unlimited") << "0Mbps" << qint64(-1);
        QTest::newRow("bytes per second") << "1GBps" << qint64(-1);
        QTest::newRow("no unit") << "100" << qint64(-1);
    }

    void bandwidths()
    {
        QFETCH(QString, text);
        QFETCH(qint64, bps);
        const auto b = parseBandwidth(text);
        if (bps < 0) {
            QVERIFY(!b);
        } else {
            QCOMPARE(b, std::optional<qint64>(bps));
            QCOMPARE(parseBandwidth(formatBandwidth(*b)), b);
        }
    }

    void rates_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<double>("perSecond");
        QTest::newRow("per second") << "20/s" << 20.0;
        QTest::newRow("per minute") << "1200/m" << 20.0;
        QTest::newRow("slow") << "6/m" << 0.1;
        QTest::newRow("decimal") << "0.5/s" << 0.5;
        QTest::newRow("spaces") << "20 / s" << 20.0;
        QTest::newRow("no unit") << "20" << -1.0;
        QTest::newRow("per hour") << "20/h" << -1.0;
        QTest::newRow("negative") << "-1/s" << -1.0;
        QTest::newRow("word") << "often" << -1.0;
    }

    void rates()
    {
        QFETCH(QString, text);
        QFETCH(double, perSecond);
        QString error;
        const auto r = parseRate(text, &error);
        if (perSecond < 0) {
            QVERIFY(!r);
            QVERIFY(error.startsWith(QStringLiteral("expected a rate like 20/s")));
        } else {
            QVERIFY2(r, qPrintable(error));
            QCOMPARE(*r, perSecond);
            QCOMPARE(parseRate(formatRate(*r)), r);
        }
    }

    void probabilities_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<double>("p");
        QTest::newRow("fraction") << "0.01" << 0.01;
        QTest::newRow("percent") << "1%" << 0.01;
        QTest::newRow("zero") << "0" << 0.0;
        QTest::newRow("above one") << "1.5" << -1.0;
        QTest::newRow("above 100%") << "150%" << -1.0;
        QTest::newRow("word") << "some" << -1.0;
    }

    void probabilities()
    {
        QFETCH(QString, text);
        QFETCH(double, p);
        const auto parsed = parseProbability(text);
        if (p < 0)
            QVERIFY(!parsed);
        else
            QCOMPARE(parsed, std::optional<double>(p));
    }

    void formatting()
    {
        QCOMPARE(formatDuration(0us), QStringLiteral("0ms"));
        QCOMPARE(formatDuration(1500us), QStringLiteral("1500us"));
        QCOMPARE(formatDuration(1500ms), QStringLiteral("1500ms"));
        QCOMPARE(formatDuration(90s), QStringLiteral("90s"));
        QCOMPARE(formatDuration(120s), QStringLiteral("2m"));
        QCOMPARE(formatBytes(1536), QStringLiteral("1536B"));
        QCOMPARE(formatBandwidth(0), QStringLiteral("unlimited"));
        QCOMPARE(formatBandwidth(1'500'000), QStringLiteral("1500kbps"));
        QCOMPARE(formatBandwidth(1'500), QStringLiteral("1.5kbps"));
        QCOMPARE(parseBandwidth(formatBandwidth(1'500)), std::optional<qint64>(1'500));
    }

    void editDistances()
    {
        QCOMPARE(editDistance(u"latency", u"latency"), 0);
        QCOMPARE(editDistance(u"latncy", u"latency"), 1);
        QCOMPARE(editDistance(u"", u"abc"), 3);
        QCOMPARE(editDistance(u"kitten", u"sitting"), 3);
    }
};

QTEST_GUILESS_MAIN(TestUnits)
#include "tst_units.moc"
