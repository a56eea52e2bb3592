using Mediator;
using Microsoft.Extensions.Logging;

namespace CallNotify.Application.Common.Behaviours;

/// <summary>
/// Innermost behaviour: warns about a handler that took longer than half a second. The first run of each kind of
/// message is not judged: it compiles its path (at start, the webhook's warm-up), so its time says nothing about the
/// service.
/// </summary>
public sealed class TimingBehaviour<TMessage, TResponse>(ILogger<TimingBehaviour<TMessage, TResponse>> logger, TimeProvider time)
    : IPipelineBehavior<TMessage, TResponse>
    where TMessage : IMessage
{
    private static readonly TimeSpan SlowThreshold = TimeSpan.FromMilliseconds(500);

    // One per closed generic type, so one per kind of message.
    private static int _runs;

    public async ValueTask<TResponse> Handle(TMessage message, MessageHandlerDelegate<TMessage, TResponse> next, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var response = await next(message, cancellationToken);
        var elapsed = time.GetElapsedTime(started);
        if (Interlocked.Increment(ref _runs) > 1 && elapsed > SlowThreshold)
        {
            logger.LogWarning("{Message} took {ElapsedMilliseconds} ms", typeof(TMessage).Name, (long)elapsed.TotalMilliseconds);
        }

        return response;
    }
}
