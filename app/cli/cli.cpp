#include "app/cli/cli.h"

#include "app/cli/commands.h"
#include "core/version.h"

#include <QApplication>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStringList>

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <memory>

#include <pwd.h>
#include <sys/socket.h>
#include <sys/un.h>
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
    "  edgesse compare A/results.json B/results.json... [--baseline NAME]\n"
    "                                      the variants side by side: value, Δ and % against the baseline\n"
    "  edgesse merge OUT a.json b.json...  variant results run apart (one --variant a job) as one results.json\n"
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

namespace {

// What a command needs of Qt: the core application, or the GUI one on the offscreen
// platform (charts are rendered headless, no display needed).
enum class Application { Core, Offscreen };

struct Command {
    const char *name;
    Application application;
    int (*run)(const QStringList &args);
};

// The headless commands; a new one is one row here and one line in kUsage.
constexpr Command kCommands[] = {
    {"validate", Application::Core, validateCommand},
    {"run", Application::Offscreen, runCommand},
    {"serve", Application::Core, serveCommand},
    {"compare", Application::Core, compareCommand},
    {"merge", Application::Core, mergeCommand},
};

QByteArray commandNames()
{
    QByteArray names;
    for (const Command &c : kCommands)
        names += (names.isEmpty() ? "" : ", ") + QByteArray(c.name);
    return names;
}

int runCommandWord(const Command &command, int argc, char *argv[])
{
    if (command.application == Application::Offscreen) {
        if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
            qputenv("QT_QPA_PLATFORM", "offscreen");
        QApplication app(argc, argv);
        setIdentity();
        return command.run(wordsAfterCommand(QCoreApplication::arguments()));
    }
    QCoreApplication app(argc, argv);
    setIdentity();
    return command.run(wordsAfterCommand(QCoreApplication::arguments()));
}

// A word the desktop app takes as a file to open: an existing path or a scenario's name.
bool namesAFile(const char *word)
{
    const QString path = QFile::decodeName(word);
    return QFileInfo::exists(path) || path.endsWith(QLatin1String(".yaml")) || path.endsWith(QLatin1String(".yml"));
}

// Whether a local X server answers at DISPLAY (":N" or ":N.S"); other forms are left to Qt.
bool xServerAnswers(const QByteArray &display)
{
    if (!display.startsWith(':'))
        return true;
    const QByteArray number = display.mid(1).split('.').first();
    const QByteArray path = "/tmp/.X11-unix/X" + number;
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return true;
    bool answered = false;
    for (const bool abstract : {true, false}) {
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::memcpy(address.sun_path + (abstract ? 1 : 0), path.constData(), size_t(path.size()));
        const auto length = socklen_t(offsetof(sockaddr_un, sun_path) + (abstract ? 1 : 0) + size_t(path.size()));
        if (::connect(fd, reinterpret_cast<const sockaddr *>(&address), length) == 0) {
            answered = true;
            break;
        }
    }
    ::close(fd);
    return answered;
}

} // namespace

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
    for (const Command &command : kCommands)
        if (std::strcmp(word, command.name) == 0)
            return runCommandWord(command, argc, argv);
    if (word[0] == '-' && std::strcmp(word, "-") != 0) {
        std::fprintf(stderr, "edgesse: unknown option '%s'\n\n%s", word, kUsage);
        return kExitInvalidInput;
    }
    if (!namesAFile(word)) {
        std::fprintf(stderr, "edgesse: unknown command '%s'\n\n%s", word, kUsage);
        return kExitInvalidInput;
    }
    return std::nullopt;
}

std::optional<int> refuseWithoutDisplay()
{
    const QByteArray platform = qgetenv("QT_QPA_PLATFORM");
    const QByteArray display = qgetenv("DISPLAY");
    const bool wayland = !qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY");
    QByteArray problem;
    if ((platform.isEmpty() && display.isEmpty() && !wayland) || (platform.startsWith("xcb") && display.isEmpty()))
        problem = "no display (DISPLAY is not set)";
    else if (platform.startsWith("wayland") && !wayland)
        problem = "no display (WAYLAND_DISPLAY is not set)";
    else if ((platform.isEmpty() || platform.startsWith("xcb")) && !display.isEmpty() && !wayland && !xServerAnswers(display))
        problem = "cannot connect to display " + display;
    if (problem.isEmpty())
        return std::nullopt;
    std::fprintf(stderr, "edgesse: %s; the desktop app needs one: the headless commands are %s (edgesse --help)\n",
                 problem.constData(), commandNames().constData());
    return kExitInvalidInput;
}

} // namespace edgesse::cli
