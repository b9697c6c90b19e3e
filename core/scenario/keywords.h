#pragma once

#include "core/scenario/scenario.h"

#include <QLatin1String>

#include <optional>
#include <span>

// The scenario language's word for each value of each enum: one table an enum, read by the
// loader and written by toJson (through keyword()), so the two cannot disagree and a new
// value is one new row.
namespace edgesse::scenario {

template<typename E>
struct Keyword {
    QLatin1String word;
    E value;
};

// The table of E, in the order messages list the choices.
template<typename E>
std::span<const Keyword<E>> keywords();

template<> std::span<const Keyword<NodeKind>> keywords<NodeKind>();
template<> std::span<const Keyword<UpstreamMode>> keywords<UpstreamMode>();
template<> std::span<const Keyword<Placement>> keywords<Placement>();
template<> std::span<const Keyword<Protocol>> keywords<Protocol>();
template<> std::span<const Keyword<Discovery>> keywords<Discovery>();
template<> std::span<const Keyword<Delivery>> keywords<Delivery>();
template<> std::span<const Keyword<JitterDistribution>> keywords<JitterDistribution>();
template<> std::span<const Keyword<LossRecovery>> keywords<LossRecovery>();
template<> std::span<const Keyword<LossModel>> keywords<LossModel>();
template<> std::span<const Keyword<PublishPattern>> keywords<PublishPattern>();
template<> std::span<const Keyword<BrowserKind>> keywords<BrowserKind>();
template<> std::span<const Keyword<ClientApi>> keywords<ClientApi>();
template<> std::span<const Keyword<Backoff>> keywords<Backoff>();
template<> std::span<const Keyword<ReconnectJitter>> keywords<ReconnectJitter>();
template<> std::span<const Keyword<BalancePolicy>> keywords<BalancePolicy>();
template<> std::span<const Keyword<WhenFull>> keywords<WhenFull>();
template<> std::span<const Keyword<NodeFaultKind>> keywords<NodeFaultKind>();

// The value `word` names in E's table, if any.
template<typename E>
std::optional<E> fromKeyword(QStringView word)
{
    for (const Keyword<E> &k : keywords<E>())
        if (word == k.word)
            return k.value;
    return std::nullopt;
}

} // namespace edgesse::scenario
