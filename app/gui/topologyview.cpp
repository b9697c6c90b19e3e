#include "app/gui/topologyview.h"

#include "app/gui/theme.h"

#include <QDir>
#include <QFile>
#include <QBuffer>
#include <QFileInfo>
#include <QImage>
#include <QGraphicsItem>
#include <QGraphicsScene>
#include <QGraphicsSceneMouseEvent>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QPainter>
#include <QPainterPath>
#include <QSaveFile>
#include <QStyleOptionGraphicsItem>
#include <QTimer>
#include <QWheelEvent>
#include <QContextMenuEvent>
#include <QMenu>
#include <QMouseEvent>
#include <QUndoCommand>
#include <QUndoStack>

#include <algorithm>
#include <cmath>
#include <limits>

namespace edgesse::gui {

namespace {

constexpr double kNodeWidth = 150;    // at least; wider for a long name or subtitle
constexpr double kMaxNodeWidth = 240;
constexpr double kNodeHeight = 64;
constexpr double kZoomStep = 1.2;
constexpr double kMinZoom = 0.15;
constexpr double kMaxZoom = 6.0;
constexpr double kOffPathOpacity = 0.42; // nodes and labels the selected variant does not use
constexpr double kPathWidth = 2.6;       // a link on the selected variant's path, idle

QString humanRate(double bytesPerSecond)
{
    static const char *const units[] = {"B/s", "KB/s", "MB/s", "GB/s"};
    int unit = 0;
    while (bytesPerSecond >= 1000 && unit < 3) {
        bytesPerSecond /= 1000;
        ++unit;
    }
    return QStringLiteral("%1 %2")
        .arg(QLocale::c().toString(bytesPerSecond, 'f', bytesPerSecond < 10 && unit > 0 ? 1 : 0),
             QLatin1String(units[unit]));
}

QColor mix(const QColor &a, const QColor &b, double t)
{
    t = std::clamp(t, 0.0, 1.0);
    return QColor::fromRgbF(float(a.redF() + (b.redF() - a.redF()) * t), float(a.greenF() + (b.greenF() - a.greenF()) * t),
                            float(a.blueF() + (b.blueF() - a.blueF()) * t));
}

} // namespace

class TopologyNodeItem final : public QGraphicsItem
{
public:
    TopologyNodeItem(TopologyView *view, TopologyModel::Node node)
        : m_view(view), m_node(std::move(node))
    {
        setFlags(ItemIsMovable | ItemIsSelectable | ItemSendsGeometryChanges);
        setCursor(Qt::OpenHandCursor);
        setZValue(2);
        setToolTip(tooltip());
        // Wide enough for the whole name and subtitle (region, cap), up to a limit.
        QFont bold = m_view->font();
        bold.setBold(true);
        QFont small = m_view->font();
        small.setPointSizeF(small.pointSizeF() * 0.88);
        const double text = std::max(QFontMetricsF(bold).horizontalAdvance(m_node.name),
                                     QFontMetricsF(small).horizontalAdvance(subtitle()));
        m_width = std::clamp(text + 60, kNodeWidth, kMaxNodeWidth);
    }

    double width() const { return m_width; }

    QRectF boundingRect() const override
    {
        return QRectF(-m_width / 2 - 4, -kNodeHeight / 2 - 4, m_width + 8, kNodeHeight + 30);
    }

    const TopologyModel::Node &node() const { return m_node; }
    void setConnections(std::optional<std::int64_t> connections)
    {
        if (connections == m_connections)
            return;
        m_connections = connections;
        update();
    }
    std::optional<std::int64_t> connections() const { return m_connections; }

    void paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *) override
    {
        const ThemeColors colors = themeColors(m_view->palette());
        const QColor accent = m_node.kind == TopologyModel::Kind::Origin ? colors.origin
                              : m_node.kind == TopologyModel::Kind::Pop  ? colors.pop
                                                                          : colors.client;
        painter->setRenderHint(QPainter::Antialiasing);
        if (!m_node.onPath)
            painter->setOpacity(kOffPathOpacity);
        const QRectF body(-m_width / 2, -kNodeHeight / 2, m_width, kNodeHeight);
        const bool selected = option->state & QStyle::State_Selected;

        QColor fill = colors.dark ? mix(colors.canvas, accent, 0.16) : mix(colors.canvas, accent, 0.08);
        painter->setPen(QPen(accent, selected ? 2.6 : 1.6));
        painter->setBrush(fill);
        switch (m_node.kind) {
        case TopologyModel::Kind::Origin:
            painter->drawRoundedRect(body, 6, 6);
            break;
        case TopologyModel::Kind::Pop: {
            const double inset = 14;
            QPolygonF hexagon;
            hexagon << QPointF(body.left() + inset, body.top()) << QPointF(body.right() - inset, body.top())
                    << QPointF(body.right(), body.center().y()) << QPointF(body.right() - inset, body.bottom())
                    << QPointF(body.left() + inset, body.bottom()) << QPointF(body.left(), body.center().y());
            painter->drawPolygon(hexagon);
            break;
        }
        case TopologyModel::Kind::Clients:
            painter->drawRoundedRect(body, kNodeHeight / 2, kNodeHeight / 2);
            break;
        }

        // The kind's glyph at the left: a server stack, an edge (antenna), or people.
        painter->setPen(QPen(accent, 1.8));
        painter->setBrush(Qt::NoBrush);
        const QPointF g(body.left() + 26, body.center().y());
        switch (m_node.kind) {
        case TopologyModel::Kind::Origin:
            for (int i = -1; i <= 1; ++i) {
                painter->drawRoundedRect(QRectF(g.x() - 9, g.y() + i * 8 - 3, 18, 6), 1.5, 1.5);
                painter->drawPoint(QPointF(g.x() + 5, g.y() + i * 8));
            }
            break;
        case TopologyModel::Kind::Pop:
            painter->drawEllipse(g, 3, 3);
            painter->drawArc(QRectF(g.x() - 8, g.y() - 8, 16, 16), 30 * 16, 120 * 16);
            painter->drawArc(QRectF(g.x() - 13, g.y() - 13, 26, 26), 35 * 16, 110 * 16);
            painter->drawLine(g, g + QPointF(0, 11));
            break;
        case TopologyModel::Kind::Clients:
            painter->setBrush(accent);
            painter->drawEllipse(QPointF(g.x() - 4, g.y() - 5), 3.5, 3.5);
            painter->drawEllipse(QPointF(g.x() + 5, g.y() - 5), 3.5, 3.5);
            painter->setBrush(Qt::NoBrush);
            painter->drawArc(QRectF(g.x() - 10, g.y() + 1, 12, 12), 0, 180 * 16);
            painter->drawArc(QRectF(g.x() - 1, g.y() + 1, 12, 12), 0, 180 * 16);
            break;
        }

        const QRectF text(body.left() + 46, body.top() + 6, body.width() - 52, body.height() - 12);
        QFont nameFont = m_view->font();
        nameFont.setBold(true);
        painter->setFont(nameFont);
        painter->setPen(colors.text);
        const QFontMetricsF nameMetrics(nameFont);
        painter->drawText(text.adjusted(0, 0, 0, -text.height() / 2), Qt::AlignLeft | Qt::AlignBottom,
                          nameMetrics.elidedText(m_node.name, Qt::ElideRight, text.width()));
        QFont small = m_view->font();
        small.setPointSizeF(small.pointSizeF() * 0.88);
        painter->setFont(small);
        painter->setPen(colors.mutedText);
        painter->drawText(text.adjusted(0, text.height() / 2 + 1, 0, 0), Qt::AlignLeft | Qt::AlignTop,
                          QFontMetricsF(small).elidedText(subtitle(), Qt::ElideRight, text.width()));

        if (m_connections) {
            const QString badge = QObject::tr("%1 conn").arg(QLocale().toString(qlonglong(*m_connections)));
            QFont badgeFont = small;
            badgeFont.setBold(true);
            painter->setFont(badgeFont);
            const QFontMetricsF fm(badgeFont);
            const double w = fm.horizontalAdvance(badge) + 14;
            const QRectF pill(-w / 2, body.bottom() + 5, w, fm.height() + 4);
            painter->setPen(Qt::NoPen);
            painter->setBrush(accent);
            painter->drawRoundedRect(pill, pill.height() / 2, pill.height() / 2);
            painter->setPen(colors.dark ? QColor(0x10, 0x13, 0x17) : Qt::white);
            painter->drawText(pill, Qt::AlignCenter, badge);
        }
    }

protected:
    QVariant itemChange(GraphicsItemChange change, const QVariant &value) override
    {
        if (change == ItemPositionHasChanged)
            m_view->nodeMoved(this);
        return QGraphicsItem::itemChange(change, value);
    }
    void mousePressEvent(QGraphicsSceneMouseEvent *event) override
    {
        setCursor(Qt::ClosedHandCursor);
        m_view->nodePressed();
        QGraphicsItem::mousePressEvent(event);
    }
    void mouseReleaseEvent(QGraphicsSceneMouseEvent *event) override
    {
        setCursor(Qt::OpenHandCursor);
        QGraphicsItem::mouseReleaseEvent(event);
        m_view->nodeReleased();
    }

private:
    QString subtitle() const
    {
        if (m_node.kind == TopologyModel::Kind::Clients)
            return m_node.detail;
        const QString kind = m_node.kind == TopologyModel::Kind::Origin ? QObject::tr("origin") : QObject::tr("PoP");
        return m_node.detail.isEmpty() ? kind : kind + QStringLiteral(" · ") + m_node.detail;
    }
    QString tooltip() const
    {
        return m_node.name + QLatin1Char('\n') + subtitle() + (m_node.onPath ? QString() : QLatin1Char('\n') + QObject::tr("not on this variant's path"));
    }

    TopologyView *m_view;
    TopologyModel::Node m_node;
    std::optional<std::int64_t> m_connections;
    double m_width = kNodeWidth;
};

class TopologyLinkItem;

// A link's label, a scene item of its own above every link's line (and below the nodes),
// so that one link's line never runs over another's label. It draws what the link says.
class TopologyLinkLabelItem final : public QGraphicsItem
{
public:
    explicit TopologyLinkLabelItem(const TopologyLinkItem *link);
    QRectF boundingRect() const override;
    void paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *) override;
    // Around every change of the link that moves, resizes or restyles the label.
    void aboutToChange() { prepareGeometryChange(); }
    void changed() { update(); }

private:
    const TopologyLinkItem *m_link;
};

class TopologyLinkItem final : public QGraphicsItem
{
public:
    TopologyLinkItem(TopologyView *view, TopologyModel::Link link, TopologyNodeItem *a, TopologyNodeItem *b)
        : m_view(view), m_link(std::move(link)), m_a(a), m_b(b)
    {
        setZValue(1);
        setToolTip(QObject::tr("%1 ↔ %2\n%3").arg(m_link.a, m_link.b, m_link.label)
                   + (m_link.onPath ? QString() : QLatin1Char('\n') + QObject::tr("not on this variant's path")));
    }

    const TopologyModel::Link &link() const { return m_link; }
    bool touches(const QString &node) const { return m_link.a == node || m_link.b == node; }
    bool joins(const QString &x, const QString &y) const
    {
        return (m_link.a == x && m_link.b == y) || (m_link.a == y && m_link.b == x);
    }

    // Routes the link: straight, or bent around the nodes a straight line would cross.
    void route(const QList<QPointF> &obstacles)
    {
        prepareGeometryChange();
        labelAboutToChange();
        const QPointF a = m_a->pos();
        const QPointF b = m_b->pos();
        const QPointF d = b - a;
        const double length = std::hypot(d.x(), d.y());
        m_control = (a + b) / 2;
        if (length > 1) {
            const QPointF normal(-d.y() / length, d.x() / length);
            double pushSide = 0;
            for (const QPointF &o : obstacles) {
                const double t = QPointF::dotProduct(o - a, d) / (length * length);
                if (t <= 0.1 || t >= 0.9)
                    continue;
                const QPointF onLine = a + d * t;
                const double distance = std::hypot(o.x() - onLine.x(), o.y() - onLine.y());
                if (distance < kNodeHeight) {
                    const double side = QPointF::dotProduct(o - onLine, normal);
                    pushSide += side >= 0 ? -1 : 1;
                }
            }
            if (pushSide != 0)
                m_control = (a + b) / 2 + normal * (pushSide > 0 ? 1.0 : -1.0) * (kNodeHeight * 2.2);
        }
        m_path = QPainterPath(a);
        m_path.quadTo(m_control, b);
        update();
        labelChanged();
    }

    void setLoad(std::optional<TopologyLoad::LinkLoad> load)
    {
        labelAboutToChange();
        if (load && load->reaps > (m_load ? m_load->reaps : 0))
            m_flash = 1.0;
        m_load = std::move(load);
        if (!m_load)
            m_flash = 0;
        update();
        labelChanged();
    }

    // Fades the reap flash; returns true while it is still visible.
    bool decayFlash(double step)
    {
        if (m_flash <= 0)
            return false;
        m_flash = std::max(0.0, m_flash - step);
        update();
        labelChanged();
        return m_flash > 0;
    }
    double flash() const { return m_flash; }

    QRectF boundingRect() const override { return m_path.boundingRect().adjusted(-12, -12, 12, 12); }
    void setLabelItem(TopologyLinkLabelItem *label)
    {
        m_label = label;
        m_label->setToolTip(toolTip());
    }

    // A point along the curve, t in [0, 1].
    QPointF pointAt(double t) const
    {
        const double u = 1 - t;
        return u * u * m_a->pos() + 2 * u * t * m_control + t * t * m_b->pos();
    }
    QRectF labelRectAt(double t) const
    {
        const QSizeF size = labelSize();
        const QPointF at = pointAt(t);
        return QRectF(at.x() - size.width() / 2, at.y() - size.height() / 2, size.width(), size.height());
    }
    QRectF labelRect() const { return labelRectAt(m_labelAt); }
    void setLabelAt(double t)
    {
        labelAboutToChange();
        m_labelAt = t;
        labelChanged();
    }

    void paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *) override
    {
        const ThemeColors colors = themeColors(m_view->palette());
        painter->setRenderHint(QPainter::Antialiasing);
        // The selected variant's path stands out; links it does not use recede.
        double width = m_link.onPath ? kPathWidth : 1.2;
        QColor color = m_link.onPath ? colors.linkActive : mix(colors.link, colors.canvas, 0.45);
        if (m_load && m_link.onPath) {
            // Width grows with the logarithm of the traffic: 1 KB/s thin, 100 MB/s thick.
            width = 1.6 + std::clamp(std::log10(std::max(1.0, m_load->bytesPerSecond)) - 2.0, 0.0, 6.0) * 1.1;
            color = m_load->bytesPerSecond > 0 ? colors.linkActive : colors.link;
        }
        color = mix(color, colors.reap, m_flash);
        width += 4 * m_flash;
        QPen pen(color, width, m_link.onPath ? Qt::SolidLine : Qt::DotLine, Qt::RoundCap);
        if (!m_link.gateway.isEmpty() && m_link.onPath)
            pen.setDashPattern({6.0 / width + 1, 3.0 / width + 1});
        painter->setPen(pen);
        painter->setBrush(Qt::NoBrush);
        painter->drawPath(m_path);
    }

    void paintLabel(QPainter *painter) const
    {
        const ThemeColors colors = themeColors(m_view->palette());
        painter->setRenderHint(QPainter::Antialiasing);
        if (!m_link.onPath)
            painter->setOpacity(kOffPathOpacity);
        const QStringList lines = labelLines();
        const QRectF box = labelRect();
        painter->setPen(QPen(mix(colors.grid.darker(colors.dark ? 70 : 115), colors.reap, m_flash), 1));
        painter->setBrush(colors.canvas);
        painter->drawRoundedRect(box, 4, 4);
        const QFont fonts[2] = {labelFont(true), labelFont(false)};
        double y = box.top() + 3;
        for (int i = 0; i < lines.size(); ++i) {
            const QFont &f = fonts[i == 0 ? 0 : 1];
            painter->setFont(f);
            const bool live = m_load && i == lines.size() - (m_load->reaps > 0 ? 2 : 1);
            const bool reaped = m_load && m_load->reaps > 0 && i == lines.size() - 1;
            painter->setPen(i == 0 ? colors.text : reaped ? colors.reap : live ? colors.linkActive : colors.mutedText);
            const double h = QFontMetricsF(f).height();
            painter->drawText(QRectF(box.left(), y, box.width(), h), Qt::AlignCenter, lines.at(i));
            y += h;
        }
    }

private:
    QFont labelFont(bool first) const
    {
        QFont f = m_view->font();
        f.setPointSizeF(f.pointSizeF() * (first ? 0.9 : 0.8));
        return f;
    }
    QStringList labelLines() const
    {
        // "39 ms ± 1 ms · 1 Gbps · 0.01% loss": the latency first, the rest beneath it.
        const QStringList parts = m_link.label.split(QStringLiteral(" · "));
        QStringList lines{parts.value(0)};
        QStringList rest = parts.mid(1);
        if (!m_link.gateway.isEmpty())
            rest << m_link.gateway;
        if (!rest.isEmpty())
            lines << rest.join(QStringLiteral(" · "));
        if (m_load) {
            lines << QObject::tr("%1 · %2 conn").arg(humanRate(m_load->bytesPerSecond)).arg(m_load->connections);
            if (m_load->reaps > 0)
                lines << QObject::tr("%n reaped", nullptr, int(std::min<std::uint64_t>(m_load->reaps, INT32_MAX)));
        }
        return lines;
    }
    QSizeF labelSize() const
    {
        // Sized for the live lines too, so placing labels does not depend on the run.
        QStringList lines = labelLines();
        if (!m_load)
            lines << QStringLiteral("000.0 KB/s · 0000 conn");
        double w = 0;
        double h = 6;
        for (int i = 0; i < lines.size(); ++i) {
            const QFontMetricsF fm(labelFont(i == 0));
            w = std::max(w, fm.horizontalAdvance(lines.at(i)));
            h += fm.height();
        }
        return {w + 12, h - (m_load ? 0 : QFontMetricsF(labelFont(false)).height())};
    }
    void labelAboutToChange()
    {
        if (m_label)
            m_label->aboutToChange();
    }
    void labelChanged()
    {
        if (m_label)
            m_label->changed();
    }

    TopologyView *m_view;
    TopologyLinkLabelItem *m_label = nullptr; // owned by the scene
    TopologyModel::Link m_link;
    TopologyNodeItem *m_a;
    TopologyNodeItem *m_b;
    QPointF m_control;
    QPainterPath m_path;
    double m_labelAt = 0.5;
    std::optional<TopologyLoad::LinkLoad> m_load;
    double m_flash = 0;
};

TopologyLinkLabelItem::TopologyLinkLabelItem(const TopologyLinkItem *link)
    : m_link(link)
{
    setZValue(1.5);
}

QRectF TopologyLinkLabelItem::boundingRect() const
{
    return m_link->labelRect().adjusted(-2, -2, 2, 2);
}

void TopologyLinkLabelItem::paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *)
{
    m_link->paintLabel(painter);
}

TopologyView::TopologyView(QWidget *parent)
    : QGraphicsView(parent)
    , m_flashTimer(new QTimer(this))
    , m_undo(new QUndoStack(this))
{
    setObjectName(QStringLiteral("topology"));
    setScene(new QGraphicsScene(this));
    connect(scene(), &QGraphicsScene::selectionChanged, this, [this] {
        if (!m_selecting && !selectedNode().isEmpty())
            emit nodeSelected(selectedNode());
    });
    QAction *undo = m_undo->createUndoAction(this, tr("Undo Move"));
    undo->setShortcuts(QKeySequence::keyBindings(QKeySequence::Undo));
    undo->setShortcutContext(Qt::WidgetShortcut);
    addAction(undo);
    QAction *redo = m_undo->createRedoAction(this, tr("Redo Move"));
    redo->setShortcuts(QKeySequence::keyBindings(QKeySequence::Redo));
    redo->setShortcutContext(Qt::WidgetShortcut);
    addAction(redo);
    setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing);
    setDragMode(QGraphicsView::ScrollHandDrag);
    setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
    setResizeAnchor(QGraphicsView::AnchorViewCenter);
    setViewportUpdateMode(QGraphicsView::BoundingRectViewportUpdate);
    setFrameShape(QFrame::NoFrame);
    m_flashTimer->setInterval(50);
    connect(m_flashTimer, &QTimer::timeout, this, &TopologyView::onFlashTick);
    applyTheme();
}

TopologyView::~TopologyView() = default;

void TopologyView::applyTheme()
{
    setBackgroundBrush(themeColors(palette()).canvas);
    viewport()->update();
}

void TopologyView::changeEvent(QEvent *event)
{
    QGraphicsView::changeEvent(event);
    if (event->type() == QEvent::PaletteChange)
        applyTheme();
}

void TopologyView::drawBackground(QPainter *painter, const QRectF &rect)
{
    QGraphicsView::drawBackground(painter, rect);
    // A dot grid, so dragging and zooming have something to hold on to.
    const ThemeColors colors = themeColors(palette());
    constexpr double step = 40;
    painter->setPen(QPen(colors.grid, 2.0 / std::max(0.5, zoom())));
    const double left = std::floor(rect.left() / step) * step;
    const double top = std::floor(rect.top() / step) * step;
    // Counted before drawn: far out (or zoomed far out) x += step stops changing x.
    const double columns = std::ceil((rect.right() - left) / step);
    const double rows = std::ceil((rect.bottom() - top) / step);
    if (!(columns * rows < 20000) || left + step == left || top + step == top)
        return;
    QList<QPointF> points;
    for (int i = 0; i < int(columns); ++i)
        for (int j = 0; j < int(rows); ++j)
            points << QPointF(left + i * step, top + j * step);
    painter->drawPoints(points.constData(), int(points.size()));
}

void TopologyView::setModel(const TopologyModel &model)
{
    const bool sameNodes = [&] {
        if (model.nodes.size() != m_model.nodes.size())
            return false;
        for (const auto &node : model.nodes)
            if (!m_nodes.contains(node.name))
                return false;
        return true;
    }();
    m_model = model;
    rebuild();
    if (!sameNodes && !m_userZoomed)
        fitToWindow();
}

void TopologyView::rebuild()
{
    // Keep where nodes are now; the names that are new get a place from the auto layout.
    for (auto it = m_nodes.cbegin(); it != m_nodes.cend(); ++it)
        m_positions.insert(it.key(), it.value()->pos());
    scene()->clear();
    m_nodes.clear();
    m_links.clear();
    autoLayout();
    for (const auto &node : std::as_const(m_model.nodes)) {
        auto *item = new TopologyNodeItem(this, node);
        item->setPos(m_positions.value(node.name));
        scene()->addItem(item);
        m_nodes.insert(node.name, item);
    }
    for (const auto &link : std::as_const(m_model.links)) {
        TopologyNodeItem *a = m_nodes.value(link.a);
        TopologyNodeItem *b = m_nodes.value(link.b);
        if (!a || !b)
            continue;
        auto *item = new TopologyLinkItem(this, link, a, b);
        scene()->addItem(item);
        auto *label = new TopologyLinkLabelItem(item);
        scene()->addItem(label);
        item->setLabelItem(label);
        m_links.append(item);
    }
    routeLinks();
    scene()->setSceneRect(scene()->itemsBoundingRect().adjusted(-400, -300, 400, 300));
}

void TopologyView::autoLayout()
{
    // Columns by kind — clients, PoPs, origin — left to right, the way events flow back.
    // Nodes that have a place keep it; new ones go below their column's lowest node.
    constexpr double kColumnGap = 400; // room for the widest nodes and a label between them
    constexpr double kRowGap = 130;
    const auto columnOf = [](TopologyModel::Kind kind) {
        return kind == TopologyModel::Kind::Clients ? 0 : kind == TopologyModel::Kind::Pop ? 1 : 2;
    };
    QList<QString> fresh[3];
    std::optional<double> lowest[3];
    for (const auto &node : std::as_const(m_model.nodes)) {
        const int column = columnOf(node.kind);
        if (const auto it = m_positions.constFind(node.name); it != m_positions.cend())
            lowest[column] = std::max(lowest[column].value_or(it->y()), it->y());
        else
            fresh[column].append(node.name);
    }
    const bool hasPops = std::any_of(m_model.nodes.cbegin(), m_model.nodes.cend(),
                                     [](const auto &n) { return n.kind == TopologyModel::Kind::Pop; });
    for (int column = 0; column < 3; ++column) {
        const double x = column == 2 && !hasPops ? kColumnGap : column * kColumnGap;
        const auto &names = fresh[column];
        for (int i = 0; i < names.size(); ++i) {
            const double y = lowest[column] ? *lowest[column] + (i + 1) * kRowGap : (i - (names.size() - 1) / 2.0) * kRowGap;
            m_positions.insert(names.at(i), QPointF(x, y));
        }
    }
}

void TopologyView::nodeMoved(TopologyNodeItem *node)
{
    m_positions.insert(node->node().name, node->pos());
    routeLinks();
}

void TopologyView::routeLinks()
{
    for (TopologyLinkItem *link : std::as_const(m_links)) {
        QList<QPointF> obstacles;
        for (auto it = m_nodes.cbegin(); it != m_nodes.cend(); ++it)
            if (!link->touches(it.key()))
                obstacles.append(it.value()->pos());
        link->route(obstacles);
    }
    // Labels go where they hide neither a node nor another label: the middle of the link
    // when it is free, else the free place nearest to it.
    QList<QRectF> taken;
    for (TopologyNodeItem *node : std::as_const(m_nodes))
        taken.append(QRectF(node->pos() - QPointF(node->width() / 2 + 4, kNodeHeight / 2 + 4),
                            QSizeF(node->width() + 8, kNodeHeight + 28)));
    static constexpr double kCandidates[] = {0.5, 0.4, 0.6, 0.3, 0.7, 0.35, 0.65, 0.25, 0.75};
    for (TopologyLinkItem *link : std::as_const(m_links)) {
        double best = 0.5;
        double leastOverlap = std::numeric_limits<double>::max();
        for (const double t : kCandidates) {
            const QRectF rect = link->labelRectAt(t).adjusted(-3, -3, 3, 3);
            double overlap = 0;
            for (const QRectF &other : std::as_const(taken)) {
                const QRectF common = rect.intersected(other);
                overlap += common.isValid() ? common.width() * common.height() : 0;
            }
            if (overlap < leastOverlap) {
                leastOverlap = overlap;
                best = t;
            }
            if (overlap == 0)
                break;
        }
        link->setLabelAt(best);
        taken.append(link->labelRectAt(best));
    }
}

namespace {

// One drag of one or more nodes: undo puts them back where they were.
class MoveNodes final : public QUndoCommand
{
public:
    MoveNodes(TopologyView *view, QHash<QString, QPointF> before, QHash<QString, QPointF> after)
        : QUndoCommand(QObject::tr("Move Nodes")), m_view(view), m_before(std::move(before)), m_after(std::move(after))
    {
    }
    void undo() override { apply(m_before); }
    void redo() override
    {
        if (m_applied)
            apply(m_after);
        m_applied = true; // the drag itself placed them the first time
    }

private:
    void apply(const QHash<QString, QPointF> &positions)
    {
        m_view->setNodePositions(positions);
        emit m_view->layoutEdited();
    }
    TopologyView *m_view;
    QHash<QString, QPointF> m_before;
    QHash<QString, QPointF> m_after;
    bool m_applied = false;
};

} // namespace

void TopologyView::nodePressed()
{
    m_dragStart = nodePositions();
}

void TopologyView::nodeReleased()
{
    scene()->setSceneRect(scene()->itemsBoundingRect().adjusted(-400, -300, 400, 300));
    const QHash<QString, QPointF> now = nodePositions();
    if (!m_dragStart.isEmpty() && now != m_dragStart)
        m_undo->push(new MoveNodes(this, m_dragStart, now));
    m_dragStart.clear();
    emit layoutEdited();
}

void TopologyView::selectNode(const QString &name)
{
    m_selecting = true;
    scene()->clearSelection();
    if (TopologyNodeItem *item = m_nodes.value(name))
        item->setSelected(true);
    m_selecting = false;
}

QString TopologyView::selectedNode() const
{
    for (auto it = m_nodes.cbegin(); it != m_nodes.cend(); ++it)
        if (it.value()->isSelected())
            return it.key();
    return {};
}

void TopologyView::mouseDoubleClickEvent(QMouseEvent *event)
{
    for (QGraphicsItem *item : items(event->pos())) {
        if (auto *node = dynamic_cast<TopologyNodeItem *>(item)) {
            emit nodeActivated(node->node().name);
            return;
        }
    }
    QGraphicsView::mouseDoubleClickEvent(event);
}

void TopologyView::contextMenuEvent(QContextMenuEvent *event)
{
    QMenu menu(this);
    for (QGraphicsItem *item : items(event->pos())) {
        if (auto *node = dynamic_cast<TopologyNodeItem *>(item)) {
            const QString name = node->node().name;
            menu.addAction(tr("Show \"%1\" in the Scenario").arg(name), this, [this, name] { emit nodeActivated(name); });
            menu.addSeparator();
            break;
        }
    }
    QAction *undo = m_undo->createUndoAction(&menu, tr("Undo"));
    menu.addAction(undo);
    menu.addAction(tr("Reset Layout"), this, [this] { emit resetLayoutRequested(); });
    menu.addAction(tr("Fit to Window"), this, &TopologyView::fitToWindow);
    menu.exec(event->globalPos());
}

void TopologyView::setLoad(const TopologyLoad &load)
{
    for (auto it = m_nodes.cbegin(); it != m_nodes.cend(); ++it) {
        const auto found = load.connectionsByNode.constFind(it.key());
        it.value()->setConnections(found == load.connectionsByNode.cend() ? std::nullopt
                                                                          : std::optional<std::int64_t>(*found));
    }
    for (TopologyLinkItem *item : std::as_const(m_links)) {
        std::optional<TopologyLoad::LinkLoad> sum;
        // A link carries both directions; the engine may report each direction separately.
        for (const auto &linkLoad : load.links) {
            if (!item->joins(linkLoad.from, linkLoad.to))
                continue;
            if (!sum) {
                sum = linkLoad;
            } else {
                sum->bytesPerSecond += linkLoad.bytesPerSecond;
                sum->connections += linkLoad.connections;
                sum->reaps += linkLoad.reaps;
            }
        }
        item->setLoad(sum);
        if (item->flash() > 0 && !m_flashTimer->isActive())
            m_flashTimer->start();
    }
}

void TopologyView::clearLoad()
{
    for (TopologyNodeItem *node : std::as_const(m_nodes))
        node->setConnections(std::nullopt);
    for (TopologyLinkItem *link : std::as_const(m_links))
        link->setLoad(std::nullopt);
    m_flashTimer->stop();
}

void TopologyView::onFlashTick()
{
    bool any = false;
    for (TopologyLinkItem *link : std::as_const(m_links))
        any = link->decayFlash(0.06) || any;
    if (!any)
        m_flashTimer->stop();
}

void TopologyView::resetLayout()
{
    m_undo->clear();
    m_positions.clear();
    m_userZoomed = false;
    m_nodes.clear();
    m_links.clear();
    m_model = {};
    scene()->clear();
}

QHash<QString, QPointF> TopologyView::nodePositions() const
{
    QHash<QString, QPointF> positions;
    for (auto it = m_nodes.cbegin(); it != m_nodes.cend(); ++it)
        positions.insert(it.key(), it.value()->pos());
    return positions;
}

void TopologyView::setNodePositions(const QHash<QString, QPointF> &positions)
{
    m_positions = positions;
    for (auto it = m_nodes.cbegin(); it != m_nodes.cend(); ++it)
        if (positions.contains(it.key()))
            it.value()->setPos(positions.value(it.key()));
    routeLinks();
    scene()->setSceneRect(scene()->itemsBoundingRect().adjusted(-400, -300, 400, 300));
}

QByteArray TopologyView::renderPng() const
{
    const QRectF area = scene()->itemsBoundingRect().adjusted(-24, -24, 24, 24);
    if (area.isEmpty() || m_nodes.isEmpty())
        return {};
    constexpr qreal kRatio = 2.0;
    QImage image((area.size() * kRatio).toSize(), QImage::Format_ARGB32_Premultiplied);
    image.setDevicePixelRatio(kRatio);
    image.fill(backgroundBrush().style() == Qt::NoBrush ? palette().color(QPalette::Base) : backgroundBrush().color());
    {
        QPainter painter(&image);
        painter.setRenderHint(QPainter::Antialiasing);
        painter.setRenderHint(QPainter::TextAntialiasing);
        scene()->render(&painter, QRectF(QPointF(0, 0), area.size()), area);
    }
    QByteArray png;
    QBuffer buffer(&png);
    buffer.open(QIODevice::WriteOnly);
    image.save(&buffer, "PNG");
    return png;
}

QString TopologyView::layoutPathFor(const QString &scenarioPath)
{
    const QFileInfo info(scenarioPath);
    return info.dir().filePath(info.completeBaseName() + QStringLiteral(".layout.json"));
}

bool TopologyView::saveLayout(const QString &path, QString *error) const
{
    QJsonObject nodes;
    const auto positions = nodePositions();
    for (auto it = positions.cbegin(); it != positions.cend(); ++it)
        nodes.insert(it.key(), QJsonArray{std::round(it.value().x()), std::round(it.value().y())});
    const QJsonObject root{{QStringLiteral("version"), 1}, {QStringLiteral("nodes"), nodes}};
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(QJsonDocument(root).toJson()) < 0 || !file.commit()) {
        if (error)
            *error = file.errorString();
        return false;
    }
    return true;
}

bool TopologyView::loadLayout(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return false;
    constexpr qint64 kMaxLayoutBytes = 1024 * 1024;
    const QJsonObject nodes = QJsonDocument::fromJson(file.read(kMaxLayoutBytes)).object().value(QStringLiteral("nodes")).toObject();
    if (nodes.isEmpty())
        return false;
    QHash<QString, QPointF> positions;
    // A hand-edited or hostile file: coordinates kept within a diagram's reach.
    constexpr double kMaxCoordinate = 100'000;
    for (auto it = nodes.begin(); it != nodes.end(); ++it) {
        const QJsonArray xy = it.value().toArray();
        const double x = xy.at(0).toDouble(0);
        const double y = xy.at(1).toDouble(0);
        if (xy.size() == 2 && std::isfinite(x) && std::isfinite(y))
            positions.insert(it.key(), QPointF(std::clamp(x, -kMaxCoordinate, kMaxCoordinate), std::clamp(y, -kMaxCoordinate, kMaxCoordinate)));
    }
    setNodePositions(positions);
    return true;
}

QGraphicsItem *TopologyView::nodeItem(const QString &name) const
{
    return m_nodes.value(name);
}

bool TopologyView::isFlashing() const
{
    return m_flashTimer->isActive();
}

QStringList TopologyView::pathItems() const
{
    QStringList items;
    for (const TopologyNodeItem *node : m_nodes)
        if (node->node().onPath)
            items << node->node().name;
    for (const TopologyLinkItem *link : m_links)
        if (link->link().onPath)
            items << link->link().a + QStringLiteral("–") + link->link().b;
    items.sort();
    return items;
}

double TopologyView::zoom() const
{
    return transform().m11();
}

void TopologyView::scaleBy(double factor)
{
    const double target = std::clamp(zoom() * factor, kMinZoom, kMaxZoom);
    const double applied = target / zoom();
    scale(applied, applied);
    m_userZoomed = true;
    setScrollBarsShown(true);
}

// While the view fits the topology to the window, scroll bars stay off: a fit that made one
// appear would narrow the viewport, fit again without it, and so on without end (the event
// loop never idles). Once the user zooms, they are there to pan with.
void TopologyView::setScrollBarsShown(bool shown)
{
    const Qt::ScrollBarPolicy policy = shown ? Qt::ScrollBarAsNeeded : Qt::ScrollBarAlwaysOff;
    setHorizontalScrollBarPolicy(policy);
    setVerticalScrollBarPolicy(policy);
}

void TopologyView::zoomIn()
{
    scaleBy(kZoomStep);
}

void TopologyView::zoomOut()
{
    scaleBy(1 / kZoomStep);
}

void TopologyView::fitToWindow()
{
    const QRectF bounds = scene()->itemsBoundingRect().adjusted(-30, -30, 30, 30);
    if (bounds.isEmpty())
        return;
    setScrollBarsShown(false);
    fitInView(bounds, Qt::KeepAspectRatio);
    if (zoom() > 1.4)
        setTransform(QTransform::fromScale(1.4, 1.4));
    centerOn(bounds.center());
    m_userZoomed = false;
}

void TopologyView::resizeEvent(QResizeEvent *event)
{
    QGraphicsView::resizeEvent(event);
    // Until the user zooms, the whole topology stays in view as the window changes size.
    if (!m_userZoomed)
        fitToWindow();
}

void TopologyView::wheelEvent(QWheelEvent *event)
{
    if (event->modifiers() & Qt::ControlModifier) {
        const double steps = event->angleDelta().y() / 120.0;
        if (steps != 0)
            scaleBy(std::pow(kZoomStep, steps));
        event->accept();
        return;
    }
    QGraphicsView::wheelEvent(event);
}

} // namespace edgesse::gui
