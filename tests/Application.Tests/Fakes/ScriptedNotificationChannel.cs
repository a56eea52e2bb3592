using System.Collections.Concurrent;
using CallNotify.Application.Common.Ports;
using CallNotify.Application.Tests.Support;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;

namespace CallNotify.Application.Tests.Fakes;

/// <summary>
/// A channel that answers each call with the next scripted result (or throws the next scripted exception), and
/// with <see cref="Otherwise"/> once the script runs out. Every call is recorded with a copy of its payload and the
/// time of <paramref name="time"/> (the system clock when none is given).
/// </summary>
public sealed class ScriptedNotificationChannel(ChannelKind kind, TimeProvider? time = null) : INotificationChannel
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ConcurrentQueue<Func<DeliveryResult>> _script = new();
    private readonly ConcurrentQueue<SentMessage> _calls = new();

    public ChannelKind Kind { get; } = kind;

    /// <summary>The answer once the script is used up.</summary>
    public DeliveryResult Otherwise { get; set; } = DeliveryResult.Failed("unscripted call");

    public IReadOnlyList<SentMessage> Calls => [.. _calls];

    public ScriptedNotificationChannel Answer(params DeliveryResult[] results)
    {
        foreach (var result in results)
        {
            _script.Enqueue(() => result);
        }

        return this;
    }

    public ScriptedNotificationChannel Throw(Exception exception)
    {
        _script.Enqueue(() => throw exception);
        return this;
    }

    public ScriptedNotificationChannel AlwaysAnswer(DeliveryResult result)
    {
        Otherwise = result;
        return this;
    }

    public ValueTask<DeliveryResult> SendAsync(ChannelMessage message, CancellationToken cancellationToken)
    {
        _calls.Enqueue(new SentMessage(message, message.Payload.ToArray(), _time.GetUtcNow()));
        return ValueTask.FromResult(_script.TryDequeue(out var next) ? next() : Otherwise);
    }

    /// <summary>Waits until the channel has been called <paramref name="count"/> times in all; false on timeout.</summary>
    public Task<bool> WaitForCallsAsync(int count, TimeSpan timeout) => Eventually.TrueAsync(() => _calls.Count >= count, timeout);
}

/// <summary>One call to a channel, with the payload bytes as they were at the time of the call.</summary>
public sealed record SentMessage(ChannelMessage Message, byte[] Payload, DateTimeOffset At);
