using CallNotify.Application.Common.Exceptions;
using System.Threading.Channels;

namespace CallNotify.Infrastructure.Persistence.Postgres;

/// <summary>
/// One caller's share of a round trip that <see cref="BatchLoop"/> runs for many: queued by the caller, completed (with
/// the size of the batch it went in) or failed by the loop.
/// </summary>
internal abstract class BatchItem<TResult>
{
    private readonly TaskCompletionSource<TResult> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>How many items shared its round trip; 0 until it completes.</summary>
    public int BatchSize { get; private set; }

    /// <summary>What the caller receives once its round trip is over.</summary>
    protected abstract TResult Result { get; }

    public void Complete(int batchSize)
    {
        BatchSize = batchSize;
        _done.TrySetResult(Result);
    }

    public void Fail(Exception exception) => _done.TrySetException(exception);

    /// <summary>
    /// Queues <paramref name="item"/> and waits for its round trip. A full queue refuses at once (the store is not
    /// keeping up: 503); cancelling stops the wait, not the round trip.
    /// </summary>
    public static Task<TResult> SubmitAsync<TItem>(ChannelWriter<TItem> queue, TItem item, string refusal, CancellationToken cancellationToken)
        where TItem : BatchItem<TResult>
    {
        if (!queue.TryWrite(item))
        {
            throw new StoreUnavailableException(refusal);
        }

        return cancellationToken.CanBeCanceled ? item._done.Task.WaitAsync(cancellationToken) : item._done.Task;
    }
}
