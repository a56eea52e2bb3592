using System.Diagnostics;
using System.Threading.Channels;
using CallNotify.Application.Common.Telemetry;

namespace CallNotify.Infrastructure.Persistence.Postgres;

/// <summary>
/// The loops behind <see cref="GroupCommit"/> and <see cref="PostgresCalleeLookup"/>: each takes whatever has queued up
/// (at most <c>maxBatch</c> items) and hands it to one round trip, so concurrent requests share it. The loops end when
/// the queue is completed and drained.
/// </summary>
internal static class BatchLoop
{
    /// <remarks>
    /// The loops start without the caller's execution context: they serve every request, so they must not carry the
    /// trace (or any other async-local state) of whichever caller happened to create them. Each caller's share of a
    /// round trip is traced by a span of its own (<c>store write</c>, <c>store lookup</c>).
    /// </remarks>
    /// <param name="linger">How long a loop waits, once something has queued, for more to join it (zero: not at all).</param>
    /// <param name="time">The clock <paramref name="linger"/> is measured on.</param>
    public static Task[] Start<T>(
        ChannelReader<T> queue, int loops, int maxBatch, Func<List<T>, Task> process, TimeSpan linger = default, TimeProvider? time = null)
    {
        var clock = time ?? TimeProvider.System;
        using (ExecutionContext.SuppressFlow())
        {
            return [.. Enumerable.Range(0, loops).Select(_ => Task.Run(() => RunAsync(queue, maxBatch, process, linger, clock)))];
        }
    }

    /// <summary>
    /// The span standing for one caller's share of a shared round trip, in the caller's own trace (the round trip itself
    /// runs in no request's trace); null when nothing listens.
    /// </summary>
    public static Activity? StartCallerSpan(string name, string operation, string queryText)
    {
        var span = CallNotifyMetrics.Tracing.StartActivity(name, ActivityKind.Client);
        span?.SetTag("db.system.name", "postgresql");
        span?.SetTag("db.operation.name", operation);
        span?.SetTag("db.query.text", queryText);
        return span;
    }

    private static async Task RunAsync<T>(ChannelReader<T> queue, int maxBatch, Func<List<T>, Task> process, TimeSpan linger, TimeProvider time)
    {
        var batch = new List<T>(maxBatch);
        while (await queue.WaitToReadAsync().ConfigureAwait(false))
        {
            if (linger > TimeSpan.Zero)
            {
                await Task.Delay(linger, time).ConfigureAwait(false);
            }

            batch.Clear();
            while (batch.Count < maxBatch && queue.TryRead(out var item))
            {
                batch.Add(item);
            }

            if (batch.Count > 0)
            {
                // process completes or fails every item itself and never throws.
                await process(batch).ConfigureAwait(false);
            }
        }
    }
}
