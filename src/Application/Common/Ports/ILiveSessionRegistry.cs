using CallNotify.Domain.Common;

namespace CallNotify.Application.Common.Ports;

/// <summary>The WebSocket clients connected right now, to this instance or to any other serving the same store.</summary>
public interface ILiveSessionRegistry
{
    /// <summary>Every live session of (account, identity), whichever instance holds it.</summary>
    Task<IReadOnlyList<LiveSession>> FindAsync(AccountSid accountSid, ClientIdentity identity, CancellationToken cancellationToken);
}

/// <param name="InstanceId">The instance the client is connected to (<c>IN…</c>).</param>
public sealed record LiveSession(string SessionId, string InstanceId, string AccountSid, string Identity, DateTimeOffset ConnectedAt);
