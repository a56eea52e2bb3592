using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace CallNotify.Infrastructure.Persistence.Postgres;

/// <summary>
/// The PostgreSQL store's own instruments (meter <c>CallNotify.Store</c>), exported at <c>/metrics</c> beside the
/// service's: what the webhook path's shared round trips carry, and how long they and their callers take.
/// </summary>
public sealed class StoreMetrics
{
    public const string MeterName = "CallNotify.Store";

    /// <summary>The shared round trips, by <c>lane</c>: callee lookups, the writes an answer waits for, and those that may wait.</summary>
    public const string Lookup = "lookup";

    public const string Write = "write";

    public const string Append = "append";

    private static readonly double[] TimeBuckets = [0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1, 2, 4];

    private readonly Histogram<long> _groupCommit;
    private readonly Histogram<double> _roundTrip;
    private readonly Histogram<double> _wait;
    private readonly Counter<long> _recalls;

    public StoreMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(MeterName);
        _groupCommit = meter.CreateHistogram<long>(
            "callnotify.store.group_commit.size",
            "{write}",
            "Writes made durable by one shared PostgreSQL transaction (group commit).",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });
        _roundTrip = meter.CreateHistogram<double>(
            "callnotify.store.round_trip.duration",
            "s",
            "Time of one shared round trip to PostgreSQL (a batch of lookups, or one group-committed transaction), by lane.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = TimeBuckets });
        _wait = meter.CreateHistogram<double>(
            "callnotify.store.wait.duration",
            "s",
            "Time one caller waited for its share of a round trip, queueing included, by lane.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = TimeBuckets });
        _recalls = meter.CreateCounter<long>(
            "callnotify.store.recent.recalls",
            "{recall}",
            "A result or ack applied to a notification: from this instance's last written state (hit), or read from the store (miss).");
    }

    /// <summary>One change to a notification started from the remembered state (<paramref name="hit"/>) or from a read.</summary>
    public void Recalled(bool hit) => _recalls.Add(1, new KeyValuePair<string, object?>("result", hit ? "hit" : "miss"));

    public void GroupCommitted(int writes) => _groupCommit.Record(writes);

    /// <summary>One round trip of <paramref name="lane"/>, started at <paramref name="startedAt"/> (a <see cref="Stopwatch"/> timestamp).</summary>
    public void RoundTrip(string lane, long startedAt) =>
        _roundTrip.Record(Stopwatch.GetElapsedTime(startedAt).TotalSeconds, new KeyValuePair<string, object?>("lane", lane));

    /// <summary>One caller's wait in <paramref name="lane"/>, from <paramref name="startedAt"/> (a <see cref="Stopwatch"/> timestamp).</summary>
    public void Waited(string lane, long startedAt) =>
        _wait.Record(Stopwatch.GetElapsedTime(startedAt).TotalSeconds, new KeyValuePair<string, object?>("lane", lane));
}
