#pragma once

#include "app/gui/codeeditor.h"

#include <QWidget>

class QLabel;
class QTreeWidget;
class QTreeWidgetItem;

namespace edgesse::gui {

// The "Problems" list: one row a diagnostic (line:column and the whole message, wrapped;
// the same problem reported once per variant is one row); activating a row (click, double
// click or Enter) asks for the cursor to move there. A "did you mean" row has a Fix button.
class DiagnosticsPanel final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DiagnosticsPanel)

public:
    explicit DiagnosticsPanel(QWidget *parent = nullptr);

    void setDiagnostics(const QString &fileName, const QList<TextMark> &marks);
    int count() const;
    // The quoted word a message names and the one it suggests; empty when it suggests none.
    static QPair<QString, QString> suggestedFix(const QString &message);
    QTreeWidget *tree() const { return m_tree; }

signals:
    void diagnosticActivated(int line, int column);
    // Replace `wrong` at line:column (or just after it on that line) by `replacement`.
    void fixRequested(int line, int column, const QString &wrong, const QString &replacement);

private:
    void activate(QTreeWidgetItem *item);

    QTreeWidget *m_tree = nullptr;
    QLabel *m_summary = nullptr;
};

} // namespace edgesse::gui
