#include "app/gui/variantlist.h"

#include <QHBoxLayout>
#include <QListWidget>
#include <QPushButton>
#include <QSet>
#include <QVBoxLayout>

namespace edgesse::gui {

VariantList::VariantList(QWidget *parent)
    : QWidget(parent)
    , m_list(new QListWidget(this))
{
    m_list->setObjectName(QStringLiteral("variants"));
    m_list->setAlternatingRowColors(true);
    m_list->setSpacing(2);
    m_list->setTextElideMode(Qt::ElideRight);
    auto *all = new QPushButton(tr("All"), this);
    auto *none = new QPushButton(tr("None"), this);
    auto *buttons = new QHBoxLayout;
    buttons->setContentsMargins(4, 4, 4, 4);
    buttons->addWidget(all);
    buttons->addWidget(none);
    buttons->addStretch();
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(m_list);
    layout->addLayout(buttons);

    const auto checkAll = [this](Qt::CheckState state) {
        for (int i = 0; i < m_list->count(); ++i)
            m_list->item(i)->setCheckState(state);
    };
    connect(all, &QPushButton::clicked, this, [checkAll] { checkAll(Qt::Checked); });
    connect(none, &QPushButton::clicked, this, [checkAll] { checkAll(Qt::Unchecked); });
    connect(m_list, &QListWidget::itemChanged, this, &VariantList::selectionChanged);
}

void VariantList::setVariants(const QList<VariantEntry> &variants)
{
    QSet<QString> unchecked;
    for (int i = 0; i < m_list->count(); ++i) {
        if (m_list->item(i)->checkState() != Qt::Checked)
            unchecked.insert(m_list->item(i)->data(Qt::UserRole).toString());
    }
    const QSignalBlocker blocker(m_list);
    m_list->clear();
    for (const VariantEntry &variant : variants) {
        auto *item = new QListWidgetItem(m_list);
        item->setText(variant.summary.isEmpty() ? variant.name : variant.name + QLatin1Char('\n') + variant.summary);
        item->setData(Qt::UserRole, variant.name);
        item->setToolTip(variant.summary);
        item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable | Qt::ItemIsSelectable);
        item->setCheckState(unchecked.contains(variant.name) ? Qt::Unchecked : Qt::Checked);
    }
    emit selectionChanged();
}

void VariantList::reset()
{
    m_list->clear();
    emit selectionChanged();
}

QStringList VariantList::checkedVariants() const
{
    QStringList names;
    for (int i = 0; i < m_list->count(); ++i)
        if (m_list->item(i)->checkState() == Qt::Checked)
            names << m_list->item(i)->data(Qt::UserRole).toString();
    return names;
}

QStringList VariantList::allVariants() const
{
    QStringList names;
    for (int i = 0; i < m_list->count(); ++i)
        names << m_list->item(i)->data(Qt::UserRole).toString();
    return names;
}

void VariantList::setChecked(const QString &name, bool checked)
{
    for (int i = 0; i < m_list->count(); ++i)
        if (m_list->item(i)->data(Qt::UserRole).toString() == name)
            m_list->item(i)->setCheckState(checked ? Qt::Checked : Qt::Unchecked);
}

} // namespace edgesse::gui
