#include "app/gui/livedata.h"

namespace edgesse::gui {

TopologyLoad topologyLoadFromSnapshot(const sim::LiveSnapshot &snapshot)
{
    TopologyLoad load;
    for (const auto &node : snapshot.nodes)
        load.connectionsByNode.insert(node.name, node.connectionsOpen);
    for (const auto &link : snapshot.links)
        load.links.append({link.from, link.to, link.bytesPerSecondDown + link.bytesPerSecondUp, link.connectionsOpen, link.reaps});
    return load;
}

} // namespace edgesse::gui
