#pragma once

#include "core/metrics/runresult.h"

#include <QWidget>

#include <optional>
#include <vector>

class QTreeWidget;
class QTreeWidgetItem;

namespace edgesse::gui {

// The runs kept for the open document, oldest first, a check box each: the checked ones
// are compared. A finished run arrives checked; earlier runs it supersedes (every variant
// of theirs run again) are unchecked, the others stay, so running one variant does not
// throw away the comparison of three. Results are read from disk when first checked.
class RunsPanel final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RunsPanel)

public:
    explicit RunsPanel(QWidget *parent = nullptr);

    // Lists the runs kept in `runsFolder` (none checked).
    void setFolder(const QString &runsFolder);
    // Adds a run (its results.json and what it holds), checked.
    void addRun(const QString &file, const metrics::RunResult &result);
    void clear();

    int count() const { return int(m_runs.size()); }
    bool isChecked(int row) const;
    void setChecked(int row, bool checked);
    QString fileAt(int row) const;
    // The checked runs' results, oldest first; those that cannot be read are unchecked and
    // named in `problems`.
    QList<metrics::RunResult> checkedResults(QStringList *problems = nullptr);
    QTreeWidget *tree() const { return m_tree; }

signals:
    void checkedRunsChanged();

private:
    struct Run
    {
        QString file;
        QString startedAt;
        QStringList variants;
        std::optional<metrics::RunResult> result;
    };
    void appendItem(const Run &run, bool checked);
    void showContextMenu(const QPoint &at);

    QTreeWidget *m_tree = nullptr;
    std::vector<Run> m_runs;
};

} // namespace edgesse::gui
