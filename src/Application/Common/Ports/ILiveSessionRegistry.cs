using CallNotify.Domain.Common;

namespace CallNotify.Application.Common.Ports;

/// <summary>The WebSocket clients connected right now.</summary>
public interface ILiveSessionRegistry
{
    IReadOnlyList<LiveSession> Find(AccountSid accountSid, ClientIdentity identity);

    int Count { get; }
}

public sealed record LiveSession(string SessionId, string AccountSid, string Identity, DateTimeOffset ConnectedAt);
