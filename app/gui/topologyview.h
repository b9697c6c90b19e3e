#pragma once

#include "app/gui/topologymodel.h"

#include <QElapsedTimer>
#include <QGraphicsView>

class QUndoStack;
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
    // The whole diagram as a PNG at 2× (for the report); empty when there is nothing drawn.
    QByteArray renderPng() const;

    // The item drawing a node (nullptr when there is none by that name).
    QGraphicsItem *nodeItem(const QString &name) const;
    double zoom() const;
    // What is drawn as the variant's path: node names, and links as "a–b" (as the model lists
    // them); everything else is drawn receded.
    QStringList pathItems() const;
    // True while a link still shows the red flash of a recent reap.
    bool isFlashing() const;

    // Dragging nodes is undoable (Ctrl+Z with the view focused, or this stack's actions).
    QUndoStack *undoStack() const { return m_undo; }
    // Selects the node drawn for `name` (none when empty or unknown) without signalling it.
    void selectNode(const QString &name);
    QString selectedNode() const;

    void zoomIn();
    void zoomOut();
    void fitToWindow();
    void applyTheme();

signals:
    void layoutEdited();
    void nodeSelected(const QString &name);  // clicked (or chosen from its context menu)
    void nodeActivated(const QString &name); // double-clicked: show its definition
    void resetLayoutRequested();

protected:
    void wheelEvent(QWheelEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void changeEvent(QEvent *event) override;
    void drawBackground(QPainter *painter, const QRectF &rect) override;
    void contextMenuEvent(QContextMenuEvent *event) override;
    void mouseDoubleClickEvent(QMouseEvent *event) override;

private:
    friend class TopologyNodeItem;
    void rebuild();
    void autoLayout();
    void nodeMoved(TopologyNodeItem *node);
    void routeLinks();
    void nodePressed();
    void nodeReleased();
    void scaleBy(double factor);
    void setScrollBarsShown(bool shown);
    void onFlashTick();

    TopologyModel m_model;
    QHash<QString, QPointF> m_positions;
    QHash<QString, TopologyNodeItem *> m_nodes;
    QList<TopologyLinkItem *> m_links;
    QTimer *m_flashTimer = nullptr;
    bool m_userZoomed = false;
    bool m_selecting = false;
    QUndoStack *m_undo = nullptr;
    QHash<QString, QPointF> m_dragStart;
};

} // namespace edgesse::gui
