#include "core/scenario/keywords.h"

#include <array>

namespace edgesse::scenario {

namespace {

using L = QLatin1String;

constexpr std::array kNodeKinds{Keyword<NodeKind>{L("origin"), NodeKind::Origin}, Keyword<NodeKind>{L("pop"), NodeKind::Pop}};
constexpr std::array kUpstreamModes{Keyword<UpstreamMode>{L("shared"), UpstreamMode::Shared},
                                    Keyword<UpstreamMode>{L("per-client"), UpstreamMode::PerClient}};
constexpr std::array kPlacements{Keyword<Placement>{L("central"), Placement::Central}, Keyword<Placement>{L("edge"), Placement::Edge}};
constexpr std::array kProtocols{Keyword<Protocol>{L("http1"), Protocol::Http1}, Keyword<Protocol>{L("http2"), Protocol::Http2},
                                Keyword<Protocol>{L("http3"), Protocol::Http3}};
constexpr std::array kDiscoveries{Keyword<Discovery>{L("forced"), Discovery::Forced},
                                  Keyword<Discovery>{L("alt-svc"), Discovery::AltSvc}};
constexpr std::array kDeliveries{Keyword<Delivery>{L("sse"), Delivery::Sse}, Keyword<Delivery>{L("poll"), Delivery::Poll},
                                 Keyword<Delivery>{L("long-poll"), Delivery::LongPoll}};
constexpr std::array kDistributions{Keyword<JitterDistribution>{L("uniform"), JitterDistribution::Uniform},
                                    Keyword<JitterDistribution>{L("normal"), JitterDistribution::Normal},
                                    Keyword<JitterDistribution>{L("pareto"), JitterDistribution::Pareto}};
constexpr std::array kRecoveries{Keyword<LossRecovery>{L("linux"), LossRecovery::Linux},
                                 Keyword<LossRecovery>{L("fast-retransmit"), LossRecovery::FastRetransmit},
                                 Keyword<LossRecovery>{L("timeout"), LossRecovery::Timeout}};
constexpr std::array kLossModels{Keyword<LossModel>{L("independent"), LossModel::Independent},
                                 Keyword<LossModel>{L("burst"), LossModel::Burst}};
constexpr std::array kPatterns{Keyword<PublishPattern>{L("constant"), PublishPattern::Constant},
                               Keyword<PublishPattern>{L("poisson"), PublishPattern::Poisson},
                               Keyword<PublishPattern>{L("bursty"), PublishPattern::Bursty}};
constexpr std::array kBrowsers{Keyword<BrowserKind>{L("chromium"), BrowserKind::Chromium},
                               Keyword<BrowserKind>{L("firefox"), BrowserKind::Firefox},
                               Keyword<BrowserKind>{L("safari"), BrowserKind::Safari}};
constexpr std::array kClientApis{Keyword<ClientApi>{L("eventsource"), ClientApi::EventSource},
                                 Keyword<ClientApi>{L("fetch"), ClientApi::Fetch}};
constexpr std::array kBackoffs{Keyword<Backoff>{L("none"), Backoff::None}, Keyword<Backoff>{L("exponential"), Backoff::Exponential}};
constexpr std::array kReconnectJitters{Keyword<ReconnectJitter>{L("none"), ReconnectJitter::None},
                                       Keyword<ReconnectJitter>{L("full"), ReconnectJitter::Full},
                                       Keyword<ReconnectJitter>{L("equal"), ReconnectJitter::Equal}};
constexpr std::array kBalancePolicies{Keyword<BalancePolicy>{L("round-robin"), BalancePolicy::RoundRobin},
                                     Keyword<BalancePolicy>{L("least-connections"), BalancePolicy::LeastConnections},
                                     Keyword<BalancePolicy>{L("random"), BalancePolicy::Random},
                                     Keyword<BalancePolicy>{L("hash"), BalancePolicy::Hash}};
constexpr std::array kWhenFull{Keyword<WhenFull>{L("wait"), WhenFull::Wait}, Keyword<WhenFull>{L("reject"), WhenFull::Reject}};
constexpr std::array kNodeFaultKinds{Keyword<NodeFaultKind>{L("crash"), NodeFaultKind::Crash},
                                     Keyword<NodeFaultKind>{L("drain"), NodeFaultKind::Drain}};

template<typename E>
QString wordFor(E value)
{
    for (const Keyword<E> &k : keywords<E>())
        if (k.value == value)
            return QString(k.word);
    return {};
}

} // namespace

template<> std::span<const Keyword<NodeKind>> keywords<NodeKind>() { return kNodeKinds; }
template<> std::span<const Keyword<UpstreamMode>> keywords<UpstreamMode>() { return kUpstreamModes; }
template<> std::span<const Keyword<Placement>> keywords<Placement>() { return kPlacements; }
template<> std::span<const Keyword<Protocol>> keywords<Protocol>() { return kProtocols; }
template<> std::span<const Keyword<Discovery>> keywords<Discovery>() { return kDiscoveries; }
template<> std::span<const Keyword<Delivery>> keywords<Delivery>() { return kDeliveries; }
template<> std::span<const Keyword<JitterDistribution>> keywords<JitterDistribution>() { return kDistributions; }
template<> std::span<const Keyword<LossRecovery>> keywords<LossRecovery>() { return kRecoveries; }
template<> std::span<const Keyword<LossModel>> keywords<LossModel>() { return kLossModels; }
template<> std::span<const Keyword<PublishPattern>> keywords<PublishPattern>() { return kPatterns; }
template<> std::span<const Keyword<BrowserKind>> keywords<BrowserKind>() { return kBrowsers; }
template<> std::span<const Keyword<ClientApi>> keywords<ClientApi>() { return kClientApis; }
template<> std::span<const Keyword<Backoff>> keywords<Backoff>() { return kBackoffs; }
template<> std::span<const Keyword<ReconnectJitter>> keywords<ReconnectJitter>() { return kReconnectJitters; }
template<> std::span<const Keyword<BalancePolicy>> keywords<BalancePolicy>() { return kBalancePolicies; }
template<> std::span<const Keyword<WhenFull>> keywords<WhenFull>() { return kWhenFull; }
template<> std::span<const Keyword<NodeFaultKind>> keywords<NodeFaultKind>() { return kNodeFaultKinds; }

QString keyword(NodeKind kind) { return wordFor(kind); }
QString keyword(UpstreamMode mode) { return wordFor(mode); }
QString keyword(Placement placement) { return wordFor(placement); }
QString keyword(Protocol protocol) { return wordFor(protocol); }
QString keyword(Discovery discovery) { return wordFor(discovery); }
QString keyword(Delivery delivery) { return wordFor(delivery); }
QString keyword(JitterDistribution distribution) { return wordFor(distribution); }
QString keyword(LossRecovery recovery) { return wordFor(recovery); }
QString keyword(PublishPattern pattern) { return wordFor(pattern); }
QString keyword(BrowserKind browser) { return wordFor(browser); }
QString keyword(ClientApi client) { return wordFor(client); }
QString keyword(Backoff backoff) { return wordFor(backoff); }
QString keyword(ReconnectJitter jitter) { return wordFor(jitter); }
QString keyword(BalancePolicy policy) { return wordFor(policy); }
QString keyword(WhenFull whenFull) { return wordFor(whenFull); }
QString keyword(NodeFaultKind kind) { return wordFor(kind); }

} // namespace edgesse::scenario
