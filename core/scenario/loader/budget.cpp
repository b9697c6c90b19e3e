#include "core/scenario/loader/budget.h"

#include "core/scenario/loader/limits.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <sstream>

namespace edgesse::scenario::loader {

namespace {

struct OverBudget {
    YAML::Mark mark;
    QString message;
};

class Counter final : public YAML::EventHandler
{
public:
    void OnDocumentStart(const YAML::Mark &) override {}
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark &mark, YAML::anchor_t) override { count(mark); }
    void OnAlias(const YAML::Mark &mark, YAML::anchor_t) override { count(mark); }
    void OnScalar(const YAML::Mark &mark, const std::string &, YAML::anchor_t, const std::string &) override { count(mark); }
    void OnSequenceStart(const YAML::Mark &mark, const std::string &, YAML::anchor_t, YAML::EmitterStyle::value) override { open(mark); }
    void OnSequenceEnd() override { --m_depth; }
    void OnMapStart(const YAML::Mark &mark, const std::string &, YAML::anchor_t, YAML::EmitterStyle::value) override { open(mark); }
    void OnMapEnd() override { --m_depth; }

private:
    void count(const YAML::Mark &mark)
    {
        // The document itself is level 0, as in the tree the converter builds.
        if (m_depth + 1 > kMaxDepth)
            throw OverBudget{mark, QStringLiteral("nested deeper than %1 levels").arg(kMaxDepth)};
        if (++m_values > kMaxDocumentValues)
            throw OverBudget{
                mark, QStringLiteral("the document has more than %1 values; a scenario is a short text file").arg(kMaxDocumentValues)};
    }
    void open(const YAML::Mark &mark)
    {
        count(mark);
        ++m_depth;
    }

    int m_values = 0;
    int m_depth = -1;
};

YAML::Mark mark(int line, size_t column)
{
    YAML::Mark m;
    m.line = line;
    m.column = int(column);
    return m;
}

bool valueStarts(char previous)
{
    return previous == '\n' || previous == ':' || previous == '-' || previous == '?' || previous == '[' || previous == '{'
        || previous == ',';
}

// The offset after the quoted scalar opening at `i`.
size_t skipQuoted(const std::string &text, size_t i)
{
    const char quote = text[i];
    for (++i; i < text.size(); ++i) {
        if (quote == '"' && text[i] == '\\') {
            ++i; // an escaped character
            continue;
        }
        if (text[i] != quote)
            continue;
        if (quote == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
            ++i; // '' inside single quotes
            continue;
        }
        return i + 1;
    }
    return i;
}

// yaml-cpp tokenizes a whole flow collection ahead when it could be a key ([a, b]: c), so a
// huge one costs memory before any event. This counts flow entries from the text alone
// (quotes and comments skipped) and throws at the first one past the budget, or at the first
// bracket nested deeper than kMaxDepth.
void countFlowEntries(const std::string &text)
{
    int depth = 0;
    int values = 0;
    char previous = '\n'; // the last character that was not a space
    int line = 0;
    size_t lineStart = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\n') {
            ++line;
            lineStart = i + 1;
            if (depth == 0)
                previous = '\n';
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r')
            continue;
        if (c == '#' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t' || text[i - 1] == '\n')) {
            while (i + 1 < text.size() && text[i + 1] != '\n')
                ++i;
            continue;
        }
        if ((c == '"' || c == '\'') && (depth > 0 || valueStarts(previous))) {
            const size_t end = skipQuoted(text, i);
            for (; i + 1 < end; ++i) {
                if (text[i] == '\n') {
                    ++line;
                    lineStart = i + 1;
                }
            }
            previous = c;
            continue;
        }
        const bool opens = (c == '[' || c == '{') && (depth > 0 || valueStarts(previous));
        if (opens && ++depth > kMaxDepth)
            throw OverBudget{mark(line, i - lineStart), QStringLiteral("nested deeper than %1 levels").arg(kMaxDepth)};
        else if ((c == ']' || c == '}') && depth > 0)
            --depth;
        if (opens || (c == ',' && depth > 0)) {
            if (++values > kMaxDocumentValues)
                throw OverBudget{
                    mark(line, i - lineStart),
                    QStringLiteral("the document has more than %1 values; a scenario is a short text file").arg(kMaxDocumentValues)};
        }
        previous = c;
    }
}

} // namespace

bool withinBudget(const std::string &text, Report &report)
{
    try {
        countFlowEntries(text);
    } catch (const OverBudget &over) {
        report.add(over.mark.line + 1, over.mark.column + 1, over.message);
        return false;
    }
    std::istringstream in(text);
    Counter counter;
    try {
        YAML::Parser parser(in);
        parser.HandleNextDocument(counter);
    } catch (const OverBudget &over) {
        report.add(over.mark.line >= 0 ? over.mark.line + 1 : 1, over.mark.column >= 0 ? over.mark.column + 1 : 1, over.message);
        return false;
    } catch (const YAML::Exception &) {
        return true;
    }
    return true;
}

} // namespace edgesse::scenario::loader
