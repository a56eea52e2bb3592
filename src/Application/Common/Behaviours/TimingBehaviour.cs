using System.Diagnostics;
using Mediator;
using Microsoft.Extensions.Logging;

namespace CallNotify.Application.Common.Behaviours;

/// <summary>Innermost behaviour: warns about a handler that took longer than half a second.</summary>
public sealed class TimingBehaviour<TMessage, TResponse>(ILogger<TimingBehaviour<TMessage, TResponse>> logger)
    : IPipelineBehavior<TMessage, TResponse>
    where TMessage : IMessage
{
    private static readonly TimeSpan SlowThreshold = TimeSpan.FromMilliseconds(500);

    public async ValueTask<TResponse> Handle(TMessage message, MessageHandlerDelegate<TMessage, TResponse> next, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var response = await next(message, cancellationToken);
        var elapsed = Stopwatch.GetElapsedTime(started);
        if (elapsed > SlowThreshold)
        {
            logger.LogWarning("{Message} took {ElapsedMilliseconds} ms", typeof(TMessage).Name, (long)elapsed.TotalMilliseconds);
        }

        return response;
    }
}
