#include "app/cli/cli.h"
#include "app/cli/clioptions.h"
#include "app/cli/commands.h"
#include "app/cli/signalwatcher.h"
#include "core/scenario/scenario.h"
#include "core/sim/run.h"
#include "core/tls/credentials.h"

#include <QEventLoop>
#include <QTemporaryDir>

#include <cstdio>

namespace edgesse::cli {

namespace {

// The HTTPS side of what serve prints: each endpoint over TLS, the CA a client trusts and
// the certificate's SPKI hash (Chromium: --ignore-certificate-errors-spki-list=HASH).
void printTlsEndpoints(const sim::Run &run, const QString &caFile)
{
    for (const auto &endpoint : run.endpoints())
        if (!endpoint.secureUrl.isEmpty())
            std::printf("%s.https %s\n", endpoint.name.toUtf8().constData(),
                        endpoint.secureUrl.toString().toUtf8().constData());
    std::printf("tls-ca %s\n", caFile.toUtf8().constData());
    std::printf("tls-spki %s\n", run.tls()->credentials.spkiSha256Base64.constData());
}

} // namespace

int serveCommand(const QStringList &args)
{
    QString error;
    const auto parsed = parseRunArguments(args, /*allowOut=*/false, /*allowSeed=*/false, &error);
    if (parsed && parsed->variants.size() > 1)
        error = QStringLiteral("serve brings up one variant at a time (--variant given %1 times)").arg(parsed->variants.size());
    if (!parsed || parsed->variants.size() > 1) {
        printErr(QStringLiteral("edgesse serve: %1\nUsage: edgesse serve FILE [--variant NAME] [--duration D] "
                                "[--tls-cert PEM --tls-key PEM]\n").arg(error));
        return kExitInvalidInput;
    }
    // Serve opens no browsers: its descriptor budget counts only what the topology opens.
    const auto loaded = loadScenarioReporting(parsed->file, scenario::LoadOptions{false});
    if (!loaded)
        return kExitInvalidInput;
    const scenario::Scenario &scenario = *loaded;
    const scenario::Variant *chosen = parsed->variants.isEmpty() ? &scenario.variants.front()
                                                                 : scenario.variant(parsed->variants.front());
    if (!chosen) {
        reportUnknownVariant(QStringLiteral("serve"), parsed->file, scenario, parsed->variants.front());
        return kExitInvalidInput;
    }

    // Served as it is: no warm-up, publishing until a signal (or --duration).
    scenario::Variant variant = *chosen;
    variant.warmup = std::chrono::microseconds(0);
    variant.duration = parsed->duration.value_or(std::chrono::microseconds(0));
    sim::Run::Settings settings;
    settings.openEnded = true;
    settings.keepStreamRows = false;
    settings.simulatedClients = false;
    if (!parsed->tlsCert.isEmpty()) {
        auto given = tls::loadCredentials(parsed->tlsCert, parsed->tlsKey, &error);
        if (!given) {
            printErr(QStringLiteral("edgesse serve: %1\n").arg(error));
            return kExitInvalidInput;
        }
        settings.tlsCredentials = std::make_shared<const tls::Credentials>(std::move(*given));
    }
    sim::Run run(variant, settings);
    QTemporaryDir tlsDir;
    const QString caFile = tlsDir.filePath(QStringLiteral("ca.pem"));

    SignalWatcher watcher;
    QEventLoop loop;
    int exitCode = kExitOk;
    bool interrupted = false;
    QObject::connect(&watcher, &SignalWatcher::interrupted, &loop, [&](int) {
        if (interrupted)
            return;
        interrupted = true;
        run.stop();
    });
    QObject::connect(&run, &sim::Run::ready, &loop, [&] {
        // The run makes its TLS identity on its own thread: the CA is known once it is up.
        if (!tlsDir.isValid() || !tls::writeCaFile(run.tls()->credentials, caFile, &error)) {
            printErr(QStringLiteral("edgesse serve: %1\n").arg(tlsDir.isValid() ? error : tlsDir.errorString()));
            exitCode = kExitRunFailed;
            run.cancel();
            loop.quit();
            return;
        }
        for (const auto &endpoint : run.endpoints())
            std::printf("%s %s\n", endpoint.name.toUtf8().constData(), endpoint.url.toString().toUtf8().constData());
        printTlsEndpoints(run, caFile);
        std::fflush(stdout);
        if (const QString note = run.linkNote(); !note.isEmpty())
            printErr(QStringLiteral("edgesse serve: note: %1\n").arg(note));
        printErr(QStringLiteral("serving variant %1 of %2; stop with Ctrl+C%3\n")
                     .arg(variant.name, scenario.name,
                          parsed->duration ? QStringLiteral(" (or wait for --duration)") : QString()));
    }, Qt::QueuedConnection);
    QObject::connect(&run, &sim::Run::finished, &loop, [&] {
        if (interrupted && parsed->duration)
            exitCode = kExitInterrupted; // stopped before the --duration it was given
        loop.quit();
    }, Qt::QueuedConnection);
    QObject::connect(&run, &sim::Run::failed, &loop, [&](const QString &reason) {
        printErr(QStringLiteral("edgesse serve: %1\n").arg(reason));
        exitCode = kExitRunFailed;
        loop.quit();
    }, Qt::QueuedConnection);
    QObject::connect(&run, &sim::Run::cancelled, &loop, [&] {
        exitCode = kExitInterrupted;
        loop.quit();
    }, Qt::QueuedConnection);

    run.start();
    loop.exec();
    run.wait();
    return exitCode;
}

} // namespace edgesse::cli
