using System.Diagnostics;
using System.Globalization;

namespace CallNotify.Bench;

/// <summary>The figures of one scenario, computed from its <see cref="RequestLog"/> once the load is over.</summary>
internal sealed class ScenarioResult
{
    public required string Name { get; init; }

    /// <summary>Whether receivers report deliveries (frames, FCM messages); the bare endpoint has none.</summary>
    public required bool Delivers { get; init; }

    public long Requests { get; init; }

    public long Answered200 { get; init; }

    /// <summary>200 answers completed inside the measured window.</summary>
    public long AnsweredInWindow { get; init; }

    /// <summary>200 answers completed inside the measured window, per second of it.</summary>
    public double Throughput { get; init; }

    public double? RatioToBare { get; set; }

    public double WebhookP50Ms { get; init; }

    public double WebhookP99Ms { get; init; }

    public double? EndToEndP50Ms { get; init; }

    public double? EndToEndP99Ms { get; init; }

    /// <summary>Requests answered other than 200, or not answered at all; warm-up included.</summary>
    public long Errors { get; init; }

    /// <summary>Errors among the requests sent in the measured window.</summary>
    public long ErrorsInWindow { get; init; }

    /// <summary>What the errors were: "503×2, no answer×1".</summary>
    public string ErrorDetail { get; init; } = string.Empty;

    /// <summary>Answered 200 but never delivered (warm-up included); null for the bare endpoint.</summary>
    public long? Lost { get; init; }

    public long Duplicates { get; init; }

    public long Misrouted { get; init; }

    public long Corrupted { get; init; }

    public long Stray { get; init; }

    /// <summary>Answered 200 but missing from <c>call_notifications</c>; null when not checked.</summary>
    public long? Unrecorded { get; set; }

    public long? PeakRssKb { get; set; }

    public long? HighWaterMarkKb { get; set; }

    public CpuUse Cpu { get; set; }

    /// <summary>The service's CPU time per request answered 200 in the measured window: less noisy than throughput.</summary>
    public double? ServiceCpuMsPerRequest =>
        Cpu.Service is { } cores && AnsweredInWindow > 0 ? cores * Cpu.Seconds * 1000 / AnsweredInWindow : null;

    /// <summary>PostgreSQL's CPU time per request answered 200 in the measured window (postmaster and backends).</summary>
    public double? PostgresCpuMsPerRequest =>
        Cpu.Postgres is { } cores && AnsweredInWindow > 0 ? cores * Cpu.Seconds * 1000 / AnsweredInWindow : null;

    /// <summary>Writes per group-commit transaction in the measured window; null where the service exports none.</summary>
    public GroupCommitSizes? BatchSizes { get; set; }

    /// <summary>The store's shared round trips and their callers' waits in the measured window, by lane.</summary>
    public StoreTimes? StoreTimes { get; set; }

    /// <summary>The service's allocations, thread-pool work items and GCs over the measured window; null when not exported.</summary>
    public RuntimeCounters? Runtime { get; set; }

    /// <summary>PostgreSQL's WAL and the database's commits over the measured window; null when not known.</summary>
    public WalUse? Wal { get; set; }

    /// <summary>How long the service's, PostgreSQL's and the driver's threads waited for a CPU in the measured window; null when not known.</summary>
    public RunQueueUse? RunQueue { get; set; }

    /// <summary>The most threads the service had (a climbing count hints at thread-pool starvation).</summary>
    public long? PeakThreads { get; set; }

    public int LiveClients { get; init; }

    /// <summary>What the receivers are, for the details line: "WebSocket clients", "FCM bindings".</summary>
    public string Receivers { get; set; } = "WebSocket clients";

    public double MeasuredSeconds { get; init; }

    public List<string> Notes { get; } = [];

    public static ScenarioResult From(string name, bool delivers, RequestLog log, LoadWindow window, int liveClients)
    {
        long ok = 0, okInWindow = 0, errors = 0, errorsInWindow = 0, lost = 0;
        var statuses = new SortedDictionary<int, long>();
        var webhook = new List<long>(capacity: (int)Math.Min(window.Requests, int.MaxValue));
        var endToEnd = new List<long>(capacity: delivers ? webhook.Capacity : 0);
        for (long seq = 0; seq < window.Requests; seq++)
        {
            var entry = log.Get(seq);
            if (entry.Status != 200)
            {
                errors++;
                errorsInWindow += entry.Sent >= window.MeasureStart ? 1 : 0;
                statuses[entry.Status] = statuses.GetValueOrDefault(entry.Status) + 1;
                continue;
            }

            ok++;
            if (entry.Done >= window.MeasureStart && entry.Done <= window.End)
            {
                okInWindow++;
            }

            if (delivers && entry.Delivered == 0)
            {
                lost++;
            }

            if (entry.Sent >= window.MeasureStart)
            {
                webhook.Add(entry.Done - entry.Sent);
                if (delivers && entry.Delivered != 0)
                {
                    endToEnd.Add(entry.Delivered - entry.Sent);
                }
            }
        }

        return new ScenarioResult
        {
            Name = name,
            Delivers = delivers,
            Requests = window.Requests,
            Answered200 = ok,
            AnsweredInWindow = okInWindow,
            Throughput = okInWindow / window.MeasuredSeconds,
            WebhookP50Ms = Percentile(webhook, 0.50),
            WebhookP99Ms = Percentile(webhook, 0.99),
            EndToEndP50Ms = delivers ? Percentile(endToEnd, 0.50) : null,
            EndToEndP99Ms = delivers ? Percentile(endToEnd, 0.99) : null,
            Errors = errors,
            ErrorsInWindow = errorsInWindow,
            ErrorDetail = string.Join(", ", statuses.Select(s => $"{(s.Key == RequestLog.NoAnswer ? "no answer" : s.Key.ToString(CultureInfo.InvariantCulture))}×{s.Value.ToString(CultureInfo.InvariantCulture)}")),
            Lost = delivers ? lost : null,
            Duplicates = log.Duplicates,
            Misrouted = log.Misrouted,
            Corrupted = log.Corrupted,
            Stray = log.Unknown,
            LiveClients = liveClients,
            MeasuredSeconds = window.MeasuredSeconds,
        };
    }

    /// <summary>Nearest-rank percentile of Stopwatch-tick samples, in milliseconds (NaN without samples).</summary>
    private static double Percentile(List<long> samples, double p)
    {
        if (samples.Count == 0)
        {
            return double.NaN;
        }

        samples.Sort();
        var rank = (int)Math.Ceiling(p * samples.Count) - 1;
        return samples[Math.Clamp(rank, 0, samples.Count - 1)] * 1000.0 / Stopwatch.Frequency;
    }
}
