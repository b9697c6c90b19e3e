#include "app/gui/diagnosticspanel.h"

#include <QHeaderView>
#include <QIcon>
#include <QLabel>
#include <QRegularExpression>
#include <QToolButton>
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
    m_tree->setColumnCount(4);
    m_tree->setHeaderLabels({tr("Location"), tr("Problem"), tr("Fix"), tr("File")});
    m_tree->setRootIsDecorated(false);
    m_tree->setUniformRowHeights(false);
    m_tree->setWordWrap(true);
    m_tree->setAlternatingRowColors(true);
    m_tree->header()->setStretchLastSection(false);
    m_tree->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_tree->header()->setSectionResizeMode(1, QHeaderView::Stretch);
    m_tree->header()->setSectionResizeMode(2, QHeaderView::ResizeToContents);
    m_tree->header()->setSectionResizeMode(3, QHeaderView::ResizeToContents);
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

QPair<QString, QString> DiagnosticsPanel::suggestedFix(const QString &message)
{
    static const QRegularExpression suggestion(QStringLiteral("did you mean \"([^\"]+)\""));
    static const QRegularExpression unit(QStringLiteral("unknown unit \"([^\"]+)\""));
    static const QRegularExpression quoted(QStringLiteral("\"([^\"]+)\""));
    const QRegularExpressionMatch best = suggestion.match(message);
    if (!best.hasMatch())
        return {};
    QRegularExpressionMatch wrong = unit.match(message);
    if (!wrong.hasMatch())
        wrong = quoted.match(message);
    if (!wrong.hasMatch() || wrong.captured(1) == best.captured(1))
        return {};
    return {wrong.captured(1), best.captured(1)};
}

void DiagnosticsPanel::setDiagnostics(const QString &fileName, const QList<TextMark> &marks)
{
    m_tree->clear();
    static const QIcon errorIcon(QStringLiteral(":/edgesse/icons/error.svg"));
    QStringList seen;
    for (const TextMark &mark : marks) {
        const QString key = QStringLiteral("%1:%2:%3").arg(mark.line).arg(mark.column).arg(mark.message);
        if (seen.contains(key))
            continue; // the same problem found in every variant
        seen << key;
        auto *item = new QTreeWidgetItem(m_tree);
        item->setIcon(0, errorIcon);
        item->setText(0, mark.line > 0 ? QStringLiteral("%1:%2").arg(mark.line).arg(mark.column) : QStringLiteral("—"));
        item->setText(1, mark.message);
        item->setToolTip(1, mark.message);
        item->setText(3, fileName);
        item->setData(0, kLineRole, mark.line);
        item->setData(0, kColumnRole, mark.column);
        const auto [wrong, replacement] = suggestedFix(mark.message);
        if (!replacement.isEmpty() && mark.line > 0) {
            auto *fix = new QToolButton(m_tree);
            fix->setObjectName(QStringLiteral("fixButton"));
            fix->setText(tr("Use \"%1\"").arg(replacement));
            fix->setToolTip(tr("Replace \"%1\" with \"%2\"").arg(wrong, replacement));
            connect(fix, &QToolButton::clicked, this, [this, mark, wrong = wrong, replacement = replacement] {
                emit fixRequested(mark.line, mark.column, wrong, replacement);
            });
            m_tree->setItemWidget(item, 2, fix);
        }
    }
    const int shown = m_tree->topLevelItemCount();
    m_summary->setText(shown == 0 ? tr("No problems: the scenario is valid.")
                       : shown == 1 ? tr("1 problem: click it to go to it (F8 goes to the next).")
                                    : tr("%1 problems: click one to go to it (F8 goes to the next).").arg(shown));
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
