using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;

namespace CallNotify.Tests.Fakes;

/// <summary>The WebSocket sessions "connected" right now, on any instance: tests add and remove them.</summary>
public sealed class FakeLiveSessionRegistry : ILiveSessionRegistry
{
    public const string InstanceId = "IN0123456789abcdef0123456789abcdef";

    private readonly Lock _gate = new();
    private readonly List<LiveSession> _sessions = [];

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _sessions.Count;
            }
        }
    }

    public LiveSession Connect(AccountSid accountSid, ClientIdentity identity, DateTimeOffset connectedAt, string instanceId = InstanceId)
    {
        var session = new LiveSession(Ids.New(Ids.SessionPrefix, connectedAt), instanceId, accountSid.Value, identity.Value, connectedAt);
        lock (_gate)
        {
            _sessions.Add(session);
        }

        return session;
    }

    public void Disconnect(string sessionId)
    {
        lock (_gate)
        {
            _sessions.RemoveAll(s => s.SessionId == sessionId);
        }
    }

    public Task<IReadOnlyList<LiveSession>> FindAsync(AccountSid accountSid, ClientIdentity identity, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<LiveSession>>(
                [.. _sessions.Where(s => s.AccountSid == accountSid.Value && s.Identity == identity.Value)]);
        }
    }
}
