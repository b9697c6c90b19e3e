#pragma once

#include <QHash>
#include <QList>
#include <QString>

#include <chrono>
#include <cstdint>

namespace edgesse::gui {

// What the topology view draws: a scenario reduced to named nodes and the links between them.
struct TopologyModel
{
    enum class Kind { Origin, Pop, Clients };
    struct Node
    {
        QString name;
        Kind kind = Kind::Pop;
        QString detail; // region, or "200 browsers × 2 streams"
        std::int64_t count = 0; // clients in a population; 0 for servers
        bool onPath = true;     // some population's events pass through it in this variant
    };
    struct Link
    {
        QString a;
        QString b;
        QString label;   // "8 ms ± 2 ms"
        QString gateway; // preset name, empty when none
        bool onPath = true; // events travel over it in this variant (drawn highlighted)
    };
    QList<Node> nodes;
    QList<Link> links;
};

// Live figures laid over the topology during a run (from the engine's snapshots).
struct TopologyLoad
{
    struct LinkLoad
    {
        QString from;
        QString to;
        double bytesPerSecond = 0; // both directions
        std::uint64_t connections = 0;
        std::uint64_t reaps = 0;   // so far in this variant; an increase flashes the link
    };
    QHash<QString, std::int64_t> connectionsByNode;
    QList<LinkLoad> links;
};

} // namespace edgesse::gui
