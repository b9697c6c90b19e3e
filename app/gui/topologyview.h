#pragma once

#include "app/gui/topologymodel.h"

#include <QElapsedTimer>
#include <QGraphicsView>
#include <QHash>
#include <QPointF>

namespace edgesse::gui {

class TopologyNodeItem;
class TopologyLinkItem;

// Draws a scenario's topology: origin, PoPs and client populations by kind with names and
// counts, links with their latency; during a run, connections per node, bytes/s per link and
// a red flash on a link where a gateway reaped connections. Ctrl+wheel or zoomIn/zoomOut
// zoom, dragging the background pans, nodes can be dragged (the layout is saved beside the
// scenario as FILE.layout.json by whoever owns the file).
class TopologyView final : public QGraphicsView
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TopologyView)

public:
    explicit TopologyView(QWidget *parent = nullptr);
    ~TopologyView() override;

    void setModel(const TopologyModel &model);
    const TopologyModel &model() const { return m_model; }
    void setLoad(const TopologyLoad &load);
    void clearLoad();

    // Forgets dragged positions (a different scenario was opened) and lays the nodes out anew.
    void resetLayout();
    QHash<QString, QPointF> nodePositions() const;
    void setNodePositions(const QHash<QString, QPointF> &positions);
    // JSON beside the scenario: {"version": 1, "nodes": {"name": [x, y], ...}}.
    bool saveLayout(const QString &path, QString *error = nullptr) const;
    bool loadLayout(const QString &path);
    static QString layoutPathFor(const QString &scenarioPath);

    // The item drawing a node (nullptr when there is none by that name).
    QGraphicsItem *nodeItem(const QString &name) const;
    double zoom() const;
    // True while a link still shows the red flash of a recent reap.
    bool isFlashing() const;

    void zoomIn();
    void zoomOut();
    void fitToWindow();
    void applyTheme();

signals:
    void layoutEdited();

protected:
    void wheelEvent(QWheelEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void changeEvent(QEvent *event) override;
    void drawBackground(QPainter *painter, const QRectF &rect) override;

private:
    friend class TopologyNodeItem;
    void rebuild();
    void autoLayout();
    void nodeMoved(TopologyNodeItem *node);
    void routeLinks();
    void nodeReleased();
    void scaleBy(double factor);
    void onFlashTick();

    TopologyModel m_model;
    QHash<QString, QPointF> m_positions;
    QHash<QString, TopologyNodeItem *> m_nodes;
    QList<TopologyLinkItem *> m_links;
    QTimer *m_flashTimer = nullptr;
    bool m_userZoomed = false;
};

} // namespace edgesse::gui
