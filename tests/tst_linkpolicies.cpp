#include "core/link/faultpolicy.h"
#include "core/link/handshakegate.h"
#include "core/link/idlepolicy.h"
#include "core/link/maxdurationpolicy.h"
#include "core/link/tlsemulation.h"

#include <QTest>

using namespace std::chrono_literals;
using edgesse::link::FaultPolicy;
using edgesse::link::HandshakeGate;
using edgesse::link::IdlePolicy;
using edgesse::link::MaxDurationPolicy;
using edgesse::link::ReapCause;
using edgesse::link::TimePoint;
using edgesse::link::TlsEmulation;

namespace {
const TimePoint t0 = TimePoint{} + 1h;
}

class TestLinkPolicies final : public QObject
{
    Q_OBJECT

private slots:
    void handshakeGateHoldsEarlyBytes();
    void tlsEmulationAddsOneRoundTripOrNothing();
    void idleReapsOnlyWhenQuietAndEmpty();
    void maxDurationFromAccept();
    void gatewayClosesLinkDownResets();
    void outageTimes();
};

void TestLinkPolicies::handshakeGateHoldsEarlyBytes()
{
    const HandshakeGate gate(t0, 40ms);
    QCOMPARE(gate.completesAt(), t0 + 40ms);
    QCOMPARE(gate.sent(t0 + 1ms), t0 + 40ms);
    QCOMPARE(gate.sent(t0 + 50ms), t0 + 50ms);
}

void TestLinkPolicies::tlsEmulationAddsOneRoundTripOrNothing()
{
    QCOMPARE(TlsEmulation(t0 + 40ms, 40ms, true).sent(t0 + 41ms), t0 + 80ms);
    QCOMPARE(TlsEmulation(t0 + 40ms, 40ms, false).sent(t0 + 41ms), t0 + 41ms);
}

void TestLinkPolicies::idleReapsOnlyWhenQuietAndEmpty()
{
    const IdlePolicy idle(60s);
    QVERIFY(idle.enabled());
    QVERIFY(!IdlePolicy(std::nullopt).enabled());
    QCOMPARE(idle.firstCheck(t0), t0 + 60s);
    QVERIFY(!idle.check(t0 + 60s, t0, false).has_value());
    // Bytes seen 10 s ago: checked again when it has been quiet for 60 s.
    QCOMPARE(idle.check(t0 + 60s, t0 + 50s, false), std::optional<TimePoint>(t0 + 110s));
    // Bytes still travelling keep it open.
    QVERIFY(idle.check(t0 + 60s, t0, true).has_value());
}

void TestLinkPolicies::maxDurationFromAccept()
{
    QCOMPARE(MaxDurationPolicy(30s).deadline(t0), std::optional<TimePoint>(t0 + 30s));
    QVERIFY(!MaxDurationPolicy(std::nullopt).deadline(t0).has_value());
}

void TestLinkPolicies::gatewayClosesLinkDownResets()
{
    QVERIFY(!FaultPolicy::resets(ReapCause::IdleTimeout));
    QVERIFY(!FaultPolicy::resets(ReapCause::MaxDuration));
    QVERIFY(FaultPolicy::resets(ReapCause::LinkDown));
}

void TestLinkPolicies::outageTimes()
{
    const FaultPolicy::Outage o = FaultPolicy::outage(t0, 2s, 5s);
    QCOMPARE(o.down, t0 + 2s);
    QCOMPARE(o.up, t0 + 7s);
}

QTEST_GUILESS_MAIN(TestLinkPolicies)
#include "tst_linkpolicies.moc"
