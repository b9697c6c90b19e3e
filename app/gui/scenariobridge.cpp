#include "app/gui/scenariobridge.h"

#include "core/scenario/scenario.h"
#include "core/scenario/units.h"

#include <QLocale>
#include <QPair>
#include <QSet>

namespace edgesse::gui {

namespace {

QString milliseconds(std::chrono::microseconds d)
{
    const double ms = double(d.count()) / 1000.0;
    return QLocale::c().toString(ms, 'f', d.count() % 1000 == 0 ? 0 : (d.count() % 100 == 0 ? 1 : 3)) + QStringLiteral(" ms");
}

QString latencyLabel(const scenario::Link &link)
{
    QString label = milliseconds(link.latency);
    if (link.jitter.count() > 0)
        label += QStringLiteral(" ± ") + milliseconds(link.jitter);
    if (link.bandwidthBitsPerSecond > 0)
        label += QStringLiteral(" · ") + scenario::units::formatBandwidth(link.bandwidthBitsPerSecond);
    if (link.loss > 0)
        label += QStringLiteral(" · %1% loss").arg(link.loss * 100, 0, 'g', 3);
    if (link.tls)
        label += QStringLiteral(" · TLS");
    return label;
}

QString deliveryName(const scenario::ClientGroup &group)
{
    switch (group.delivery) {
    case scenario::Delivery::Sse:
        return group.streams == 1 ? QObject::tr("1 stream") : QObject::tr("%1 streams").arg(group.streams);
    case scenario::Delivery::Poll:
        return QObject::tr("polling %1").arg(scenario::units::formatDuration(group.pollInterval));
    case scenario::Delivery::LongPoll:
        return QObject::tr("long polling");
    }
    return {};
}

} // namespace

TopologyModel topologyOf(const scenario::Variant &variant)
{
    QSet<QString> nodesOnPath;
    QSet<QPair<QString, QString>> linksOnPath;
    for (const scenario::ClientGroup &group : variant.clients) {
        const QStringList hops = variant.path(group);
        for (qsizetype i = 0; i < hops.size(); ++i) {
            nodesOnPath.insert(hops[i]);
            if (i > 0) {
                linksOnPath.insert({hops[i - 1], hops[i]});
                linksOnPath.insert({hops[i], hops[i - 1]});
            }
        }
    }
    TopologyModel model;
    for (const scenario::Node &node : variant.nodes) {
        TopologyModel::Node n;
        n.name = node.name;
        n.kind = node.kind == scenario::NodeKind::Origin ? TopologyModel::Kind::Origin : TopologyModel::Kind::Pop;
        n.detail = node.region;
        n.onPath = nodesOnPath.contains(node.name);
        if (node.maxConnections > 0)
            n.detail += (n.detail.isEmpty() ? QString() : QStringLiteral(" · ")) +
                        QObject::tr("cap %1").arg(QLocale().toString(node.maxConnections));
        model.nodes.append(n);
    }
    for (const scenario::ClientGroup &group : variant.clients) {
        TopologyModel::Node n;
        n.name = group.name;
        n.kind = TopologyModel::Kind::Clients;
        n.count = group.count;
        n.detail = QObject::tr("%1 × %2").arg(QLocale().toString(group.count), deliveryName(group));
        model.nodes.append(n);
    }
    for (const scenario::Link &link : variant.links) {
        TopologyModel::Link l;
        l.a = link.a;
        l.b = link.b;
        l.label = latencyLabel(link);
        l.onPath = linksOnPath.contains({link.a, link.b});
        if (link.gateway)
            l.gateway = link.gateway->preset;
        model.links.append(l);
    }
    return model;
}

QList<VariantEntry> variantEntriesOf(const scenario::Scenario &scenario)
{
    QList<VariantEntry> entries;
    for (const scenario::Variant &variant : scenario.variants) {
        QStringList parts{scenario::keyword(variant.placement), scenario::keyword(variant.protocol)};
        if (variant.sse.heartbeat)
            parts << QObject::tr("heartbeat %1").arg(scenario::units::formatDuration(*variant.sse.heartbeat));
        for (const auto &[key, value] : variant.sweepValues)
            parts << key + QLatin1Char('=') + value;
        parts << QObject::tr("%1 streams").arg(QLocale().toString(variant.totalStreams()));
        entries.append({variant.name, parts.join(QStringLiteral(" · "))});
    }
    return entries;
}

QList<TextMark> textMarksOf(const QList<scenario::Diagnostic> &diagnostics)
{
    QList<TextMark> marks;
    for (const scenario::Diagnostic &d : diagnostics)
        marks.append({d.line, std::max(1, d.column), d.message});
    return marks;
}

} // namespace edgesse::gui
