#include "core/external/eventidentity.h"

namespace edgesse::external {

std::uint64_t EventIdentity::assign(const QByteArray &key, bool *isNew)
{
    std::lock_guard lock(m_mutex);
    const auto it = m_seqs.constFind(key);
    if (it != m_seqs.constEnd()) {
        *isNew = false;
        return *it;
    }
    m_keys.push_back(key);
    const std::uint64_t seq = m_keys.size();
    m_seqs.insert(key, seq);
    *isNew = true;
    return seq;
}

std::optional<std::uint64_t> EventIdentity::find(const QByteArray &key) const
{
    std::lock_guard lock(m_mutex);
    const auto it = m_seqs.constFind(key);
    if (it == m_seqs.constEnd())
        return std::nullopt;
    return *it;
}

QByteArray EventIdentity::key(std::uint64_t seq) const
{
    std::lock_guard lock(m_mutex);
    return seq >= 1 && seq <= m_keys.size() ? m_keys[seq - 1] : QByteArray();
}

std::uint64_t EventIdentity::count() const
{
    std::lock_guard lock(m_mutex);
    return m_keys.size();
}

QByteArray EventIdentity::keyOf(const QByteArray &id, std::uint64_t ordinal)
{
    return id.isEmpty() ? QByteArrayLiteral("#") + QByteArray::number(ordinal) : id;
}

} // namespace edgesse::external
