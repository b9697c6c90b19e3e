#pragma once

#include "app/gui/codeeditor.h"

#include <QWidget>

class QLabel;
class QTreeWidget;
class QTreeWidgetItem;

namespace edgesse::gui {

// The "Problems" list: one row a diagnostic (line:column and message); activating a row
// (click, double click or Enter) asks for the cursor to move there.
class DiagnosticsPanel final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DiagnosticsPanel)

public:
    explicit DiagnosticsPanel(QWidget *parent = nullptr);

    void setDiagnostics(const QString &fileName, const QList<TextMark> &marks);
    int count() const;
    QTreeWidget *tree() const { return m_tree; }

signals:
    void diagnosticActivated(int line, int column);

private:
    void activate(QTreeWidgetItem *item);

    QTreeWidget *m_tree = nullptr;
    QLabel *m_summary = nullptr;
};

} // namespace edgesse::gui
