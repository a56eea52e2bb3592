using System.Globalization;
using System.Text;

namespace CallNotify.Bench;

/// <summary>The Markdown results: the machine, the parameters, one row per scenario, and each target PASS or FAIL.</summary>
internal static class Report
{
    /// <summary>Issue #14: the WebSocket scenario at least this many times the bare endpoint's throughput, in the same run.</summary>
    public const double MinRatio = 0.15;
    public const double MaxRssMb = 300;
    public const int RssSessions = 1000;

    public static string Render(RunInfo run, IReadOnlyList<ScenarioResult> results)
    {
        var md = new StringBuilder();
        md.AppendLine(Inv($"# CallNotify benchmark, {run.Started:yyyy-MM-dd HH:mm} UTC"));
        md.AppendLine();
        md.AppendLine(Inv($"- **Machine:** `{run.Machine.Host}`, {run.Machine.Cores} cores ({run.Machine.CpuModel}), {run.Machine.Memory} RAM, {run.Machine.Os}{WakeUp(run.Machine.WakeUpRoundTripUs)}"));
        md.AppendLine(Inv($"- **Runtime:** {run.Machine.DotNet}; CallNotify (src/ at {run.Commit}) built in Release, `ASPNETCORE_ENVIRONMENT=Production`, logging at Warning"));
        md.AppendLine(Inv($"- **PostgreSQL:** {run.Postgres}, same machine, a database per scenario, its tables seeded before measuring with {BenchDatabase.SeededNotifications:N0} past notifications (each with a delivery and two events) and {BenchDatabase.SeededBindings:N0} bindings of other callees, then VACUUMed and ANALYZEd{(BenchDatabase.CheckpointRefused ? " (the server refused the CHECKPOINT after them)" : " and checkpointed")}"));
        md.AppendLine(Inv($"- **Load average** (1/5/15 min) before the run: {run.Machine.LoadAverage}; after: {run.LoadAfter}. Other work shared the machine: compare ratios within one run."));
        md.AppendLine(Inv($"- **Parameters:** {run.Options.Concurrency} concurrent requests, {run.Options.WarmupSeconds} s warm-up + {run.Options.DurationSeconds} s measured ({run.Options.SessionsDurationSeconds} s in the sessions scenario), {run.Options.Clients} WebSocket clients / FCM bindings, {run.Options.Sessions} sessions; signed unique webhooks of {run.BodyBytes} bytes; command `{run.Command}`"));
        md.AppendLine();
        md.AppendLine("| scenario | requests | throughput (req/s) | × bare | webhook p50 / p99 (ms) | end-to-end p50 / p99 (ms) | errors | lost | unrecorded | peak RSS (MB) | service CPU per request (ms) | PostgreSQL CPU per request (ms) | writes per transaction: median / p90 | CPU cores: service / PostgreSQL / driver / machine |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            md.AppendLine(Inv($"| {r.Name} | {r.Requests:N0} | {r.Throughput:N0} | {Ratio(r.RatioToBare)} | {Ms(r.WebhookP50Ms)} / {Ms(r.WebhookP99Ms)} | {(r.Delivers ? $"{Ms(r.EndToEndP50Ms)} / {Ms(r.EndToEndP99Ms)}" : "—")} | {r.Errors:N0} | {Count(r.Lost)} | {Count(r.Unrecorded)} | {Mb(r.PeakRssKb)} | {Ms(r.ServiceCpuMsPerRequest)} | {Ms(r.PostgresCpuMsPerRequest)} | {Batches(r.BatchSizes)} | {Cores(r.Cpu.Service)} / {Cores(r.Cpu.Postgres)} / {Cores(r.Cpu.Driver)} / {Cores(r.Cpu.Machine)} |"));
        }

        md.AppendLine();
        md.AppendLine("## Targets");
        md.AppendLine();
        md.AppendLine("| target | measured | result |");
        md.AppendLine("|---|---|---|");
        foreach (var (target, measured, pass) in Targets(results, run.Options.Baseline is { } baseline ? BaselineScenario.Read(baseline) : null))
        {
            md.AppendLine(Inv($"| {target} | {measured} | {(pass ? "PASS" : "**FAIL**")} |"));
        }

        md.AppendLine();
        md.AppendLine("## Details");
        md.AppendLine();
        foreach (var r in results)
        {
            var details = new List<string>
            {
                Inv($"{r.Answered200:N0} answered 200 of {r.Requests:N0} sent (warm-up included), {r.MeasuredSeconds:0.0} s measured"),
            };
            if (r.Errors > 0)
            {
                details.Add(Inv($"errors: {r.ErrorDetail} ({r.ErrorsInWindow:N0} of them in the measured window)"));
            }

            if (r.Delivers)
            {
                details.Add(Inv($"{r.LiveClients:N0} {r.Receivers}; duplicates {r.Duplicates:N0}, misrouted {r.Misrouted:N0}, altered bytes {r.Corrupted:N0}, unknown {r.Stray:N0}"));
            }

            if (r.BatchSizes is { } batches)
            {
                details.Add(Inv($"group commit: {batches}"));
            }

            if (r.StoreTimes is { } store)
            {
                details.Add(Inv($"store, mean: {store}"));
            }

            if (r.Runtime is { } runtime)
            {
                details.Add(Inv($"runtime: {runtime.Describe(r.AnsweredInWindow, r.Cpu.Seconds)}"));
            }

            if (r.Wal is { } wal)
            {
                details.Add(Inv($"PostgreSQL: {wal.Describe(r.AnsweredInWindow)}"));
            }

            if (r.RunQueue is { } runQueue)
            {
                details.Add(Inv($"scheduler: {runQueue.Describe(r.AnsweredInWindow)}"));
            }

            if (r.HighWaterMarkKb is not null)
            {
                details.Add(Inv($"service VmHWM {Mb(r.HighWaterMarkKb)} MB, at most {r.PeakThreads} threads"));
            }

            details.AddRange(r.Notes);
            md.AppendLine(Inv($"- **{r.Name}:** {string.Join("; ", details)}."));
        }

        md.AppendLine();
        md.AppendLine("Throughput counts 200 answers completed in the measured window. Latencies are over the requests sent in it: webhook = request sent → answer read; end-to-end = request sent → the notification reached the receiver (WebSocket frame read by the client; FCM message read by the fake FCM server). Errors, lost and unrecorded count the whole run, warm-up included. RSS is the service's resident memory, sampled every 100 ms from `/proc/<pid>/status` (MB = 10^6 bytes). Service CPU per request = the service's CPU time in the measured window / the 200 answers in it (less sensitive to other work on the machine than throughput); PostgreSQL CPU per request likewise. Writes per transaction: what the group commit put in each PostgreSQL transaction in the measured window (a webhook's record, each delivery result, each ack), read from the service's `callnotify_store_group_commit_size` histogram, as the upper bounds of its buckets (1, 2, 4, … 256). Store, mean: per lane (`lookup` the callee lookups, `write` the records an answer waits for, `append` the delivery events, which may wait), how long a caller waited for its share, queueing included, how long the shared round trip took, and how many callers it served, from the service's `callnotify_store_wait_duration_seconds` and `callnotify_store_round_trip_duration_seconds`. Runtime: from the service's `System.Runtime` meter over the measured window, bytes allocated and thread-pool work items per 200 answer, garbage collections by generation, and the time they paused the process. Scheduler: from the kernel's `/proc/<pid>/task/<tid>/schedstat` over the measured window, summed over each process's threads (PostgreSQL's backends included): the threads that were ready to run but waited for a CPU, on average, the mean wait before each time slice, and the time slices run per 200 answer; the machine line's wake-up round trip is two idle threads of the driver waking each other through a pipe before the run. PostgreSQL: WAL bytes, records and full-page images, and the database's committed transactions (the lookups' read-only ones included), per 200 answer, from `pg_stat_wal` and `pg_stat_database` over the measured window. The p99 and PostgreSQL-CPU targets of issue #14 are relative (at most half, at most 40 % of the current main's): run `bench/run.sh` on main, then `bench/run.sh --baseline <that report>` on the change, back to back; the Targets table then checks them. CPU is in cores (1.00 = one core busy all the time) over the measured window; PostgreSQL is the postmaster and its backends (when the driver knows its PID); \"machine\" is every process, other work included.");
        return md.ToString();
    }

    private static IEnumerable<(string Target, string Measured, bool Pass)> Targets(
        IReadOnlyList<ScenarioResult> results, IReadOnlyDictionary<string, BaselineScenario>? baseline)
    {
        if (results.FirstOrDefault(r => r.Name == Scenarios.WebSocket) is { } ws)
        {
            yield return (Inv($"WebSocket throughput ≥ {MinRatio:0.00}× bare"), Inv($"{Ratio(ws.RatioToBare)} ({ws.Throughput:N0} req/s)"), ws.RatioToBare >= MinRatio);
            if (baseline?.GetValueOrDefault(Scenarios.WebSocket) is { } main)
            {
                yield return (
                    Inv($"websocket: webhook p99 ≤ ½ the baseline's ({Ms(main.WebhookP99Ms)} ms)"),
                    Inv($"{Ms(ws.WebhookP99Ms)} ms"),
                    ws.WebhookP99Ms <= main.WebhookP99Ms / 2);
                if (main.EndToEndP99Ms is { } e2e)
                {
                    yield return (Inv($"websocket: end-to-end p99 ≤ ½ the baseline's ({Ms(e2e)} ms)"), Inv($"{Ms(ws.EndToEndP99Ms)} ms"), ws.EndToEndP99Ms <= e2e / 2);
                }

                if (main.PostgresCpuMsPerRequest is { } pg && ws.PostgresCpuMsPerRequest is { } now)
                {
                    yield return (Inv($"websocket: PostgreSQL CPU per webhook ≤ 40 % of the baseline's ({pg:0.000} ms)"), Inv($"{now:0.000} ms ({now / pg:P0})"), now <= 0.4 * pg);
                }
            }

            if (baseline?.GetValueOrDefault(Scenarios.WebSocket) is { } mainWs && baseline.GetValueOrDefault(Scenarios.Fcm) is { } mainFcm
                && results.FirstOrDefault(r => r.Name == Scenarios.Fcm) is { RatioToBare: { } fcmRatio } && ws.RatioToBare is { } wsRatio)
            {
                var wsGain = wsRatio / mainWs.RatioToBare;
                var fcmGain = fcmRatio / mainFcm.RatioToBare;
                yield return (Inv($"fcm: × bare gains in proportion to websocket's ({wsGain:0.00}× the baseline's)"), Inv($"{fcmGain:0.00}× the baseline's"), fcmGain >= wsGain * 0.9);
            }
        }

        foreach (var r in results.Where(r => r.Delivers))
        {
            yield return (Inv($"{r.Name}: zero errors"), Inv($"{r.Errors:N0}"), r.Errors == 0);
            yield return (Inv($"{r.Name}: zero lost"), Inv($"{Count(r.Lost)}"), r.Lost == 0 && r.Misrouted == 0 && r.Corrupted == 0);
            yield return (Inv($"{r.Name}: every answered notification recorded"), Inv($"{Count(r.Unrecorded)} missing of {r.Answered200:N0}"), r.Unrecorded == 0);
        }

        if (results.FirstOrDefault(r => r.Name == Scenarios.Sessions) is { } sessions)
        {
            var mb = sessions.PeakRssKb * 1024 / 1e6;
            yield return (
                Inv($"peak RSS ≤ {MaxRssMb:0} MB with {RssSessions:N0} live sessions"),
                Inv($"{Mb(sessions.PeakRssKb)} MB with {sessions.LiveClients:N0} sessions"),
                mb <= MaxRssMb && sessions.LiveClients >= RssSessions);
        }
    }

    private static string Ms(double? ms) => ms is { } v && !double.IsNaN(v) ? v.ToString(v < 10 ? "0.00" : "0.0", CultureInfo.InvariantCulture) : "—";

    private static string Ratio(double? ratio) =>
        ratio is { } v ? v.ToString(v < 0.1 ? "0.0000" : "0.00", CultureInfo.InvariantCulture) + "×" : "—";

    private static string Batches(GroupCommitSizes? sizes) =>
        sizes is { Median: { } median, P90: { } p90 } ? Inv($"≤ {median:0} / ≤ {p90:0}") : "—";

    private static string Count(long? n) => n is { } v ? v.ToString("N0", CultureInfo.InvariantCulture) : "—";

    private static string Mb(long? kb) => kb is { } v ? (v * 1024 / 1e6).ToString("0", CultureInfo.InvariantCulture) : "—";

    /// <summary>", two threads wake each other in 117 µs (a pipe's round trip, idle machine)", or nothing when not measured.</summary>
    private static string WakeUp(double? microseconds) =>
        microseconds is { } us ? Inv($"; two threads wake each other in {us:0.0} µs (a pipe's round trip on the idle machine)") : string.Empty;

    private static string Cores(double? cores) => cores is { } v ? v.ToString("0.00", CultureInfo.InvariantCulture) : "—";

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>What the report says about the run as a whole.</summary>
internal sealed record RunInfo(
    DateTime Started,
    Machine Machine,
    string Postgres,
    string Commit,
    BenchOptions Options,
    int BodyBytes,
    string Command,
    string LoadAfter);
