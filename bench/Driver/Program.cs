using System.Runtime.InteropServices;
using CallNotify.Bench;

// The benchmark of issue #6: see bench/README.md. Exit code 0 when the measurement was taken (whether or not the
// targets were met), 1 when the benchmark itself broke, 2 for a bad command line.
BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

if (options.Help)
{
    Console.WriteLine(BenchOptions.Usage);
    return 0;
}

// Everything is bounded: a run that hangs is stopped and reported as broken.
var scenarios = (options.Runs(Scenarios.WebSocket) ? 1 : 0) + (options.Runs(Scenarios.Fcm) ? 1 : 0);
var limit = TimeSpan.FromSeconds(
    180
    + (scenarios + 1) * (options.WarmupSeconds + options.DurationSeconds + 60)
    + (options.Runs(Scenarios.Sessions) ? options.WarmupSeconds + options.SessionsDurationSeconds + 60 + options.Sessions / 10 : 0));
using var stop = new CancellationTokenSource(limit);
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
AppDomain.CurrentDomain.ProcessExit += (_, _) => ChildService.KillAll();

var results = new List<ScenarioResult>();
try
{
    WebhookRequests.SelfTest();
    var run = await new Benchmark(options).RunAsync(results, stop.Token);
    var markdown = Report.Render(run, results);
    Directory.CreateDirectory(options.Out);
    var file = Path.Combine(options.Out, $"{run.Started:yyyy-MM-dd-HHmm}-{run.Machine.Host}.md");
    await File.WriteAllTextAsync(file, markdown, CancellationToken.None);
    Console.WriteLine();
    Console.WriteLine(markdown);
    Console.WriteLine($"Results written to {file}");
    return 0;
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    Console.Error.WriteLine($"error: the benchmark was stopped (interrupted, or over its {limit.TotalMinutes:0} minute limit).");
    return 1;
}
catch (Exception ex)
{
    Console.Error.WriteLine($"error: the benchmark broke: {ex}");
    return 1;
}
finally
{
    ChildService.KillAll();
}

void Cancel(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}
