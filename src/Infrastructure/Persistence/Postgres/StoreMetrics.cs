using System.Diagnostics.Metrics;

namespace CallNotify.Infrastructure.Persistence.Postgres;

/// <summary>
/// The PostgreSQL store's own instruments (meter <c>CallNotify.Store</c>), exported at <c>/metrics</c> beside the
/// service's: what the webhook path's shared round trips carry.
/// </summary>
public sealed class StoreMetrics
{
    public const string MeterName = "CallNotify.Store";

    private readonly Histogram<long> _groupCommit;

    public StoreMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(MeterName);
        _groupCommit = meter.CreateHistogram<long>(
            "callnotify.store.group_commit.size",
            "{write}",
            "Writes made durable by one shared PostgreSQL transaction (group commit).",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });
    }

    public void GroupCommitted(int writes) => _groupCommit.Record(writes);
}
