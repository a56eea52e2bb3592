using CallNotify.Domain.Notifications;

namespace CallNotify.Infrastructure.WebSockets;

/// <summary>
/// Makes this instance's sessions known to the other instances (PostgreSQL), or does nothing when there are no
/// others (SQLite).
/// </summary>
public interface ISessionPresence
{
    /// <summary>Called once the session is in the local registry: from now on any instance may route to it.</summary>
    Task RegisterAsync(WebSocketSession session, CancellationToken cancellationToken);

    /// <summary>Called before the session leaves the local registry.</summary>
    Task UnregisterAsync(WebSocketSession session, CancellationToken cancellationToken);

    /// <summary>
    /// Sign-out everywhere: the sessions of (account, identity) that connected at or before <paramref name="at"/>, on
    /// any instance, stop counting at once (their holders close them).
    /// </summary>
    Task ForgetConnectedByAsync(string accountSid, string identity, DateTimeOffset at, CancellationToken cancellationToken);
}

/// <summary>Hands a notification to a session held by another instance, and reports what that instance did with it.</summary>
public interface ISessionRelay
{
    ValueTask<DeliveryResult> SendAsync(string sessionId, string deliveryId, CancellationToken cancellationToken);

    /// <summary>
    /// Asks <paramref name="instanceId"/> to end its session <paramref name="sessionId"/> for <paramref name="reason"/>
    /// (one of <see cref="WebSocketSessionCloser.RelayedReasons"/>). Fire and forget: a request that is lost leaves the
    /// session to the holder's own checks.
    /// </summary>
    Task EndAsync(string sessionId, string instanceId, string reason, CancellationToken cancellationToken);
}

/// <summary>A single instance (SQLite): every session is local, and one not found here is gone.</summary>
public sealed class SingleInstanceSessions : ISessionPresence, ISessionRelay
{
    public Task RegisterAsync(WebSocketSession session, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task UnregisterAsync(WebSocketSession session, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The local registry is the only count: the sessions leave it as they are ended.</summary>
    public Task ForgetConnectedByAsync(string accountSid, string identity, DateTimeOffset at, CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask<DeliveryResult> SendAsync(string sessionId, string deliveryId, CancellationToken cancellationToken) =>
        ValueTask.FromResult(DeliveryResult.ClientGone(DeliveryErrors.SessionClosed));

    /// <summary>There is no other instance: a session not found here is gone already.</summary>
    public Task EndAsync(string sessionId, string instanceId, string reason, CancellationToken cancellationToken) => Task.CompletedTask;
}
