// A layout file is the user's to edit, or anyone's to send: huge or odd coordinates open
// at once, clamped, and the background grid stays bounded however far out the view is.

#include "app/gui/topologyview.h"

#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace edgesse::gui;

namespace {

TopologyModel twoNodes()
{
    TopologyModel model;
    model.nodes = {{QStringLiteral("origin"), TopologyModel::Kind::Origin, QStringLiteral("us-east"), 0},
                   {QStringLiteral("berlin"), TopologyModel::Kind::Clients, QStringLiteral("10 × 1 stream"), 10}};
    model.links = {{QStringLiteral("berlin"), QStringLiteral("origin"), QStringLiteral("8 ms"), QString()}};
    return model;
}

} // namespace

class TestLayoutBounds final : public QObject
{
    Q_OBJECT

private slots:
    void hugeCoordinatesOpenAtOnce_data()
    {
        QTest::addColumn<QByteArray>("coordinates");
        QTest::addColumn<QPointF>("expected");
        QTest::newRow("1e308") << QByteArray("[1e308, -1e308]") << QPointF(100000, -100000);
        QTest::newRow("one far") << QByteArray("[3e15, 20]") << QPointF(100000, 20);
        QTest::newRow("ordinary") << QByteArray("[120, -40]") << QPointF(120, -40);
    }

    void hugeCoordinatesOpenAtOnce()
    {
        QFETCH(QByteArray, coordinates);
        QFETCH(QPointF, expected);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("lab.layout.json"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("{\"version\": 1, \"nodes\": {\"origin\": " + coordinates + ", \"berlin\": [1e308, 1e308]}}");
        file.close();

        TopologyView view;
        view.resize(600, 400);
        view.setModel(twoNodes());
        QElapsedTimer timer;
        timer.start();
        QVERIFY(view.loadLayout(path));
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        view.fitToWindow();
        const QImage shot = view.viewport()->grab().toImage();
        view.zoomOut();
        view.viewport()->grab();
        QVERIFY2(timer.elapsed() < 3000, qPrintable(QString::number(timer.elapsed())));
        QVERIFY(!shot.isNull());
        QCOMPARE(view.nodePositions().value(QStringLiteral("berlin")), QPointF(100000, 100000));
        QCOMPARE(view.nodePositions().value(QStringLiteral("origin")), expected);
    }
};

QTEST_MAIN(TestLayoutBounds)
#include "tst_layoutbounds.moc"
