#include "app/gui/diagnosticspanel.h"

#include <QHeaderView>
#include <QIcon>
#include <QLabel>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace edgesse::gui {

namespace {
constexpr int kLineRole = Qt::UserRole + 1;
constexpr int kColumnRole = Qt::UserRole + 2;
} // namespace

DiagnosticsPanel::DiagnosticsPanel(QWidget *parent)
    : QWidget(parent)
    , m_tree(new QTreeWidget(this))
    , m_summary(new QLabel(this))
{
    m_tree->setObjectName(QStringLiteral("diagnostics"));
    m_tree->setColumnCount(3);
    m_tree->setHeaderLabels({tr("Location"), tr("Problem"), tr("File")});
    m_tree->setRootIsDecorated(false);
    m_tree->setUniformRowHeights(true);
    m_tree->setAlternatingRowColors(true);
    m_tree->header()->setStretchLastSection(false);
    m_tree->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_tree->header()->setSectionResizeMode(1, QHeaderView::Stretch);
    m_tree->header()->setSectionResizeMode(2, QHeaderView::ResizeToContents);
    m_summary->setContentsMargins(6, 2, 6, 2);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(m_summary);
    layout->addWidget(m_tree);

    connect(m_tree, &QTreeWidget::itemClicked, this, [this](QTreeWidgetItem *item) { activate(item); });
    connect(m_tree, &QTreeWidget::itemActivated, this, [this](QTreeWidgetItem *item) { activate(item); });
    setDiagnostics({}, {});
}

void DiagnosticsPanel::setDiagnostics(const QString &fileName, const QList<TextMark> &marks)
{
    m_tree->clear();
    static const QIcon errorIcon(QStringLiteral(":/edgesse/icons/error.svg"));
    for (const TextMark &mark : marks) {
        auto *item = new QTreeWidgetItem(m_tree);
        item->setIcon(0, errorIcon);
        item->setText(0, mark.line > 0 ? QStringLiteral("%1:%2").arg(mark.line).arg(mark.column) : QStringLiteral("—"));
        item->setText(1, mark.message);
        item->setToolTip(1, mark.message);
        item->setText(2, fileName);
        item->setData(0, kLineRole, mark.line);
        item->setData(0, kColumnRole, mark.column);
    }
    m_summary->setText(marks.isEmpty() ? tr("No problems: the scenario is valid.")
                                       : tr("%n problem(s): click one to go to it.", nullptr, int(marks.size())));
}

int DiagnosticsPanel::count() const
{
    return m_tree->topLevelItemCount();
}

void DiagnosticsPanel::activate(QTreeWidgetItem *item)
{
    if (item)
        emit diagnosticActivated(item->data(0, kLineRole).toInt(), item->data(0, kColumnRole).toInt());
}

} // namespace edgesse::gui
