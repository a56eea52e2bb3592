using CallNotify.Application.Calls.Dispatch;
using CallNotify.Application.Common.Ports;

namespace CallNotify.Application.Tests.Fakes;

/// <summary>
/// The delivery worker in miniature: every job is run at once on the thread pool by the real <see cref="DeliveryRunner"/>;
/// disposing it stops them, as the hosted worker's shutdown does. <see cref="Refuse"/> plays a full queue.
/// </summary>
public sealed class InlineDeliveryJobs(DeliveryRunner runner) : IDeliveryJobs, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private int _enqueued;

    public bool Refuse { get; set; }

    public int Enqueued => Volatile.Read(ref _enqueued);

    public bool TryEnqueue(DeliveryJob job)
    {
        if (Refuse)
        {
            return false;
        }

        Interlocked.Increment(ref _enqueued);
        var stopping = _stopping.Token;
        _ = Task.Run(() => runner.RunAsync(job, stopping), CancellationToken.None);
        return true;
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _stopping.Dispose();
    }
}
