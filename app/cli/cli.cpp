#include "app/cli/cli.h"

#include "app/cli/commands.h"
#include "core/version.h"

#include <QApplication>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QStringList>

#include <cstdio>
#include <cstring>
#include <memory>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace edgesse::cli {

namespace {

constexpr const char kUsage[] =
    "Usage:\n"
    "  edgesse [FILE.yaml]                 open the desktop app (with a scenario)\n"
    "  edgesse validate FILE...            check scenarios; FILE:LINE:COL: error: ... per problem\n"
    "  edgesse run FILE [--out DIR] [--variant NAME]... [--duration D] [--seed N]\n"
    "                                      run headless; summary on stdout, files in DIR\n"
    "  edgesse serve FILE [--variant NAME] [--duration D] [--tls-cert PEM --tls-key PEM]\n"
    "                                      bring the topology up; print NAME URL per endpoint\n"
    "                                      (and NAME.https URL, tls-ca FILE, tls-spki HASH)\n"
    "  edgesse --version | --help\n"
    "\n"
    "Exit codes: 0 success, 1 run failed, 2 invalid scenario or command line, 130 interrupted.\n";

void setIdentity()
{
    QCoreApplication::setOrganizationName(QStringLiteral("EdgeSSE"));
    QCoreApplication::setApplicationName(QString::fromLatin1(kToolName));
    QCoreApplication::setApplicationVersion(versionString());
}

QStringList wordsAfterCommand(const QStringList &arguments)
{
    return arguments.mid(2);
}

} // namespace

void provideRuntimeDir()
{
    if (!qEnvironmentVariableIsEmpty("XDG_RUNTIME_DIR"))
        return;
    const uid_t uid = ::getuid();
    const passwd *user = ::getpwuid(uid);
    const QByteArray name = user && user->pw_name ? QByteArray(user->pw_name) : QByteArray::number(uid);
    const QByteArray dir = QFile::encodeName(QDir::tempPath()) + "/runtime-" + name; // Qt's own choice
    ::mkdir(dir.constData(), 0700);
    struct stat info{};
    if (::lstat(dir.constData(), &info) != 0 || !S_ISDIR(info.st_mode) || info.st_uid != uid || (info.st_mode & 0777) != 0700)
        return;
    qputenv("XDG_RUNTIME_DIR", dir);
}

std::optional<int> runIfCommand(int argc, char *argv[])
{
    if (argc < 2)
        return std::nullopt;
    const char *word = argv[1];
    if (std::strcmp(word, "--help") == 0 || std::strcmp(word, "-h") == 0 || std::strcmp(word, "help") == 0) {
        std::fputs(kUsage, stdout);
        return kExitOk;
    }
    if (std::strcmp(word, "--version") == 0) {
        std::printf("%s %s\n", kToolName, kVersion);
        return kExitOk;
    }
    if (std::strcmp(word, "validate") == 0 || std::strcmp(word, "serve") == 0) {
        QCoreApplication app(argc, argv);
        setIdentity();
        const QStringList args = wordsAfterCommand(QCoreApplication::arguments());
        return std::strcmp(word, "validate") == 0 ? validateCommand(args) : serveCommand(args);
    }
    if (std::strcmp(word, "run") == 0) {
        // Charts are rendered headless: the offscreen platform needs no display.
        if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
            qputenv("QT_QPA_PLATFORM", "offscreen");
        QApplication app(argc, argv);
        setIdentity();
        return runCommand(wordsAfterCommand(QCoreApplication::arguments()));
    }
    if (word[0] == '-' && std::strcmp(word, "-") != 0) {
        std::fprintf(stderr, "edgesse: unknown option '%s'\n\n%s", word, kUsage);
        return kExitInvalidInput;
    }
    return std::nullopt;
}

} // namespace edgesse::cli
