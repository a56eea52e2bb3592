using System.Threading.Channels;

namespace CallNotify.Infrastructure.Persistence.Postgres;

/// <summary>
/// The loops behind <see cref="GroupCommit"/> and <see cref="PostgresCalleeLookup"/>: each takes whatever has queued up
/// (at most <c>maxBatch</c> items) and hands it to one round trip, so concurrent requests share it. The loops end when
/// the queue is completed and drained.
/// </summary>
internal static class BatchLoop
{
    public static Task[] Start<T>(ChannelReader<T> queue, int loops, int maxBatch, Func<List<T>, Task> process) =>
        [.. Enumerable.Range(0, loops).Select(_ => Task.Run(() => RunAsync(queue, maxBatch, process)))];

    private static async Task RunAsync<T>(ChannelReader<T> queue, int maxBatch, Func<List<T>, Task> process)
    {
        var batch = new List<T>(maxBatch);
        while (await queue.WaitToReadAsync().ConfigureAwait(false))
        {
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
