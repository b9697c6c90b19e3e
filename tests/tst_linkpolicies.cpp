#include "core/link/faultpolicy.h"
#include "core/link/handshakegate.h"
#include "core/link/idlepolicy.h"
#include "core/link/maxdurationpolicy.h"
#include "core/link/synhold.h"
#include "core/link/tlsemulation.h"

#include <QTest>

using namespace std::chrono_literals;
using edgesse::link::ConnectTiming;
using edgesse::link::FaultPolicy;
using edgesse::link::HandshakeGate;
using edgesse::link::IdlePolicy;
using edgesse::link::MaxDurationPolicy;
using edgesse::link::ReapCause;
using edgesse::link::SynHold;
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
    void synHoldReleasesOneRoundTripLaterInOrder();
    void roundTripCountedOnce_data();
    void roundTripCountedOnce();
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

void TestLinkPolicies::synHoldReleasesOneRoundTripLaterInOrder()
{
    SynHold hold(50ms);
    QVERIFY(!hold.nextRelease().has_value());
    QCOMPARE(hold.admit(7, t0), t0 + 50ms);
    QCOMPARE(hold.admit(8, t0 + 3ms), t0 + 53ms);
    QCOMPARE(hold.nextRelease(), std::optional<TimePoint>(t0 + 50ms));
    QVERIFY(!hold.takeDue(t0 + 49ms).has_value());
    QCOMPARE(hold.takeDue(t0 + 50ms), std::optional<std::uint32_t>(7));
    QVERIFY(!hold.takeDue(t0 + 52ms).has_value());
    QCOMPARE(hold.nextRelease(), std::optional<TimePoint>(t0 + 53ms));
    QCOMPARE(hold.takeDue(t0 + 60ms), std::optional<std::uint32_t>(8));
    QCOMPARE(hold.held(), std::size_t(0));
}

void TestLinkPolicies::roundTripCountedOnce_data()
{
    QTest::addColumn<ConnectTiming>("timing");
    QTest::addColumn<bool>("tls");
    QTest::addColumn<int>("connectRoundTrips");
    QTest::addColumn<int>("firstByteRoundTrips");
    // A SYN at t0: SYN-ACK back after 1 RTT; the request (sent then) and its response take one
    // more RTT; an emulated TLS 1.3 handshake one more before the request may go.
    QTest::newRow("held SYN") << ConnectTiming::HeldSyn << false << 1 << 2;
    QTest::newRow("held SYN, tls") << ConnectTiming::HeldSyn << true << 1 << 3;
    QTest::newRow("charged to data") << ConnectTiming::ChargedToData << false << 0 << 2;
    QTest::newRow("charged to data, tls") << ConnectTiming::ChargedToData << true << 0 << 3;
}

void TestLinkPolicies::roundTripCountedOnce()
{
    QFETCH(ConnectTiming, timing);
    QFETCH(bool, tls);
    QFETCH(int, connectRoundTrips);
    QFETCH(int, firstByteRoundTrips);
    constexpr auto kLatency = 25ms;
    constexpr auto kRoundTrip = 2 * kLatency;
    SynHold hold(kRoundTrip);
    const TimePoint accepted = timing == ConnectTiming::HeldSyn ? hold.admit(1, t0) : t0;
    QCOMPARE(accepted - t0, connectRoundTrips * kRoundTrip);
    const HandshakeGate gate(accepted, kRoundTrip, timing);
    const TlsEmulation tlsStage(gate.completesAt(), kRoundTrip, tls);
    // The client writes its request as soon as connect() returns.
    const TimePoint requestSent = tlsStage.sent(gate.sent(accepted));
    const TimePoint firstByte = requestSent + kLatency + kLatency;
    QCOMPARE(firstByte - t0, firstByteRoundTrips * kRoundTrip);
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
