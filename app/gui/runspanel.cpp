#include "app/gui/runspanel.h"

#include "app/runs/runstore.h"

#include <QDesktopServices>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHeaderView>
#include <QMenu>
#include <QSignalBlocker>
#include <QTreeWidget>
#include <QUrl>
#include <QVBoxLayout>

#include <algorithm>

namespace edgesse::gui {

RunsPanel::RunsPanel(QWidget *parent)
    : QWidget(parent)
    , m_tree(new QTreeWidget(this))
{
    setObjectName(QStringLiteral("runsPanel"));
    m_tree->setObjectName(QStringLiteral("runsTree"));
    m_tree->setColumnCount(2);
    m_tree->setHeaderLabels({tr("Run (UTC)"), tr("Variants")});
    m_tree->setRootIsDecorated(false);
    m_tree->setUniformRowHeights(true);
    m_tree->header()->setStretchLastSection(true);
    m_tree->setContextMenuPolicy(Qt::CustomContextMenu);
    m_tree->setToolTip(tr("Every run is kept beside the scenario; check runs to compare them."));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_tree);
    connect(m_tree, &QTreeWidget::itemChanged, this, [this](QTreeWidgetItem *, int column) {
        if (column == 0)
            emit checkedRunsChanged();
    });
    connect(m_tree, &QWidget::customContextMenuRequested, this, &RunsPanel::showContextMenu);
}

void RunsPanel::clear()
{
    m_runs.clear();
    m_tree->clear();
}

void RunsPanel::appendItem(const Run &run, bool checked)
{
    const QSignalBlocker blocker(m_tree);
    auto *item = new QTreeWidgetItem(m_tree, {run.startedAt, run.variants.join(QStringLiteral(", "))});
    item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
    item->setCheckState(0, checked ? Qt::Checked : Qt::Unchecked);
    item->setToolTip(0, QDir::toNativeSeparators(run.file));
    item->setToolTip(1, QDir::toNativeSeparators(run.file));
    m_tree->resizeColumnToContents(0);
}

void RunsPanel::setFolder(const QString &runsFolder)
{
    clear();
    for (const runs::StoredRun &stored : runs::storedRuns(runsFolder)) {
        m_runs.push_back({stored.file, stored.startedAt, stored.variants, std::nullopt});
        appendItem(m_runs.back(), false);
    }
}

void RunsPanel::addRun(const QString &file, const metrics::RunResult &result)
{
    Run run{file, result.startedAt.left(19).replace(QLatin1Char('T'), QLatin1Char(' ')), {}, result};
    for (const metrics::VariantResult &v : result.variants)
        run.variants << v.name;
    {
        const QSignalBlocker blocker(m_tree);
        for (int row = 0; row < count(); ++row) {
            const QStringList &earlier = m_runs[std::size_t(row)].variants;
            const bool superseded = std::all_of(earlier.begin(), earlier.end(),
                                                [&run](const QString &name) { return run.variants.contains(name); });
            if (superseded)
                m_tree->topLevelItem(row)->setCheckState(0, Qt::Unchecked);
        }
    }
    m_runs.push_back(std::move(run));
    appendItem(m_runs.back(), true);
    m_tree->scrollToItem(m_tree->topLevelItem(count() - 1));
    emit checkedRunsChanged();
}

bool RunsPanel::isChecked(int row) const
{
    const QTreeWidgetItem *item = m_tree->topLevelItem(row);
    return item && item->checkState(0) == Qt::Checked;
}

void RunsPanel::setChecked(int row, bool checked)
{
    if (QTreeWidgetItem *item = m_tree->topLevelItem(row))
        item->setCheckState(0, checked ? Qt::Checked : Qt::Unchecked);
}

QString RunsPanel::fileAt(int row) const
{
    return row >= 0 && row < count() ? m_runs[std::size_t(row)].file : QString();
}

QList<metrics::RunResult> RunsPanel::checkedResults(QStringList *problems)
{
    QList<metrics::RunResult> results;
    for (int row = 0; row < count(); ++row) {
        if (!isChecked(row))
            continue;
        Run &run = m_runs[std::size_t(row)];
        if (!run.result) {
            QFile file(run.file);
            QString error = file.errorString();
            if (file.open(QIODevice::ReadOnly))
                run.result = metrics::RunResult::fromJsonBytes(file.readAll(), &error);
            if (!run.result) {
                if (problems)
                    *problems << QStringLiteral("%1: %2").arg(QDir::toNativeSeparators(run.file), error);
                const QSignalBlocker blocker(m_tree);
                setChecked(row, false);
                continue;
            }
        }
        results << *run.result;
    }
    return results;
}

void RunsPanel::showContextMenu(const QPoint &at)
{
    QTreeWidgetItem *item = m_tree->itemAt(at);
    if (!item)
        return;
    const QString file = fileAt(m_tree->indexOfTopLevelItem(item));
    QMenu menu(this);
    menu.addAction(tr("Compare Only This Run"), this, [this, item] {
        const QSignalBlocker blocker(m_tree);
        for (int row = 0; row < count(); ++row)
            m_tree->topLevelItem(row)->setCheckState(0, m_tree->topLevelItem(row) == item ? Qt::Checked : Qt::Unchecked);
        emit checkedRunsChanged();
    });
    menu.addAction(tr("Open the Run's Folder"), this,
                   [file] { QDesktopServices::openUrl(QUrl::fromLocalFile(QFileInfo(file).absolutePath())); });
    menu.exec(m_tree->viewport()->mapToGlobal(at));
}

} // namespace edgesse::gui
