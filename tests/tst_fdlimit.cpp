#include "core/net/fdlimit.h"

#include <QTest>

#include <sys/resource.h>

using namespace edgesse::net;

class TestFdLimit final : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void currentMatchesKernel();
    void raisesSoftToHard();
    void descriptorsNeededCountsEveryEnd_data();
    void descriptorsNeededCountsEveryEnd();
    void budgetWithinSoftLimitIsSilent();
    void budgetAboveSoftButWithinHardSuggestsUlimit();
    void budgetAboveHardSuggestsFewerClients();

private:
    rlimit m_saved{};
};

void TestFdLimit::init()
{
    QCOMPARE(getrlimit(RLIMIT_NOFILE, &m_saved), 0);
}

void TestFdLimit::cleanup()
{
    setrlimit(RLIMIT_NOFILE, &m_saved);
}

void TestFdLimit::currentMatchesKernel()
{
    const FdLimit limit = currentFdLimit();
    QCOMPARE(limit.soft, static_cast<std::uint64_t>(m_saved.rlim_cur));
    QCOMPARE(limit.hard, static_cast<std::uint64_t>(m_saved.rlim_max));
    QVERIFY(limit.soft <= limit.hard);
}

void TestFdLimit::raisesSoftToHard()
{
    if (m_saved.rlim_max < 128)
        QSKIP("the hard descriptor limit is too small to lower the soft one for this test");
    rlimit lowered = m_saved;
    lowered.rlim_cur = 64;
    QCOMPARE(setrlimit(RLIMIT_NOFILE, &lowered), 0);
    QCOMPARE(currentFdLimit().soft, std::uint64_t{64});

    const FdLimit raised = raiseFdLimitToHard();
    QCOMPARE(raised.soft, static_cast<std::uint64_t>(m_saved.rlim_max));
    QCOMPARE(raised.hard, static_cast<std::uint64_t>(m_saved.rlim_max));
    QCOMPARE(currentFdLimit().soft, raised.soft);
    // Idempotent.
    QCOMPARE(raiseFdLimitToHard().soft, raised.soft);
}

void TestFdLimit::descriptorsNeededCountsEveryEnd_data()
{
    QTest::addColumn<quint64>("proxied");
    QTest::addColumn<quint64>("direct");
    QTest::addColumn<quint64>("listeners");
    QTest::addColumn<quint64>("expected");
    QTest::newRow("nothing") << quint64{0} << quint64{0} << quint64{0} << quint64{kDescriptorReserve};
    QTest::newRow("1000 proxied, 3 listeners") << quint64{1000} << quint64{0} << quint64{3}
                                               << quint64{4000 + 3 + kDescriptorReserve};
    QTest::newRow("mixed") << quint64{10} << quint64{5} << quint64{2} << quint64{40 + 10 + 2 + kDescriptorReserve};
}

void TestFdLimit::descriptorsNeededCountsEveryEnd()
{
    QFETCH(quint64, proxied);
    QFETCH(quint64, direct);
    QFETCH(quint64, listeners);
    QFETCH(quint64, expected);
    QCOMPARE(descriptorsNeeded(proxied, direct, listeners), expected);
}

void TestFdLimit::budgetWithinSoftLimitIsSilent()
{
    QVERIFY(checkDescriptorBudget(16).isEmpty());
    QVERIFY(checkDescriptorBudget(currentFdLimit().soft).isEmpty());
}

void TestFdLimit::budgetAboveSoftButWithinHardSuggestsUlimit()
{
    if (m_saved.rlim_max < 256)
        QSKIP("the hard descriptor limit is too small for this test");
    rlimit lowered = m_saved;
    lowered.rlim_cur = 128;
    QCOMPARE(setrlimit(RLIMIT_NOFILE, &lowered), 0);
    const QString message = checkDescriptorBudget(200);
    QVERIFY(message.contains(QStringLiteral("200")));
    QVERIFY(message.contains(QStringLiteral("128")));
    QVERIFY2(message.contains(QStringLiteral("ulimit -n %1").arg(m_saved.rlim_max)), qPrintable(message));
}

void TestFdLimit::budgetAboveHardSuggestsFewerClients()
{
    const std::uint64_t tooMany = currentFdLimit().hard + 1;
    const QString message = checkDescriptorBudget(tooMany);
    QVERIFY(!message.isEmpty());
    QVERIFY(message.contains(QString::number(tooMany)));
    QVERIFY2(message.contains(QStringLiteral("hard limit")) && message.contains(QStringLiteral("reduce")),
             qPrintable(message));
}

QTEST_GUILESS_MAIN(TestFdLimit)
#include "tst_fdlimit.moc"
