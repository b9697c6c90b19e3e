// The desktop app's parts on their own: highlighting, the topology view, the variant list,
// the problems list.
#include "app/gui/diagnosticspanel.h"
#include "app/gui/theme.h"
#include "app/gui/topologyview.h"
#include "app/gui/variantlist.h"
#include "app/gui/yamlhighlighter.h"

#include <QFile>
#include <QGraphicsItem>
#include <QJsonDocument>
#include <QJsonObject>
#include <QListWidget>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBlock>
#include <QTextDocument>
#include <QTextLayout>
#include <QTreeWidget>

#include <algorithm>

using namespace edgesse::gui;

namespace {

// The format the highlighter gave the character at `column` of the document's first line.
QTextCharFormat formatAt(QTextDocument &document, int column)
{
    const QTextBlock block = document.firstBlock();
    for (const QTextLayout::FormatRange &range : block.layout()->formats())
        if (column >= range.start && column < range.start + range.length)
            return range.format;
    return {};
}

TopologyModel threeNodes()
{
    TopologyModel model;
    model.nodes = {{QStringLiteral("origin"), TopologyModel::Kind::Origin, QStringLiteral("us-east"), 0},
                   {QStringLiteral("pop-fra"), TopologyModel::Kind::Pop, QStringLiteral("eu-central"), 0},
                   {QStringLiteral("berlin"), TopologyModel::Kind::Clients, QStringLiteral("200 × 1 stream"), 200}};
    model.links = {{QStringLiteral("berlin"), QStringLiteral("pop-fra"), QStringLiteral("8 ms ± 2 ms"), {}},
                   {QStringLiteral("pop-fra"), QStringLiteral("origin"), QStringLiteral("45 ms"), QStringLiteral("aws-alb")}};
    return model;
}

// Pixels of the view close to `color`.
int pixelsNear(const QImage &image, const QColor &color)
{
    int count = 0;
    for (int y = 0; y < image.height(); ++y)
        for (int x = 0; x < image.width(); ++x) {
            const QColor c = image.pixelColor(x, y);
            if (std::abs(c.red() - color.red()) + std::abs(c.green() - color.green()) + std::abs(c.blue() - color.blue()) < 40)
                ++count;
        }
    return count;
}

} // namespace

class TestGuiWidgets final : public QObject
{
    Q_OBJECT

private slots:
    void highlighter_data();
    void highlighter();
    void topologyFlashesReapsAndShowsLoad();
    void topologyLayoutRoundTrip();
    void topologyLabelsAreAboveEveryLine();
    void topologyZoomIsBounded();
    void variantChecksSurviveRevalidation();
    void problemsListActivates();
};

void TestGuiWidgets::highlighter_data()
{
    QTest::addColumn<QString>("line");
    QTest::addColumn<int>("column");
    QTest::addColumn<QString>("kind");
    QTest::newRow("block key") << QStringLiteral("duration: 30s") << 2 << QStringLiteral("key");
    QTest::newRow("value with unit") << QStringLiteral("duration: 30s") << 11 << QStringLiteral("number");
    QTest::newRow("flow key") << QStringLiteral("  - { name: berlin, count: 200 }") << 22 << QStringLiteral("key");
    QTest::newRow("flow number") << QStringLiteral("  - { name: berlin, count: 200 }") << 28 << QStringLiteral("number");
    QTest::newRow("plain scalar") << QStringLiteral("  - { name: berlin, count: 200 }") << 13 << QStringLiteral("plain");
    QTest::newRow("comment") << QStringLiteral("seed: 1  # the seed: 42ms") << 12 << QStringLiteral("comment");
    QTest::newRow("hash in a string") << QStringLiteral("name: \"a # b\"") << 9 << QStringLiteral("string");
    QTest::newRow("boolean") << QStringLiteral("tls: true") << 6 << QStringLiteral("keyword");
    QTest::newRow("bandwidth") << QStringLiteral("bandwidth: 1Gbps") << 12 << QStringLiteral("number");
}

void TestGuiWidgets::highlighter()
{
    QFETCH(QString, line);
    QFETCH(int, column);
    QFETCH(QString, kind);
    QTextDocument document;
    document.setPlainText(line);
    YamlHighlighter highlighter(&document);
    highlighter.rehighlight();
    const QTextCharFormat f = formatAt(document, column);
    if (kind == QLatin1String("plain")) {
        QVERIFY(!f.hasProperty(QTextFormat::ForegroundBrush));
    } else if (kind == QLatin1String("key")) {
        QCOMPARE(f.fontWeight(), int(QFont::DemiBold));
    } else if (kind == QLatin1String("comment")) {
        QVERIFY(f.fontItalic());
        QVERIFY(f.fontWeight() != int(QFont::DemiBold));
    } else {
        QVERIFY(f.hasProperty(QTextFormat::ForegroundBrush));
        QVERIFY(!f.fontItalic());
        // Each kind has its own colour: compare with what the same kind looks like elsewhere.
        QTextDocument reference;
        const QString sample = kind == QLatin1String("number")   ? QStringLiteral("x: 250ms")
                               : kind == QLatin1String("string") ? QStringLiteral("x: \"s\"")
                                                                 : QStringLiteral("x: false");
        reference.setPlainText(sample);
        YamlHighlighter other(&reference);
        other.rehighlight();
        QCOMPARE(f.foreground().color(), formatAt(reference, 4).foreground().color());
    }
}

void TestGuiWidgets::topologyFlashesReapsAndShowsLoad()
{
    TopologyView view;
    view.resize(700, 400);
    view.setModel(threeNodes());
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    const QColor reap = themeColors(view.palette()).reap;
    const int before = pixelsNear(view.viewport()->grab().toImage(), reap);

    TopologyLoad load;
    load.connectionsByNode.insert(QStringLiteral("origin"), 1);
    load.connectionsByNode.insert(QStringLiteral("pop-fra"), 200);
    load.links = {{QStringLiteral("berlin"), QStringLiteral("pop-fra"), 250000, 200, 0},
                  {QStringLiteral("pop-fra"), QStringLiteral("origin"), 12000, 1, 0}};
    view.setLoad(load);
    QVERIFY(!view.isFlashing());

    // The gateway between the PoP and the origin reaps a connection: that link flashes red.
    load.links[1].reaps = 1;
    view.setLoad(load);
    QVERIFY(view.isFlashing());
    QApplication::processEvents();
    const int flashing = pixelsNear(view.viewport()->grab().toImage(), reap);
    QVERIFY2(flashing > before + 50, qPrintable(QStringLiteral("%1 red pixels, %2 before").arg(flashing).arg(before)));
    // ... then fades, leaving the count of reaps on the label.
    QTRY_VERIFY_WITH_TIMEOUT(!view.isFlashing(), 5000);

    view.clearLoad();
    QVERIFY(!view.isFlashing());
}

// A link's label is drawn above every link's line (one link's line never covers another's
// label) and below the nodes.
void TestGuiWidgets::topologyLabelsAreAboveEveryLine()
{
    TopologyView view;
    view.resize(700, 400);
    view.setModel(threeNodes());
    const QList<QGraphicsItem *> items = view.scene()->items();
    // Nodes are the movable items; of the rest, labels stand above the lines.
    QList<QGraphicsItem *> nodes;
    QList<QGraphicsItem *> others;
    for (QGraphicsItem *item : items)
        ((item->flags() & QGraphicsItem::ItemIsMovable) ? nodes : others).append(item);
    QCOMPARE(nodes.size(), 3);
    QCOMPARE(others.size(), 4); // two lines, two labels
    const double lowestNode = (*std::min_element(nodes.begin(), nodes.end(), [](auto *a, auto *b) { return a->zValue() < b->zValue(); }))->zValue();
    const double lowestOther = (*std::min_element(others.begin(), others.end(), [](auto *a, auto *b) { return a->zValue() < b->zValue(); }))->zValue();
    QList<QGraphicsItem *> labels;
    for (QGraphicsItem *item : others)
        if (item->zValue() > lowestOther)
            labels.append(item);
    QCOMPARE(labels.size(), 2);
    for (QGraphicsItem *label : labels) {
        QVERIFY(label->zValue() < lowestNode);
        // Nothing but a node can be drawn over the middle of a label.
        const QList<QGraphicsItem *> at = view.scene()->items(label->boundingRect().center());
        QVERIFY(!at.isEmpty());
        QVERIFY(at.first() == label || (at.first()->flags() & QGraphicsItem::ItemIsMovable));
    }
}

void TestGuiWidgets::topologyLayoutRoundTrip()
{
    QTemporaryDir dir;
    const QString scenario = dir.filePath(QStringLiteral("lab.yaml"));
    const QString layout = TopologyView::layoutPathFor(scenario);
    QCOMPARE(layout, dir.filePath(QStringLiteral("lab.layout.json")));

    TopologyView view;
    view.setModel(threeNodes());
    view.nodeItem(QStringLiteral("berlin"))->setPos(-250, 140);
    QString error;
    QVERIFY2(view.saveLayout(layout, &error), qPrintable(error));
    QFile file(layout);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject json = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(json.value(QStringLiteral("version")).toInt(), 1);
    QCOMPARE(json.value(QStringLiteral("nodes")).toObject().size(), 3);

    TopologyView other;
    other.setModel(threeNodes());
    QVERIFY(other.nodePositions().value(QStringLiteral("berlin")) != QPointF(-250, 140));
    QVERIFY(other.loadLayout(layout));
    QCOMPARE(other.nodePositions().value(QStringLiteral("berlin")), QPointF(-250, 140));
    QVERIFY(!other.loadLayout(dir.filePath(QStringLiteral("missing.layout.json"))));

    QVERIFY(!view.saveLayout(dir.filePath(QStringLiteral("no/such/folder/x.layout.json")), &error));
    QVERIFY(!error.isEmpty());
}

void TestGuiWidgets::topologyZoomIsBounded()
{
    TopologyView view;
    view.resize(600, 400);
    view.setModel(threeNodes());
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.fitToWindow();
    const double fitted = view.zoom();
    view.zoomIn();
    QVERIFY(view.zoom() > fitted);
    for (int i = 0; i < 50; ++i)
        view.zoomIn();
    QVERIFY(view.zoom() <= 6.0 + 1e-9);
    for (int i = 0; i < 80; ++i)
        view.zoomOut();
    QVERIFY(view.zoom() >= 0.15 - 1e-9);
    view.fitToWindow();
    QCOMPARE(view.zoom(), fitted);
}

void TestGuiWidgets::variantChecksSurviveRevalidation()
{
    VariantList list;
    QSignalSpy changed(&list, &VariantList::selectionChanged);
    list.setVariants({{QStringLiteral("central"), {}}, {QStringLiteral("edge"), {}}});
    QCOMPARE(list.checkedVariants(), (QStringList{QStringLiteral("central"), QStringLiteral("edge")}));
    list.setChecked(QStringLiteral("central"), false);
    QCOMPARE(list.checkedVariants(), QStringList{QStringLiteral("edge")});
    // The text changed: a variant was added; the one unchecked stays unchecked, the new one is checked.
    list.setVariants({{QStringLiteral("central"), {}}, {QStringLiteral("edge"), {}}, {QStringLiteral("edge-h2"), {}}});
    QCOMPARE(list.checkedVariants(), (QStringList{QStringLiteral("edge"), QStringLiteral("edge-h2")}));
    QVERIFY(changed.count() >= 3);
}

void TestGuiWidgets::problemsListActivates()
{
    DiagnosticsPanel panel;
    panel.resize(500, 200);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    panel.setDiagnostics(QStringLiteral("lab.yaml"), {{3, 7, QStringLiteral("first")}, {12, 1, QStringLiteral("second")}});
    QCOMPARE(panel.count(), 2);
    QSignalSpy activated(&panel, &DiagnosticsPanel::diagnosticActivated);
    QTreeWidget *tree = panel.tree();
    QTest::mouseClick(tree->viewport(), Qt::LeftButton, {}, tree->visualItemRect(tree->topLevelItem(1)).center());
    QCOMPARE(activated.count(), 1);
    QCOMPARE(activated.first().at(0).toInt(), 12);
    QCOMPARE(activated.first().at(1).toInt(), 1);
    panel.setDiagnostics({}, {});
    QCOMPARE(panel.count(), 0);
}

QTEST_MAIN(TestGuiWidgets)
#include "tst_gui_widgets.moc"
